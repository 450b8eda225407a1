//! A user's usage against their quotas (`GET /me/usage`, `GET /users/{id}/usage`): the
//! numbers of `quotas::usage`, which the dashboard and `/metrics` show too.

use super::{ApiJson, ApiPath};
use crate::auth::extract::AuthUser;
use crate::error::{ApiResult, ErrorBody};
use crate::quotas::usage::UserUsage;
use crate::services;
use crate::state::AppState;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_usage))
        .routes(routes!(user_usage))
}

/// The caller's usage against their quotas: running jobs and agents, committed sandbox
/// memory, `/data` disk and state of their scripts, CPU seconds of their jobs and
/// agents, each with its ceiling.
#[utoipa::path(get, path = "/api/v1/me/usage", tag = "me",
    responses((status = 200, body = UserUsage)))]
async fn my_usage(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
) -> ApiResult<ApiJson<UserUsage>> {
    Ok(ApiJson(
        services::users::usage(&state, &p, &p.user_id).await?,
    ))
}

/// A user's usage against their quotas. Admins see anyone's; users only their own
/// (others answer 404).
#[utoipa::path(get, path = "/api/v1/users/{id}/usage", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserUsage), (status = 404, body = ErrorBody)))]
async fn user_usage(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<UserUsage>> {
    Ok(ApiJson(services::users::usage(&state, &p, &id).await?))
}
