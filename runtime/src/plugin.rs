//! Host plugins: WASM components of the `plugin` world. Loading validates a component
//! against the world, compiles it once (cached on disk like the runner) and reads its
//! manifest; every invocation gets a fresh instance with the plugin's own limits.

use crate::cpu::CpuClock;
use crate::output::CapturedOutput;
use crate::run::{RunState, scrub};
use crate::{Limits, Runtime, cache};
use automa_host_api::plugin_bindings::PluginPre;
use automa_host_api::ports::{Nothing, OutputStream};
use automa_host_api::{HostContext, HostError, PLUGIN_IMPORTS, PluginManifest};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime_wasi::WasiCtxBuilder;

/// The memory and time one plugin call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// Largest linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time per call.
    pub timeout: Duration,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 128 * 1024 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Limits while reading the manifest of a plugin being installed.
const MANIFEST_LIMITS: PluginLimits = PluginLimits {
    memory_bytes: 256 * 1024 * 1024,
    timeout: Duration::from_secs(10),
};

/// Largest JSON text a plugin call may return (the host and the script parse it).
const MAX_PLUGIN_RESULT_BYTES: usize = 8 * 1024 * 1024;

/// Largest manifest, as JSON: it is stored, parsed per call and shown to every user.
const MAX_MANIFEST_BYTES: usize = 256 * 1024;

/// Output a plugin may write per call (it goes to the calling run's output).
const MAX_PLUGIN_OUTPUT: usize = 64 * 1024;

/// Why a component cannot be installed as a plugin. Nothing is changed when loading
/// fails.
#[derive(Debug, thiserror::Error)]
pub enum PluginLoadError {
    /// Not WebAssembly at all.
    #[error("the file is not WebAssembly (it does not start with the \\0asm header)")]
    NotWasm,
    /// A core module rather than a component.
    #[error(
        "the file is a core WebAssembly module, not a component: build for wasm32-wasip2 \
         (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    /// The component does not validate or compile.
    #[error("the component is malformed: {0}")]
    Malformed(String),
    /// It imports interfaces a plugin may not use.
    #[error(
        "the component imports {}, which plugins cannot use (allowed: automa:host http, log, \
         state, secrets, and WASI)", .0.join(", ")
    )]
    ForbiddenImports(Vec<String>),
    /// It does not implement the `plugin` world's exports.
    #[error("the component does not implement the automa:host `plugin` world: {0}")]
    NotAPlugin(String),
    /// Its `manifest` export failed or took too long.
    #[error("reading the plugin's manifest failed: {0}")]
    ManifestFailed(String),
    /// Its manifest is not acceptable.
    #[error("the plugin's manifest is invalid: {}", .0.join("; "))]
    BadManifest(Vec<String>),
}

/// A validated, compiled plugin, ready to be invoked.
pub struct LoadedPlugin {
    manifest: PluginManifest,
    sha256: String,
    pre: PluginPre<RunState>,
}

