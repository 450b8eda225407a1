//! `/secrets` (admin): names only, a form to add or replace a value, delete; all
//! through `/api/v1/secrets`. A value is never put back into a page, not even a refused
//! form's.

use super::client::encode;
use super::csrf::{self, CsrfOnly};
use super::page::{Viewer, html_status, see_other, when_text};
use crate::auth::policy;
use crate::error::{ApiError, PageError};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::secrets::{SecretLine, SecretsView, page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

async fn render(
    viewer: &Viewer,
    mut view: SecretsView,
    status: StatusCode,
) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let list = viewer.api.get("/api/v1/secrets").await?;
    view.secrets = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| SecretLine {
            name: s["name"].as_str().unwrap_or_default().to_owned(),
            created_by: s["created_by"].as_str().unwrap_or_default().to_owned(),
            updated: when_text(s["updated_at"].as_str().unwrap_or_default()),
        })
        .collect();
    Ok(html_status(page(&viewer.ctx(Nav::Secrets), &view), status))
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    deleted: String,
}

pub async fn list(viewer: Viewer, Query(q): Query<Done>) -> Result<Response, PageError> {
    // Names come back in the query: only well-formed ones are repeated in the notice.
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let notice = if !q.saved.is_empty() && plain(&q.saved) {
        Some(format!("Secret {} saved.", q.saved))
    } else if !q.deleted.is_empty() && plain(&q.deleted) {
        Some(format!("Secret {} deleted.", q.deleted))
    } else {
        None
    };
    let view = SecretsView {
        notice,
        ..SecretsView::default()
    };
    render(&viewer, view, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct PutForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

pub async fn put(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<PutForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    policy::require_admin(&viewer.principal)?;
    let name = f.name.trim().to_owned();
    let answer = viewer
        .api
        .call(
            Method::POST,
            "/api/v1/secrets",
            Some(&json!({"name": name, "value": f.value})),
        )
        .await?;
    match answer {
        Ok(_) => Ok(see_other(&format!("/secrets?saved={}", encode(&name)))),
        Err(e) if matches!(e.status.as_u16(), 400 | 422) => {
            let view = SecretsView {
                name,
                error: Some(format!("{} (enter the value again).", e.message)),
                ..SecretsView::default()
            };
            render(&viewer, view, e.status).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    policy::require_admin(&viewer.principal)?;
    viewer
        .api
        .call(
            Method::DELETE,
            &format!("/api/v1/secrets/{}", encode(&name)),
            None,
        )
        .await??;
    Ok(see_other(&format!("/secrets?deleted={}", encode(&name))))
}
