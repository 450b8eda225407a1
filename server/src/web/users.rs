//! `/users` and `/users/{id}` (admin): list and create users, change a role, disable or
//! enable, reset a password or TOTP, all through `/api/v1/users` (its policy: admins
//! only, never leaving no enabled admin).

use super::client::encode;
use super::csrf;
use super::page::{Viewer, html_status, see_other, when_text};
use crate::auth::policy;
use crate::error::{ApiError, PageError};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::users::{NewUserForm, UserLine, UserView, UsersView, list_page, user_page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

fn line(u: &Value) -> UserLine {
    UserLine {
        id: u["id"].as_str().unwrap_or_default().to_owned(),
        email: u["email"].as_str().unwrap_or_default().to_owned(),
        role: u["role"].as_str().unwrap_or_default().to_owned(),
        disabled: u["disabled"].as_bool().unwrap_or(false),
        totp: u["totp_enabled"].as_bool().unwrap_or(false),
        created: when_text(u["created_at"].as_str().unwrap_or_default()),
    }
}

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
    policy::require_admin(&viewer.principal)?;
    let mut path = "/api/v1/users?limit=200".to_owned();
    if let Some(c) = cursor {
        path.push_str(&format!("&cursor={}", encode(c)));
    }
    let page = viewer.api.get(&path).await?;
    view.users = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(line)
        .collect();
    view.next = page["next_cursor"]
        .as_str()
        .map(|c| format!("/users?cursor={}", encode(c)));
    view.usage = super::usage::lines(state, None).await?;
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
    policy::require_admin(&viewer.principal)?;
    let answer = viewer
        .api
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&json!({"email": f.email.trim(), "password": f.password, "role": f.role})),
        )
        .await?;
    match answer {
        Ok(u) => Ok(see_other(&format!(
            "/users/{}?done=created",
            encode(u["id"].as_str().unwrap_or_default())
        ))),
        Err(e) if matches!(e.status.as_u16(), 400 | 409 | 422) => {
            let view = UsersView {
                form: NewUserForm {
                    email: f.email,
                    role: f.role,
                },
                error: Some(e.message),
                ..UsersView::default()
            };
            render_list(&state, &viewer, None, view, e.status).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

async fn render_user(
    viewer: &Viewer,
    id: &str,
    mut view: UserView,
    status: StatusCode,
) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let u = viewer
        .api
        .get(&format!("/api/v1/users/{}", encode(id)))
        .await?;
    view.user = line(&u);
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
    render_user(&viewer, &id, view, StatusCode::OK).await
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

/// One of the user page's forms, as the API's `PATCH /users/{id}` body.
pub async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ChangeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    policy::require_admin(&viewer.principal)?;
    let body = match f.action.as_str() {
        "role" => json!({"role": f.role}),
        "disable" => json!({"disabled": true}),
        "enable" => json!({"disabled": false}),
        "password" => json!({"password": f.password}),
        "reset_totp" => json!({"reset_totp": true}),
        _ => return Err(ApiError::BadRequest("unknown action".into()).into()),
    };
    let answer = viewer
        .api
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{}", encode(&id)),
            Some(&body),
        )
        .await?;
    match answer {
        Ok(_) => Ok(see_other(&format!(
            "/users/{}?done={}",
            encode(&id),
            f.action
        ))),
        Err(e) if matches!(e.status.as_u16(), 400 | 409 | 422) => {
            let view = UserView {
                error: Some(e.message),
                ..UserView::default()
            };
            render_user(&viewer, &id, view, e.status).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