impl LoadedPlugin {
    /// What the plugin said about itself.
    pub fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    /// The SHA-256 of the component, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.manifest.name)
            .field("version", &self.manifest.version)
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Runtime {
    /// Validate `wasm` as a plugin component, compile it (or load it from the cache)
    /// and read its manifest in a sandbox without capabilities.
    pub async fn load_plugin(&self, wasm: Vec<u8>) -> Result<Arc<LoadedPlugin>, PluginLoadError> {
        match wasm.get(..8) {
            Some([0, b'a', b's', b'm', _, _, 0x01, 0x00]) => {}
            Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => {
                return Err(PluginLoadError::CoreModule);
            }
            _ => return Err(PluginLoadError::NotWasm),
        }
        let sha256 = hex::encode(Sha256::digest(&wasm));
        let engine = self.engine.clone();
        let cache_dir = self.cache_dir.clone();
        let digest = sha256.clone();
        // Compiling takes seconds of CPU for a large component: off the async workers.
        let component = tokio::task::spawn_blocking(move || {
            cache::load_or_compile(&engine, cache_dir.as_deref(), "plugin", &wasm, &digest)
        })
        .await
        .map_err(|e| PluginLoadError::Malformed(e.to_string()))?
        .map_err(|e| PluginLoadError::Malformed(format!("{e:#}")))?;

        let forbidden: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .filter(|name| !name.starts_with("wasi:") && !PLUGIN_IMPORTS.contains(&name.as_str()))
            .collect();
        if !forbidden.is_empty() {
            return Err(PluginLoadError::ForbiddenImports(forbidden));
        }
        let pre = self.plugin_pre(&component)?;
        let manifest = self.read_manifest(&pre).await?;
        Ok(Arc::new(LoadedPlugin {
            manifest,
            sha256,
            pre,
        }))
    }

    fn plugin_pre(&self, component: &Component) -> Result<PluginPre<RunState>, PluginLoadError> {
        let pre = self
            .plugin_linker
            .instantiate_pre(component)
            .map_err(|e| PluginLoadError::Malformed(format!("{e:#}")))?;
        PluginPre::new(pre).map_err(|e| PluginLoadError::NotAPlugin(format!("{e:#}")))
    }

    async fn read_manifest(
        &self,
        pre: &PluginPre<RunState>,
    ) -> Result<PluginManifest, PluginLoadError> {
        let host = HostContext::new(
            Arc::default(),
            Arc::new(automa_host_api::ReqwestClient::new()),
            Arc::new(Nothing),
            Arc::new(Nothing),
        );
        let mut store = self.plugin_store(host, &MANIFEST_LIMITS);
        let call = async {
            let plugin = pre.instantiate_async(&mut store).await?;
            plugin.call_manifest(&mut store).await
        };
        let manifest = match tokio::time::timeout(MANIFEST_LIMITS.timeout, call).await {
            Err(_) => {
                return Err(PluginLoadError::ManifestFailed(format!(
                    "it did not answer within {} s",
                    MANIFEST_LIMITS.timeout.as_secs()
                )));
            }
            Ok(Err(trap)) => return Err(PluginLoadError::ManifestFailed(format!("{trap:#}"))),
            Ok(Ok(manifest)) => manifest,
        };
        let manifest = PluginManifest::from_wit(manifest).map_err(PluginLoadError::BadManifest)?;
        let size = serde_json::to_string(&manifest).map_or(usize::MAX, |json| json.len());
        if size > MAX_MANIFEST_BYTES {
            return Err(PluginLoadError::BadManifest(vec![format!(
                "it is {size} bytes as JSON; the limit is {} KiB",
                MAX_MANIFEST_BYTES / 1024
            )]));
        }
        Ok(manifest)
    }

    /// Run `function` of `plugin` in a fresh instance with `host` as its capabilities
    /// and ports. Traps, memory exhaustion and timeouts become errors for the caller;
    /// the arguments must already fit the function's schema.
    pub async fn invoke_plugin(
        &self,
        plugin: &LoadedPlugin,
        host: HostContext,
        limits: &PluginLimits,
        function: &str,
        args_json: &str,
    ) -> Result<String, HostError> {
        let name = &plugin.manifest.name;
        let mut store = self.plugin_store(host, limits);
        let call = async {
            let instance = plugin.pre.instantiate_async(&mut store).await?;
            instance.call_invoke(&mut store, function, args_json).await
        };
        let result = match tokio::time::timeout(limits.timeout, call).await {
            Err(_) => Err(HostError::Timeout(format!(
                "the plugin {name:?} did not finish {function} within {} ms",
                limits.timeout.as_millis()
            ))),
            Ok(Ok(Ok(json))) if json.len() > MAX_PLUGIN_RESULT_BYTES => {
                Err(HostError::TooLarge(format!(
                    "the plugin {name:?} returned more than {} MiB from {function}",
                    MAX_PLUGIN_RESULT_BYTES / (1024 * 1024)
                )))
            }
            Ok(Ok(Ok(json))) => Ok(json),
            Ok(Ok(Err(error))) => Err(HostError::from(error)),
            Ok(Err(_)) if store.data().limiter.refused => Err(HostError::Failed(format!(
                "the plugin {name:?} needed more than its memory limit of {} MiB",
                limits.memory_bytes / (1024 * 1024)
            ))),
            Ok(Err(trap)) => Err(HostError::Failed(format!(
                "the plugin {name:?} crashed in {function}: {}",
                trap.root_cause()
            ))),
        };
        // The plugin's secrets were granted to it, not to the script that called it.
        let revealed = store.data().host.revealed_secrets();
        result
            .map(|mut json| {
                scrub(&mut json, revealed);
                json
            })
            .map_err(|error| {
                error.map_message(|mut message| {
                    scrub(&mut message, revealed);
                    message
                })
            })
    }

    /// A store for one plugin instance: no environment, no files, no sockets; its
    /// output goes to the events of the run that called it, capped.
    fn plugin_store(&self, host: HostContext, limits: &PluginLimits) -> wasmtime::Store<RunState> {
        let events = host.events.clone();
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(CapturedOutput::new(
            OutputStream::Stdout,
            MAX_PLUGIN_OUTPUT,
            events.clone(),
        ))
        .stderr(CapturedOutput::new(
            OutputStream::Stderr,
            MAX_PLUGIN_OUTPUT,
            events,
        ))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
        let run_limits = Limits {
            memory_bytes: limits.memory_bytes,
            timeout: limits.timeout,
            ..Limits::default()
        };
        // No CPU budget of its own: its calls are the calling run's CPU time.
        self.new_store(wasi.build(), host, &run_limits, &CpuClock::default())
    }
}
