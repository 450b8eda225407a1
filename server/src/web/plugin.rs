//! `/plugins/{name}` (admin): what the plugin asks for next to what it was granted, the
//! settings form (grants, limits, enabled) and uninstall. The form calls the API's own
//! `update` (the same checks and audit as `PATCH /api/v1/plugins/{name}`); reads and
//! the uninstall go through the API.

use super::client::encode;
use super::csrf;
use super::page::{Viewer, html_status, see_other, when_text};
use super::plugins::line;
use super::shared::{self, CsrfOnly, text};
use crate::api::plugins::{UpdatePlugin, update};
use crate::auth::extract::ClientIp;
use crate::auth::policy;
use crate::error::{ApiError, PageError};
use crate::plugins::PluginGrants;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::plugin::{CapabilitySet, PluginView, SettingsForm, page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The manifest's requests (`{"kind": "http"|"secret"|"state", "value": ...}`).
fn requested(p: &Value) -> CapabilitySet {
    let mut set = CapabilitySet::default();
    for r in p["requested"].as_array().into_iter().flatten() {
        match r["kind"].as_str() {
            Some("http") => set.http.push(text(&r["value"])),
            Some("secret") => set.secrets.push(text(&r["value"])),
            Some("state") => set.state = true,
            _ => {}
        }
    }
    set
}

fn granted(p: &Value) -> CapabilitySet {
    let g = &p["grants"];
    CapabilitySet {
        http: strings(&g["http"]),
        secrets: strings(&g["secrets"]),
        state: g["state"].as_bool().unwrap_or(false),
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
async fn installer(viewer: &Viewer, id: &str) -> String {
    let user = viewer
        .api
        .call(Method::GET, &format!("/api/v1/users/{}", encode(id)), None)
        .await;
    match user {
        Ok(Ok(u)) => text(&u["email"]),
        _ => id.to_owned(),
    }
}

async fn render_plugin(
    viewer: &Viewer,
    name: &str,
    mut view: PluginView,
    form: Option<SettingsForm>,
    status: StatusCode,
) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let p = viewer
        .api
        .get(&format!("/api/v1/plugins/{}", encode(name)))
        .await?;
    view.plugin = line(&p);
    view.requested = requested(&p);
    view.granted = granted(&p);
    view.sha256 = text(&p["sha256"]);
    view.size = size(p["size_bytes"].as_i64().unwrap_or(0));
    view.installed_by = installer(viewer, &text(&p["installed_by"])).await;
    view.updated = when_text(p["updated_at"].as_str().unwrap_or_default());
    view.form = form.unwrap_or_else(|| SettingsForm {
        http: view.granted.http.join("\n"),
        secrets: view.granted.secrets.join("\n"),
        state: view.granted.state,
        memory_mb: p["memory_mb"].to_string(),
        timeout_ms: p["timeout_ms"].to_string(),
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
    render_plugin(&viewer, &name, view, None, StatusCode::OK).await
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
    ClientIp(ip): ClientIp,
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
    match update(&state, &name, changes, &viewer.principal.user_id, ip).await {
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

/// `POST /plugins/{name}/delete`: uninstall through the API.
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let api_path = format!("/api/v1/plugins/{}", encode(&name));
    let back = format!("/plugins?deleted={}", encode(&name));
    shared::delete_then(&state, &viewer, &headers, &f, &api_path, &back).await
}
