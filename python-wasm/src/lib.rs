//! The Python runner component: CPython 3.14 on WASI with the `automa` SDK, built from
//! `guest/` and `../wit` by componentize-py in `build.rs`, embedded in the binary.

/// The runner component's bytes (a WASI 0.2 component of the `automa:host/runner` world).
pub static RUNNER_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runner.wasm"));

/// The SHA-256 of [`RUNNER_COMPONENT`], hex-encoded; it keys the compiled-artifact cache.
pub const RUNNER_SHA256: &str = include_str!(concat!(env!("OUT_DIR"), "/runner.sha256"));

/// The standard-library modules the runner pre-imports (the sandbox has only these).
pub const STDLIB_MODULES_SOURCE: &str = include_str!("../guest/automa_stdlib.py");
