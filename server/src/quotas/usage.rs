//! Each user's usage against their quotas: what their jobs, agents and scripts hold now
//! next to the ceilings that apply to them. The one source of these numbers for the
//! API (`/me/usage`, `/users/{id}/usage`), the dashboard and `/metrics`.

use super::{Ceilings, Quotas};
use crate::db::{self, Db};
use crate::jobs::settings::RunSettings;
use std::collections::HashMap;
use std::path::PathBuf;

/// One user's usage and the ceilings it is counted against.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct UserUsage {
    pub user_id: String,
    pub email: String,
    /// Their jobs running now, on every node.
    pub running_jobs: u64,
    /// Jobs of theirs that may run at once.
    pub running_jobs_ceiling: u64,
    /// Their agents wanted running now (starting, running, in backoff or stopping).
    pub agents_running: u64,
    /// Agents of theirs that may run at once.
    pub agents_ceiling: u64,
    /// Sandbox memory their running jobs and agent instances hold (each its memory
    /// limit), MiB.
    pub memory_committed_mb: u64,
    /// Memory one run of theirs may have, MiB.
    pub memory_per_run_ceiling_mb: u64,
    /// Their scripts.
    pub scripts: u64,
    /// Bytes their scripts' `/data` directories hold together (files plus 4 KiB per
    /// entry, as the disk quota counts them).
    pub data_bytes: u64,
    /// Bytes the fullest of their scripts' `/data` holds.
    pub data_bytes_max_script: u64,
    /// Bytes each script's `/data` may hold.
    pub data_bytes_ceiling_per_script: u64,
    /// Keys their scripts' `automa.state` hold together.
    pub state_keys: u64,
    /// Keys of the script with the most.
    pub state_keys_max_script: u64,
    /// Keys each script's state may hold.
    pub state_keys_ceiling_per_script: u64,
    /// Bytes (keys plus values) their scripts' state hold together.
    pub state_bytes: u64,
    /// Bytes of the script with the most.
    pub state_bytes_max_script: u64,
    /// Bytes each script's state may hold.
    pub state_bytes_ceiling_per_script: u64,
    /// CPU seconds their stored jobs used (every job the retention keeps).
    pub job_cpu_seconds: f64,
    /// CPU seconds each job attempt may use.
    pub job_cpu_seconds_ceiling: u64,
    /// CPU seconds their agents' instances used, since each agent was created.
    pub agent_cpu_seconds: f64,
    /// CPU seconds per minute each agent instance may use.
    pub agent_cpu_seconds_per_minute_ceiling: u64,
}

/// Where the numbers come from.
pub struct Sources<'a> {
    pub db: &'a Db,
    pub quotas: &'a Quotas,
    /// A script's `/data` directory on the host.
    pub data_dir: &'a (dyn Fn(&str) -> PathBuf + Sync),
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The usage of `user` (`Some(id)`; empty when there is no such user) or of every user
/// (`None`), by email.
pub async fn collect(src: &Sources<'_>, user: Option<&str>) -> anyhow::Result<Vec<UserUsage>> {
    let users = db::usage::users(src.db, user).await?;
    let mut by_user: HashMap<String, UserUsage> = HashMap::with_capacity(users.len());
    for (id, email) in &users {
        let c = Ceilings::load(src.db, src.quotas, id).await?;
        by_user.insert(
            id.clone(),
            UserUsage {
                user_id: id.clone(),
                email: email.clone(),
                running_jobs_ceiling: c.running_jobs,
                agents_ceiling: c.agents,
                memory_per_run_ceiling_mb: c.memory_mb,
                data_bytes_ceiling_per_script: c.data_mb.saturating_mul(1024 * 1024),
                state_keys_ceiling_per_script: src.quotas.state_keys,
                state_bytes_ceiling_per_script: src.quotas.state_bytes,
                job_cpu_seconds_ceiling: c.cpu_seconds,
                agent_cpu_seconds_per_minute_ceiling: c.agent_cpu_seconds_per_minute,
                ..UserUsage::default()
            },
        );
    }
    for job in db::usage::running_jobs(src.db, user).await? {
        if let Some(u) = by_user.get_mut(&job.owner_id) {
            // The limit the run was started with; a script whose settings no longer
            // parse counts as the default (the settings were valid when it started).
            let memory = serde_json::from_str::<RunSettings>(&job.settings)
                .unwrap_or_default()
                .memory_mb;
            u.running_jobs += 1;
            u.memory_committed_mb += memory;
        }
    }
    for (owner, active, memory_mb, cpu_ms) in db::usage::agents(src.db, user).await? {
        if let Some(u) = by_user.get_mut(&owner) {
            u.agents_running = count(active);
            u.memory_committed_mb += count(memory_mb);
            u.agent_cpu_seconds = count(cpu_ms) as f64 / 1000.0;
        }
    }
    for (owner, cpu_ms) in db::usage::job_cpu_ms(src.db, user).await? {
        if let Some(u) = by_user.get_mut(&owner) {
            u.job_cpu_seconds = count(cpu_ms) as f64 / 1000.0;
        }
    }
    let scripts = db::usage::scripts(src.db, user).await?;
    let dirs: Vec<(String, PathBuf)> = scripts
        .iter()
        .map(|s| (s.owner_id.clone(), (src.data_dir)(&s.script_id)))
        .collect();
    for s in &scripts {
        if let Some(u) = by_user.get_mut(&s.owner_id) {
            let (keys, bytes) = (count(s.keys), count(s.bytes));
            u.scripts += 1;
            u.state_keys += keys;
            u.state_bytes += bytes;
            u.state_keys_max_script = u.state_keys_max_script.max(keys);
            u.state_bytes_max_script = u.state_bytes_max_script.max(bytes);
        }
    }
    // Walking the directories is file-system work: off the async threads.
    let sizes = tokio::task::spawn_blocking(move || {
        dirs.into_iter()
            .map(|(owner, dir)| {
                // A script that never ran has no directory yet: it holds nothing.
                (owner, automa_runtime::measure_disk_usage(&dir).unwrap_or(0))
            })
            .collect::<Vec<_>>()
    })
    .await?;
    for (owner, bytes) in sizes {
        if let Some(u) = by_user.get_mut(&owner) {
            u.data_bytes += bytes;
            u.data_bytes_max_script = u.data_bytes_max_script.max(bytes);
        }
    }
    Ok(users
        .iter()
        .filter_map(|(id, _)| by_user.remove(id))
        .collect())
}

/// [`collect`] over the application's database, quotas and data directory.
pub async fn of(
    state: &crate::state::AppState,
    user: Option<&str>,
) -> anyhow::Result<Vec<UserUsage>> {
    let runs = state.jobs.runs();
    let data_dir = |script_id: &str| runs.data_dir(script_id);
    let src = Sources {
        db: &state.db,
        quotas: state.jobs.quotas(),
        data_dir: &data_dir,
    };
    collect(&src, user).await
}
