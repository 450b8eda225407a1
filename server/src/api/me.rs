//! The caller's own account: profile, theme preference, password, TOTP enrolment.
//! Adapters over `services::me`.

use super::{ApiJson, UserView};
use crate::auth::{extract::AuthUser, extract::ClientIp};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{
    self, Actor,
    me::{ChangePassword, UpdateMe},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
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

/// The authenticated user's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn get_me(AuthUser(p): AuthUser) -> ApiResult<ApiJson<UserView>> {
    // Served from the row loaded at authentication: no extra database round trip.
    Ok(ApiJson(p.user.as_ref().clone().try_into()?))
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
    let user = services::me::update(&state, &Actor::new(&p, ip), req).await?;
    Ok(ApiJson(user.try_into()?))
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
    services::me::change_password(&state, &Actor::new(&p, ip), req).await?;
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
    let e = services::me::totp_enroll(&state, &Actor::new(&p, ip)).await?;
    Ok(ApiJson(TotpEnrollment {
        secret: e.secret,
        otpauth_url: e.otpauth_url,
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
    services::me::totp_confirm(&state, &Actor::new(&p, ip), &req.code).await?;
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
    services::me::totp_disable(&state, &Actor::new(&p, ip), req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
