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
    /// A deterministic CPU budget in fuel units, when the runtime counts fuel.
    pub fuel: Option<u64>,
    /// Bytes of stdout and of stderr kept each; the rest is dropped with a marker.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 256 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            fuel: None,
            max_output_bytes: 1024 * 1024,
        }
    }
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
