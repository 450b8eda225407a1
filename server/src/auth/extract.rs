//! Request extractors for authentication. `AuthUser` accepts a bearer JWT or a personal
//! API token and enforces the method's scope; `AdminUser` also requires the admin role.
//! `BrowserUser` accepts only the session cookie and is used by the web pages (whose
//! form posts are CSRF-checked). They run before body extractors, so unauthenticated
//! requests are refused before any body parsing.

use super::{AuthMethod, Principal, Role, Scope, policy, tokens};
use crate::db::{self, now_ms};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub struct AuthUser(pub Principal);
pub struct AdminUser(pub Principal);

/// A signed-in browser: the principal of the session cookie and the session's secret id
/// (from which its CSRF token is derived).
pub struct BrowserUser {
    pub principal: Principal,
    pub session_id: String,
}

impl FromRequestParts<AppState> for BrowserUser {
    type Rejection = crate::error::PageError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, crate::error::PageError> {
        let (principal, session_id) = authenticate_browser(parts, state).await?;
        Ok(BrowserUser {
            principal,
            session_id,
        })
    }
}

/// Client IP: the socket peer, or the last `X-Forwarded-For` hop when behind a proxy.
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientIp(client_ip(parts, state)))
    }
}

pub fn client_ip(parts: &Parts, state: &AppState) -> Option<String> {
    if state.config.behind_proxy
        && let Some(xff) = parts.headers.get("x-forwarded-for")
        && let Ok(s) = xff.to_str()
        && let Some(last) = s.split(',').map(str::trim).rfind(|h| !h.is_empty())
    {
        return Some(last.to_owned());
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = authenticate(parts, state).await?;
        policy::check_scope(&p, policy::required_scope(&parts.method))?;
        Ok(AuthUser(p))
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = authenticate(parts, state).await?;
        policy::check_scope(&p, policy::required_scope(&parts.method))?;
        policy::require_admin(&p)?;
        Ok(AdminUser(p))
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("missing bearer token"))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("invalid authorization header"))?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized(
        "expected `Authorization: Bearer <token>`",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "expected `Authorization: Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

/// Authentication of the web pages: the session cookie only (see `session`).
pub async fn authenticate_browser(
    parts: &Parts,
    state: &AppState,
) -> Result<(Principal, String), ApiError> {
    super::session::authenticate(&parts.headers, state).await
}

/// The authentication entry point of `/api/v1`: bearer credentials only, so a browser's
/// cookie never authenticates an API call (`authenticate_browser` serves the pages).
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let token = bearer(parts)?;
    if tokens::looks_like_api_token(token) {
        authenticate_api_token(token, state).await
    } else {
        authenticate_jwt(token, state).await
    }
}

async fn authenticate_jwt(token: &str, state: &AppState) -> Result<Principal, ApiError> {
    let claims = state.jwt.verify(token)?;
    let key = format!("jwt:{}:{}", claims.sub, claims.ver);
    let now = Instant::now();
    if let Some(p) = state.auth_cache.get(&key, now) {
        return Ok(p);
    }
    let user = db::users::find_by_id(&state.db, &claims.sub)
        .await?
        .ok_or(ApiError::Unauthorized("invalid bearer token"))?;
    if user.disabled {
        return Err(ApiError::Unauthorized("account disabled"));
    }
    if user.auth_version != claims.ver {
        // Password, role or status changed since issue: the token is void.
        return Err(ApiError::Unauthorized(
            "token no longer valid; log in again",
        ));
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
        method: AuthMethod::AccessToken,
    };
    let exp_in = Duration::from_secs(
        claims
            .exp
            .saturating_sub(jsonwebtoken::get_current_timestamp()),
    );
    state
        .auth_cache
        .put(key, p.clone(), now, Some(now + exp_in));
    Ok(p)
}

async fn authenticate_api_token(token: &str, state: &AppState) -> Result<Principal, ApiError> {
    let hash = tokens::hash(token);
    let key = format!("pat:{hash}");
    let now = Instant::now();
    if let Some(p) = state.auth_cache.get(&key, now) {
        return Ok(p);
    }
    let row = db::tokens::find_by_hash(&state.db, &hash)
        .await?
        .ok_or(ApiError::Unauthorized("invalid bearer token"))?;
    if row.revoked_at.is_some() {
        return Err(ApiError::Unauthorized("token revoked"));
    }
    let now_ms = now_ms();
    if let Some(exp) = row.expires_at
        && exp <= now_ms
    {
        return Err(ApiError::TokenExpired);
    }
    let user = db::users::find_by_id(&state.db, &row.user_id)
        .await?
        .ok_or(ApiError::Unauthorized("invalid bearer token"))?;
    if user.disabled {
        return Err(ApiError::Unauthorized("account disabled"));
    }
    let role = Role::parse(&user.role).unwrap_or(Role::User);
    let granted = Scope::parse_list(&row.scopes)
        .into_iter()
        .max()
        .unwrap_or(Scope::Read);
    // A demoted admin's admin-scoped token no longer carries admin power.
    let scope = if role == Role::Admin {
        granted
    } else {
        granted.min(Scope::Write)
    };
    let p = Principal {
        user_id: user.id.clone(),
        email: user.email.clone(),
        user: std::sync::Arc::new(user),
        role,
        scope,
        method: AuthMethod::ApiToken {
            token_id: row.id.clone(),
            expires_at: row.expires_at,
        },
    };
    let hard_limit = row
        .expires_at
        .map(|exp| now + Duration::from_millis((exp - now_ms).max(0) as u64));
    state.auth_cache.put(key, p.clone(), now, hard_limit);
    // last_used is refreshed at most once per cache period, off the request path.
    let db = state.db.clone();
    tokio::spawn(async move {
        if let Err(e) = db::tokens::touch_last_used(&db, &row.id).await {
            tracing::warn!(error = %e, "updating token last_used_at");
        }
    });
    Ok(p)
}
