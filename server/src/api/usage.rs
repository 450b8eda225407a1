//! A user's usage against their quotas (`GET /me/usage`, `GET /users/{id}/usage`): the
//! numbers of `quotas::usage`, which the dashboard and `/metrics` show too.

use super::{ApiJson, ApiPath};
use crate::auth::{extract::AuthUser, policy};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::quotas::usage::{self, UserUsage};
use crate::state::AppState;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_usage))
        .routes(routes!(user_usage))
}

async fn one(state: &AppState, id: &str) -> ApiResult<ApiJson<UserUsage>> {
    let found = usage::of(state, Some(id)).await?;
    found
        .into_iter()
        .next()
        .map(ApiJson)
        .ok_or(ApiError::NotFound)
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
    one(&state, &p.user_id).await
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
    policy::require_view_user(&p, &id)?;
    one(&state, &id).await
}
