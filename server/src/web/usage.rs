//! Usage against quotas on the dashboard: `services::users`' usage (the API's and
//! `/metrics`' numbers too) as the view model of `automa_ui::components::usage`.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::quotas::usage::UserUsage;
use crate::services;
use crate::state::AppState;
use automa_ui::components::usage::UsageLine;

fn line(u: UserUsage) -> UsageLine {
    UsageLine {
        user_id: u.user_id,
        email: u.email,
        running_jobs: u.running_jobs,
        running_jobs_ceiling: u.running_jobs_ceiling,
        agents_running: u.agents_running,
        agents_ceiling: u.agents_ceiling,
        memory_committed_mb: u.memory_committed_mb,
        memory_per_run_ceiling_mb: u.memory_per_run_ceiling_mb,
        scripts: u.scripts,
        data_bytes: u.data_bytes,
        data_bytes_max_script: u.data_bytes_max_script,
        data_bytes_ceiling_per_script: u.data_bytes_ceiling_per_script,
        state_keys: u.state_keys,
        state_keys_max_script: u.state_keys_max_script,
        state_keys_ceiling_per_script: u.state_keys_ceiling_per_script,
        state_bytes: u.state_bytes,
        state_bytes_max_script: u.state_bytes_max_script,
        state_bytes_ceiling_per_script: u.state_bytes_ceiling_per_script,
        job_cpu_seconds: u.job_cpu_seconds,
        job_cpu_seconds_ceiling: u.job_cpu_seconds_ceiling,
        agent_cpu_seconds: u.agent_cpu_seconds,
        agent_cpu_seconds_per_minute_ceiling: u.agent_cpu_seconds_per_minute_ceiling,
    }
}

/// Every user's usage (admins only).
pub async fn lines(state: &AppState, p: &Principal) -> Result<Vec<UsageLine>, ApiError> {
    let all = services::users::usage_of_all(state, p).await?;
    Ok(all.into_iter().map(line).collect())
}

/// The viewer's own usage.
pub async fn own(state: &AppState, p: &Principal) -> Result<UsageLine, ApiError> {
    Ok(line(services::users::usage(state, p, &p.user_id).await?))
}
