//! Builds the Python runner component with componentize-py.
//!
//! The component depends only on `wit/`, `guest/` and the pinned tools in
//! `requirements-build.txt`; it is cached under the target directory by the hash of
//! those inputs, so it is built once per change, not once per profile or per clean.
//! `AUTOMA_RUNNER_WASM=/path/runner.wasm` skips the build and embeds that file.

use sha2::{Digest, Sha256};
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WORLD: &str = "runner";
const APP_MODULE: &str = "automa_runner";

type BuildResult<T> = Result<T, String>;

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
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let output = out_dir.join("runner.wasm");
    if let Ok(prebuilt) = env::var("AUTOMA_RUNNER_WASM") {
        copy(Path::new(&prebuilt), &output)?;
        return write_digest(&output, &out_dir);
    }

    let mut inputs = Vec::new();
    collect_files(&wit_dir, &mut inputs)?;
    collect_files(&guest_dir, &mut inputs)?;
    inputs.push(requirements.clone());
    let input_hash = hash_files(&manifest_dir, &inputs)?;

    let cache_dir = target_dir(&out_dir).join("automa-guest");
    fs::create_dir_all(&cache_dir).map_err(|e| format!("{}: {e}", cache_dir.display()))?;
    let cached = cache_dir.join(format!("runner-{}.wasm", &input_hash[..16]));
    if !cached.exists() {
        let tools = install_tools(&cache_dir, &requirements)?;
        let partial = cache_dir.join(format!("runner-{}.wasm.partial", &input_hash[..16]));
        let status = Command::new(tools.join("bin/componentize-py"))
            .arg("--wit-path")
            .arg(&wit_dir)
            .arg("--world")
            .arg(WORLD)
            .arg("componentize")
            .arg(APP_MODULE)
            .arg("-p")
            .arg(&guest_dir)
            .arg("-p")
            .arg(site_packages(&tools)?)
            .arg("-o")
            .arg(&partial)
            .env_remove("VIRTUAL_ENV")
            .status()
            .map_err(|e| format!("cannot start componentize-py: {e}"))?;
        if !status.success() {
            return Err(format!("componentize-py exited with {status}"));
        }
        fs::rename(&partial, &cached).map_err(|e| format!("{}: {e}", cached.display()))?;
    }
    copy(&cached, &output)?;
    write_digest(&output, &out_dir)
}

/// A virtualenv with the pinned, hash-checked build tools, one per requirements hash.
fn install_tools(cache_dir: &Path, requirements: &Path) -> BuildResult<PathBuf> {
    let req_hash = hash_files(
        requirements.parent().unwrap_or(Path::new(".")),
        &[requirements.to_path_buf()],
    )?;
    let venv = cache_dir.join(format!("tools-{}", &req_hash[..16]));
    let ready = venv.join(".installed");
    if ready.exists() {
        return Ok(venv);
    }
    let python = env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
        ])
        .args(["--only-binary", ":all:", "--require-hashes", "-r"])
        .arg(requirements))?;
    fs::write(&ready, b"").map_err(|e| format!("{}: {e}", ready.display()))?;
    Ok(venv)
}

fn site_packages(venv: &Path) -> BuildResult<PathBuf> {
    let lib = venv.join("lib");
    let entries = fs::read_dir(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    for entry in entries.flatten() {
        let candidate = entry.path().join("site-packages");
        if candidate.is_dir() {
            return Ok(candidate);
        }
    }
    Err(format!("no site-packages under {}", lib.display()))
}

fn run(command: &mut Command) -> BuildResult<()> {
    let status = command
        .status()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} exited with {status}"))
    }
}

/// `<target>/` from `<target>/<profile>/build/<pkg>-<hash>/out`.
fn target_dir(out_dir: &Path) -> PathBuf {
    if let Ok(dir) = env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.to_path_buf())
}

fn collect_files(dir: &Path, into: &mut Vec<PathBuf>) -> BuildResult<()> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "__pycache__" || name.ends_with(".pyc") {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, into)?;
        } else {
            into.push(path);
        }
    }
    Ok(())
}

fn hash_files(base: &Path, files: &[PathBuf]) -> BuildResult<String> {
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort();
    let mut hasher = Sha256::new();
    for file in sorted {
        let relative = file.strip_prefix(base).unwrap_or(file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?);
        hasher.update([0]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn copy(from: &Path, to: &Path) -> BuildResult<()> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn write_digest(component: &Path, out_dir: &Path) -> BuildResult<()> {
    let bytes = fs::read(component).map_err(|e| format!("{}: {e}", component.display()))?;
    let digest = hex::encode(Sha256::digest(&bytes));
    let path = out_dir.join("runner.sha256");
    fs::write(&path, digest).map_err(|e| format!("{}: {e}", path.display()))
}

fn env_var(name: &str) -> BuildResult<String> {
    env::var(name).map_err(|e| format!("{name}: {e}"))
}
