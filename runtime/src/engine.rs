//! The process-wide engine, the compiled runner and its pre-instantiation.

use crate::cache;
use crate::code_cache::CodeCache;
use crate::data::{DataArtifacts, DataProfile};
use crate::fs_quota::{DiskBudgets, QuotaFsData};
use crate::run::RunState;
use crate::spare::SpareSlot;
use crate::stdlib::StdlibDir;
use crate::ticker::EpochTicker;
use automa_host_api::bindings::RunnerPre;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine};

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where the compiled runner is cached; `None` compiles it in memory every start.
    pub cache_dir: Option<PathBuf>,
    /// Count fuel, so CPU budgets ([`Limits::cpu`](crate::Limits::cpu)) are
    /// deterministic (the same work on every machine) and runs report the fuel they
    /// used. Off by default: it cost 15-20% on the benchmark's CPU set (geometric mean)
    /// and about 0.2 ms of a trivial run's start (README, Benchmarks); budgets are then
    /// the thread CPU time of the run, checked at every epoch tick.
    pub fuel: bool,
    /// How often running scripts yield to check deadlines, cancellation and CPU rates.
    /// Short: a run holds its executor thread until it yields, and the tasks queued
    /// behind it there (an HTTP answer, the audit writer, a job's final write) wait
    /// that long; at 10 ms a trivial `run?wait` often took two ticks more. A yield
    /// costs a few microseconds. With fuel counted a script yields after this much of
    /// its CPU time in fuel ([`FUEL_PER_CPU_SECOND`](crate::FUEL_PER_CPU_SECOND)); without,
    /// an epoch ticker interrupts it this often.
    pub epoch_tick: Duration,
    /// Keep this many instance slots pre-reserved (pooling allocator): faster
    /// instantiation and memory reuse between runs. `0` allocates on demand.
    pub pooled_instances: u32,
    /// How many freed pooled slots keep their pages resident for the next instance
    /// (the rest are decommitted): bounds the memory a pool holds while idle.
    pub warm_slots: u32,
    /// The largest memory limit any run may ask for, in bytes (sizes pooled slots).
    pub max_memory_bytes: u64,
    /// Instantiate and warm up the next run's runner once a run has ended (spare.rs),
    /// so a run starts without waiting for either. In a pool the
    /// spare holds one slot, which a run refused a slot takes back.
    pub spare_instance: bool,
    /// The bytes of scripts' compiled code kept between runs (code_cache.rs), so a
    /// script's later runs skip compiling it; `0` compiles every run.
    pub code_cache_bytes: usize,
    /// Applied to the engine's settings last (benchmarks compare engine settings).
    #[doc(hidden)]
    pub tune_engine: Option<fn(&mut Config)>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            fuel: false,
            epoch_tick: Duration::from_millis(1),
            pooled_instances: 0,
            warm_slots: 8,
            max_memory_bytes: 4 << 30,
            spare_instance: true,
            code_cache_bytes: 32 << 20,
            tune_engine: None,
        }
    }
}

/// The Python runtime: one per process, shared by every run.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) pre: RunnerPre<RunState>,
    pub(crate) plugin_linker: Linker<RunState>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) fuel: bool,
    /// Instances live in the pooling allocator's slots.
    pub(crate) pooled: bool,
    /// How running guests of this engine are made to yield.
    pub(crate) pacing: Pacing,
    /// The next run's instance, made ahead; `None` when off.
    pub(crate) spare: Option<SpareSlot>,
    /// Scripts' byte code from earlier runs.
    pub(crate) code_cache: CodeCache,
    pub(crate) stdlib: StdlibDir,
    /// The disk budgets of directories that concurrent runs share (`/data`).
    pub(crate) disk_budgets: DiskBudgets,
    /// Empty `/tmp` directories runs left behind, for the next runs (scratch.rs).
    pub(crate) scratch_dirs: Arc<crate::scratch::ScratchDirs>,
    /// The data profile: off until the server loads it, then loading, ready or failed.
    pub(crate) data: tokio::sync::watch::Sender<DataStatus>,
    epoch_tick: Duration,
    /// Parked unless a guest of an engine paced by epochs may run.
    pub(crate) ticker: EpochTicker,
}

