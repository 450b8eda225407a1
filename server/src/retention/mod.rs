//! Retention: a background sweep deletes finished jobs, their logs and artifacts and
//! agents' history once older than the configured periods ([`Retention`]) or a script's
//! own ([`overrides`]), prunes the audit log behind a signed checkpoint when
//! `audit_days` is set ([`crate::audit::prune`]), frees the disk (SQLite incremental
//! vacuum when the database has it on), and counts what it removed in `/metrics`
//! (`retention_deleted_total{kind}`). [`sweep`] takes "now" so tests can move the clock.

mod overrides;
mod settings;

pub use overrides::Kind;
pub use settings::Retention;

use crate::db::Db;
use overrides::Periods;
use std::collections::HashMap;
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
    pub audit: u64,
}

/// Deletes what is older than the retention periods at `now_ms` (ms since the epoch):
/// the global ones, or a script's own where its run settings override them.
pub async fn sweep(
    db: &Db,
    data_dir: &Path,
    retention: &Retention,
    now_ms: i64,
) -> anyhow::Result<Swept> {
    let periods = Periods::load(db, retention).await?;
    // job_logs go with their job (ON DELETE CASCADE); the files below.
    let jobs = periods
        .run(
            db,
            Kind::Jobs,
            now_ms,
            concat!(
                "DELETE FROM jobs WHERE status IN ",
                final_statuses!(),
                " AND COALESCE(finished_at, created_at) < $1{scripts}"
            ),
            "script_id",
        )
        .await?;
    let job_logs = periods
        .run(
            db,
            Kind::JobLogs,
            now_ms,
            concat!(
                "DELETE FROM job_logs WHERE job_id IN (SELECT id FROM jobs WHERE status IN ",
                final_statuses!(),
                " AND finished_at < $1{scripts})"
            ),
            "script_id",
        )
        .await?;
    periods
        .run(
            db,
            Kind::JobLogs,
            now_ms,
            concat!(
                "UPDATE jobs SET stdout = NULL, stderr = NULL WHERE status IN ",
                final_statuses!(),
                " AND finished_at < $1 AND (stdout IS NOT NULL OR stderr IS NOT NULL){scripts}"
            ),
            "script_id",
        )
        .await?;
    let agent_events = periods
        .run(
            db,
            Kind::AgentHistory,
            now_ms,
            "DELETE FROM agent_events WHERE at < $1{scripts}",
            "(SELECT script_id FROM agents WHERE agents.id = agent_events.agent_id)",
        )
        .await?;
    let artifacts = sweep_job_dirs(db, &data_dir.join("jobs"), &periods, now_ms).await?;
    let mut audit = 0;
    if let Some(cutoff) = Retention::cutoff(retention.audit_days, now_ms) {
        // A broken chain is not pruned (nor signed over); the rest of the sweep stands.
        match crate::audit::prune::prune(db, data_dir, cutoff, now_ms).await {
            Ok(rows) => audit = rows,
            Err(e) => tracing::error!(error = format!("{e:#}"), "retention: audit log not pruned"),
        }
    }
    let swept = Swept {
        jobs,
        job_logs,
        artifacts,
        agent_events,
        audit,
    };
    record(&swept);
    Ok(swept)
}

/// Job directories whose rows are read in one query.
const DIR_CHUNK: usize = 500;

/// Walks `data/jobs/<id>/`: a dir whose job is gone is removed whole; the artifacts of a
/// job finished longer ago than its script's artifact period are removed. Returns the
/// number of artifact files removed.
async fn sweep_job_dirs(
    db: &Db,
    jobs_dir: &Path,
    periods: &Periods<'_>,
    now_ms: i64,
) -> anyhow::Result<u64> {
    let entries = match std::fs::read_dir(jobs_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let dirs: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.to_owned(), e.path())))
        .collect();
    let mut removed = 0;
    for chunk in dirs.chunks(DIR_CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, script_id, status, finished_at FROM jobs WHERE id IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for (id, _) in chunk {
            query = query.bind(id);
        }
        let rows: Vec<(String, String, String, Option<i64>)> = query.fetch_all(db).await?;
        let jobs: HashMap<String, (String, String, Option<i64>)> = rows
            .into_iter()
            .map(|(id, script, status, finished)| (id, (script, status, finished)))
            .collect();
        for (id, dir) in chunk {
            let target = match jobs.get(id) {
                None => Some(dir.clone()),
                Some((script, status, Some(finished)))
                    if crate::db::jobs::JobStatus::parse(status).is_some_and(|s| s.is_final())
                        && Retention::cutoff(periods.days(Kind::Artifacts, script), now_ms)
                            .is_some_and(|c| *finished < c) =>
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
        ("audit", swept.audit),
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
                            audit = swept.audit,
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
