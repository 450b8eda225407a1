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

/// The Python files of the data profile's guest: its runner, the door client and the
/// `wit_world` bindings over it, and the SDK (`automa`, the `requests` shim) and the
/// script runner shared with the component, as (path under the guest's `/automa`, text).
/// The runtime writes them into its cache once and mounts them read-only.
pub static DATA_GUEST_FILES: &[(&str, &str)] = &[
    (
        "automa/__init__.py",
        include_str!("../guest/automa/__init__.py"),
    ),
    ("automa/agent.py", include_str!("../guest/automa/agent.py")),
    ("automa/email.py", include_str!("../guest/automa/email.py")),
    (
        "automa/errors.py",
        include_str!("../guest/automa/errors.py"),
    ),
    ("automa/files.py", include_str!("../guest/automa/files.py")),
    ("automa/http.py", include_str!("../guest/automa/http.py")),
    ("automa/log.py", include_str!("../guest/automa/log.py")),
    (
        "automa/plugins.py",
        include_str!("../guest/automa/plugins.py"),
    ),
    (
        "automa/secrets.py",
        include_str!("../guest/automa/secrets.py"),
    ),
    ("automa/state.py", include_str!("../guest/automa/state.py")),
    (
        "requests/__init__.py",
        include_str!("../guest/requests/__init__.py"),
    ),
    (
        "requests/exceptions.py",
        include_str!("../guest/requests/exceptions.py"),
    ),
    ("automa_exec.py", include_str!("../guest/automa_exec.py")),
    (
        "automa_sandbox.py",
        include_str!("../guest/automa_sandbox.py"),
    ),
    ("automa_tz.py", include_str!("../guest/automa_tz.py")),
    (
        "automa_data_runner.py",
        include_str!("../data-guest/automa_data_runner.py"),
    ),
    (
        "automa_door.py",
        include_str!("../data-guest/automa_door.py"),
    ),
    (
        "componentize_py_types.py",
        include_str!("../data-guest/componentize_py_types.py"),
    ),
    (
        "wit_world/__init__.py",
        include_str!("../data-guest/wit_world/__init__.py"),
    ),
    (
        "wit_world/imports/__init__.py",
        include_str!("../data-guest/wit_world/imports/__init__.py"),
    ),
    (
        "wit_world/imports/agent.py",
        include_str!("../data-guest/wit_world/imports/agent.py"),
    ),
    (
        "wit_world/imports/email.py",
        include_str!("../data-guest/wit_world/imports/email.py"),
    ),
    (
        "wit_world/imports/files.py",
        include_str!("../data-guest/wit_world/imports/files.py"),
    ),
    (
        "wit_world/imports/http.py",
        include_str!("../data-guest/wit_world/imports/http.py"),
    ),
    (
        "wit_world/imports/log.py",
        include_str!("../data-guest/wit_world/imports/log.py"),
    ),
    (
        "wit_world/imports/plugins.py",
        include_str!("../data-guest/wit_world/imports/plugins.py"),
    ),
    (
        "wit_world/imports/secrets.py",
        include_str!("../data-guest/wit_world/imports/secrets.py"),
    ),
    (
        "wit_world/imports/state.py",
        include_str!("../data-guest/wit_world/imports/state.py"),
    ),
    (
        "wit_world/imports/types.py",
        include_str!("../data-guest/wit_world/imports/types.py"),
    ),
];
