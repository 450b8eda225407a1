//! `POST /api/v1/auth/login`: email + password (+ TOTP code) → short-lived access token.

use super::ApiJson;
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{extract::AuthUser, extract::ClientIp, password, totp};
use crate::db::{self, users::normalize_email};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Current 6-digit TOTP code, required when the account has TOTP enabled.
    pub totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// Log in with email and password (and TOTP code if enabled).
///
/// Repeated failures lock the account (and the client IP) for a while: the response is
/// then 429 with a `Retry-After` header.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "invalid credentials, or `totp_required`", body = ErrorBody),
        (status = 429, description = "too many failed attempts", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<ApiJson<LoginResponse>> {
    let user = check_login(&state, ip, &req, "access_token").await?;
    let token = state.jwt.issue(&user.id, user.auth_version)?;
    Ok(ApiJson(LoginResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl.as_secs(),
    }))
}

/// Checks a login attempt (throttle, password, disabled account, TOTP with replay
/// protection) and audits it; `via` (`access_token` or `session`) is recorded. Shared by
/// the API login and the browser login form so both follow the same rules.
pub async fn check_login(
    state: &AppState,
    ip: Option<String>,
    req: &LoginRequest,
    via: &str,
) -> ApiResult<db::users::UserRow> {
    let email = normalize_email(&req.email);
    let email_key = format!("email:{email}");
    let ip_key = format!("ip:{}", ip.as_deref().unwrap_or("unknown"));
    let attempt = state
        .throttle
        .begin(&[&email_key, &ip_key], Instant::now())
        .map_err(|secs| {
            // Not audited per attempt: the lockout itself was (auth.lockout), and auditing
            // every refused attempt would let a locked-out client grow the log without bound.
            tracing::info!(email, ip = ?ip, "login refused while locked out");
            locked_out("login", secs)
        })?;

    let user = db::users::find_by_email(&state.db, &email).await?;
    let ok = password::verify(
        req.password.clone(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let failure = match &user {
        _ if !ok => Some("invalid password or unknown user"),
        Some(u) if u.disabled => Some("account disabled"),
        Some(u) if u.totp_enabled => match req.totp.as_deref() {
            // Dropping `attempt` gives it back: the password was right.
            None | Some("") => return Err(ApiError::TotpRequired),
            Some(code) => {
                let stored = u.totp_secret.as_deref().unwrap_or_default();
                let secret = totp::open_secret(&state.secrets_key, &u.id, stored)?;
                match totp::check(&secret, &u.email, code, totp::unix_secs())? {
                    Some(step)
                        if db::users::consume_totp_step(&state.db, &u.id, step as i64).await? =>
                    {
                        None
                    }
                    Some(_) => Some("TOTP code already used"),
                    None => Some("invalid TOTP code"),
                }
            }
        },
        _ => None,
    };

    if let (None, Some(user)) = (failure, user.clone()) {
        attempt.succeeded();
        state
            .audit
            .append(
                AuditEvent::new(&user.id, "auth.login")
                    .target(format!("user:{}", user.id))
                    .ip(ip)
                    .details(serde_json::json!({"email": email, "via": via})),
            )
            .await?;
        return Ok(user);
    }

    let reason = failure.unwrap_or("invalid password or unknown user");
    let actor = user
        .as_ref()
        .map_or("anonymous".to_owned(), |u| u.id.clone());
    state
        .audit
        .record(
            AuditEvent::new(&actor, "auth.login")
                .ip(ip.clone())
                .outcome(Outcome::Failure)
                .details(serde_json::json!({"email": email, "reason": reason, "via": via})),
        )
        .await;
    audit_lockouts(state, &actor, ip, attempt.failed()).await;
    Err(ApiError::Unauthorized(
        "invalid email, password or TOTP code",
    ))
}

/// The answer to an attempt (`what`: "login", "password") refused while `secs` of
/// lockout remain.
pub(crate) fn locked_out(what: &str, secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: format!("too many failed {what} attempts; try again in {secs} seconds"),
        retry_after: secs,
    }
}

/// Audits each key a failed attempt locked (`auth.lockout`).
pub(crate) async fn audit_lockouts(
    state: &AppState,
    actor: &str,
    ip: Option<String>,
    locked: Vec<String>,
) {
    for key in locked {
        tracing::warn!(key, "locked out after repeated failed attempts");
        state
            .audit
            .record(
                AuditEvent::new(actor, "auth.lockout")
                    .ip(ip.clone())
                    .outcome(Outcome::Denied)
                    .details(serde_json::json!({
                        "key": key,
                        "lockout_seconds": state.config.lockout.as_secs(),
                    })),
            )
            .await;
    }
}

/// Log out everywhere: every access token (JWT) of the caller stops working. Personal
/// API tokens are not affected; revoke them with `DELETE /api/v1/tokens/{id}`.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
) -> ApiResult<axum::http::StatusCode> {
    db::users::bump_auth_version(&state.db, &p.user_id).await?;
    state.auth_cache.clear();
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "auth.logout")
                .target(format!("user:{}", p.user_id))
                .ip(ip),
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
