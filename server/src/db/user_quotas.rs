//! Per-user overrides of the server's resource ceilings (`user_quotas`).

use super::{Db, now_ms};

/// An admin's overrides for one user; `None`: the server's ceiling.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UserQuotaRow {
    pub memory_mb: Option<i64>,
    pub timeout_seconds: Option<i64>,
    pub agents: Option<i64>,
    pub running_jobs: Option<i64>,
    pub cpu_seconds: Option<i64>,
    pub data_mb: Option<i64>,
    pub artifacts_mb: Option<i64>,
    pub tmp_mb: Option<i64>,
    pub agent_cpu_seconds_per_minute: Option<i64>,
}

pub async fn find(db: &Db, user_id: &str) -> sqlx::Result<UserQuotaRow> {
    let row = sqlx::query_as(
        "SELECT memory_mb, timeout_seconds, agents, running_jobs, cpu_seconds, data_mb, \
         artifacts_mb, tmp_mb, agent_cpu_seconds_per_minute FROM user_quotas WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.unwrap_or_default())
}

/// Replace the user's overrides.
pub async fn set(db: &Db, user_id: &str, row: &UserQuotaRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_quotas (user_id, memory_mb, timeout_seconds, agents, running_jobs, \
         cpu_seconds, data_mb, artifacts_mb, tmp_mb, agent_cpu_seconds_per_minute, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (user_id) DO UPDATE \
         SET memory_mb = $2, timeout_seconds = $3, agents = $4, running_jobs = $5, \
         cpu_seconds = $6, data_mb = $7, artifacts_mb = $8, tmp_mb = $9, \
         agent_cpu_seconds_per_minute = $10, updated_at = $11",
    )
    .bind(user_id)
    .bind(row.memory_mb)
    .bind(row.timeout_seconds)
    .bind(row.agents)
    .bind(row.running_jobs)
    .bind(row.cpu_seconds)
    .bind(row.data_mb)
    .bind(row.artifacts_mb)
    .bind(row.tmp_mb)
    .bind(row.agent_cpu_seconds_per_minute)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}
