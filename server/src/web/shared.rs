//! Pieces the pages share: the script choices, a script's name, the CSRF-checked
//! delete that goes back to a list, and an API event stream handed to `EventSource`.

use super::client::Api;
use super::csrf;
use super::page::{Viewer, see_other};
use crate::error::ApiError;
use crate::error::PageError;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

/// A form whose only field is the CSRF token (action buttons).
#[derive(Deserialize)]
pub struct CsrfOnly {
    pub csrf: Option<String>,
}

pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// `(id, name)` of every script the viewer may use.
pub async fn scripts(api: &Api) -> Result<Vec<(String, String)>, PageError> {
    let page = api.get("/api/v1/scripts?limit=200").await?;
    Ok(page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (text(&s["id"]), text(&s["name"])))
        .collect())
}

/// The name of a script among `names`, or that it is gone.
pub fn name_in(names: &[(String, String)], id: &str) -> String {
    names
        .iter()
        .find(|(i, _)| i == id)
        .map_or_else(|| "(deleted script)".to_owned(), |(_, n)| n.clone())
}

/// `DELETE` an API resource (`api_path`, id encoded) after the CSRF check, then
/// show `back`.
pub async fn delete_then(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    form: &CsrfOnly,
    api_path: &str,
    back: &str,
) -> Result<Response, PageError> {
    csrf::verify(headers, state, form.csrf.as_deref(), &viewer.csrf)?;
    viewer.api.call(Method::DELETE, api_path, None).await??;
    Ok(see_other(back))
}

/// An API event stream (`api_path`, ids encoded) for `EventSource`, which cannot send
/// an `Authorization` header: requested as the session's user, never cached.
pub async fn event_stream(api: &Api, api_path: &str) -> Result<Response, PageError> {
    let mut resp = api
        .send(Method::GET, api_path, None, "text/event-stream")
        .await?;
    if !resp.status().is_success() {
        return Err(ApiError::NotFound.into());
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
