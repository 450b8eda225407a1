//! The data profile's import snapshot: the interpreter with numpy, pandas and the data
//! runner's own modules already imported, made once per version with Wizer and cached
//! compiled beside the interpreter. A run instantiates it fresh, as it does the plain
//! interpreter, so no state passes from one run to the next.
//!
//! What the interpreter allows, found by running it: `wizer.initialize` starts
//! CPython and imports only the standard library's bootstrap (it reads the environment,
//! not argv, and runs no program); `run` refuses to run a second time or after `turn`
//! ("run() may be called once per instance, and not after turn()"). So the snapshot is
//! taken after a first `turn` that imports the modules, and each run is a second `turn`
//! running the data runner.
//!
//! Two things the first turn leaves behind are undone at each run:
//! - wasi-libc's table of preopened directories, filled in at the snapshot with the
//!   build's two mounts only (a run's own mounts would be invisible): the snapshot
//!   exports wasi-libc's `__wasilibc_reset_preopens`, called before the turn, so the
//!   table is read again from the run's own WASI context;
//! - the random generators, seeded at the first turn: the run's turn reseeds `random`
//!   and numpy's global generator from the run's entropy.
//!
//! `AUTOMA_DATA_SNAPSHOT=off` in the environment disables the snapshot (the plain
//! interpreter runs, as before): for comparing the two, and as an escape hatch.

use super::{ARGV0, DataState, STDLIB_GUEST};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Instant;
use wasmtime::error::Context as _;
use wasmtime::{Caller, Engine, Instance, InstancePre, Linker, Store, Val};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

/// Changes whenever what the snapshot holds or how a run enters it changes: it keys the
/// cached snapshot together with the interpreter's and the guest files' hashes.
const SNAPSHOT_VERSION: &str = "1";

/// The first turn, the one the snapshot is taken after. It leaves `/automa` first on the
/// path, as the plain interpreter's program puts it.
const WARM_TURN: &str = "import sys; sys.path.insert(0, '/automa'); import numpy, pandas; \
                         import automa, automa_door, automa_exec, automa_data_runner";

/// Each run's turn: reseed what the first turn seeded, then run the data runner. An
/// assignment, so the turn echoes nothing.
const RUN_TURN: &str = "import random as _automa_random, numpy as _automa_numpy; \
                        _automa_random.seed(); _automa_numpy.random.seed(); \
                        import automa_data_runner as _automa_runner; \
                        _automa_status = _automa_runner.main()";

/// wasi-libc's function that empties its table of preopened directories.
const RESET_PREOPENS_FN: &str = "__wasilibc_reset_preopens";
/// The export the snapshot gives it.
const RESET_PREOPENS_EXPORT: &str = "automa.reset_preopens";

/// Wizer removes the export named as its init function; none has this name.
const NO_INIT_EXPORT: &str = "automa.no-init-export";

/// What the door answers while the snapshot is built: there is no host (the first turn
/// only imports).
const NO_HOST: i32 = -1;

/// The snapshot, pre-linked like the interpreter, or `None` when it is disabled or
/// cannot be made (logged; the plain interpreter runs instead).
pub(super) fn load(
    engine: &Engine,
    linker: &Linker<DataState>,
    cache_dir: &Path,
    interpreter: &Path,
    interpreter_sha256: &str,
    stdlib_dir: &Path,
    guest_dir: &Path,
) -> Option<InstancePre<DataState>> {
    if std::env::var("AUTOMA_DATA_SNAPSHOT").is_ok_and(|v| v == "off") {
        tracing::info!("AUTOMA_DATA_SNAPSHOT=off: the data profile runs without its snapshot");
        return None;
    }
    let loaded = load_or_build(
        engine,
        cache_dir,
        interpreter,
        interpreter_sha256,
        stdlib_dir,
        guest_dir,
    )
    .and_then(|module| {
        linker
            .instantiate_pre(&module)
            .context("pre-linking the data profile's snapshot")
    });
    match loaded {
        Ok(pre) => Some(pre),
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "the data profile's snapshot is unusable; runs start the plain interpreter"
            );
            None
        }
    }
}

