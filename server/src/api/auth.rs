//! `POST /api/v1/auth/login`: email + password (+ TOTP code) → short-lived access token;
//! adapters over `services::login`.

use super::ApiJson;
use crate::auth::{extract::AuthUser, extract::ClientIp};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, Actor, login::LoginRequest};
use crate::state::AppState;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
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
    let user = services::login::login(&state, ip, &req, "access_token").await?;
    let token = state.jwt.issue(&user.id, user.auth_version)?;
    Ok(ApiJson(LoginResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl.as_secs(),
    }))
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
    services::login::logout_everywhere(&state, &Actor::new(&p, ip)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
