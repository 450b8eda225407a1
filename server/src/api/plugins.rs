//! Host plugins: admins install WASM components (`application/wasm` upload), review
//! the capabilities they ask for, grant them and enable them. Everyone signed in can
//! list plugins and their functions; scripts call the ones granted in their
//! capabilities (`"plugins": ["name"]`).

use super::{ApiJson, ApiPath, ApiQuery};
use crate::audit::AuditEvent;
use crate::auth::extract::{AdminUser, AuthUser, ClientIp};
use crate::db::{self, plugins::PluginRow, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::plugins::{
    InstallError, InstallFrom, MAX_PLUGIN_BYTES, PluginGrants, grants_of, manifest_of,
};
use crate::state::AppState;
use automa_runtime::host::{CapabilityRequest, PluginFunction};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

const MAX_MEMORY_MB: i64 = 4096;
const MAX_TIMEOUT_MS: i64 = 300_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins, install_plugin))
        .routes(routes!(get_plugin, update_plugin, delete_plugin))
        // Components are megabytes; the server-wide limit is for JSON bodies.
        .layer(DefaultBodyLimit::max(MAX_PLUGIN_BYTES))
}

/// An installed plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Its functions with the JSON Schemas of their arguments.
    #[schema(value_type = Vec<Object>)]
    pub functions: Vec<PluginFunction>,
    /// What the plugin asks for (`{"kind": "http"|"secret"|"state", "value": ...}`).
    #[schema(value_type = Vec<Object>)]
    pub requested: Vec<CapabilityRequest>,
    pub enabled: bool,
    /// What an admin granted (shown to admins only).
    pub grants: Option<PluginGrants>,
    pub memory_mb: i64,
    pub timeout_ms: i64,
    pub sha256: String,
    pub size_bytes: i64,
    /// `upload` or `folder`.
    pub source: String,
    pub installed_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl PluginView {
    fn new(row: PluginRow, admin: bool) -> Self {
        let manifest = manifest_of(&row);
        let grants = admin.then(|| grants_of(&row));
        let (functions, requested) = manifest
            .map(|m| (m.functions, m.capabilities))
            .unwrap_or_default();
        Self {
            functions,
            requested,
            enabled: row.enabled != 0,
            grants,
            name: row.name,
            version: row.version,
            description: row.description,
            memory_mb: row.memory_mb,
            timeout_ms: row.timeout_ms,
            sha256: row.sha256,
            size_bytes: row.size_bytes,
            source: row.source,
            installed_by: row.installed_by,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstallParams {
    /// Replace an installed plugin of the same name (keeping its grants).
    #[serde(default)]
    pub replace: bool,
}

/// Changes to a plugin; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlugin {
    pub enabled: Option<bool>,
    pub grants: Option<PluginGrants>,
    /// Memory limit per call, 1 to 4096 MiB.
    pub memory_mb: Option<i64>,
    /// Time limit per call, 1 to 300000 ms.
    pub timeout_ms: Option<i64>,
}

/// Every installed plugin.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    responses((status = 200, body = Vec<PluginView>), (status = 401, body = ErrorBody)))]
async fn list_plugins(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
) -> ApiResult<ApiJson<Vec<PluginView>>> {
    let admin = p.is_admin();
    let rows = db::plugins::list(&state.db).await?;
    Ok(ApiJson(
        rows.into_iter()
            .map(|r| PluginView::new(r, admin))
            .collect(),
    ))
}

/// One plugin.
#[utoipa::path(get, path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = PluginView), (status = 404, body = ErrorBody)))]
async fn get_plugin(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<ApiJson<PluginView>> {
    let row = db::plugins::find(&state.db, &name)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ApiJson(PluginView::new(row, p.is_admin())))
}

/// Install a plugin: the body is the component (`Content-Type: application/wasm`).
/// It is validated against the `plugin` world, compiled and asked for its manifest
/// before anything is stored. A new plugin starts disabled, with no grants.
#[utoipa::path(post, path = "/api/v1/plugins", tag = "plugins", params(InstallParams),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = PluginView), (status = 200, body = PluginView),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn install_plugin(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiQuery(params): ApiQuery<InstallParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, ApiJson<PluginView>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(
        content_type,
        "application/wasm" | "application/octet-stream"
    ) {
        return Err(ApiError::UnsupportedMediaType(
            "upload the component as the request body with Content-Type: application/wasm".into(),
        ));
    }
    let installed = install(&state, body.to_vec(), &p.user_id, params.replace, ip).await?;
    let status = if installed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(PluginView::new(installed.row, true))))
}

