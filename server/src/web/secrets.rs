//! `/secrets` (admin): names only, a form to add or replace a value, delete; all
//! over `services::secrets`. A value is never put back into a page, not even a refused
//! form's.

use super::csrf::{self, CsrfOnly};
use super::filters::encode;
use super::page::{Viewer, html_status, see_other, when};
use crate::error::{ApiError, PageError};
use crate::services::{self, secrets::PutSecret};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::secrets::{SecretLine, SecretsView, page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

async fn render(
    state: &AppState,
    viewer: &Viewer,
    mut view: SecretsView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let rows = services::secrets::list(state, &viewer.principal).await?;
    view.secrets = rows
        .into_iter()
        .map(|s| SecretLine {
            name: s.name,
            created_by: s.created_by,
            updated: when(s.updated_at),
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

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
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
    render(&state, &viewer, view, StatusCode::OK).await
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
    let name = f.name.trim().to_owned();
    let req = PutSecret {
        name: name.clone(),
        value: f.value,
    };
    match services::secrets::put(&state, &viewer.actor(), req).await {
        Ok(_) => Ok(see_other(&format!("/secrets?saved={}", encode(&name)))),
        Err(e @ (ApiError::Validation(_) | ApiError::BadRequest(_))) => {
            let view = SecretsView {
                name,
                error: Some(format!("{e} (enter the value again).")),
                ..SecretsView::default()
            };
            render(&state, &viewer, view, e.status()).await
        }
        Err(e) => Err(e.into()),
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
    services::secrets::delete(&state, &viewer.actor(), &name).await?;
    Ok(see_other(&format!("/secrets?deleted={}", encode(&name))))
}
