//! The standard library on disk: unpacked once from the binary, mounted read-only at
//! `/python` in every run.
//!
//! The runner's snapshot already holds the modules it pre-imported; the interpreter
//! finds every other module, codec and lazily imported submodule here, and tracebacks
//! and `inspect` read source lines from here. The directory is named by the archive's
//! hash and never written after it is complete, so every process and run can share it.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use wasmtime::error::Context as _;

/// Where the guest sees the standard library: componentize-py's `sys.path` entry, and
/// the install path the interpreter's earliest modules (`os`, `codecs`) name in
/// `__file__`, so their tracebacks have source lines too.
pub(crate) const GUEST_PATHS: [&str; 2] = ["/python", "/python/lib/python3.14"];

/// Written last: a directory without it is an interrupted unpack and is done again.
const COMPLETE_MARKER: &str = ".automa-complete";

/// The unpacked standard library; a temporary one is removed when dropped.
pub(crate) struct StdlibDir {
    path: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

impl StdlibDir {
    /// The directory under `cache_dir`, unpacked when missing; without a cache a
    /// temporary directory for this process.
    pub(crate) fn prepare(cache_dir: Option<&Path>) -> wasmtime::Result<Self> {
        let archive = automa_python_wasm::STDLIB_ARCHIVE;
        let hash = automa_python_wasm::STDLIB_SHA256;
        let Some(cache_dir) = cache_dir else {
            let temporary = tempfile::Builder::new()
                .prefix("automa-stdlib-")
                .tempdir()
                .context("creating a directory for the standard library")?;
            unpack(archive, temporary.path())?;
            return Ok(Self {
                path: temporary.path().to_path_buf(),
                _temporary: Some(temporary),
            });
        };
        let path = cache_dir.join(format!("python-stdlib-{}", &hash[..16.min(hash.len())]));
        if !path.join(COMPLETE_MARKER).is_file() {
            fs::create_dir_all(cache_dir)
                .with_context(|| format!("creating {}", cache_dir.display()))?;
            // Unpack beside the final place and rename, so a concurrent process never
            // mounts a half-written library.
            let partial = tempfile::Builder::new()
                .prefix(".python-stdlib-partial-")
                .tempdir_in(cache_dir)
                .with_context(|| format!("creating a directory in {}", cache_dir.display()))?;
            unpack(archive, partial.path())?;
            fs::write(partial.path().join(COMPLETE_MARKER), hash)
                .context("marking the standard library complete")?;
            let partial = partial.keep();
            if let Err(error) = fs::rename(&partial, &path) {
                let _ = fs::remove_dir_all(&partial);
                // Another process finished first: its copy is as good as ours.
                if !path.join(COMPLETE_MARKER).is_file() {
                    return Err(error).with_context(|| {
                        format!("moving the standard library to {}", path.display())
                    });
                }
            }
        }
        Ok(Self {
            path,
            _temporary: None,
        })
    }

    /// The host directory to mount at [`GUEST_PATHS`].
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

fn unpack(archive: &[u8], into: &Path) -> wasmtime::Result<()> {
    let decoder = ruzstd::decoding::StreamingDecoder::new(Cursor::new(archive))
        .map_err(|e| wasmtime::format_err!("the embedded standard library is corrupt: {e}"))?;
    let mut tar = tar::Archive::new(decoder);
    tar.set_preserve_permissions(false);
    tar.set_preserve_mtime(true);
    for entry in tar.entries().context("reading the standard library")? {
        let mut entry = entry.context("reading the standard library")?;
        // `unpack_in` refuses paths that would leave `into`.
        entry
            .unpack_in(into)
            .with_context(|| format!("unpacking the standard library into {}", into.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unpacks_once_into_the_cache() {
        let cache = tempfile::tempdir().unwrap();
        let first = StdlibDir::prepare(Some(cache.path())).unwrap();
        for module in [
            "configparser.py",
            "_strptime.py",
            "encodings/latin_1.py",
            "email/generator.py",
        ] {
            assert!(first.path().join(module).is_file(), "{module} missing");
        }
        assert!(
            !first.path().join("tkinter").exists(),
            "GUI toolkits are left out"
        );
        let marker = first.path().join(COMPLETE_MARKER);
        let written = fs::metadata(&marker).unwrap().modified().unwrap();
        let second = StdlibDir::prepare(Some(cache.path())).unwrap();
        assert_eq!(second.path(), first.path());
        assert_eq!(fs::metadata(&marker).unwrap().modified().unwrap(), written);
    }

    #[test]
    fn without_a_cache_a_temporary_copy_is_removed_on_drop() {
        let dir = StdlibDir::prepare(None).unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.join("os.py").is_file());
        drop(dir);
        assert!(!path.exists());
    }
}
