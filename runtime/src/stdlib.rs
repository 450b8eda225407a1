//! The standard library on disk: unpacked once from the binary, compiled to byte code
//! once by the runner itself, and mounted read-only at `/python` in every run.
//!
//! The runner's snapshot already holds the modules it pre-imported; the interpreter
//! finds every other module, codec and lazily imported submodule here, and tracebacks
//! and `inspect` read source lines from here. Byte code matters: compiling
//! `configparser` from source in the sandbox takes ~70 ms, loading its `.pyc` a few.
//! Only the host's CPython 3.14 (the guest) can write that byte code, so the runtime
//! runs `compileall` in the sandbox with the fresh copy mounted read-write, before any
//! script sees it. The directory is named by the archive's hash and never written
//! after it is complete, so every process and run can share it.

use crate::{Limits, Mounts, RunRequest, RunStatus, Runtime};
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::error::Context as _;
use wasmtime_wasi::FsPerms;

/// Where the guest sees the standard library: componentize-py's `sys.path` entry, and
/// the install path the interpreter's earliest modules (`os`, `codecs`) name in
/// `__file__`, so their tracebacks have source lines too.
pub(crate) const GUEST_PATHS: [&str; 2] = ["/python", "/python/lib/python3.14"];

/// Written last: a directory without it is an interrupted unpack and is done again.
const COMPLETE_MARKER: &str = ".automa-complete";

/// Compiles every module under `root` next to its source
/// (`__pycache__/*.cpython-314.pyc`), naming the files as the guest will see them
/// (`ddir`). The byte code is not checked against the source at import: the
/// directories are read-only to scripts and named by the content they were made from.
const COMPILE_SCRIPT: &str = r#"
import compileall, importlib._bootstrap_external as bootstrap, py_compile

def write_whole(path, data, mode=0o666):
    # WASI may take a large write in parts; CPython's own helper expects one go.
    with open(path, "wb") as f:
        f.write(data)

def main(root: str, ddir: str):
    bootstrap._write_atomic = write_whole
    ok = compileall.compile_dir(
        root, ddir=ddir, quiet=1, workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    print("compiled" if ok else "compiled with errors")
"#;

/// The unpacked standard library.
pub(crate) struct StdlibDir {
    path: PathBuf,
    state: State,
}

enum State {
    /// Complete, read-only from now on.
    Ready {
        _temporary: Option<tempfile::TempDir>,
    },
    /// Unpacked into a directory of its own, not compiled yet; moved to `final_path`
    /// (under the cache) or kept as a temporary directory when there is no cache.
    Unpacked {
        partial: tempfile::TempDir,
        final_path: Option<PathBuf>,
        /// Held until the copy is in place, so processes starting together unpack and
        /// compile it once: the others wait, then find it complete.
        _lock: Option<fs::File>,
    },
}

impl StdlibDir {
    /// The complete directory under `cache_dir`, or a fresh unpacked copy that
    /// [`Runtime::finish_stdlib`] compiles and puts in place; without a cache a
    /// temporary copy for this process.
    pub(crate) fn prepare(cache_dir: Option<&Path>) -> wasmtime::Result<Self> {
        let archive = automa_python_wasm::STDLIB_ARCHIVE;
        let hash = automa_python_wasm::STDLIB_SHA256;
        let Some(cache_dir) = cache_dir else {
            let partial = tempfile::Builder::new()
                .prefix("automa-stdlib-")
                .tempdir()
                .context("creating a directory for the standard library")?;
            unpack(archive, partial.path())?;
            return Ok(Self {
                path: partial.path().to_path_buf(),
                state: State::Unpacked {
                    partial,
                    final_path: None,
                    _lock: None,
                },
            });
        };
        let path = cache_dir.join(format!("python-stdlib-{}", &hash[..16.min(hash.len())]));
        if path.join(COMPLETE_MARKER).is_file() {
            return Ok(Self {
                path,
                state: State::Ready { _temporary: None },
            });
        }
        fs::create_dir_all(cache_dir)
            .with_context(|| format!("creating {}", cache_dir.display()))?;
        let lock_path = path.with_extension("lock");
        let lock = fs::File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", lock_path.display()))?;
        if path.join(COMPLETE_MARKER).is_file() {
            return Ok(Self {
                path,
                state: State::Ready { _temporary: None },
            });
        }
        // Unpack beside the final place and rename when complete, so a concurrent
        // process never mounts a half-written library.
        let partial = tempfile::Builder::new()
            .prefix(".python-stdlib-partial-")
            .tempdir_in(cache_dir)
            .with_context(|| format!("creating a directory in {}", cache_dir.display()))?;
        unpack(archive, partial.path())?;
        Ok(Self {
            path: partial.path().to_path_buf(),
            state: State::Unpacked {
                partial,
                final_path: Some(path),
                _lock: Some(lock),
            },
        })
    }

    /// The host directory to mount at [`GUEST_PATHS`].
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn needs_byte_code(&self) -> bool {
        matches!(self.state, State::Unpacked { .. })
    }

    /// Mark the compiled copy complete and move it into the cache.
    fn complete(&mut self) -> wasmtime::Result<()> {
        let state = std::mem::replace(&mut self.state, State::Ready { _temporary: None });
        let State::Unpacked {
            partial,
            final_path,
            _lock,
        } = state
        else {
            self.state = state;
            return Ok(());
        };
        fs::write(
            partial.path().join(COMPLETE_MARKER),
            automa_python_wasm::STDLIB_SHA256,
        )
        .context("marking the standard library complete")?;
        let Some(final_path) = final_path else {
            self.path = partial.path().to_path_buf();
            self.state = State::Ready {
                _temporary: Some(partial),
            };
            return Ok(());
        };
        let partial = partial.keep();
        if let Err(error) = fs::rename(&partial, &final_path) {
            let _ = fs::remove_dir_all(&partial);
            // Another process finished first: its copy is as good as ours.
            if !final_path.join(COMPLETE_MARKER).is_file() {
                return Err(error).with_context(|| {
                    format!("moving the standard library to {}", final_path.display())
                });
            }
        }
        self.path = final_path;
        Ok(())
    }
}

impl Runtime {
    /// Compile a freshly unpacked standard library to byte code (in the sandbox, on a
    /// thread of its own so this works inside or outside an async runtime) and put it
    /// in place. Does nothing when it is complete already.
    pub(crate) fn finish_stdlib(&mut self) -> wasmtime::Result<()> {
        if !self.stdlib.needs_byte_code() {
            return Ok(());
        }
        let started = Instant::now();
        tracing::info!(path = %self.stdlib.path().display(), "compiling the standard library (once per version)");
        let this = &*self;
        let outcome = std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let tokio = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("starting a runtime for the byte-code compile")?;
                    Ok::<_, wasmtime::Error>(tokio.block_on(this.run_with_stdlib(
                        compile_request("/python", "/python", Mounts::default()),
                        this.stdlib.path(),
                        FsPerms::ReadWrite,
                    )))
                })
                .join()
                .map_err(|_| wasmtime::format_err!("the byte-code compile panicked"))?
        })?;
        if outcome.status != RunStatus::Succeeded {
            return Err(wasmtime::format_err!(
                "compiling the standard library failed: {:?}",
                outcome.error
            ));
        }
        if outcome.stdout.trim() != "compiled" {
            tracing::warn!(output = %outcome.stdout, "some standard-library files did not compile; they load from source");
        }
        self.stdlib.complete()?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "standard library ready"
        );
        Ok(())
    }
}

