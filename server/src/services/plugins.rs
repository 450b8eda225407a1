//! Host plugins: anyone signed in reads them (their functions and what they ask for);
//! admins install, grant, limit, enable and uninstall them. Each change is audited
//! and told to the other nodes once, for the API and the dashboard.

use super::Actor;
use crate::auth::{Principal, policy};
use crate::db::{self, plugins::PluginRow};
use crate::error::{ApiError, ApiResult};
use crate::plugins::{InstallError, InstallFrom, PluginGrants};
use crate::signals::Signal;
use crate::state::AppState;
use automa_runtime::host::{CapabilityRequest, PluginFunction};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

const MAX_MEMORY_MB: i64 = 4096;
const MAX_TIMEOUT_MS: i64 = 300_000;

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

/// An installed plugin as a caller may see it.
pub struct Plugin {
    /// Its functions with the JSON Schemas of their arguments.
    pub functions: Vec<PluginFunction>,
    /// What the plugin asks for.
    pub requested: Vec<CapabilityRequest>,
    /// What an admin granted: shown to admins only.
    pub grants: Option<PluginGrants>,
    pub row: PluginRow,
}

impl Plugin {
    fn of(row: PluginRow, p: &Principal) -> ApiResult<Self> {
        let manifest = row.manifest()?;
        let grants = if p.is_admin() {
            Some(row.grant_set()?)
        } else {
            None
        };
        Ok(Self {
            functions: manifest.functions,
            requested: manifest.capabilities,
            grants,
            row,
        })
    }
}

/// A new or replaced plugin.
pub struct Installed {
    pub plugin: Plugin,
    pub created: bool,
}

/// Every installed plugin.
pub async fn list(state: &AppState, p: &Principal) -> ApiResult<Vec<Plugin>> {
    let rows = db::plugins::list(&state.db).await?;
    rows.into_iter().map(|r| Plugin::of(r, p)).collect()
}

/// One plugin.
pub async fn get(state: &AppState, p: &Principal, name: &str) -> ApiResult<Plugin> {
    let row = db::plugins::find(&state.db, name)
        .await?
        .ok_or(ApiError::NotFound)?;
    Plugin::of(row, p)
}

/// Install an uploaded component (admin): validated, compiled and asked for its
/// manifest before anything is stored; a new plugin starts disabled with no grants.
/// `plugin.install` or `plugin.replace`.
pub async fn install(
    state: &AppState,
    actor: &Actor<'_>,
    wasm: Vec<u8>,
    replace: bool,
) -> ApiResult<Installed> {
    let p = actor.principal;
    policy::require_admin(p)?;
    let from = InstallFrom::Upload {
        by: &p.user_id,
        replace,
    };
    let installed = match state.jobs.plugins().install(wasm, from).await {
        Ok(installed) => installed,
        Err(InstallError::Invalid(e)) => return Err(ApiError::Validation(e.to_string())),
        Err(InstallError::TooLarge) => return Err(ApiError::PayloadTooLarge),
        Err(e @ (InstallError::Exists(_) | InstallError::Superseded(_))) => {
            return Err(ApiError::Conflict(e.to_string()));
        }
        Err(InstallError::Storage(e)) => return Err(e.into()),
    };
    state.signals.tell_others(Signal::PluginsChanged);
    let row = &installed.row;
    let action = if installed.created {
        "plugin.install"
    } else {
        "plugin.replace"
    };
    let entry = actor.audit(action, format!("plugin:{}", row.name)).details(
        json!({"version": row.version, "sha256": row.sha256, "size_bytes": row.size_bytes}),
    );
    state.audit.append(entry).await?;
    Ok(Installed {
        created: installed.created,
        plugin: Plugin::of(installed.row, p)?,
    })
}

/// Enable or disable a plugin, change its grants or limits (admin); `plugin.update`.
pub async fn update(
    state: &AppState,
    actor: &Actor<'_>,
    name: &str,
    req: UpdatePlugin,
) -> ApiResult<Plugin> {
    policy::require_admin(actor.principal)?;
    let row = db::plugins::find(&state.db, name)
        .await?
        .ok_or(ApiError::NotFound)?;
    let grants = match req.grants.clone() {
        Some(grants) => grants,
        None => row.grant_set()?,
    };
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
    let entry = actor
        .audit("plugin.update", format!("plugin:{name}"))
        .details(json!({
            "enabled": enabled,
            "grants": grants,
            "memory_mb": memory_mb,
            "timeout_ms": timeout_ms,
        }));
    state.audit.append(entry).await?;
    get(state, actor.principal, name).await
}

/// Uninstall a plugin (admin; its state goes with it); `plugin.delete`. Scripts that
/// call it then get "not installed".
pub async fn delete(state: &AppState, actor: &Actor<'_>, name: &str) -> ApiResult<()> {
    policy::require_admin(actor.principal)?;
    if !db::plugins::delete(&state.db, name).await? {
        return Err(ApiError::NotFound);
    }
    state.jobs.plugins().forget_unused().await;
    state.signals.tell_others(Signal::PluginsChanged);
    let entry = actor.audit("plugin.delete", format!("plugin:{name}"));
    state.audit.append(entry).await?;
    Ok(())
}
