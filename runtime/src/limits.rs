//! Per-run limits and the memory limiter that enforces them.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The limits of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest linear memory of the interpreter, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time the run may take.
    pub timeout: Duration,
    /// The CPU time the whole run may use: a run that uses it ends `cpu_exceeded`.
    /// Measured as the thread CPU time of the run's polls, or, when the runtime counts
    /// fuel, as its fuel ([`cpu_seconds_to_fuel`]: deterministic, the same work on
    /// every machine). `None`: no budget.
    pub cpu: Option<Duration>,
    /// A CPU budget per interval (agents): once the run has used `rate.cpu` within one
    /// `rate.every`, it is paused until the next interval begins, and goes on.
    pub cpu_rate: Option<CpuRate>,
    /// Bytes of stdout and of stderr kept each; the rest is dropped with a marker.
    pub max_output_bytes: usize,
    /// Where the run's CPU time is added up while it runs (an agent's, read by its
    /// supervisor); the outcome has the total either way.
    #[serde(skip)]
    pub cpu_meter: Option<CpuMeter>,
    /// Bytes the writable mounts may hold; a write past one fails in the guest with
    /// `OSError` errno 28 (ENOSPC).
    #[serde(default)]
    pub disk: DiskQuotas,
}

/// The disk quota of each writable mount, in bytes; `None`: none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskQuotas {
    /// `/data` (the script's directory, shared by its concurrent runs).
    pub data: Option<u64>,
    /// `/artifacts` (the job's directory).
    pub artifacts: Option<u64>,
    /// `/tmp` (the run's scratch directory).
    pub tmp: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 256 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            cpu: None,
            cpu_rate: None,
            cpu_meter: None,
            max_output_bytes: 1024 * 1024,
            disk: DiskQuotas::default(),
        }
    }
}

/// Fuel one CPU second buys when the runtime counts fuel: the fuel CPython-on-wasmtime
/// burned per second of thread CPU time on the reference machine over the benchmark's
/// CPU set (median 4.8e9 per second, 2.6e9 to 7.3e9 across the scripts; README,
/// Benchmarks). Fuel counts
/// WebAssembly instructions, so a budget is the same amount of work on every machine,
/// which a faster machine spends in less time.
pub const FUEL_PER_CPU_SECOND: u64 = 5_000_000_000;

/// The fuel of `seconds` CPU seconds.
pub fn cpu_seconds_to_fuel(seconds: f64) -> u64 {
    if seconds.is_nan() || seconds <= 0.0 {
        return 0;
    }
    let fuel = seconds * FUEL_PER_CPU_SECOND as f64;
    if fuel >= u64::MAX as f64 {
        u64::MAX
    } else {
        fuel as u64
    }
}

/// CPU seconds of `fuel` units.
pub fn fuel_to_cpu_seconds(fuel: u64) -> f64 {
    fuel as f64 / FUEL_PER_CPU_SECOND as f64
}

/// A run's CPU time so far, in nanoseconds, shared with whoever watches it.
#[derive(Debug, Clone, Default)]
pub struct CpuMeter(pub(crate) std::sync::Arc<std::sync::atomic::AtomicU64>);

impl CpuMeter {
    /// The CPU time measured so far, in milliseconds.
    pub fn millis(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed) / 1_000_000
    }
}

impl PartialEq for CpuMeter {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// So much CPU per interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuRate {
    /// CPU time per interval.
    pub cpu: Duration,
    /// The interval.
    pub every: Duration,
}

/// Caps linear memory and remembers the peak, so a memory bomb turns into a
/// `MemoryError` inside Python instead of harming the host.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    pub(crate) peak_bytes: usize,
    pub(crate) refused: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            peak_bytes: 0,
            refused: false,
        }
    }
}

const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.refused = true;
            return Ok(false);
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
