//! Compiled code on disk (the runner, host plugins, the data profile's interpreter):
//! compiling takes seconds to minutes, loading a compiled artifact a millisecond (it is
//! memory-mapped).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::error::Context as _;
use wasmtime::{Engine, Module};

/// The cache file for `sha256` under `dir`, keyed also by everything about the engine
/// that makes compiled code compatible (version, target, settings).
fn artifact_path(engine: &Engine, dir: &Path, label: &str, sha256: &str) -> PathBuf {
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let engine_key = hasher.finish();
    // The whole digest: a shortened one could be collided on purpose by a plugin author,
    // making a reviewed component load another's compiled code.
    dir.join(format!("{label}-{sha256}-{engine_key:016x}.cwasm"))
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
    cached(
        engine,
        dir,
        label,
        component_sha256,
        || engine.precompile_component(bytes),
        deserialize_component,
    )
}

/// Load the compiled core module from `dir`, or compile the module at `source` once
/// and store the result (the data profile's interpreter: minutes, gigabytes).
pub(crate) fn load_or_compile_module(
    engine: &Engine,
    dir: &Path,
    label: &str,
    source: &Path,
    module_sha256: &str,
) -> wasmtime::Result<Module> {
    cached(
        engine,
        dir,
        label,
        module_sha256,
        || {
            let bytes =
                std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
            engine.precompile_module(&bytes)
        },
        deserialize_module,
    )
}

/// Load the compiled core module `label`/`module_sha256` from `dir`, or compile the
/// module `produce` makes (the data profile's snapshot: built first, then compiled).
pub(crate) fn load_or_compile_module_from(
    engine: &Engine,
    dir: &Path,
    label: &str,
    module_sha256: &str,
    produce: impl FnOnce() -> wasmtime::Result<Vec<u8>>,
) -> wasmtime::Result<Module> {
    cached(
        engine,
        dir,
        label,
        module_sha256,
        || engine.precompile_module(&produce()?),
        deserialize_module,
    )
}

fn cached<T>(
    engine: &Engine,
    dir: &Path,
    label: &str,
    sha256: &str,
    compile: impl FnOnce() -> wasmtime::Result<Vec<u8>>,
    load: fn(&Engine, &Path) -> wasmtime::Result<T>,
) -> wasmtime::Result<T> {
    let path = artifact_path(engine, dir, label, sha256);
    if path.exists() {
        match load(engine, &path) {
            Ok(loaded) => return Ok(loaded),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring an unusable compiled {label}; recompiling");
            }
        }
    }
    tracing::info!(path = %path.display(), "compiling the {label} (once per version)");
    let serialized = compile().with_context(|| format!("compiling the {label}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Write then rename, so a concurrent reader never maps a half-written file.
    // Unique per call: several runtimes in one process may compile at once.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = path.with_extension(format!("partial-{}-{n}", std::process::id()));
    std::fs::write(&partial, &serialized)
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    load(engine, &path)
}

/// Whether `dir` holds the compiled `label` for `sha256` already (no compile needed).
pub(crate) fn is_compiled(engine: &Engine, dir: &Path, label: &str, sha256: &str) -> bool {
    artifact_path(engine, dir, label, sha256).exists()
}

#[allow(unsafe_code)]
fn deserialize_component(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was produced by `precompile_component` of an engine with the same
    // compatibility hash (it is in the file name) and written by this process family
    // into a cache directory it owns; wasmtime still validates the header and version.
    unsafe { Component::deserialize_file(engine, path) }
        .with_context(|| format!("loading {}", path.display()))
}

#[allow(unsafe_code)]
fn deserialize_module(engine: &Engine, path: &Path) -> wasmtime::Result<Module> {
    // SAFETY: as for components: `precompile_module` of an engine with the same
    // compatibility hash wrote it into a cache directory this process family owns.
    unsafe { Module::deserialize_file(engine, path) }
        .with_context(|| format!("loading {}", path.display()))
}
