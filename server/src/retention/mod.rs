//! Retention: a background sweep deletes finished jobs, their logs and artifacts and
//! agents' history once older than the configured periods ([`Retention`]), frees the
//! disk (SQLite incremental vacuum when the database has it on), and counts what it
//! removed in `/metrics` (`retention_deleted_total{kind}`). The audit log is never
//! swept. [`sweep`] takes "now" so tests can move the clock.

mod settings;

pub use settings::Retention;

use crate::db::Db;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

/// The final statuses as SQL, for `concat!` (a job in any other state is never touched).
macro_rules! final_statuses {
    () => {
        "('succeeded', 'failed', 'timed_out', 'memory_exceeded', 'cpu_exceeded', 'cancelled', \
         'interrupted')"
    };
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub jobs: u64,
    pub job_logs: u64,
    pub artifacts: u64,
    pub agent_events: u64,
}

/// Deletes what is older than the retention periods at `now_ms` (ms since the epoch).
pub async fn sweep(
    db: &Db,
    data_dir: &Path,
    retention: &Retention,
    now_ms: i64,
) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    if let Some(cutoff) = Retention::cutoff(retention.jobs_days, now_ms) {
        // job_logs go with their job (ON DELETE CASCADE); the files below.
        swept.jobs = sqlx::query(concat!(
            "DELETE FROM jobs WHERE status IN ",
            final_statuses!(),
            " AND COALESCE(finished_at, created_at) < $1"
        ))
        .bind(cutoff)
        .execute(db)
        .await?
        .rows_affected();
    }
    if let Some(cutoff) = Retention::cutoff(retention.job_logs_days, now_ms) {
        swept.job_logs = sqlx::query(concat!(
            "DELETE FROM job_logs WHERE job_id IN (SELECT id FROM jobs WHERE status IN ",
            final_statuses!(),
            " AND finished_at < $1)"
        ))
        .bind(cutoff)
        .execute(db)
        .await?
        .rows_affected();
        sqlx::query(concat!(
            "UPDATE jobs SET stdout = NULL, stderr = NULL WHERE status IN ",
            final_statuses!(),
            " AND finished_at < $1 AND (stdout IS NOT NULL OR stderr IS NOT NULL)"
        ))
        .bind(cutoff)
        .execute(db)
        .await?;
    }
    if let Some(cutoff) = Retention::cutoff(retention.agent_history_days, now_ms) {
        swept.agent_events = sqlx::query("DELETE FROM agent_events WHERE at < $1")
            .bind(cutoff)
            .execute(db)
            .await?
            .rows_affected();
    }
    let artifacts_cutoff = Retention::cutoff(retention.artifacts_days, now_ms);
    swept.artifacts = sweep_job_dirs(db, &data_dir.join("jobs"), artifacts_cutoff).await?;
    record(&swept);
    Ok(swept)
}

/// Walks `data/jobs/<id>/`: a dir whose job is gone is removed whole; the artifacts of a
/// job finished before `cutoff` are removed. Returns the number of artifact files removed.
async fn sweep_job_dirs(db: &Db, jobs_dir: &Path, cutoff: Option<i64>) -> anyhow::Result<u64> {
    let entries = match std::fs::read_dir(jobs_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let Some(id) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT status, finished_at FROM jobs WHERE id = $1")
                .bind(&id)
                .fetch_optional(db)
                .await?;
        let dir = entry.path();
        let target: Option<PathBuf> = match row {
            None => Some(dir.clone()),
            Some((status, Some(finished)))
                if crate::db::jobs::JobStatus::parse(&status).is_some_and(|s| s.is_final())
                    && cutoff.is_some_and(|c| finished < c) =>
            {
                Some(dir.join("artifacts"))
            }
            Some(_) => None,
        };
        if let Some(target) = target.filter(|t| t.exists()) {
            removed += count_files(&target.join("artifacts")) + count_files(&target);
            if let Err(e) = std::fs::remove_dir_all(&target) {
                tracing::warn!(path = %target.display(), error = %e, "retention: cannot remove");
            }
        }
    }
    Ok(removed)
}

/// Regular files directly in `dir` (artifacts are flat), 0 when it is missing.
fn count_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .count() as u64
        })
        .unwrap_or(0)
}

/// Returns freed pages to the file system when the SQLite database was created with
/// `auto_vacuum = INCREMENTAL`; otherwise the freed pages are reused by new rows (a
/// manual `VACUUM` while the server is stopped shrinks the file).
pub async fn free_disk(db: &Db) -> anyhow::Result<bool> {
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
        .fetch_one(db)
        .await?;
    if mode != 2 {
        return Ok(false);
    }
    sqlx::query("PRAGMA incremental_vacuum").execute(db).await?;
    Ok(true)
}

fn record(swept: &Swept) {
    for (kind, n) in [
        ("jobs", swept.jobs),
        ("job_logs", swept.job_logs),
        ("artifacts", swept.artifacts),
        ("agent_events", swept.agent_events),
    ] {
        metrics::counter!("retention_deleted_total", "kind" => kind).increment(n);
    }
}

/// Sweeps at start and then every `retention.interval()` until `shutdown`.
pub fn start(
    db: Db,
    data_dir: PathBuf,
    retention: Retention,
    sqlite: bool,
    shutdown: CancellationToken,
) {
    // Present in /metrics from the start, at 0 (the recorder is installed once).
    crate::metrics::install();
    record(&Swept::default());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(retention.interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match sweep(&db, &data_dir, &retention, crate::db::now_ms()).await {
                Ok(swept) => {
                    if swept != Swept::default() {
                        tracing::info!(
                            jobs = swept.jobs,
                            job_logs = swept.job_logs,
                            artifacts = swept.artifacts,
                            agent_events = swept.agent_events,
                            "retention sweep"
                        );
                        if sqlite && let Err(e) = free_disk(&db).await {
                            tracing::warn!(error = %e, "retention: incremental vacuum");
                        }
                    }
                    metrics::gauge!("retention_last_sweep_timestamp_seconds")
                        .set(crate::db::now_ms() as f64 / 1000.0);
                }
                Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
            }
        }
    });
}
