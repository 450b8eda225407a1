//! Builds the example plugins from source into `OUT_DIR`:
//!
//! - `markdown.wasm`: `plugins/markdown`, a Rust crate outside the workspace, built by a
//!   nested `cargo build --release --locked --target wasm32-wasip2` in its own target
//!   directory `<target>/automa-plugins` (the outer build holds the lock of
//!   `<target>/<profile>`; cargo's own fingerprints make a no-op rebuild cheap);
//! - `chat-notify.wasm`: `plugins/chat-notify/app.py`, built by componentize-py with the
//!   runner's pinned tools, cached as `<target>/automa-plugins/chat-notify-<hash>.wasm` by
//!   the hash of `wit/`, the app and the requirements file.
//!
//! - `testkit.wasm`: `plugins/testkit`, like markdown: a plugin for Automa's own tests
//!   and benchmarks (echo, and calls that misbehave on purpose); not an example to ship.
//!
//! `AUTOMA_MARKDOWN_PLUGIN_WASM` / `AUTOMA_TESTKIT_PLUGIN_WASM` /
//! `AUTOMA_CHAT_NOTIFY_PLUGIN_WASM` name prebuilt files to embed instead.

use automa_build_support::{
    BuildResult, PythonTools, cached_build, copy, env_var, hash_inputs, rerun_if_changed,
    target_dir,
};
use std::env;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() {
    if let Err(message) = build() {
        panic!("building the example plugins failed: {message}");
    }
}

struct Paths {
    root: PathBuf,
    plugins: PathBuf,
    wit: PathBuf,
    out: PathBuf,
    target: PathBuf,
}

fn build() -> BuildResult<()> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let plugins = manifest_dir
        .parent()
        .ok_or("plugins/bundle has no parent directory")?
        .to_path_buf();
    let root = plugins
        .parent()
        .ok_or("plugins/ has no parent directory")?
        .to_path_buf();
    let out = PathBuf::from(env_var("OUT_DIR")?);
    let paths = Paths {
        target: target_dir(&out),
        wit: root.join("wit"),
        plugins,
        out,
        root,
    };
    rerun_if_changed(&paths.wit);
    rust_plugin(&paths, "markdown", "AUTOMA_MARKDOWN_PLUGIN_WASM")?;
    rust_plugin(&paths, "testkit", "AUTOMA_TESTKIT_PLUGIN_WASM")?;
    chat_notify(&paths)
}

/// `Some(path)` when the environment names a prebuilt component to embed.
fn prebuilt(variable: &str) -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed={variable}");
    env::var_os(variable).map(PathBuf::from)
}

/// Build the Rust plugin crate `plugins/<name>` for wasm32-wasip2 into
/// `OUT_DIR/<name>.wasm`, unless `variable` names a prebuilt file.
fn rust_plugin(paths: &Paths, name: &str, variable: &str) -> BuildResult<()> {
    let output = paths.out.join(format!("{name}.wasm"));
    if let Some(file) = prebuilt(variable) {
        return copy(&file, &output);
    }
    let crate_dir = paths.plugins.join(name);
    for input in ["src", "Cargo.toml", "Cargo.lock"] {
        rerun_if_changed(&crate_dir.join(input));
    }
    let target_dir = paths.target.join("automa-plugins");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--locked", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    clear_outer_cargo_env(&mut command);
    let status = command
        .status()
        .map_err(|e| format!("cannot start cargo for plugins/{name}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build of plugins/{name} exited with {status} (is the target installed? \
             `rustup target add {WASM_TARGET}`)"
        ));
    }
    let artifact = format!("automa_plugin_{}.wasm", name.replace('-', "_"));
    copy(
        &target_dir.join(format!("{WASM_TARGET}/release/{artifact}")),
        &output,
    )
}

/// Remove what the outer cargo put in the environment that the nested one would obey:
/// its target directory and target (`CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET`), its
/// flags for host code (`CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS`), profile settings
/// (`CARGO_PROFILE_*`), clippy's compiler wrapper (`RUSTC_WORKSPACE_WRAPPER`) and
/// per-package variables. Kept: `CARGO_HOME` and the network, registry and terminal
/// settings, `RUSTC` and `RUSTUP_TOOLCHAIN` (the same compiler), and `CARGO_MAKEFLAGS`,
/// the jobserver, so the nested build shares the outer `-j` limit instead of adding
/// its own jobs.
fn clear_outer_cargo_env(command: &mut Command) {
    const KEEP_PREFIXES: [&str; 5] = [
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const REMOVE: [&str; 5] = [
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
    ];
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let cargo_setting = name.starts_with("CARGO_")
            && !matches!(name, "CARGO_HOME" | "CARGO_MAKEFLAGS")
            && !KEEP_PREFIXES.iter().any(|prefix| name.starts_with(prefix));
        if cargo_setting || name.starts_with("__CARGO") || REMOVE.contains(&name) {
            command.env_remove(OsStr::new(name));
        }
    }
}

fn chat_notify(paths: &Paths) -> BuildResult<()> {
    let output = paths.out.join("chat-notify.wasm");
    if let Some(file) = prebuilt("AUTOMA_CHAT_NOTIFY_PLUGIN_WASM") {
        return copy(&file, &output);
    }
    let app_dir = paths.plugins.join("chat-notify");
    let requirements = paths.root.join("python-wasm/requirements-build.txt");
    rerun_if_changed(&app_dir);
    rerun_if_changed(&requirements);
    // Relative to the repository, so the hash does not depend on where it is checked out.
    let hash = hash_inputs(&paths.root, &[&paths.wit, &app_dir], &[&requirements])?;
    let cached = cached_build(
        &paths.target.join("automa-plugins"),
        &format!("chat-notify-{}.wasm", &hash[..16]),
        |partial| {
            // The runner's tools, shared: one virtualenv per requirements file.
            let tools = PythonTools::install(&paths.target.join("automa-guest"), &requirements)?;
            tools.componentize(&paths.wit, "plugin", "app", &[&app_dir], partial)
        },
    )?;
    copy(&cached, &output)
}
