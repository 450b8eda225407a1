//! How long finished work and the audit log are kept: `[retention]` in the config file.
//! 0 keeps forever. A script's run settings may override the first four periods.

use serde::{Deserialize, Serialize};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

/// Retention periods in days (0 = keep forever) and how often the sweep runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Finished jobs (with their logs and artifacts) are deleted after this many days.
    pub jobs_days: u32,
    /// A finished job's log entries and captured stdout/stderr, after this many days
    /// (the job row, status and result stay).
    pub job_logs_days: u32,
    /// A finished job's artifact files, after this many days.
    pub artifacts_days: u32,
    /// Agents' event history (events, transitions, output, log lines).
    pub agent_history_days: u32,
    /// Audit log rows, after this many days; the pruned head is kept as a signed
    /// checkpoint that verification starts from. 0 (the default) keeps the log forever.
    pub audit_days: u32,
    /// Seconds between sweeps.
    pub sweep_interval_secs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            jobs_days: 90,
            job_logs_days: 30,
            artifacts_days: 30,
            agent_history_days: 30,
            audit_days: 0,
            sweep_interval_secs: 3600,
        }
    }
}

impl Retention {
    /// The time before which data of a kind kept `days` goes, or `None` for forever.
    pub fn cutoff(days: u32, now_ms: i64) -> Option<i64> {
        (days > 0).then(|| now_ms - i64::from(days) * DAY_MS)
    }

    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.sweep_interval_secs.max(1))
    }
}
