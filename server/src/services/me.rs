//! The caller's own account: the theme preference, the password and TOTP enrolment.
//! Credential changes need an interactive login and, where they lower protection, the
//! current password under the login's throttle.

use super::Actor;
use super::login::{audit_lockouts, locked_out};
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{password, policy, totp};
use crate::db::{self, users::UserRow, users::normalize_email};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde::Deserialize;
use std::time::Instant;
use utoipa::ToSchema;

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

/// A TOTP secret being enrolled: shown to its user until they confirm a code.
#[derive(Debug)]
pub struct Enrollment {
    /// Base32, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://` URL (for a QR code).
    pub otpauth_url: String,
}

/// The caller's row as stored now (not the one cached at authentication).
pub async fn current(state: &AppState, actor_id: &str) -> ApiResult<UserRow> {
    db::users::find_by_id(&state.db, actor_id)
        .await?
        .ok_or(ApiError::Unauthorized("account no longer exists"))
}

/// The enrolment waiting for its confirming code, if any.
pub fn pending_enrollment(state: &AppState, user: &UserRow) -> ApiResult<Option<Enrollment>> {
    let Some(stored) = user.totp_secret.as_deref().filter(|_| !user.totp_enabled) else {
        return Ok(None);
    };
    let secret = totp::open_secret(&state.secrets_key, &user.id, stored)?;
    let otpauth_url = totp::otpauth_url(&secret, &user.email)?;
    Ok(Some(Enrollment {
        secret,
        otpauth_url,
    }))
}

/// The interactive caller's row once `given` is their password, checked under the same
/// throttle as login (the account's email and the client IP share its counters), so a
/// stolen access token cannot be used to guess the password. A wrong one is audited as
/// a failed `action` and answers `wrong` (422); a locked key answers 429.
async fn confirmed(
    state: &AppState,
    actor: &Actor<'_>,
    given: String,
    action: &str,
    wrong: &str,
) -> ApiResult<UserRow> {
    policy::require_interactive(actor.principal)?;
    let user = current(state, &actor.principal.user_id).await?;
    let ip = actor.ip.clone();
    let email_key = format!("email:{}", normalize_email(&user.email));
    let ip_key = format!("ip:{}", ip.as_deref().unwrap_or("unknown"));
    let attempt = state
        .throttle
        .begin(&[&email_key, &ip_key], Instant::now())
        .map_err(|secs| locked_out("password", secs))?;
    if password::verify(given, Some(user.password_hash.clone())).await? {
        attempt.succeeded();
        return Ok(user);
    }
    state
        .audit
        .record(
            AuditEvent::new(&user.id, action)
                .target(format!("user:{}", user.id))
                .ip(ip.clone())
                .outcome(Outcome::Failure)
                .details(serde_json::json!({"reason": wrong})),
        )
        .await;
    audit_lockouts(state, &user.id, ip, attempt.failed()).await;
    Err(ApiError::Validation(wrong.into()))
}

fn own(actor: &Actor<'_>, action: &str) -> AuditEvent {
    actor.audit(action, format!("user:{}", actor.principal.user_id))
}

/// Change profile preferences (the UI theme); `user.update_profile`.
pub async fn update(state: &AppState, actor: &Actor<'_>, req: UpdateMe) -> ApiResult<UserRow> {
    let id = &actor.principal.user_id;
    let mut user = current(state, id).await?;
    if let Some(theme) = &req.theme {
        if !["light", "dark", "system"].contains(&theme.as_str()) {
            return Err(ApiError::Validation(
                "theme must be one of: light, dark, system".into(),
            ));
        }
        user = db::users::update_theme(&state.db, id, theme)
            .await?
            .ok_or(ApiError::NotFound)?;
        state.auth_cache.clear();
        let entry = own(actor, "user.update_profile").details(serde_json::json!({"theme": theme}));
        state.audit.append(entry).await?;
    }
    Ok(user)
}

/// Change the password (the current one confirmed); every session and access token of
/// the user ends. `user.change_password`.
pub async fn change_password(
    state: &AppState,
    actor: &Actor<'_>,
    req: ChangePassword,
) -> ApiResult<()> {
    let wrong = "current password is wrong";
    let user = confirmed(
        state,
        actor,
        req.current_password,
        "user.change_password",
        wrong,
    )
    .await?;
    password::validate_new(&req.new_password).map_err(ApiError::Validation)?;
    let hash = password::hash(req.new_password).await?;
    db::users::update_password(&state.db, &user.id, &hash).await?;
    state.auth_cache.clear();
    state
        .audit
        .append(own(actor, "user.change_password"))
        .await?;
    Ok(())
}

/// Start TOTP enrolment: a new secret, stored sealed until a code confirms it.
/// `user.totp_enroll`.
pub async fn totp_enroll(state: &AppState, actor: &Actor<'_>) -> ApiResult<Enrollment> {
    policy::require_interactive(actor.principal)?;
    let user = current(state, &actor.principal.user_id).await?;
    if user.totp_enabled {
        return Err(ApiError::Conflict(
            "TOTP is already enabled; disable it first".into(),
        ));
    }
    let secret = totp::new_secret()?;
    let otpauth_url = totp::otpauth_url(&secret, &user.email)?;
    // Stored encrypted with the secrets key; shown to the user only until confirmed.
    let sealed = totp::seal_secret(&state.secrets_key, &user.id, &secret)?;
    db::users::set_totp_pending(&state.db, &user.id, &sealed).await?;
    state.audit.append(own(actor, "user.totp_enroll")).await?;
    Ok(Enrollment {
        secret,
        otpauth_url,
    })
}

/// Confirm the pending enrolment with a current code; from then on login needs a
/// code. `user.totp_enable`.
pub async fn totp_confirm(state: &AppState, actor: &Actor<'_>, code: &str) -> ApiResult<()> {
    policy::require_interactive(actor.principal)?;
    let user = current(state, &actor.principal.user_id).await?;
    let Some(stored) = user.totp_secret.as_deref().filter(|_| !user.totp_enabled) else {
        return Err(ApiError::Conflict(
            "no pending TOTP enrolment; POST /api/v1/me/totp first".into(),
        ));
    };
    let secret = totp::open_secret(&state.secrets_key, &user.id, stored)?;
    let step = totp::check(&secret, &user.email, code, totp::unix_secs())?
        .ok_or_else(|| ApiError::Validation("invalid TOTP code".into()))?;
    if !db::users::consume_totp_step(&state.db, &user.id, step as i64).await? {
        return Err(ApiError::Validation("TOTP code already used".into()));
    }
    db::users::set_totp_enabled(&state.db, &user.id, true).await?;
    state.auth_cache.clear();
    state.audit.append(own(actor, "user.totp_enable")).await?;
    Ok(())
}

/// Turn TOTP off (the password confirmed); `user.totp_disable`.
pub async fn totp_disable(state: &AppState, actor: &Actor<'_>, password: String) -> ApiResult<()> {
    let wrong = "password is wrong";
    let user = confirmed(state, actor, password, "user.totp_disable", wrong).await?;
    db::users::set_totp_enabled(&state.db, &user.id, false).await?;
    state.auth_cache.clear();
    state.audit.append(own(actor, "user.totp_disable")).await?;
    Ok(())
}
