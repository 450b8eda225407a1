//! Quotas an admin sets in the server configuration (`[quotas]`), with defaults safe
//! for a shared server: how much of the host one job or agent may fill.

pub mod agent_cpu;
pub mod ceilings;
pub mod log_budget;
pub mod memory_pool;
pub mod usage;
pub mod usage_metrics;

use automa_runtime::host::CallLimits;
pub use ceilings::Ceilings;
pub use log_budget::{Admit, LogBudget};
pub use memory_pool::{MemoryPool, PoolError, Reservation};
use serde::{Deserialize, Serialize};

/// The server-wide quotas. Every key of `[quotas]` is optional.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// Log entries (output lines, log lines, progress) stored per job attempt.
    pub job_log_lines: u64,
    /// Bytes of log entries stored per job attempt.
    pub job_log_bytes: u64,
    /// History entries an agent instance may store per minute.
    pub agent_log_lines_per_minute: u64,
    /// Bytes of history an agent instance may store per minute.
    pub agent_log_bytes_per_minute: u64,
    /// Host calls (of any interface) one run may make.
    pub host_calls_per_run: u32,
    /// Keys a script's `automa.state` may hold.
    pub state_keys: u64,
    /// Bytes (keys plus values) a script's `automa.state` may hold.
    pub state_bytes: u64,
    /// Memory of one run (job or agent instance), MiB; an admin can raise it per user.
    pub max_memory_mb: u64,
    /// Wall-clock limit of one job attempt, seconds; an admin can raise it per user.
    pub max_timeout_seconds: u64,
    /// Agents of one user running at once; an admin can raise it per user.
    pub max_agents_per_user: u64,
    /// Jobs of one user running at once (their share of the workers); per user too.
    pub max_running_jobs_per_user: u64,
    /// Memory all running jobs and agent instances together may hold, MiB.
    pub total_sandbox_memory_mb: u64,
    /// CPU budget of one job attempt, CPU seconds (thread CPU time, or fuel with
    /// `deterministic_cpu`): the
    /// budget of scripts that set none, and the most one may set; per user too.
    pub max_cpu_seconds: u64,
    /// CPU seconds an agent instance may use per minute: the budget
    /// of agents that set none, and the highest rate one may set; per user too.
    pub agent_cpu_seconds_per_minute: u64,
    /// Disk a script's `/data` may hold, MiB; per user too.
    pub data_mb: u64,
    /// Disk a job's `/artifacts` may hold, MiB; per user too.
    pub artifacts_mb: u64,
    /// Disk a run's `/tmp` may hold, MiB; per user too.
    pub tmp_mb: u64,
    /// Entries one page of a job's log or an agent's history holds at most (and by
    /// default), 1 to 10000; a page also stops at about 8 MiB.
    pub events_per_page: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            job_log_lines: 10_000,
            job_log_bytes: 10 * 1024 * 1024,
            agent_log_lines_per_minute: 1_000,
            agent_log_bytes_per_minute: 1024 * 1024,
            host_calls_per_run: 100_000,
            state_keys: 1_000,
            state_bytes: 10 * 1024 * 1024,
            max_memory_mb: 1024,
            max_timeout_seconds: 3600,
            max_agents_per_user: 10,
            max_running_jobs_per_user: 4,
            total_sandbox_memory_mb: 8192,
            max_cpu_seconds: 3600,
            agent_cpu_seconds_per_minute: 30,
            data_mb: 1024,
            artifacts_mb: 1024,
            tmp_mb: 512,
            events_per_page: 1000,
        }
    }
}

impl Quotas {
    /// The log budget of one job attempt.
    pub fn job_log_budget(&self) -> LogBudget {
        LogBudget::new(self.job_log_lines, self.job_log_bytes)
    }

    /// The caps of one run's host calls and of its script's state.
    pub fn call_limits(&self) -> CallLimits {
        CallLimits {
            max_calls: self.host_calls_per_run,
            state_keys: self.state_keys,
            state_bytes: self.state_bytes,
        }
    }

    /// The per-minute history budget of one agent instance.
    pub fn agent_log_budget(&self) -> LogBudget {
        LogBudget::new(
            self.agent_log_lines_per_minute,
            self.agent_log_bytes_per_minute,
        )
    }
}