fn load_or_build(
    engine: &Engine,
    cache_dir: &Path,
    interpreter: &Path,
    interpreter_sha256: &str,
    stdlib_dir: &Path,
    guest_dir: &Path,
) -> wasmtime::Result<wasmtime::Module> {
    let key = snapshot_key(interpreter_sha256, guest_dir);
    let label = "data-python-snapshot";
    if !crate::cache::is_compiled(engine, cache_dir, label, &key) {
        super::enough_memory_to_compile()?;
        tracing::info!(
            "building the data profile's snapshot (numpy and pandas imported): once per \
             version, a few minutes of CPU and about {} GiB of memory",
            super::COMPILE_MEMORY_BYTES >> 30
        );
    }
    crate::cache::load_or_compile_module_from(engine, cache_dir, label, &key, || {
        let started = Instant::now();
        let bytes = build(engine, interpreter, stdlib_dir, guest_dir)?;
        tracing::info!(
            seconds = started.elapsed().as_secs(),
            bytes = bytes.len(),
            "built the data profile's snapshot; compiling it"
        );
        Ok(bytes)
    })
}

/// The cache key: the interpreter, the guest files (their directory is named by their
/// content) and what the snapshot runs.
fn snapshot_key(interpreter_sha256: &str, guest_dir: &Path) -> String {
    let mut hasher = Sha256::new();
    for part in [
        interpreter_sha256,
        &guest_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        SNAPSHOT_VERSION,
        WARM_TURN,
        RUN_TURN,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Run one instance of a snapshot: reset wasi-libc's preopens, then the run's turn.
/// Its status is the turn's (0: the runner returned).
pub(super) async fn run(
    pre: &InstancePre<DataState>,
    store: &mut Store<DataState>,
) -> wasmtime::Result<i32> {
    let instance = pre.instantiate_async(&mut *store).await?;
    instance
        .get_typed_func::<(), ()>(&mut *store, RESET_PREOPENS_EXPORT)?
        .call_async(&mut *store, ())
        .await?;
    turn(&instance, store, RUN_TURN).await
}

/// Hand `source` to the interpreter's `turn` export.
async fn turn<T: Send + 'static>(
    instance: &Instance,
    store: &mut Store<T>,
    source: &str,
) -> wasmtime::Result<i32> {
    let len = i32::try_from(source.len()).context("a turn's source is too large")?;
    let alloc = instance.get_typed_func::<i32, i32>(&mut *store, "host_alloc")?;
    let ptr = alloc.call_async(&mut *store, len).await?;
    if ptr == 0 {
        wasmtime::bail!("the interpreter had no memory for a turn's source");
    }
    let memory = instance
        .get_memory(&mut *store, "memory")
        .context("the interpreter exports no memory")?;
    let at = usize::try_from(ptr.cast_unsigned()).context("a turn's address")?;
    memory
        .write(&mut *store, at, source.as_bytes())
        .context("writing a turn's source")?;
    let turn = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "turn")?;
    turn.call_async(&mut *store, (ptr, len)).await
}

/// The state of the instance the snapshot is taken of.
struct BuildState {
    wasi: WasiP1Ctx,
}

/// Make the snapshot: the interpreter with [`RESET_PREOPENS_EXPORT`] added, instrumented,
/// run through [`WARM_TURN`] under WASI with the stdlib and the guest files mounted as
/// in runs, and its memory and globals written into a new module. Runs on a thread of
/// its own (the WASI calls are async; the caller may be inside a runtime).
fn build(
    engine: &Engine,
    interpreter: &Path,
    stdlib_dir: &Path,
    guest_dir: &Path,
) -> wasmtime::Result<Vec<u8>> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting a runtime to build the snapshot")?
                    .block_on(build_async(engine, interpreter, stdlib_dir, guest_dir))
            })
            .join()
            .unwrap_or_else(|_| Err(wasmtime::format_err!("building the snapshot panicked")))
    })
}