impl Runtime {
    /// Compile the pure-Python packages unpacked in `dir` (an environment that runs
    /// will mount read-only at `/packages`) to byte code for the sandbox's CPython.
    /// Wheels carry no byte code, and a read-only mount can never cache any: without
    /// this, every run compiles `requests` and its dependencies from source again.
    /// Call it before the directory is shared with any run.
    pub async fn compile_packages(&self, dir: &Path) -> Result<(), String> {
        let mounts = Mounts {
            data: Some(dir.to_path_buf()),
            ..Mounts::default()
        };
        let outcome = self
            .run(compile_request("/data", "/packages", mounts))
            .await;
        match outcome.status {
            RunStatus::Succeeded if outcome.stdout.trim() == "compiled" => Ok(()),
            RunStatus::Succeeded => Err(format!(
                "some files did not compile (they load from source): {}",
                outcome.stdout.trim()
            )),
            status => Err(format!(
                "compiling packages ended {status:?}: {:?}",
                outcome.error.map(|e| e.message)
            )),
        }
    }
}

fn compile_request(root: &str, ddir: &str, mounts: Mounts) -> RunRequest {
    use automa_host_api::ports::Nothing;
    use automa_host_api::{Capabilities, HostContext, ReqwestClient};
    RunRequest {
        source: COMPILE_SCRIPT.to_owned(),
        filename: "compile-bytecode.py".into(),
        args: serde_json::json!({ "root": root, "ddir": ddir }),
        limits: Limits {
            timeout: Duration::from_secs(600),
            memory_bytes: 1 << 30,
            ..Limits::default()
        },
        mounts,
        host: HostContext::new(
            Arc::new(Capabilities::default()),
            Arc::new(ReqwestClient::new()),
            Arc::new(Nothing),
            Arc::new(Nothing),
        ),
        cancel: tokio_util::sync::CancellationToken::new(),
        profile: Default::default(),
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
    fn unpacks_into_the_cache_and_completes_once() {
        let cache = tempfile::tempdir().unwrap();
        let mut first = StdlibDir::prepare(Some(cache.path())).unwrap();
        assert!(first.needs_byte_code());
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
        first.complete().unwrap();
        let final_path = first.path().to_path_buf();
        assert!(final_path.join(COMPLETE_MARKER).is_file());
        let second = StdlibDir::prepare(Some(cache.path())).unwrap();
        assert!(!second.needs_byte_code(), "complete copies are reused");
        assert_eq!(second.path(), final_path);
        let leftovers = fs::read_dir(cache.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .count();
        assert_eq!(leftovers, 0, "no partial directories stay behind");
    }

    #[test]
    fn without_a_cache_a_temporary_copy_is_removed_on_drop() {
        let mut dir = StdlibDir::prepare(None).unwrap();
        dir.complete().unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.join("os.py").is_file());
        drop(dir);
        assert!(!path.exists());
    }
}
