//! Host plugins: admins install WASM components (`application/wasm` upload), review
//! the capabilities they ask for, grant them and enable them. Everyone signed in can
//! list plugins and their functions; scripts call the ones granted in their
//! capabilities (`"plugins": ["name"]`).

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::extract::{AdminUser, AuthUser, ClientIp};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::plugins::{MAX_PLUGIN_BYTES, PluginGrants};
use crate::services::{
    self, Actor,
    plugins::{Plugin, UpdatePlugin},
};
use crate::state::AppState;
use automa_runtime::host::{CapabilityRequest, PluginFunction};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

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

impl From<Plugin> for PluginView {
    fn from(p: Plugin) -> Self {
        let row = p.row;
        Self {
            functions: p.functions,
            requested: p.requested,
            enabled: row.enabled != 0,
            grants: p.grants,
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

/// Every installed plugin.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    responses((status = 200, body = Vec<PluginView>), (status = 401, body = ErrorBody)))]
async fn list_plugins(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
) -> ApiResult<ApiJson<Vec<PluginView>>> {
    let plugins = services::plugins::list(&state, &p).await?;
    Ok(ApiJson(plugins.into_iter().map(PluginView::from).collect()))
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
    Ok(ApiJson(
        services::plugins::get(&state, &p, &name).await?.into(),
    ))
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
    let actor = Actor::new(&p, ip);
    let installed =
        services::plugins::install(&state, &actor, body.to_vec(), params.replace).await?;
    let status = if installed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(installed.plugin.into())))
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
    let plugin = services::plugins::update(&state, &Actor::new(&p, ip), &name, req).await?;
    Ok(ApiJson(plugin.into()))
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
    services::plugins::delete(&state, &Actor::new(&p, ip), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
