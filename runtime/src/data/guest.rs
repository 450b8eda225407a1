//! The data profile's guest files on disk: written once per content into the cache and
//! mounted read-only at `/automa`.

use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// Written last: a directory without it is an interrupted write and is done again.
const COMPLETE_MARKER: &str = ".automa-complete";

/// The directory holding [`automa_python_wasm::DATA_GUEST_FILES`] under `cache_dir`,
/// named by their content, so an upgrade never mixes files of two versions.
pub(super) fn prepare(cache_dir: &Path) -> std::io::Result<PathBuf> {
    let mut hasher = Sha256::new();
    for (path, text) in automa_python_wasm::DATA_GUEST_FILES {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let digest = hex::encode(hasher.finalize());
    let dir = cache_dir.join(format!("data-guest-{}", &digest[..16]));
    if dir.join(COMPLETE_MARKER).exists() {
        return Ok(dir);
    }
    fs::create_dir_all(cache_dir)?;
    let partial = tempfile::Builder::new()
        .prefix(".data-guest-")
        .tempdir_in(cache_dir)?;
    for (path, text) in automa_python_wasm::DATA_GUEST_FILES {
        let file = partial.path().join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(file, text)?;
    }
    fs::write(partial.path().join(COMPLETE_MARKER), b"")?;
    let partial = partial.keep();
    match fs::rename(&partial, &dir) {
        Ok(()) => Ok(dir),
        // Another process finished first: its copy has the same content.
        Err(_) if dir.join(COMPLETE_MARKER).exists() => {
            let _ = fs::remove_dir_all(&partial);
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}
