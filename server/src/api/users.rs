//! User administration (admin only; non-admins may read their own record). Adapters
//! over `services::users`.

use super::{ApiJson, ApiPath, ApiQuery, Page, PageParams, UserView, page_limit};
use crate::auth::{extract::AdminUser, extract::AuthUser, extract::ClientIp};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{
    self, Actor,
    users::{CreateUser, PatchUser},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user, delete_user))
}

/// List users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams),
    responses((status = 200, body = Page<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<Page<UserView>>> {
    let limit = page_limit(q.limit)?;
    let rows = services::users::list(&state, &p, q.cursor.as_deref(), limit + 1).await?;
    let views = rows
        .into_iter()
        .map(UserView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiJson(Page::from_rows(
        views,
        limit,
        |u| u.id.clone(),
        |u| u,
    )))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, ApiJson<UserView>)> {
    let user = services::users::create(&state, &Actor::new(&p, ip), req).await?;
    Ok((StatusCode::CREATED, ApiJson(user.try_into()?)))
}

/// Get a user. Admins see everyone; users only themselves (others answer 404).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<UserView>> {
    Ok(ApiJson(
        services::users::get(&state, &p, &id).await?.try_into()?,
    ))
}

/// Change a user's role or disabled flag (admin). Their access tokens stop working.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = PatchUser,
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn patch_user(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<PatchUser>,
) -> ApiResult<ApiJson<UserView>> {
    let user = services::users::update(&state, &Actor::new(&p, ip), &id, req).await?;
    Ok(ApiJson(user.try_into()?))
}

/// Delete a user and their tokens (admin).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_user(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    services::users::delete(&state, &Actor::new(&p, ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
