//! `/users` and `/users/{id}` (admin): list and create users, change a role, disable or
//! enable, reset a password or TOTP, all over `services::users` (its policy: admins
//! only, never leaving no enabled admin).

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html_status, see_other, when};
use crate::auth::{Role, policy};
use crate::db::users::UserRow;
use crate::error::{ApiError, PageError};
use crate::services::{
    self,
    users::{CreateUser, PatchUser},
};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::users::{NewUserForm, UserLine, UserView, UsersView, list_page, user_page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

fn line(u: UserRow) -> UserLine {
    UserLine {
        created: when(u.created_at),
        id: u.id,
        email: u.email,
        role: u.role,
        disabled: u.disabled,
        totp: u.totp_enabled,
    }
}

/// Users shown on one page of the list.
const PAGE: usize = 200;

#[derive(Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

async fn render_list(
    state: &AppState,
    viewer: &Viewer,
    cursor: Option<&str>,
    mut view: UsersView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let p = &viewer.principal;
    // One more than shown tells whether another page exists.
    let mut rows = services::users::list(state, p, cursor, PAGE as i64 + 1).await?;
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    view.next = rows
        .last()
        .filter(|_| more)
        .map(|u| format!("/users?cursor={}", encode(&u.id)));
    view.users = rows.into_iter().map(line).collect();
    view.usage = super::usage::lines(state, p).await?;
    Ok(html_status(
        list_page(&viewer.ctx(Nav::Users), &view),
        status,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    render_list(
        &state,
        &viewer,
        q.cursor.as_deref(),
        UsersView::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let created = match Role::parse(&f.role) {
        Some(role) => {
            let req = CreateUser {
                email: f.email.trim().to_owned(),
                password: f.password,
                role,
            };
            services::users::create(&state, &viewer.actor(), req).await
        }
        None => Err(ApiError::Validation("role must be user or admin".into())),
    };
    match created {
        Ok(u) => Ok(see_other(&format!("/users/{}?done=created", encode(&u.id)))),
        Err(e @ (ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Validation(_))) => {
            let view = UsersView {
                form: NewUserForm {
                    email: f.email,
                    role: f.role,
                },
                error: Some(e.to_string()),
                ..UsersView::default()
            };
            render_list(&state, &viewer, None, view, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn render_user(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    mut view: UserView,
    status: StatusCode,
) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    view.user = line(services::users::get(state, &viewer.principal, id).await?);
    view.is_self = view.user.id == viewer.principal.user_id;
    Ok(html_status(
        user_page(&viewer.ctx(Nav::Users), &view),
        status,
    ))
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_str() {
        "created" => Some("User created. They can log in now."),
        "role" => Some("Role changed; their sessions and access tokens have ended."),
        "disable" => Some("Disabled: they are logged out and their tokens no longer work."),
        "enable" => Some("Enabled: they can log in again."),
        "password" => Some("Password set; their sessions have ended."),
        "reset_totp" => Some("Two-factor authentication turned off for them."),
        _ => None,
    };
    let view = UserView {
        notice: notice.map(str::to_owned),
        ..UserView::default()
    };
    render_user(&state, &viewer, &id, view, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// One of the user page's forms, as one change of `services::users::update`.
pub async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ChangeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    policy::require_admin(&viewer.principal)?;
    let refused = |message: &str| Err(ApiError::Validation(message.to_owned()));
    let change = match f.action.as_str() {
        "role" => match Role::parse(&f.role) {
            Some(role) => Ok(PatchUser {
                role: Some(role),
                ..PatchUser::default()
            }),
            None => refused("role must be user or admin"),
        },
        "disable" | "enable" => Ok(PatchUser {
            disabled: Some(f.action == "disable"),
            ..PatchUser::default()
        }),
        "password" => Ok(PatchUser {
            password: Some(f.password),
            ..PatchUser::default()
        }),
        "reset_totp" => Ok(PatchUser {
            reset_totp: Some(true),
            ..PatchUser::default()
        }),
        _ => return Err(ApiError::BadRequest("unknown action".into()).into()),
    };
    let done = match change {
        Ok(req) => services::users::update(&state, &viewer.actor(), &id, req)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(see_other(&format!(
            "/users/{}?done={}",
            encode(&id),
            f.action
        ))),
        Err(e @ (ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Validation(_))) => {
            let view = UserView {
                error: Some(e.to_string()),
                ..UserView::default()
            };
            render_user(&state, &viewer, &id, view, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}
