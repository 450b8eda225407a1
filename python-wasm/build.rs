//! Builds the Python runner component with componentize-py.
//!
//! The component depends only on `wit/`, `guest/` and the pinned tools in
//! `requirements-build.txt`; it is cached under the target directory by the hash of
//! those inputs, so it is built once per change, not once per profile or per clean.
//! `AUTOMA_RUNNER_WASM=/path/runner.wasm` skips the build and embeds that file.
//! The tools, the hashing and the cache are `automa-build-support`'s.

use automa_build_support::{
    BuildResult, PythonTools, cached_build, copy, env_var, hash_inputs, rerun_if_changed,
    sha256_hex, stdlib_archive, target_dir,
};
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const WORLD: &str = "runner";
const APP_MODULE: &str = "automa_runner";

fn main() {
    if let Err(message) = build() {
        panic!("building the Python runner component failed: {message}");
    }
}

fn build() -> BuildResult<()> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);
    let wit_dir = manifest_dir.join("../wit");
    let guest_dir = manifest_dir.join("guest");
    let requirements = manifest_dir.join("requirements-build.txt");
    println!("cargo:rerun-if-env-changed=AUTOMA_RUNNER_WASM");
    for path in [&wit_dir, &guest_dir, &requirements] {
        rerun_if_changed(path);
    }

    let output = out_dir.join("runner.wasm");
    let cache_dir = target_dir(&out_dir).join("automa-guest");
    if let Ok(prebuilt) = env::var("AUTOMA_RUNNER_WASM") {
        copy(Path::new(&prebuilt), &output)?;
        write_digest(&output, &out_dir)?;
        return build_stdlib(&cache_dir, &requirements, &out_dir);
    }

    let input_hash = hash_inputs(&manifest_dir, &[&wit_dir, &guest_dir], &[&requirements])?;
    let cached = cached_build(
        &cache_dir,
        &format!("runner-{}.wasm", &input_hash[..16]),
        |partial| {
            let tools = PythonTools::install(&cache_dir, &requirements)?;
            let site_packages = tools.site_packages()?;
            tools.componentize(
                &wit_dir,
                WORLD,
                APP_MODULE,
                &[&guest_dir, &site_packages],
                partial,
            )
        },
    )?;
    copy(&cached, &output)?;
    write_digest(&output, &out_dir)?;
    build_stdlib(&cache_dir, &requirements, &out_dir)
}

/// The standard library the runtime mounts at `/python`, from the same pinned tools.
fn build_stdlib(cache_dir: &Path, requirements: &Path, out_dir: &Path) -> BuildResult<()> {
    let tools_hash = hash_inputs(
        requirements.parent().unwrap_or(Path::new(".")),
        &[],
        &[requirements],
    )?;
    let cached = cached_build(
        cache_dir,
        &format!("stdlib-{}-v1.tar.zst", &tools_hash[..16]),
        |partial| {
            let tools = PythonTools::install(cache_dir, requirements)?;
            let archive = stdlib_archive(&tools.componentize_native_module()?)?;
            fs::write(partial, archive).map_err(|e| format!("{}: {e}", partial.display()))
        },
    )?;
    let output = out_dir.join("stdlib.tar.zst");
    copy(&cached, &output)?;
    let bytes = fs::read(&output).map_err(|e| format!("{}: {e}", output.display()))?;
    let path = out_dir.join("stdlib.sha256");
    fs::write(&path, sha256_hex(&bytes)).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_digest(component: &Path, out_dir: &Path) -> BuildResult<()> {
    let bytes = fs::read(component).map_err(|e| format!("{}: {e}", component.display()))?;
    let path = out_dir.join("runner.sha256");
    fs::write(&path, sha256_hex(&bytes)).map_err(|e| format!("{}: {e}", path.display()))
}
