//! `/login` and `/logout`: browser sessions. The login check (throttle, password, TOTP,
//! audit) is the API's own (`services::login`).

use super::csrf::{self, CsrfOnly};
use super::filters::encode;
use super::page::{html, see_other};
use crate::auth::extract::{BrowserUser, ClientIp};
use crate::auth::{keys, session};
use crate::error::{ApiError, PageError};
use crate::services::{self, Actor, login::LoginRequest};
use crate::state::AppState;
use automa_ui::pages::login::{LoginView, page};
use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    totp: Option<String>,
    #[serde(default)]
    next: String,
}

/// Only paths on this site are followed after login or a form (no open redirect):
/// `/scripts?q=a` yes; `//evil.example`, `/\evil`, `https://…`, and anything with control
/// characters (browsers drop tabs and newlines, which would turn `/\t/evil` into
/// `//evil`) fall back to `/`.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && next.len() <= 2048;
    if local { next } else { "/" }
}

/// Sends a signed-out page visit to the login form with `?next=` set to the page, so
/// logging in comes back to it. Only for page loads: not for form posts (they cannot be
/// replayed), htmx fragments or event streams (not pages to come back to).
pub async fn remember_next(req: Request, next: Next) -> Response {
    let h = req.headers();
    let page_load = req.method() == Method::GET
        && !h.contains_key("hx-request")
        && h.get(header::ACCEPT)
            .is_none_or(|a| a != "text/event-stream");
    let wanted = page_load
        .then(|| req.uri().path_and_query().map(|p| p.as_str().to_owned()))
        .flatten()
        .filter(|p| p != "/" && safe_next(p) == p);
    let mut resp = next.run(req).await;
    if let Some(wanted) = wanted
        && resp.status() == StatusCode::SEE_OTHER
        && resp.headers().get(header::LOCATION) == Some(&HeaderValue::from_static("/login"))
        && let Ok(v) = HeaderValue::from_str(&format!("/login?next={}", encode(&wanted)))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// The login page with a fresh pre-login CSRF token in a cookie and the form.
fn render(
    state: &AppState,
    mut view: LoginView,
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
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if session::authenticate(&headers, &state).await.is_ok() {
        return Ok(see_other(safe_next(&q.next)));
    }
    let view = LoginView {
        email: q.email,
        next: q.next,
        ..LoginView::default()
    };
    render(&state, view, StatusCode::OK)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = session::cookie(&headers, session::PRELOGIN_COOKIE).unwrap_or_default();
    csrf::verify(&headers, &state, f.csrf.as_deref(), expected)?;
    let req = LoginRequest {
        email: f.email.clone(),
        password: f.password,
        totp: f.totp.filter(|t| !t.trim().is_empty()),
    };
    let mut view = LoginView {
        email: f.email,
        next: f.next.clone(),
        ..LoginView::default()
    };
    let user = match services::login::login(&state, ip, &req, "session").await {
        Ok(user) => user,
        Err(ApiError::TotpRequired) => {
            view.totp_needed = true;
            view.error = Some("Enter the code from your authenticator app.".into());
            return render(&state, view, StatusCode::OK);
        }
        Err(e @ (ApiError::Unauthorized(_) | ApiError::TooManyRequests { .. })) => {
            view.totp_needed = req.totp.is_some();
            view.error = Some(e.to_string());
            return render(&state, view, e.status());
        }
        Err(e) => return Err(e.into()),
    };
    let new = session::create(&state, &user).await?;
    let mut resp = see_other(safe_next(&f.next));
    let cookies = [
        session::set_cookie(
            &state,
            session::SESSION_COOKIE,
            &new.id,
            session::SESSION_TTL,
        ),
        session::set_cookie(&state, session::PRELOGIN_COOKIE, "", Duration::ZERO),
    ];
    for c in cookies {
        resp.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).map_err(|e| ApiError::Internal(e.into()))?,
        );
    }
    Ok(resp)
}

pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: BrowserUser,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(
        &headers,
        &state,
        f.csrf.as_deref(),
        &session::csrf_token(&user.session_id),
    )?;
    let actor = Actor::new(&user.principal, ip);
    services::login::end_session(&state, &actor, &user.session_id).await?;
    let mut resp = see_other("/login");
    let c = session::set_cookie(&state, session::SESSION_COOKIE, "", Duration::ZERO);
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok(resp.into_response())
}
