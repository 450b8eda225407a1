//! The caller's own account: profile, theme preference, password, TOTP enrolment.

use super::{ApiJson, UserView, auth};
use crate::audit::AuditEvent;
use crate::auth::{extract::AuthUser, extract::ClientIp, password, policy, totp};
use crate::db::{self, users::normalize_email};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, patch_me))
        .routes(routes!(change_password))
        .routes(routes!(totp_enroll))
        .routes(routes!(totp_confirm))
        .routes(routes!(totp_disable))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    /// `light`, `dark` or `system`.
    pub theme: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// Base32 secret to type into an authenticator app.
    pub secret: String,
    /// `otpauth://` URL (render as QR code).
    pub otpauth_url: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpCode {
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordConfirm {
    pub password: String,
}

async fn load(state: &AppState, id: &str) -> ApiResult<db::users::UserRow> {
    db::users::find_by_id(&state.db, id)
        .await?
        .ok_or(ApiError::Unauthorized("account no longer exists"))
}

/// Checks the caller's own password under the same throttle as login (the account's
/// email and the client IP share its counters), so a stolen access token cannot be used
/// to guess the password. A wrong one is audited as a failed `action` and answers
/// `wrong` (422); a locked key answers 429.
async fn confirm_password(
    state: &AppState,
    user: &db::users::UserRow,
    ip: Option<String>,
    given: String,
    action: &str,
    wrong: &str,
) -> ApiResult<()> {
    let email_key = format!("email:{}", normalize_email(&user.email));
    let ip_key = format!("ip:{}", ip.as_deref().unwrap_or("unknown"));
    let attempt = state
        .throttle
        .begin(&[&email_key, &ip_key], Instant::now())
        .map_err(|secs| auth::locked_out("password", secs))?;
    if password::verify(given, Some(user.password_hash.clone())).await? {
        attempt.succeeded();
        return Ok(());
    }
    state
        .audit
        .record(
            AuditEvent::new(&user.id, action)
                .target(format!("user:{}", user.id))
                .ip(ip.clone())
                .outcome(crate::audit::Outcome::Failure)
                .details(serde_json::json!({"reason": wrong})),
        )
        .await;
    auth::audit_lockouts(state, &user.id, ip, attempt.failed()).await;
    Err(ApiError::Validation(wrong.into()))
}

/// The authenticated user's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn get_me(AuthUser(p): AuthUser) -> ApiResult<ApiJson<UserView>> {
    // Served from the row loaded at authentication: no extra database round trip.
    Ok(ApiJson(p.user.as_ref().clone().into()))
}

/// Update profile preferences (currently the UI theme).
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = UpdateMe,
    responses((status = 200, body = UserView), (status = 422, body = ErrorBody)))]
async fn patch_me(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<UpdateMe>,
) -> ApiResult<ApiJson<UserView>> {
    let mut user = load(&state, &p.user_id).await?;
    if let Some(theme) = &req.theme {
        if !["light", "dark", "system"].contains(&theme.as_str()) {
            return Err(ApiError::Validation(
                "theme must be one of: light, dark, system".into(),
            ));
        }
        user = db::users::update_theme(&state.db, &p.user_id, theme)
            .await?
            .ok_or(ApiError::NotFound)?;
        state.auth_cache.clear();
        state
            .audit
            .append(
                AuditEvent::new(&p.user_id, "user.update_profile")
                    .target(format!("user:{}", p.user_id))
                    .ip(ip)
                    .details(serde_json::json!({"theme": theme})),
            )
            .await?;
    }
    Ok(ApiJson(user.into()))
}

/// Change the password. Outstanding access tokens stop working; log in again.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = ChangePassword,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "too many wrong passwords", body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    policy::require_interactive(&p)?;
    let user = load(&state, &p.user_id).await?;
    confirm_password(
        &state,
        &user,
        ip.clone(),
        req.current_password,
        "user.change_password",
        "current password is wrong",
    )
    .await?;
    password::validate_new(&req.new_password).map_err(ApiError::Validation)?;
    let hash = password::hash(req.new_password).await?;
    db::users::update_password(&state.db, &p.user_id, &hash).await?;
    state.auth_cache.clear();
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.change_password")
                .target(format!("user:{}", p.user_id))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start TOTP enrolment: returns a new secret; confirm it with a code to enable TOTP.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "me",
    responses((status = 200, body = TotpEnrollment), (status = 409, body = ErrorBody)))]
async fn totp_enroll(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
) -> ApiResult<ApiJson<TotpEnrollment>> {
    policy::require_interactive(&p)?;
    let user = load(&state, &p.user_id).await?;
    if user.totp_enabled {
        return Err(ApiError::Conflict(
            "TOTP is already enabled; disable it first".into(),
        ));
    }
    let secret = totp::new_secret()?;
    let url = totp::otpauth_url(&secret, &user.email)?;
    // Stored encrypted with the secrets key; shown to the user only in this response.
    let sealed = totp::seal_secret(&state.secrets_key, &p.user_id, &secret)?;
    db::users::set_totp_pending(&state.db, &p.user_id, &sealed).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.totp_enroll")
                .target(format!("user:{}", p.user_id))
                .ip(ip),
        )
        .await?;
    Ok(ApiJson(TotpEnrollment {
        secret,
        otpauth_url: url,
    }))
}

/// Confirm TOTP enrolment with a current code; from then on login needs a code.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "me", request_body = TotpCode,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn totp_confirm(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<TotpCode>,
) -> ApiResult<StatusCode> {
    policy::require_interactive(&p)?;
    let user = load(&state, &p.user_id).await?;
    let Some(stored) = user.totp_secret.as_deref().filter(|_| !user.totp_enabled) else {
        return Err(ApiError::Conflict(
            "no pending TOTP enrolment; POST /api/v1/me/totp first".into(),
        ));
    };
    let secret = totp::open_secret(&state.secrets_key, &p.user_id, stored)?;
    let step = totp::check(&secret, &user.email, &req.code, totp::unix_secs())?
        .ok_or_else(|| ApiError::Validation("invalid TOTP code".into()))?;
    if !db::users::consume_totp_step(&state.db, &p.user_id, step as i64).await? {
        return Err(ApiError::Validation("TOTP code already used".into()));
    }
    db::users::set_totp_enabled(&state.db, &p.user_id, true).await?;
    state.auth_cache.clear();
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.totp_enable")
                .target(format!("user:{}", p.user_id))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable TOTP (needs the current password).
#[utoipa::path(post, path = "/api/v1/me/totp/disable", tag = "me", request_body = PasswordConfirm,
    responses((status = 204), (status = 422, body = ErrorBody),
        (status = 429, description = "too many wrong passwords", body = ErrorBody)))]
async fn totp_disable(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PasswordConfirm>,
) -> ApiResult<StatusCode> {
    policy::require_interactive(&p)?;
    let user = load(&state, &p.user_id).await?;
    confirm_password(
        &state,
        &user,
        ip.clone(),
        req.password,
        "user.totp_disable",
        "password is wrong",
    )
    .await?;
    db::users::set_totp_enabled(&state.db, &p.user_id, false).await?;
    state.auth_cache.clear();
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.totp_disable")
                .target(format!("user:{}", p.user_id))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
