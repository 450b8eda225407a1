//! First-run setup: while no user exists the server logs a one-time setup token; posting
//! it with an email and password creates the first admin. Refused once any user exists.
//! Adapters over `services::setup`.

use super::{ApiJson, UserView};
use crate::auth::extract::ClientIp;
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, setup::SetupRequest};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status, setup))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetupStatus {
    /// True while no user exists and the first admin still has to be created.
    pub setup_required: bool,
}

/// Whether first-run setup is still pending.
#[utoipa::path(get, path = "/api/v1/setup", tag = "setup", security(()),
    responses((status = 200, body = SetupStatus)))]
async fn status(State(state): State<AppState>) -> ApiResult<ApiJson<SetupStatus>> {
    Ok(ApiJson(SetupStatus {
        setup_required: services::setup::required(&state).await?,
    }))
}

/// Create the first administrator with the one-time setup token.
#[utoipa::path(post, path = "/api/v1/setup", tag = "setup", security(()),
    request_body = SetupRequest,
    responses(
        (status = 201, body = UserView),
        (status = 401, description = "wrong setup token", body = ErrorBody),
        (status = 409, description = "setup already done", body = ErrorBody),
        (status = 422, description = "invalid email or password", body = ErrorBody),
    ))]
async fn setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserView>)> {
    let user = services::setup::complete(&state, ip, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(user.try_into()?)))
}
