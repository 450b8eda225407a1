//! Logging in and out: the one check of a login attempt (throttle, password, disabled
//! account, TOTP with replay protection) for the API's access tokens and the browser's
//! sessions, and the logouts, each audited once.

use super::Actor;
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{password, totp};
use crate::db::{self, users::normalize_email};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde::Deserialize;
use std::time::Instant;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Current 6-digit TOTP code, required when the account has TOTP enabled.
    pub totp: Option<String>,
}

/// Checks a login attempt (throttle, password, disabled account, TOTP with replay
/// protection) and audits it; `via` (`access_token` or `session`) is recorded. Shared by
/// the API login and the browser login form so both follow the same rules.
pub async fn login(
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
pub fn locked_out(what: &str, secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: format!("too many failed {what} attempts; try again in {secs} seconds"),
        retry_after: secs,
    }
}

/// Audits each key a failed attempt locked (`auth.lockout`).
pub async fn audit_lockouts(
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

/// Log out everywhere: every access token (JWT) and session of the caller stops
/// working (personal API tokens do not); `auth.logout`.
pub async fn logout_everywhere(state: &AppState, actor: &Actor<'_>) -> ApiResult<()> {
    let id = &actor.principal.user_id;
    db::users::bump_auth_version(&state.db, id).await?;
    state.auth_cache.clear();
    let entry = actor.audit("auth.logout", format!("user:{id}"));
    state.audit.append(entry).await?;
    Ok(())
}

/// End one browser session (`auth.logout` via `session`).
pub async fn end_session(state: &AppState, actor: &Actor<'_>, session_id: &str) -> ApiResult<()> {
    crate::auth::session::revoke(state, session_id).await?;
    let id = &actor.principal.user_id;
    let entry = actor
        .audit("auth.logout", format!("user:{id}"))
        .details(serde_json::json!({"via": "session"}));
    state.audit.append(entry).await?;
    Ok(())
}
