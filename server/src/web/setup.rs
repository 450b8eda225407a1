//! `/setup?token=`: first-run creation of the administrator, with the API's own logic
//! (`services::setup`).

use super::csrf;
use super::page::{html, see_other};
use crate::auth::extract::ClientIp;
use crate::auth::{keys, session};
use crate::error::{ApiError, PageError};
use crate::services::{self, setup::SetupRequest};
use crate::state::AppState;
use automa_ui::pages::setup::{SetupView, page};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    csrf: Option<String>,
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

fn render(
    state: &AppState,
    mut view: SetupView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let token = hex::encode(keys::random_bytes::<32>()?);
    view.csrf = token.clone();
    let cookie = session::set_cookie(
        state,
        session::PRELOGIN_COOKIE,
        &token,
        Duration::from_secs(3600),
    );
    let mut resp = html(page(&view));
    *resp.status_mut() = status;
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok(resp)
}

pub async fn form(
    State(state): State<AppState>,
    Query(q): Query<SetupQuery>,
) -> Result<Response, PageError> {
    let done = !services::setup::required(&state).await?;
    let view = SetupView {
        token: q.token,
        done,
        ..SetupView::default()
    };
    render(&state, view, StatusCode::OK)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SetupForm>,
) -> Result<Response, PageError> {
    let expected = session::cookie(&headers, session::PRELOGIN_COOKIE).unwrap_or_default();
    csrf::verify(&headers, &state, f.csrf.as_deref(), expected)?;
    let req = SetupRequest {
        token: f.token.clone(),
        email: f.email.clone(),
        password: f.password,
    };
    match services::setup::complete(&state, ip, &req).await {
        Ok(user) => Ok(see_other(&format!(
            "/login?email={}",
            super::filters::encode(&user.email)
        ))),
        Err(e @ (ApiError::Unauthorized(_) | ApiError::Validation(_))) => {
            let view = SetupView {
                token: f.token,
                email: f.email,
                error: Some(e.to_string()),
                ..SetupView::default()
            };
            render(&state, view, e.status())
        }
        Err(ApiError::Conflict(_)) => render(
            &state,
            SetupView {
                done: true,
                ..SetupView::default()
            },
            StatusCode::CONFLICT,
        ),
        Err(e) => Err(e.into()),
    }
}
