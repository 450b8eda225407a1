//! Resource ceilings per user: the server's `[quotas]` values, or an admin's override
//! for one user (`user_quotas`). A `user` cannot raise them on their own scripts.

use super::Quotas;
use crate::db::{self, Db, user_quotas::UserQuotaRow};

/// The ceilings that apply to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    /// Memory of one run (job or agent instance), MiB.
    pub memory_mb: u64,
    /// Wall-clock limit of one job attempt, seconds.
    pub timeout_seconds: u64,
    /// Agents running (or starting, or in backoff) at once.
    pub agents: u64,
    /// Jobs running at once (fair share of the worker pool).
    pub running_jobs: u64,
    /// CPU budget of one job attempt, CPU seconds.
    pub cpu_seconds: u64,
    /// CPU seconds per minute of an agent instance.
    pub agent_cpu_seconds_per_minute: u64,
    /// Disk of a script's `/data`, MiB.
    pub data_mb: u64,
    /// Disk of a job's `/artifacts`, MiB.
    pub artifacts_mb: u64,
    /// Disk of a run's `/tmp`, MiB.
    pub tmp_mb: u64,
}

fn pick(over: Option<i64>, server: u64) -> u64 {
    over.and_then(|v| u64::try_from(v).ok()).unwrap_or(server)
}

impl Ceilings {
    /// The server's ceilings with the user's overrides applied.
    pub fn of(quotas: &Quotas, over: &UserQuotaRow) -> Self {
        Self {
            memory_mb: pick(over.memory_mb, quotas.max_memory_mb),
            timeout_seconds: pick(over.timeout_seconds, quotas.max_timeout_seconds),
            agents: pick(over.agents, quotas.max_agents_per_user),
            running_jobs: pick(over.running_jobs, quotas.max_running_jobs_per_user),
            cpu_seconds: pick(over.cpu_seconds, quotas.max_cpu_seconds),
            agent_cpu_seconds_per_minute: pick(
                over.agent_cpu_seconds_per_minute,
                quotas.agent_cpu_seconds_per_minute,
            ),
            data_mb: pick(over.data_mb, quotas.data_mb),
            artifacts_mb: pick(over.artifacts_mb, quotas.artifacts_mb),
            tmp_mb: pick(over.tmp_mb, quotas.tmp_mb),
        }
    }

    /// The disk quotas of a run, in bytes.
    pub fn disk_quotas(&self) -> automa_runtime::DiskQuotas {
        let bytes = |mb: u64| Some(mb.saturating_mul(1024 * 1024));
        automa_runtime::DiskQuotas {
            data: bytes(self.data_mb),
            artifacts: bytes(self.artifacts_mb),
            tmp: bytes(self.tmp_mb),
        }
    }

    /// The ceilings of `user_id`.
    pub async fn load(db: &Db, quotas: &Quotas, user_id: &str) -> sqlx::Result<Self> {
        Ok(Self::of(quotas, &db::user_quotas::find(db, user_id).await?))
    }

    /// Why a run with `memory_mb` and `timeout_seconds` (`None` for an agent) is over
    /// these ceilings; `None` when it is within them.
    pub fn refusal(&self, memory_mb: u64, timeout_seconds: Option<u64>) -> Option<String> {
        self.refusal_with_cpu(memory_mb, timeout_seconds, None)
    }

    /// An agent's CPU budget: `cpu_seconds` (or, unset, the ceiling's share) per
    /// `interval_seconds`; or why that rate is over the ceiling.
    pub fn agent_cpu(
        &self,
        cpu_seconds: Option<u64>,
        interval_seconds: u64,
    ) -> Result<automa_runtime::CpuRate, String> {
        let interval_seconds = interval_seconds.max(1);
        let ceiling = self.agent_cpu_seconds_per_minute as f64 / 60.0;
        let seconds = match cpu_seconds {
            Some(s) if s as f64 / interval_seconds as f64 > ceiling + 1e-9 => {
                return Err(format!(
                    "cpu_seconds {s} per {interval_seconds}s is over the owner's ceiling of \
                     {} CPU seconds per minute; lower it, or an admin can raise the ceiling \
                     for this user (PUT /api/v1/users/{{id}}/quotas)",
                    self.agent_cpu_seconds_per_minute
                ));
            }
            Some(s) => s as f64,
            None => ceiling * interval_seconds as f64,
        };
        Ok(automa_runtime::CpuRate {
            cpu: std::time::Duration::from_secs_f64(seconds),
            every: std::time::Duration::from_secs(interval_seconds),
        })
    }

    /// [`Ceilings::refusal`] that also checks a CPU budget of `cpu_seconds`.
    pub fn refusal_with_cpu(
        &self,
        memory_mb: u64,
        timeout_seconds: Option<u64>,
        cpu_seconds: Option<u64>,
    ) -> Option<String> {
        let mut over = Vec::new();
        if let Some(cpu) = cpu_seconds
            && cpu > self.cpu_seconds
        {
            over.push(format!(
                "cpu_seconds {cpu} is over the owner's ceiling of {} CPU seconds",
                self.cpu_seconds
            ));
        }
        if memory_mb > self.memory_mb {
            over.push(format!(
                "memory_mb {memory_mb} is over the owner's ceiling of {} MiB per run",
                self.memory_mb
            ));
        }
        if let Some(timeout) = timeout_seconds
            && timeout > self.timeout_seconds
        {
            over.push(format!(
                "timeout_seconds {timeout} is over the owner's ceiling of {} s",
                self.timeout_seconds
            ));
        }
        (!over.is_empty()).then(|| {
            format!(
                "{}; lower the setting, or an admin can raise the ceiling for this user \
                 (PUT /api/v1/users/{{id}}/quotas)",
                over.join("; ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_replaces_the_server_ceiling() {
        let quotas = Quotas::default();
        let server = Ceilings::of(&quotas, &UserQuotaRow::default());
        assert_eq!(server.memory_mb, quotas.max_memory_mb);
        let raised = Ceilings::of(
            &quotas,
            &UserQuotaRow {
                memory_mb: Some(4096),
                ..UserQuotaRow::default()
            },
        );
        assert_eq!(raised.memory_mb, 4096);
        assert_eq!(raised.timeout_seconds, quotas.max_timeout_seconds);
        assert!(
            server
                .refusal(4096, Some(60))
                .is_some_and(|m| m.contains("memory_mb 4096"))
        );
        assert_eq!(raised.refusal(4096, Some(60)), None);
        assert!(
            server
                .refusal(64, Some(86_400))
                .is_some_and(|m| m.contains("timeout_seconds 86400"))
        );
    }
}
