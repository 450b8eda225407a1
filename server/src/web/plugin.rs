//! `/plugins/{name}` (admin): what the plugin asks for next to what it was granted, the
//! settings form (grants, limits, enabled) and uninstall, over `services::plugins` (the
//! same checks and audit as `PATCH /api/v1/plugins/{name}`).

use super::csrf::{self, CsrfOnly};
use super::filters::encode;
use super::page::{Viewer, html_status, see_other, when};
use super::plugins::line;
use crate::auth::policy;
use crate::error::{ApiError, PageError};
use crate::plugins::PluginGrants;
use crate::services::{
    self,
    plugins::{Plugin, UpdatePlugin},
};
use crate::state::AppState;
use automa_runtime::host::CapabilityRequest;
use automa_ui::Nav;
use automa_ui::pages::plugin::{CapabilitySet, PluginView, SettingsForm, page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// The manifest's requests.
fn requested(p: &Plugin) -> CapabilitySet {
    let mut set = CapabilitySet::default();
    for r in &p.requested {
        match r {
            CapabilityRequest::Http(rule) => set.http.push(rule.clone()),
            CapabilityRequest::Secret(name) => set.secrets.push(name.clone()),
            CapabilityRequest::State => set.state = true,
        }
    }
    set
}

fn granted(p: &Plugin) -> CapabilitySet {
    let g = p.grants.clone().unwrap_or_default();
    CapabilitySet {
        http: g.http,
        secrets: g.secrets,
        state: g.state,
    }
}

fn size(bytes: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KiB", (bytes + 1023) / 1024)
    }
}

/// Who installed it: a user's email, else the id as stored (a folder install's actor).
async fn installer(state: &AppState, viewer: &Viewer, id: &str) -> String {
    match services::users::get(state, &viewer.principal, id).await {
        Ok(u) => u.email,
        Err(_) => id.to_owned(),
    }
}

async fn render_plugin(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    mut view: PluginView,
    form: Option<SettingsForm>,
    status: StatusCode,
) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let p = services::plugins::get(state, &viewer.principal, name).await?;
    view.plugin = line(&p);
    view.requested = requested(&p);
    view.granted = granted(&p);
    view.sha256 = p.row.sha256.clone();
    view.size = size(p.row.size_bytes);
    view.installed_by = installer(state, viewer, &p.row.installed_by).await;
    view.updated = when(p.row.updated_at);
    view.form = form.unwrap_or_else(|| SettingsForm {
        http: view.granted.http.join("\n"),
        secrets: view.granted.secrets.join("\n"),
        state: view.granted.state,
        memory_mb: p.row.memory_mb.to_string(),
        timeout_ms: p.row.timeout_ms.to_string(),
        enabled: view.plugin.enabled,
    });
    Ok(html_status(page(&viewer.ctx(Nav::Plugins), &view), status))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_str() {
        "installed" => Some(
            "Installed. It is disabled and has nothing granted: review what it asks for, \
             then grant and enable it below.",
        ),
        "replaced" => {
            Some("Replaced by the uploaded version; grants, limits and enabled state kept.")
        }
        "saved" => Some("Saved."),
        _ => None,
    };
    let view = PluginView {
        notice: notice.map(str::to_owned),
        ..PluginView::default()
    };
    render_plugin(&state, &viewer, &name, view, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct SettingsInput {
    csrf: Option<String>,
    #[serde(default)]
    http: String,
    #[serde(default)]
    secrets: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    memory_mb: String,
    #[serde(default)]
    timeout_ms: String,
    #[serde(default)]
    enabled: Option<String>,
}

/// A limit typed into the form, or the problem to show beside its field.
fn whole_number(field: &str, raw: &str, problems: &mut Vec<(String, String)>) -> Option<i64> {
    let parsed = raw.trim().parse::<i64>().ok();
    if parsed.is_none() {
        problems.push((field.to_owned(), "enter a whole number".to_owned()));
    }
    parsed
}

/// `POST /plugins/{name}`: grants, limits and enabled, as one `update`.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<SettingsInput>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    policy::require_admin(&viewer.principal)?;
    let form = SettingsForm {
        state: f.state.is_some(),
        enabled: f.enabled.is_some(),
        http: f.http,
        secrets: f.secrets,
        memory_mb: f.memory_mb,
        timeout_ms: f.timeout_ms,
    };
    let mut field_errors = Vec::new();
    let memory_mb = whole_number("memory_mb", &form.memory_mb, &mut field_errors);
    let timeout_ms = whole_number("timeout_ms", &form.timeout_ms, &mut field_errors);
    let refused = |error: Option<String>, field_errors, form| {
        let view = PluginView {
            error,
            field_errors,
            ..PluginView::default()
        };
        render_plugin(
            &state,
            &viewer,
            &name,
            view,
            Some(form),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let (Some(memory_mb), Some(timeout_ms)) = (memory_mb, timeout_ms) else {
        return refused(None, field_errors, form).await;
    };
    let grants = PluginGrants {
        http: form
            .http
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        secrets: form
            .secrets
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        state: form.state,
    };
    let changes = UpdatePlugin {
        enabled: Some(form.enabled),
        grants: Some(grants),
        memory_mb: Some(memory_mb),
        timeout_ms: Some(timeout_ms),
    };
    match services::plugins::update(&state, &viewer.actor(), &name, changes).await {
        Ok(_) => Ok(see_other(&format!("/plugins/{}?done=saved", encode(&name)))),
        Err(ApiError::Validation(message)) => {
            // The limits' messages name their field; put them beside it.
            let field = ["memory_mb", "timeout_ms"]
                .into_iter()
                .find(|f| message.starts_with(f));
            match field {
                Some(field) => refused(None, vec![(field.to_owned(), message)], form).await,
                None => refused(Some(message), Vec::new(), form).await,
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /plugins/{name}/delete`: uninstall.
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    services::plugins::delete(&state, &viewer.actor(), &name).await?;
    Ok(see_other(&format!("/plugins?deleted={}", encode(&name))))
}
