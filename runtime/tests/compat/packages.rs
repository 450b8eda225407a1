//! The pinned PyPI packages of the compatibility suite, fetched once and installed
//! offline into a directory keyed by the requirements' hash, under a file lock so
//! parallel tests (or test processes) share one install.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const REQUIREMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/requirements.txt");

/// `target/compat`: beside the other test caches, kept between runs.
fn compat_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("compat")
}

/// The directory the pinned packages are installed in (what `/packages` mounts).
pub fn site_dir() -> &'static Path {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| install().unwrap_or_else(|e| panic!("compat packages: {e}")))
}

fn install() -> Result<PathBuf, String> {
    let dir = compat_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let requirements = std::fs::read(REQUIREMENTS).map_err(|e| format!("{REQUIREMENTS}: {e}"))?;
    let hash = hex::encode(&Sha256::digest(&requirements)[..8]);
    let site = dir.join(format!("site-{hash}"));
    // Written once the install is byte-compiled for the sandbox, as the server does.
    let done = site.join(".compiled");
    if done.exists() {
        return Ok(site);
    }
    let lock = std::fs::File::create(dir.join(".lock")).map_err(|e| e.to_string())?;
    lock.lock()
        .map_err(|e| format!("lock {}: {e}", dir.display()))?;
    if done.exists() {
        return Ok(site);
    }
    let wheels = dir.join("wheels");
    let staging = dir.join(format!("site-{hash}.partial"));
    // Offline first: the wheels are downloaded only when some are missing.
    if pip_install(&wheels, &staging).is_err() {
        pip(&[
            "download",
            "--only-binary",
            ":all:",
            "--no-deps",
            "--require-hashes",
            "-r",
            REQUIREMENTS,
            "-d",
            &wheels.to_string_lossy(),
        ])?;
        pip_install(&wheels, &staging)?;
    }
    compile_for_the_sandbox(&staging)?;
    let _ = std::fs::remove_dir_all(&site);
    std::fs::rename(&staging, &site).map_err(|e| e.to_string())?;
    std::fs::write(&done, &hash).map_err(|e| e.to_string())?;
    remove_stale_sites(&dir, &site);
    Ok(site)
}

/// Byte code for the sandbox's CPython, made by the runtime (on a thread of its own:
/// the caller may be inside a test's async runtime).
fn compile_for_the_sandbox(dir: &Path) -> Result<(), String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let tokio = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                tokio.block_on(crate::common::runtime().compile_packages(dir))
            })
            .join()
            .map_err(|_| "byte-compiling panicked".to_owned())?
    })
}

/// Installs of older requirements (about 150 MB each) go once a new one is complete.
fn remove_stale_sites(dir: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = entry.file_name().to_string_lossy().starts_with("site-") && path != current;
        if stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn pip_install(wheels: &Path, target: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(target);
    pip(&[
        "install",
        "--no-index",
        "--no-deps",
        "--require-hashes",
        "--find-links",
        &wheels.to_string_lossy(),
        "--target",
        &target.to_string_lossy(),
        "-r",
        REQUIREMENTS,
    ])
}

fn pip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("python3")
        .args(["-m", "pip", "--disable-pip-version-check", "--quiet"])
        .args(args)
        .output()
        .map_err(|e| format!("python3 -m pip: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "pip {} failed: {}",
            args[0],
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