/// Install a component uploaded by an admin (API or web form), with its audit entry.
pub async fn install(
    state: &AppState,
    wasm: Vec<u8>,
    by: &str,
    replace: bool,
    ip: Option<String>,
) -> ApiResult<crate::plugins::Installed> {
    let plugins = state.jobs.plugins();
    let installed = match plugins
        .install(wasm, InstallFrom::Upload { by, replace })
        .await
    {
        Ok(installed) => installed,
        Err(InstallError::Invalid(e)) => return Err(ApiError::Validation(e.to_string())),
        Err(InstallError::TooLarge) => return Err(ApiError::PayloadTooLarge),
        Err(e @ (InstallError::Exists(_) | InstallError::Superseded(_))) => {
            return Err(ApiError::Conflict(e.to_string()));
        }
        Err(InstallError::Storage(e)) => return Err(e.into()),
    };
    state
        .signals
        .tell_others(crate::signals::Signal::PluginsChanged);
    let row = &installed.row;
    state
        .audit
        .append(
            AuditEvent::new(
                by,
                if installed.created {
                    "plugin.install"
                } else {
                    "plugin.replace"
                },
            )
            .target(format!("plugin:{}", row.name))
            .ip(ip)
            .details(
                json!({"version": row.version, "sha256": row.sha256, "size_bytes": row.size_bytes}),
            ),
        )
        .await?;
    Ok(installed)
}

/// Enable or disable a plugin, change its grants or limits.
#[utoipa::path(patch, path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path)), request_body = UpdatePlugin,
    responses((status = 200, body = PluginView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn update_plugin(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<UpdatePlugin>,
) -> ApiResult<ApiJson<PluginView>> {
    let row = update(&state, &name, req, &p.user_id, ip).await?;
    Ok(ApiJson(PluginView::new(row, true)))
}

/// Apply an admin's changes to a plugin, with its audit entry.
pub async fn update(
    state: &AppState,
    name: &str,
    req: UpdatePlugin,
    by: &str,
    ip: Option<String>,
) -> ApiResult<PluginRow> {
    let row = db::plugins::find(&state.db, name)
        .await?
        .ok_or(ApiError::NotFound)?;
    let grants = req.grants.clone().unwrap_or_else(|| grants_of(&row));
    let problems = grants.problems();
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems.join("; ")));
    }
    let memory_mb = req.memory_mb.unwrap_or(row.memory_mb);
    if !(1..=MAX_MEMORY_MB).contains(&memory_mb) {
        return Err(ApiError::Validation(format!(
            "memory_mb must be 1 to {MAX_MEMORY_MB}"
        )));
    }
    let timeout_ms = req.timeout_ms.unwrap_or(row.timeout_ms);
    if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(ApiError::Validation(format!(
            "timeout_ms must be 1 to {MAX_TIMEOUT_MS}"
        )));
    }
    let enabled = req.enabled.unwrap_or(row.enabled != 0);
    let grants_json = serde_json::to_string(&grants).map_err(anyhow::Error::from)?;
    db::plugins::update_settings(
        &state.db,
        name,
        &db::plugins::PluginSettings {
            enabled,
            grants: &grants_json,
            memory_mb,
            timeout_ms,
        },
    )
    .await?;
    state
        .audit
        .append(
            AuditEvent::new(by, "plugin.update")
                .target(format!("plugin:{name}"))
                .ip(ip)
                .details(json!({
                    "enabled": enabled,
                    "grants": grants,
                    "memory_mb": memory_mb,
                    "timeout_ms": timeout_ms,
                })),
        )
        .await?;
    db::plugins::find(&state.db, name)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Uninstall a plugin (its state goes with it). Scripts that call it then get
/// "not installed".
#[utoipa::path(delete, path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_plugin(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    if !db::plugins::delete(&state.db, &name).await? {
        return Err(ApiError::NotFound);
    }
    state.jobs.plugins().forget_unused().await;
    state
        .signals
        .tell_others(crate::signals::Signal::PluginsChanged);
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "plugin.delete")
                .target(format!("plugin:{name}"))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
