//! What a run produced.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The script finished and its result is in `result`.
    Succeeded,
    /// The script raised an exception or could not start.
    Failed,
    /// The wall-clock deadline ran out.
    TimedOut,
    /// The script used its CPU budget ([`Limits::fuel`](crate::Limits::fuel)).
    CpuExceeded,
    /// The script needed more memory than its limit.
    MemoryExceeded,
    /// The run was cancelled from outside.
    Cancelled,
}

impl RunStatus {
    /// The status as the lower-case word used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed_out",
            RunStatus::CpuExceeded => "cpu_exceeded",
            RunStatus::MemoryExceeded => "memory_exceeded",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// Why a run did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptFailure {
    /// The Python exception class, or a runtime reason like `Timeout`.
    pub kind: String,
    /// A one-line explanation.
    pub message: String,
    /// The Python traceback, when there is one.
    pub traceback: String,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// How it ended.
    pub status: RunStatus,
    /// `main`'s return value on success.
    pub result: Option<Value>,
    /// The failure, unless it succeeded.
    pub error: Option<ScriptFailure>,
    /// Captured stdout (truncated at the limit, with a marker).
    pub stdout: String,
    /// Captured stderr (truncated at the limit, with a marker).
    pub stderr: String,
    /// Wall-clock time from start to end, in milliseconds.
    pub duration_ms: u64,
    /// The largest linear memory the interpreter had, in bytes.
    pub peak_memory_bytes: u64,
    /// Host calls the script made.
    pub host_calls: u32,
    /// The interpreter's CPU time, measured on the threads that ran it, in
    /// milliseconds (host calls' own work on other threads is not in it).
    #[serde(default)]
    pub cpu_time_ms: u64,
    /// Fuel the run consumed (about one unit per WebAssembly instruction; see
    /// [`FUEL_PER_CPU_SECOND`](crate::FUEL_PER_CPU_SECOND)); `None` when the runtime
    /// does not count fuel.
    #[serde(default)]
    pub fuel_consumed: Option<u64>,
}
