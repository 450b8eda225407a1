//! User administration (admin only; non-admins may read their own record).

use super::{ApiJson, ApiPath, ApiQuery, Page, PageParams, UserView, page_limit, validate_email};
use crate::audit::AuditEvent;
use crate::auth::{
    Principal, Role, extract::AdminUser, extract::AuthUser, extract::ClientIp, password, policy,
};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::suspension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user, delete_user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub password: String,
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::User
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Set a new password (e.g. the user forgot theirs); voids their access tokens.
    pub password: Option<String>,
    /// `true` turns off the user's TOTP (e.g. a lost authenticator).
    pub reset_totp: Option<bool>,
}

/// List users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams),
    responses((status = 200, body = Page<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    AdminUser(_p): AdminUser,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<Page<UserView>>> {
    let limit = page_limit(q.limit)?;
    let rows = db::users::list(&state.db, q.cursor.as_deref(), limit + 1).await?;
    Ok(ApiJson(Page::from_rows(
        rows,
        limit,
        |r| r.id.clone(),
        UserView::from,
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
    validate_email(&req.email)?;
    password::validate_new(&req.password).map_err(ApiError::Validation)?;
    if db::users::find_by_email(&state.db, &req.email)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(
            "a user with this email already exists".into(),
        ));
    }
    let hash = password::hash(req.password).await?;
    let user = db::users::insert(&state.db, &req.email, &hash, req.role.as_str()).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.create")
                .target(format!("user:{}", user.id))
                .ip(ip)
                .details(serde_json::json!({"email": user.email, "role": user.role})),
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(user.into())))
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
    policy::require_view_user(&p, &id)?;
    let user = db::users::find_by_id(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ApiJson(user.into()))
}

/// The audit context of an account change made by `p`.
fn change<'a>(p: &'a Principal, ip: &Option<String>, reason: &'a str) -> suspension::Change<'a> {
    suspension::Change {
        actor: &p.user_id,
        ip: ip.clone(),
        reason,
    }
}

/// Refuses changes that would leave no enabled admin.
async fn ensure_admin_remains(state: &AppState, target: &db::users::UserRow) -> ApiResult<()> {
    if target.role == "admin"
        && !target.disabled
        && db::users::count_active_admins(&state.db).await? <= 1
    {
        return Err(ApiError::Conflict(
            "this is the last enabled administrator; create or promote another admin first".into(),
        ));
    }
    Ok(())
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
    policy::require_admin_on_user(&p, &id)?;
    let target = db::users::find_by_id(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if req.role == Some(Role::User) || req.disabled == Some(true) {
        ensure_admin_remains(&state, &target).await?;
    }
    let new_hash = match req.password {
        Some(pw) => {
            password::validate_new(&pw).map_err(ApiError::Validation)?;
            Some(password::hash(pw).await?)
        }
        None => None,
    };
    if let Some(hash) = &new_hash {
        db::users::update_password(&state.db, &id, hash).await?;
    }
    if req.reset_totp == Some(true) {
        db::users::set_totp_enabled(&state.db, &id, false).await?;
    }
    let user =
        db::users::update_admin_fields(&state.db, &id, req.role.map(Role::as_str), req.disabled)
            .await?
            .ok_or(ApiError::NotFound)?;
    state.auth_cache.clear();
    // Rights follow the owner: a disable pauses what the user has running, an enable
    // resumes what the disable paused.
    match (target.disabled, user.disabled) {
        (false, true) => {
            let why = change(&p, &ip, "the owner's account was disabled");
            suspension::suspend(&state, &id, &why).await?;
        }
        (true, false) => {
            let why = change(&p, &ip, "the owner's account was enabled again");
            suspension::resume(&state, &id, &why).await?;
        }
        _ => {}
    }
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.update")
                .target(format!("user:{}", id))
                .ip(ip)
                .details(serde_json::json!({
                    "role": req.role.map(Role::as_str),
                    "disabled": req.disabled,
                    "password_reset": new_hash.is_some(),
                    "totp_reset": req.reset_totp == Some(true),
                })),
        )
        .await?;
    Ok(ApiJson(user.into()))
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
    policy::require_admin_on_user(&p, &id)?;
    let target = db::users::find_by_id(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    ensure_admin_remains(&state, &target).await?;
    // Their rows go with them (foreign keys); what runs in memory must be stopped first.
    let why = change(&p, &ip, "the owner's account was deleted");
    suspension::suspend(&state, &id, &why).await?;
    db::users::delete(&state.db, &id).await?;
    // Their scripts' package environments may now be unused.
    crate::packages::sweep_unused(&state.db, state.jobs.packages()).await;
    state.auth_cache.clear();
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.delete")
                .target(format!("user:{}", id))
                .ip(ip)
                .details(serde_json::json!({"email": target.email})),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
