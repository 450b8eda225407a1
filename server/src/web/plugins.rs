//! `/plugins`: the list (admins: all, with the upload form; users: the enabled ones and
//! their functions) and the upload (multipart form data), over `services::plugins`.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html_status, see_other};
use crate::auth::policy;
use crate::error::{ApiError, PageError};
use crate::services::{self, plugins::Plugin};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::components::plugin_function::FunctionDoc;
use automa_ui::pages::plugins::{PluginLine, PluginsView, page};
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// A plugin as the pages show it.
pub(super) fn line(p: &Plugin) -> PluginLine {
    let row = &p.row;
    PluginLine {
        name: row.name.clone(),
        version: row.version.clone(),
        description: row.description.clone(),
        enabled: row.enabled != 0,
        source: row.source.clone(),
        functions: p
            .functions
            .iter()
            .map(|f| FunctionDoc {
                name: f.name.clone(),
                description: f.description.clone(),
                parameters: f.parameters.clone(),
            })
            .collect(),
    }
}

async fn render_list(
    state: &AppState,
    viewer: &Viewer,
    mut view: PluginsView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let admin = viewer.principal.is_admin();
    let plugins = services::plugins::list(state, &viewer.principal).await?;
    view.plugins = plugins
        .iter()
        .map(line)
        // Users see what their scripts can be given: the enabled plugins.
        .filter(|p| admin || p.enabled)
        .collect();
    if admin {
        view.folder = state.jobs.plugins().folder().display().to_string();
    }
    Ok(html_status(page(&viewer.ctx(Nav::Plugins), &view), status))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    deleted: String,
}

/// Plugin names as the manifest allows them; only such a name is echoed in a notice.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let view = PluginsView {
        notice: plain_name(&q.deleted).then(|| format!("Plugin {} uninstalled.", q.deleted)),
        ..PluginsView::default()
    };
    render_list(&state, &viewer, view, StatusCode::OK).await
}

/// The upload form's fields.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    replace: bool,
    wasm: Vec<u8>,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, ApiError> {
    let unreadable = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
        }
    };
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "csrf" => upload.csrf = Some(field.text().await.map_err(unreadable)?),
            "replace" => upload.replace = field.text().await.map_err(unreadable)? == "true",
            "file" => upload.wasm = field.bytes().await.map_err(unreadable)?.to_vec(),
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /plugins` (multipart): install the uploaded component.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    // Checked before the body is read, so a refused upload is not buffered.
    policy::require_admin(&viewer.principal)?;
    let multipart = multipart.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let form = read_upload(multipart).await?;
    csrf::verify(&headers, &state, form.csrf.as_deref(), &viewer.csrf)?;
    let replace = form.replace;
    let refused = |message: String, status: StatusCode| {
        let view = PluginsView {
            replace,
            error: Some(message),
            ..PluginsView::default()
        };
        render_list(&state, &viewer, view, status)
    };
    if form.wasm.is_empty() {
        return refused(
            "Choose a .wasm file to upload.".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match services::plugins::install(&state, &viewer.actor(), form.wasm, replace).await {
        Ok(installed) => {
            let done = if installed.created {
                "installed"
            } else {
                "replaced"
            };
            Ok(see_other(&format!(
                "/plugins/{}?done={done}",
                encode(&installed.plugin.row.name)
            )))
        }
        Err(e @ ApiError::Conflict(_)) => {
            let message = format!(
                "Not installed: {e}. To upload a new version, tick “Replace an installed plugin”."
            );
            refused(message, e.status()).await
        }
        Err(
            e @ (ApiError::Validation(_) | ApiError::PayloadTooLarge | ApiError::BadRequest(_)),
        ) => refused(format!("Not installed: {e}."), e.status()).await,
        Err(e) => Err(e.into()),
    }
}