async fn build_async(
    engine: &Engine,
    interpreter: &Path,
    stdlib_dir: &Path,
    guest_dir: &Path,
) -> wasmtime::Result<Vec<u8>> {
    let wasm =
        std::fs::read(interpreter).with_context(|| format!("reading {}", interpreter.display()))?;
    let reset = function_index(&wasm, RESET_PREOPENS_FN)?
        .with_context(|| format!("the interpreter's name section has no {RESET_PREOPENS_FN}"))?;
    let wasm = add_func_export(&wasm, RESET_PREOPENS_EXPORT, reset)?;
    let mut wizer = Wizer::new();
    wizer.init_func(NO_INIT_EXPORT);
    let (cx, instrumented) = wizer
        .instrument(&wasm)
        .context("instrumenting the interpreter")?;
    let module = wasmtime::Module::new(engine, &instrumented)
        .context("compiling the instrumented interpreter")?;
    drop(instrumented);

    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .args(&[ARGV0])
        .env("TMPDIR", "/tmp")
        .env("HOME", "/tmp")
        .env("PYTHONTZPATH", "")
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    wasi.preopened_dir(stdlib_dir, STDLIB_GUEST, FsPerms::ReadOnly)
        .with_context(|| format!("mounting {}", stdlib_dir.display()))?;
    wasi.preopened_dir(guest_dir, "/automa", FsPerms::ReadOnly)
        .with_context(|| format!("mounting {}", guest_dir.display()))?;
    let mut store = Store::new(
        engine,
        BuildState {
            wasi: wasi.build_p1(),
        },
    );
    store.set_epoch_deadline(u64::MAX);
    if store.get_fuel().is_ok() {
        store.set_fuel(u64::MAX)?;
    }
    let mut linker = Linker::<BuildState>::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state: &mut BuildState| &mut state.wasi)?;
    linker.func_wrap(
        "host",
        "call",
        |_: Caller<'_, BuildState>, _: i32, _: i32, _: i32, _: i32| NO_HOST,
    )?;
    let instance = linker
        .instantiate_async(&mut store, &module)
        .await
        .context("instantiating the instrumented interpreter")?;
    let status = turn(&instance, &mut store, WARM_TURN)
        .await
        .context("running the snapshot's imports")?;
    if status != 0 {
        wasmtime::bail!(
            "the snapshot's imports failed (status {status}): {}",
            String::from_utf8_lossy(&stderr.contents())
        );
    }
    let mut state = Snapshotted {
        store: &mut store,
        instance,
    };
    wizer
        .snapshot(&cx, &mut state)
        .await
        .context("taking the snapshot")
}

/// The instance's globals and memory, for Wizer.
struct Snapshotted<'a> {
    store: &'a mut Store<BuildState>,
    instance: Instance,
}

impl InstanceState for Snapshotted<'_> {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        let value = self
            .instance
            .get_global(&mut *self.store, name)
            .map(|global| global.get(&mut *self.store));
        match value {
            Some(Val::I32(x)) => SnapshotVal::I32(x),
            Some(Val::I64(x)) => SnapshotVal::I64(x),
            Some(Val::F32(x)) => SnapshotVal::F32(x),
            Some(Val::F64(x)) => SnapshotVal::F64(x),
            Some(Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            // Wizer instruments only numeric globals (it refuses mutable references);
            // the trait gives no way to fail.
            _ => panic!("the instrumented interpreter has no numeric global {name}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut *self.store, name) {
            Some(memory) => contents(memory.data(&*self.store)),
            None => panic!("the instrumented interpreter has no memory {name}"),
        }
    }
}

/// A module's sections: `(id, payload)` in order.
fn sections(wasm: &[u8]) -> wasmtime::Result<Vec<(u8, &[u8])>> {
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
        wasmtime::bail!("not a core Wasm module");
    }
    let mut at = 8;
    let mut out = Vec::new();
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb_u32(wasm, &mut at)? as usize;
        let payload = wasm
            .get(at..at + size)
            .context("a section runs past the module's end")?;
        out.push((id, payload));
        at += size;
    }
    Ok(out)
}

