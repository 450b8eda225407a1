//! Browser sessions: cookie `automa_session` (HttpOnly, SameSite=Lax, `Secure` when the
//! public URL is https) carrying a random id; the server keeps only its SHA-256 in the
//! `sessions` table with an expiry. A session ends at logout (revoked), at expiry, or
//! when the user's `auth_version` moves (password, role or status change).
//!
//! Browser routes authenticate with `extract::BrowserUser`, which calls
//! [`authenticate`]; the `/api/v1` routes stay bearer-only, so a cookie never
//! authenticates an API call (no CSRF exposure there). Both yield the same `Principal`,
//! so handlers and `policy` do not change.

use super::{AuthMethod, Principal, Role, Scope, keys, tokens};
use crate::db::{self, now_ms, users::UserRow};
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "automa_session";
/// Name of the pre-session CSRF cookie used by the login and setup forms.
pub const PRELOGIN_COOKIE: &str = "automa_csrf";
/// Absolute session lifetime: log in again after this.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// A session as created at login: the secret id (cookie value) and its CSRF token.
pub struct NewSession {
    pub id: String,
}

/// Creates a session for `user` and returns its secret id.
pub async fn create(state: &AppState, user: &UserRow) -> Result<NewSession, ApiError> {
    let id = hex::encode(keys::random_bytes::<32>()?);
    let expires = now_ms() + SESSION_TTL.as_millis() as i64;
    db::sessions::insert(
        &state.db,
        &tokens::hash(&id),
        &user.id,
        user.auth_version,
        expires,
    )
    .await?;
    // Housekeeping at login time keeps the table small without a background task.
    if let Err(e) = db::sessions::prune(&state.db).await {
        tracing::warn!(error = %e, "pruning expired sessions");
    }
    Ok(NewSession { id })
}

/// Ends the session whose id is `id`.
pub async fn revoke(state: &AppState, id: &str) -> Result<(), ApiError> {
    db::sessions::revoke(&state.db, &tokens::hash(id)).await?;
    Ok(())
}

/// The CSRF token of a session, derived from its secret id (so nothing more is stored,
/// and the id cannot be recovered from the token shown in pages).
pub fn csrf_token(session_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"automa-csrf\0");
    h.update(session_id.as_bytes());
    hex::encode(h.finalize())
}

/// A cookie value from the `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. `max_age` of zero deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Duration) -> String {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The principal of the request's session cookie, and the session id.
pub async fn authenticate(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<(Principal, String), ApiError> {
    let id = cookie(headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized("not logged in"))?;
    let row = db::sessions::find(&state.db, &tokens::hash(id))
        .await?
        .ok_or(ApiError::Unauthorized("session unknown; log in again"))?;
    if row.revoked_at.is_some() || row.expires_at <= now_ms() {
        return Err(ApiError::Unauthorized("session ended; log in again"));
    }
    let user = db::users::find_by_id(&state.db, &row.user_id)
        .await?
        .ok_or(ApiError::Unauthorized("session unknown; log in again"))?;
    if user.disabled {
        return Err(ApiError::Unauthorized("account disabled"));
    }
    if user.auth_version != row.auth_version {
        // Password, role or status changed since login.
        return Err(ApiError::Unauthorized("session ended; log in again"));
    }
    let role = Role::parse(&user.role).unwrap_or(Role::User);
    let p = Principal {
        user_id: user.id.clone(),
        email: user.email.clone(),
        user: std::sync::Arc::new(user),
        role,
        scope: if role == Role::Admin {
            Scope::Admin
        } else {
            Scope::Write
        },
        method: AuthMethod::Session,
    };
    Ok((p, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_a_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            axum::http::header::COOKIE,
            HeaderValue::from_static("a=1; automa_session=abc ; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn csrf_token_depends_on_the_session() {
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_eq!(csrf_token("a").len(), 64);
    }
}
