//! Host plugins: installing components, keeping them compiled, and running them for
//! scripts. The database is the source of truth (so every node of a PostgreSQL
//! deployment sees the same plugins); each process keeps the compiled components and
//! argument validators it has used, keyed by the component's digest.

mod caller;
mod folder;
pub mod grants;

pub use caller::RunPlugins;
pub use grants::PluginGrants;

use crate::audit::HostCalls;
use crate::db::{self, Db, plugins::PluginRow};
use automa_runtime::host::HostError;
use automa_runtime::{LoadedPlugin, PluginLimits, PluginLoadError, Runtime};
use base64::Engine as _;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Largest plugin component accepted, in bytes.
pub const MAX_PLUGIN_BYTES: usize = 128 * 1024 * 1024;

/// The plugin registry of this process.
#[derive(Clone)]
pub struct Plugins(Arc<Inner>);

struct Inner {
    db: Db,
    runtime: Arc<Runtime>,
    http: Arc<automa_runtime::host::ReqwestClient>,
    secrets_key: Vec<u8>,
    /// Host calls of plugins, and folder installs, to the audit log.
    host_calls: HostCalls,
    folder: PathBuf,
    loaded: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    validators: Mutex<HashMap<(String, String), Arc<jsonschema::Validator>>>,
}

/// Why an install did not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Invalid(#[from] PluginLoadError),
    #[error("the component is larger than {} MiB", MAX_PLUGIN_BYTES / (1024 * 1024))]
    TooLarge,
    #[error(
        "a plugin named {0:?} is already installed; upload with replace=true to replace it \
         (its grants, limits and enabled state are kept)"
    )]
    Exists(String),
    #[error("a plugin named {0:?} was uploaded by an admin; the folder's file is ignored")]
    Superseded(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

/// Where a component being installed comes from.
#[derive(Debug, Clone, Copy)]
pub enum InstallFrom<'a> {
    /// An admin's upload (API or web form); `replace` an installed plugin of that name.
    Upload { by: &'a str, replace: bool },
    /// The data directory's plugins folder, at start.
    Folder,
}

/// The result of an install.
pub struct Installed {
    pub row: PluginRow,
    pub created: bool,
}

impl Plugins {
    pub fn new(
        db: Db,
        runtime: Arc<Runtime>,
        secrets_key: Vec<u8>,
        host_calls: HostCalls,
        data_dir: &std::path::Path,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            runtime,
            http: Arc::new(automa_runtime::host::ReqwestClient::new()),
            secrets_key,
            host_calls,
            folder: data_dir.join("plugins"),
            loaded: Mutex::default(),
            validators: Mutex::default(),
        }))
    }

    /// The folder whose `.wasm` files are installed at start.
    pub fn folder(&self) -> &std::path::Path {
        &self.0.folder
    }

    /// Validate, compile and store a plugin component. A new plugin starts disabled
    /// with no grants; replacing one keeps its grants, limits and enabled state.
    pub async fn install(
        &self,
        wasm: Vec<u8>,
        how: InstallFrom<'_>,
    ) -> Result<Installed, InstallError> {
        if wasm.len() > MAX_PLUGIN_BYTES {
            return Err(InstallError::TooLarge);
        }
        let size_bytes = i64::try_from(wasm.len()).unwrap_or(i64::MAX);
        let plugin = self.0.runtime.load_plugin(wasm.clone()).await?;
        let manifest = plugin.manifest();
        let (source, installed_by, replace) = match how {
            InstallFrom::Upload { by, replace } => ("upload", by, replace),
            InstallFrom::Folder => {
                // A folder file never replaces what an admin uploaded (else every
                // restart would roll an uploaded version back to the file's).
                let existing = db::plugins::find(&self.0.db, &manifest.name).await?;
                if existing.is_some_and(|row| row.source != "folder") {
                    return Err(InstallError::Superseded(manifest.name.clone()));
                }
                ("folder", "system", true)
            }
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(&wasm);
        drop(wasm);
        let manifest_json = serde_json::to_string(manifest).unwrap_or_default();
        let new = db::plugins::NewPlugin {
            name: &manifest.name,
            version: &manifest.version,
            description: &manifest.description,
            manifest: &manifest_json,
            sha256: plugin.sha256(),
            wasm_base64: &encoded,
            size_bytes,
            source,
            installed_by,
        };
        let created = match db::plugins::upsert(&self.0.db, &new, replace).await {
            Ok(created) => created,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(InstallError::Exists(manifest.name.clone()));
            }
            Err(e) => return Err(e.into()),
        };
        let name = manifest.name.clone();
        self.lock_loaded()
            .insert(plugin.sha256().to_owned(), plugin.clone());
        self.forget_unused().await;
        let row = db::plugins::find(&self.0.db, &name)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        Ok(Installed { row, created })
    }

    /// Drop the compiled components and validators of versions no longer installed
    /// (after a replace or an uninstall), so their memory is returned.
    pub async fn forget_unused(&self) {
        let Ok(rows) = db::plugins::list(&self.0.db).await else {
            return;
        };
        let current: std::collections::HashSet<String> =
            rows.into_iter().map(|row| row.sha256).collect();
        self.lock_loaded().retain(|sha, _| current.contains(sha));
        self.lock_validators()
            .retain(|(sha, _), _| current.contains(sha));
    }

    /// Install every `.wasm` file of the plugins folder that is not installed in this
    /// version yet. A file that is not a valid plugin is logged and skipped.
    pub async fn install_folder(&self) {
        folder::install_all(self).await;
    }

    /// The compiled plugin of an installed row, loading it from the database when
    /// this process has not used it yet.
    async fn loaded(&self, row: &PluginRow) -> Result<Arc<LoadedPlugin>, HostError> {
        if let Some(plugin) = self.lock_loaded().get(&row.sha256) {
            return Ok(plugin.clone());
        }
        let unavailable = |what: String| {
            tracing::error!(plugin = %row.name, error = %what, "loading a plugin");
            HostError::Failed(format!("the plugin {:?} cannot be loaded", row.name))
        };
        let encoded = db::plugins::blob(&self.0.db, &row.sha256)
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .ok_or_else(|| unavailable("its component is missing".into()))?;
        let wasm = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| unavailable(e.to_string()))?;
        let plugin = self
            .0
            .runtime
            .load_plugin(wasm)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        self.lock_loaded()
            .insert(row.sha256.clone(), plugin.clone());
        Ok(plugin)
    }

    /// Check `args` against a function's schema; every problem listed.
    fn validate_args(
        &self,
        sha256: &str,
        function: &automa_runtime::host::PluginFunction,
        args: &serde_json::Value,
    ) -> Result<(), HostError> {
        let key = (sha256.to_owned(), function.name.clone());
        let cached = self.lock_validators().get(&key).cloned();
        let validator = match cached {
            Some(v) => v,
            None => {
                let v = jsonschema::validator_for(&function.parameters).map_err(|e| {
                    HostError::Failed(format!(
                        "the schema of {} is not a valid JSON Schema: {e}",
                        function.name
                    ))
                })?;
                let v = Arc::new(v);
                self.lock_validators().insert(key, v.clone());
                v
            }
        };
        let problems: Vec<String> = validator
            .iter_errors(args)
            .map(|e| {
                let path = e.instance_path().to_string();
                if path.is_empty() {
                    e.to_string()
                } else {
                    format!("{path}: {e}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(HostError::InvalidInput(format!(
                "invalid arguments for {}: {}",
                function.name,
                problems.join("; ")
            )))
        }
    }

    fn lock_loaded(&self) -> MutexGuard<'_, HashMap<String, Arc<LoadedPlugin>>> {
        self.0.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_validators(
        &self,
    ) -> MutexGuard<'_, HashMap<(String, String), Arc<jsonschema::Validator>>> {
        self.0.validators.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A row's limits.
pub fn limits_of(row: &PluginRow) -> PluginLimits {
    PluginLimits {
        memory_bytes: u64::try_from(row.memory_mb).unwrap_or(128) * 1024 * 1024,
        timeout: Duration::from_millis(u64::try_from(row.timeout_ms).unwrap_or(10_000)),
    }
}
