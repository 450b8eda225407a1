//! Helpers for the build scripts that make WASM components: `python-wasm` (the Python
//! runner) and `plugins/bundle` (the example plugins).
//!
//! - [`PythonTools`]: a virtualenv with the pinned, hash-checked build tools
//!   (componentize-py) of a requirements file, installed once per requirements hash;
//! - [`hash_inputs`] / [`cached_build`]: a component is rebuilt only when its inputs
//!   change, and lands in the cache by an atomic rename, under a lock, so parallel build
//!   scripts neither clash nor build the same thing twice;
//! - [`stdlib_archive`]: CPython's standard library out of the pinned componentize-py;
//! - [`target_dir`]: the cargo target directory the caches live in (they survive
//!   `cargo clean -p`, profile switches and rebuilds of the crate itself).

mod stdlib;

pub use stdlib::stdlib_archive;

use sha2::{Digest, Sha256};
use std::env;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A build step's error: a message for the panic that ends the build script.
pub type BuildResult<T> = Result<T, String>;

/// An environment variable that cargo sets for build scripts.
pub fn env_var(name: &str) -> BuildResult<String> {
    env::var(name).map_err(|e| format!("{name}: {e}"))
}

/// Tell cargo to run the build script again when `path` (a file or a directory tree)
/// changes.
pub fn rerun_if_changed(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}

/// The cargo target directory of the current build: `CARGO_TARGET_DIR` when it is
/// absolute, else the ancestor of `out_dir` that cargo marked with `CACHEDIR.TAG`,
/// else `<target>` from `<target>/<profile>/build/<pkg>-<hash>/out`.
pub fn target_dir(out_dir: &Path) -> PathBuf {
    if let Ok(dir) = env::var("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        if dir.is_absolute() {
            return dir;
        }
    }
    if let Some(marked) = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return marked.to_path_buf();
    }
    out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.to_path_buf())
}

/// Every file under `dir`, recursively, without Python's byte-code caches.
pub fn collect_files(dir: &Path, into: &mut Vec<PathBuf>) -> BuildResult<()> {
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

/// The hex SHA-256 of `files`' paths relative to `base` and their contents, in sorted
/// order: it changes when a file is added, removed, renamed or edited.
pub fn hash_files(base: &Path, files: &[PathBuf]) -> BuildResult<String> {
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

/// [`hash_files`] over every file of the directories `dirs` and the single `files`.
pub fn hash_inputs(base: &Path, dirs: &[&Path], files: &[&Path]) -> BuildResult<String> {
    let mut inputs = Vec::new();
    for dir in dirs {
        collect_files(dir, &mut inputs)?;
    }
    inputs.extend(files.iter().map(|f| f.to_path_buf()));
    hash_files(base, &inputs)
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `cache_dir/name`, built by `build` into a temporary file of its own when it does not
/// exist yet, then renamed into place. An exclusive lock on `cache_dir/name.lock` keeps
/// a second build script (another profile, another crate) from building it at the
/// same time: it waits and then finds the file.
pub fn cached_build(
    cache_dir: &Path,
    name: &str,
    build: impl FnOnce(&Path) -> BuildResult<()>,
) -> BuildResult<PathBuf> {
    fs::create_dir_all(cache_dir).map_err(|e| format!("{}: {e}", cache_dir.display()))?;
    let cached = cache_dir.join(name);
    if cached.exists() {
        return Ok(cached);
    }
    let _lock = lock(&cache_dir.join(format!("{name}.lock")))?;
    if cached.exists() {
        return Ok(cached);
    }
    let partial = cache_dir.join(format!("{name}.partial-{}", std::process::id()));
    let built = build(&partial);
    if let Err(message) = built {
        let _ = fs::remove_file(&partial);
        return Err(message);
    }
    fs::rename(&partial, &cached).map_err(|e| format!("{}: {e}", cached.display()))?;
    Ok(cached)
}

/// An exclusive advisory lock on `path` (created when missing), held until dropped.
fn lock(path: &Path) -> BuildResult<File> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("lock {}: {e}", path.display()))?;
    Ok(file)
}

/// Run `command`; an error when it cannot start or exits unsuccessfully.
pub fn run(command: &mut Command) -> BuildResult<()> {
    let status = command
        .status()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} exited with {status}"))
    }
}

/// Copy a file, with both paths in the error.
pub fn copy(from: &Path, to: &Path) -> BuildResult<()> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

/// A virtualenv holding the build tools pinned (by version and sha256) in a
/// requirements file: `<cache_dir>/tools-<hash of the file>`.
pub struct PythonTools {
    venv: PathBuf,
}