fn leb_u32(bytes: &[u8], at: &mut usize) -> wasmtime::Result<u32> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at).context("a number runs past its section")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value).context("a number is too large");
        }
    }
    wasmtime::bail!("a number is too long")
}

fn name<'a>(bytes: &'a [u8], at: &mut usize) -> wasmtime::Result<&'a [u8]> {
    let len = leb_u32(bytes, at)? as usize;
    let name = bytes
        .get(*at..*at + len)
        .context("a name runs past its section")?;
    *at += len;
    Ok(name)
}

fn push_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The index of the function the `name` section calls `wanted`.
fn function_index(wasm: &[u8], wanted: &str) -> wasmtime::Result<Option<u32>> {
    for (id, payload) in sections(wasm)? {
        let mut at = 0;
        if id != 0 || name(payload, &mut at)? != b"name" {
            continue;
        }
        while at < payload.len() {
            let kind = payload[at];
            at += 1;
            let size = leb_u32(payload, &mut at)? as usize;
            let end = at + size;
            if kind == 1 {
                let sub = payload.get(..end).context("a name subsection is cut")?;
                let count = leb_u32(sub, &mut at)?;
                for _ in 0..count {
                    let index = leb_u32(sub, &mut at)?;
                    if name(sub, &mut at)? == wanted.as_bytes() {
                        return Ok(Some(index));
                    }
                }
            }
            at = end;
        }
    }
    Ok(None)
}

/// `wasm` with one more export: function `index` as `export`.
fn add_func_export(wasm: &[u8], export: &str, index: u32) -> wasmtime::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(wasm.len() + 64);
    out.extend_from_slice(&wasm[..8]);
    let mut added = false;
    for (id, payload) in sections(wasm)? {
        let payload = if id == 7 {
            let mut at = 0;
            let count = leb_u32(payload, &mut at)?;
            let mut section = Vec::with_capacity(payload.len() + export.len() + 8);
            push_leb(&mut section, count + 1);
            section.extend_from_slice(&payload[at..]);
            push_leb(&mut section, u32::try_from(export.len())?);
            section.extend_from_slice(export.as_bytes());
            section.push(0); // a function
            push_leb(&mut section, index);
            added = true;
            std::borrow::Cow::Owned(section)
        } else {
            std::borrow::Cow::Borrowed(payload)
        };
        out.push(id);
        push_leb(&mut out, u32::try_from(payload.len())?);
        out.extend_from_slice(&payload);
    }
    if !added {
        wasmtime::bail!("the interpreter has no export section");
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A module with two functions, named `a` and `b`, and one export.
    fn module() -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // type: [] -> []
        wasm.extend([3, 3, 2, 0, 0]); // two functions of it
        wasm.extend([7, 5, 1, 1, b'x', 0, 0]); // export "x" = function 0
        wasm.extend([10, 7, 2, 2, 0, 0x0b, 2, 0, 0x0b]); // two empty bodies
        let names = [4, b'n', b'a', b'm', b'e', 1, 7, 2, 0, 1, b'a', 1, 1, b'b'];
        wasm.push(0);
        wasm.push(names.len() as u8);
        wasm.extend(names);
        wasm
    }

    #[test]
    fn a_named_function_is_found_and_exported() {
        let wasm = module();
        assert_eq!(function_index(&wasm, "b").unwrap(), Some(1));
        assert_eq!(function_index(&wasm, "c").unwrap(), None);
        let patched = add_func_export(&wasm, "y", 1).unwrap();
        let exports: Vec<_> = sections(&patched)
            .unwrap()
            .into_iter()
            .filter(|(id, _)| *id == 7)
            .map(|(_, payload)| payload.to_vec())
            .collect();
        assert_eq!(exports, vec![vec![2, 1, b'x', 0, 0, 1, b'y', 0, 1]]);
        let engine = Engine::default();
        let module = wasmtime::Module::new(&engine, &patched).unwrap();
        let names: Vec<_> = module.exports().map(|e| e.name().to_owned()).collect();
        assert_eq!(names, ["x", "y"]);
    }
}