/// How a running guest is made to give its thread back, so deadlines, cancellation and
/// CPU rates are seen while it computes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pacing {
    /// An epoch ticker interrupts it every tick (code compiled with epoch checks).
    Epochs,
    /// It yields each time it has burned this much fuel. The fuel checks are compiled
    /// in anyway, so this adds no code; epoch checks on top of them (at every loop and
    /// function entry) made the CPU set 1-8% slower across three interleaved runs of
    /// the startup bench.
    Fuel(u64),
}

impl Pacing {
    fn of(engine: &Engine, tick: Duration) -> Self {
        if engine.get_epoch_interruption() || !engine.get_consume_fuel() {
            return Pacing::Epochs;
        }
        let per_tick = crate::FUEL_PER_CPU_SECOND as f64 * tick.as_secs_f64();
        Pacing::Fuel((per_tick as u64).max(1))
    }
}

/// Where the data profile stands.
#[derive(Clone)]
pub(crate) enum DataStatus {
    /// Not enabled on this server.
    Off,
    /// Being fetched or compiled; runs wait.
    Loading,
    /// Loaded; each run instantiates it.
    Ready(Arc<DataProfile>),
    /// Loading failed; runs fail with this message.
    Failed(String),
}

impl Runtime {
    /// Build the engine and load the runner, from the cache when it is there.
    pub fn new(config: RuntimeConfig) -> wasmtime::Result<Self> {
        crate::scratch::sweep_once();
        let mut wasm_config = Config::new();
        wasm_config
            // Counted fuel makes guests yield (Pacing::Fuel); epochs only without it.
            .epoch_interruption(!config.fuel)
            .consume_fuel(config.fuel)
            .wasm_component_model(true);
        if config.pooled_instances > 0 {
            wasm_config.allocation_strategy(pooling(&config));
        }
        if let Some(tune) = config.tune_engine {
            tune(&mut wasm_config);
        }
        let engine = Engine::new(&wasm_config).context("creating the wasm engine")?;
        let component = cache::load_or_compile(
            &engine,
            config.cache_dir.as_deref(),
            "runner",
            automa_python_wasm::RUNNER_COMPONENT,
            automa_python_wasm::RUNNER_SHA256,
        )?;
        let stdlib = StdlibDir::prepare(config.cache_dir.as_deref())
            .context("preparing the Python standard library")?;
        let mut linker = Linker::<RunState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).context("linking WASI")?;
        automa_host_api::add_to_linker(&mut linker, |state: &mut RunState| &mut state.host)
            .context("linking the automa host API")?;
        // The disk quotas: wasi:filesystem linked again over wasmtime-wasi's, each call
        // passed on after the quota layer counted it (see fs_quota).
        linker.allow_shadowing(true);
        wasmtime_wasi::p2::bindings::filesystem::types::add_to_linker::<RunState, QuotaFsData>(
            &mut linker,
            RunState::quota_fs,
        )
        .context("linking the filesystem quotas")?;
        wasmtime_wasi::p2::bindings::filesystem::preopens::add_to_linker::<RunState, QuotaFsData>(
            &mut linker,
            RunState::quota_fs,
        )
        .context("linking the filesystem quotas")?;
        linker.allow_shadowing(false);
        let pre = linker
            .instantiate_pre(&component)
            .context("pre-instantiating the runner")?;
        let pre = RunnerPre::new(pre).context("checking the runner's exports")?;
        let mut plugin_linker = Linker::<RunState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut plugin_linker).context("linking WASI")?;
        automa_host_api::add_plugin_imports_to_linker(
            &mut plugin_linker,
            |state: &mut RunState| &mut state.host,
        )
        .context("linking the plugin host API")?;
        let pacing = Pacing::of(&engine, config.epoch_tick);
        let mut runtime = Self {
            ticker: EpochTicker::start(engine.clone(), config.epoch_tick),
            engine,
            pacing,
            spare: config.spare_instance.then(SpareSlot::default),
            code_cache: CodeCache::new(config.code_cache_bytes),
            pre,
            plugin_linker,
            cache_dir: config.cache_dir,
            fuel: config.fuel,
            pooled: config.pooled_instances > 0,
            stdlib,
            disk_budgets: DiskBudgets::default(),
            scratch_dirs: Arc::default(),
            data: tokio::sync::watch::Sender::new(DataStatus::Off),
            epoch_tick: config.epoch_tick,
        };
        runtime
            .finish_stdlib()
            .context("preparing the Python standard library")?;
        Ok(runtime)
    }

    /// Whether the engine's epoch ticker is on: only while a guest may run (tests).
    #[doc(hidden)]
    pub fn epoch_ticking(&self) -> bool {
        self.ticker.is_ticking()
    }

    /// The engine, e.g. to compile other components with the same settings.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Say that the data profile is on its way: data-profile runs wait for
    /// [`Runtime::load_data_profile`] instead of failing.
    pub fn expect_data_profile(&self) {
        self.data.send_replace(DataStatus::Loading);
    }

    /// Load the data profile from its unpacked artifacts, compiling the interpreter into
    /// `cache_dir` the first time (minutes; call it on a blocking thread). On failure
    /// data-profile runs fail with the reason, and it is returned.
    pub fn load_data_profile(
        &self,
        artifacts: &DataArtifacts,
        cache_dir: &Path,
    ) -> wasmtime::Result<()> {
        match DataProfile::load(artifacts, cache_dir, self.fuel, self.epoch_tick) {
            Ok(loaded) => {
                self.data.send_replace(DataStatus::Ready(Arc::new(loaded)));
                Ok(())
            }
            Err(error) => {
                self.fail_data_profile(format!("{error:#}"));
                Err(error)
            }
        }
    }

    /// Make data-profile runs fail with `reason` (the artifacts could not be fetched).
    pub fn fail_data_profile(&self, reason: String) {
        self.data.send_replace(DataStatus::Failed(reason));
    }

    /// Whether the data profile is loaded and runs can use it now.
    pub fn data_profile_ready(&self) -> bool {
        matches!(*self.data.borrow(), DataStatus::Ready(_))
    }
}