impl PythonTools {
    /// The tools of `requirements`, installed with `pip --require-hashes` (binary wheels
    /// only) when this requirements file was not installed before. `$PYTHON` (default
    /// `python3`) makes the virtualenv.
    pub fn install(cache_dir: &Path, requirements: &Path) -> BuildResult<Self> {
        let req_hash = hash_files(
            requirements.parent().unwrap_or(Path::new(".")),
            &[requirements.to_path_buf()],
        )?;
        let venv = cache_dir.join(format!("tools-{}", &req_hash[..16]));
        let ready = venv.join(".installed");
        if ready.exists() {
            return Ok(Self { venv });
        }
        fs::create_dir_all(cache_dir).map_err(|e| format!("{}: {e}", cache_dir.display()))?;
        let _lock = lock(&cache_dir.join(format!("tools-{}.lock", &req_hash[..16])))?;
        if ready.exists() {
            return Ok(Self { venv });
        }
        println!("cargo:rerun-if-env-changed=PYTHON");
        let python = env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
        run(Command::new(&python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv))?;
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
        Ok(Self { venv })
    }

    /// The virtualenv's directory.
    pub fn venv(&self) -> &Path {
        &self.venv
    }

    /// The virtualenv's `site-packages` (for packages installed next to the tools).
    pub fn site_packages(&self) -> BuildResult<PathBuf> {
        let lib = self.venv.join("lib");
        let entries = fs::read_dir(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
        for entry in entries.flatten() {
            let candidate = entry.path().join("site-packages");
            if candidate.is_dir() {
                return Ok(candidate);
            }
        }
        Err(format!("no site-packages under {}", lib.display()))
    }

    /// componentize-py's native module (it carries the embedded CPython and its `Lib`).
    pub fn componentize_native_module(&self) -> BuildResult<PathBuf> {
        let path = self
            .site_packages()?
            .join("componentize_py/componentize_py.abi3.so");
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} is missing", path.display()))
        }
    }

    /// Build the component of `world` (in the WIT package at `wit_dir`) from the Python
    /// module `app_module`, found on `python_path`, into `output`.
    pub fn componentize(
        &self,
        wit_dir: &Path,
        world: &str,
        app_module: &str,
        python_path: &[&Path],
        output: &Path,
    ) -> BuildResult<()> {
        let mut command = Command::new(self.venv.join("bin/componentize-py"));
        command
            .arg("--wit-path")
            .arg(wit_dir)
            .arg("--world")
            .arg(world)
            .arg("componentize")
            .arg(app_module);
        for dir in python_path {
            command.arg("-p").arg(dir);
        }
        command.arg("-o").arg(output).env_remove("VIRTUAL_ENV");
        run(&mut command).map_err(|e| format!("componentize-py: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!(
            "automa-build-support-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn input_hash_follows_names_and_contents_but_not_byte_code() {
        let dir = temp_dir("hash");
        fs::create_dir_all(dir.join("pkg/__pycache__")).expect("mkdir");
        fs::write(dir.join("pkg/a.py"), "a = 1\n").expect("write");
        fs::write(dir.join("req.txt"), "x==1\n").expect("write");
        let hash =
            || hash_inputs(&dir, &[&dir.join("pkg")], &[&dir.join("req.txt")]).expect("hash");
        let first = hash();
        assert_eq!(first.len(), 64);
        fs::write(dir.join("pkg/__pycache__/a.cpython-314.pyc"), "junk").expect("write");
        assert_eq!(hash(), first, "byte code is not an input");
        fs::write(dir.join("pkg/a.py"), "a = 2\n").expect("write");
        let edited = hash();
        assert_ne!(edited, first);
        fs::rename(dir.join("pkg/a.py"), dir.join("pkg/b.py")).expect("rename");
        assert_ne!(hash(), edited, "a rename changes the hash");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn cached_build_builds_once_and_keeps_failures_out_of_the_cache() {
        let dir = temp_dir("cache");
        let failed = cached_build(&dir, "thing.wasm", |partial| {
            fs::write(partial, "half").map_err(|e| e.to_string())?;
            Err("tool failed".to_owned())
        });
        assert_eq!(failed, Err("tool failed".to_owned()));
        assert!(!dir.join("thing.wasm").exists());

        let mut builds = 0;
        for _ in 0..2 {
            let path = cached_build(&dir, "thing.wasm", |partial| {
                builds += 1;
                fs::write(partial, "whole").map_err(|e| e.to_string())
            })
            .expect("build");
            assert_eq!(fs::read_to_string(path).expect("read"), "whole");
        }
        assert_eq!(builds, 1);
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn target_dir_from_out_dir() {
        let dir = temp_dir("target");
        let out = dir.join("debug/build/pkg-0123/out");
        fs::create_dir_all(&out).expect("mkdir");
        fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .expect("write");
        // CARGO_TARGET_DIR may be set by whoever runs the tests; only check the fallback
        // when it is not.
        if env::var_os("CARGO_TARGET_DIR").is_none() {
            assert_eq!(target_dir(&out), dir);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
