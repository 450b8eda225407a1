//! Compiled components on disk (the runner and host plugins): compiling a component
//! takes seconds, loading a compiled artifact takes a millisecond (it is memory-mapped).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::error::Context as _;

/// The cache file for `component_sha256` under `dir`, keyed also by everything about
/// the engine that makes compiled code compatible (version, target, settings).
fn artifact_path(engine: &Engine, dir: &Path, label: &str, component_sha256: &str) -> PathBuf {
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let engine_key = hasher.finish();
    // The whole digest: a shortened one could be collided on purpose by a plugin author,
    // making a reviewed component load another's compiled code.
    dir.join(format!(
        "{label}-{component_sha256}-{engine_key:016x}.cwasm"
    ))
}

/// Load the compiled component from `dir`, or compile `bytes` and store the result.
/// `label` names the component in file names and messages (`runner`, `plugin`).
pub(crate) fn load_or_compile(
    engine: &Engine,
    dir: Option<&Path>,
    label: &str,
    bytes: &[u8],
    component_sha256: &str,
) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes).with_context(|| format!("compiling the {label}"));
    };
    let path = artifact_path(engine, dir, label, component_sha256);
    if path.exists() {
        match deserialize(engine, &path) {
            Ok(component) => return Ok(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring an unusable compiled {label}; recompiling");
            }
        }
    }
    tracing::info!(path = %path.display(), "compiling the {label} (once per version)");
    let serialized = engine
        .precompile_component(bytes)
        .with_context(|| format!("compiling the {label}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Write then rename, so a concurrent reader never maps a half-written file.
    // Unique per call: several runtimes in one process may compile at once.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = path.with_extension(format!("partial-{}-{n}", std::process::id()));
    std::fs::write(&partial, &serialized)
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    deserialize(engine, &path)
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was produced by `precompile_component` of an engine with the same
    // compatibility hash (it is in the file name) and written by this process family
    // into a cache directory it owns; wasmtime still validates the header and version.
    unsafe { Component::deserialize_file(engine, path) }
        .with_context(|| format!("loading {}", path.display()))
}