/// How much of a pooled slot's linear memory stays mapped between runs: more than a
/// trivial run writes (the interpreter's heap image plus its first allocations).
const KEEP_RESIDENT_BYTES: usize = 64 << 20;

/// A pooling allocator sized for `pooled_instances` concurrent instances. The runner is
/// one component of several core modules, so each slot holds a few of each.
fn pooling(config: &RuntimeConfig) -> wasmtime::InstanceAllocationStrategy {
    let (slots, max_memory_bytes) = (config.pooled_instances, config.max_memory_bytes);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_core_instances(slots * 16)
        .max_core_instances_per_component(32)
        .total_memories(slots * 2)
        .max_memories_per_component(4)
        .total_tables(slots * 4)
        .max_tables_per_component(8)
        .table_elements(65_536)
        .total_stacks(slots)
        .max_core_instance_size(16 << 20)
        .max_component_instance_size(1 << 20)
        .max_memory_size(usize::try_from(max_memory_bytes).unwrap_or(usize::MAX))
        // A freed slot's memory is put back to the runner's image by copying only the
        // pages the run wrote (found with PAGEMAP_SCAN where the kernel has it) instead
        // of unmapping them: the next run in the slot takes no page faults for them.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(1 << 20)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .max_unused_warm_slots(config.warm_slots.min(slots));
    wasmtime::InstanceAllocationStrategy::Pooling(pool)
}
