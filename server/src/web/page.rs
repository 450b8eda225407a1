//! What every signed-in page handler starts from: the session's principal (who acts,
//! from where, for the services) and the page context (navigation, theme, CSRF token).

use crate::auth::extract::{BrowserUser, client_ip};
use crate::auth::{Principal, session};
use crate::error::PageError;
use crate::services::Actor;
use crate::state::AppState;
use automa_ui::{Markup, Nav, PageCtx};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub struct Viewer {
    pub principal: Principal,
    pub csrf: String,
    /// Path and query of the request.
    pub path: String,
    /// The server's public URL (no trailing `/`), for the commands the pages show.
    pub base_url: String,
    /// The browser's address, for the audit.
    pub ip: Option<String>,
}

/// `public_url` from the configuration; without one, the address the browser used
/// (its `Host`), over plain HTTP as the server listens without TLS.
fn base_url(parts: &Parts, state: &AppState) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| state.config.listen.to_string(), str::to_owned);
    format!("http://{host}")
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let BrowserUser {
            principal,
            session_id,
        } = BrowserUser::from_request_parts(parts, state).await?;
        let ip = client_ip(parts, state);
        Ok(Viewer {
            ip,
            base_url: base_url(parts, state),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            csrf: session::csrf_token(&session_id),
            principal,
        })
    }
}

impl Viewer {
    /// The session's user acting from the browser's address.
    pub fn actor(&self) -> Actor<'_> {
        Actor::new(&self.principal, self.ip.clone())
    }

    pub fn ctx(&self, nav: Nav) -> PageCtx {
        PageCtx {
            email: self.principal.email.clone(),
            is_admin: self.principal.is_admin(),
            theme: self.principal.user.theme.clone(),
            csrf: self.csrf.clone(),
            nav,
            path: self.path.clone(),
        }
    }
}

/// An HTML response that browsers and proxies do not cache (pages show private data
/// and CSRF tokens).
pub fn html(markup: Markup) -> Response {
    let mut resp = markup.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `resp` marked never to be cached (live streams, private data).
pub fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// [`html`] with another status (a refused form re-rendered with its input).
pub fn html_status(markup: Markup, status: axum::http::StatusCode) -> Response {
    let mut resp = html(markup);
    *resp.status_mut() = status;
    resp
}

/// A 303 redirect after a successful form POST.
pub fn see_other(location: &str) -> Response {
    let mut resp = axum::http::StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Milliseconds since the epoch as a short UTC time.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
