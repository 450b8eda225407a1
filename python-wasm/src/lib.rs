//! The Python runner component: CPython 3.14 on WASI with the `automa` SDK, built from
//! `guest/` and `../wit` by componentize-py in `build.rs`, embedded in the binary.

/// The runner component's bytes (a WASI 0.2 component of the `automa:host/runner` world).
pub static RUNNER_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runner.wasm"));

/// The SHA-256 of [`RUNNER_COMPONENT`], hex-encoded; it keys the compiled-artifact cache.
pub const RUNNER_SHA256: &str = include_str!(concat!(env!("OUT_DIR"), "/runner.sha256"));

/// The standard-library modules the runner pre-imports (the sandbox has only these).
pub const STDLIB_MODULES_SOURCE: &str = include_str!("../guest/automa_stdlib.py");

/// CPython's pure-Python standard library (the runner's own version) as a
/// zstd-compressed tar: the runtime unpacks it once and mounts it read-only at
/// `/python`, where the runner's interpreter looks for modules it did not pre-import.
pub static STDLIB_ARCHIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stdlib.tar.zst"));

/// The SHA-256 of [`STDLIB_ARCHIVE`], hex-encoded; it names the unpacked directory.
pub const STDLIB_SHA256: &str = include_str!(concat!(env!("OUT_DIR"), "/stdlib.sha256"));
