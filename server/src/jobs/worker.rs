//! The worker loop: claim a job, run it in the sandbox, store the outcome, retry or
//! finish; and recovery of jobs a crashed process left running.

use super::Jobs;
use super::events::JobEvents;
use super::settings::RunSettings;
use crate::audit::RunRef;
use crate::db::{self, jobs::JobRow};
use crate::runs;
use automa_runtime::{CancellationToken, RunOutcome, RunStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

pub(super) async fn work(jobs: Jobs, n: usize, shutdown: CancellationToken) {
    tracing::debug!(worker = n, "job worker started");
    while !shutdown.is_cancelled() {
        match db::jobs::claim(&jobs.0.db, &jobs.0.node_id).await {
            Ok(Some(job)) => {
                let id = job.id.clone();
                if let Err(e) = execute(&jobs, job).await {
                    tracing::error!(job = %id, error = format!("{e:#}"), "running a job failed");
                    let _ = db::jobs::interrupt(
                        &jobs.0.db,
                        &id,
                        "internal error while running the job",
                    )
                    .await;
                    let _ = jobs.0.finished.send(id);
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = jobs.0.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    () = shutdown.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming a job");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn execute(jobs: &Jobs, job: JobRow) -> anyhow::Result<()> {
    let inner = &jobs.0;
    let started = Instant::now();
    let script = db::scripts::find(&inner.db, &job.script_id).await?;
    let version = db::scripts::version(&inner.db, &job.script_id, job.script_version).await?;
    let (Some(script), Some(version)) = (script, version) else {
        db::jobs::interrupt(&inner.db, &job.id, "the script was deleted").await?;
        let _ = inner.finished.send(job.id);
        return Ok(());
    };
    let settings: RunSettings = serde_json::from_str(&script.settings).unwrap_or_default();
    let args: serde_json::Value = serde_json::from_str(&job.args).unwrap_or_default();
    let limits = runs::limits(
        settings.memory_mb,
        Duration::from_secs(settings.timeout_seconds),
    );
    let mut inputs = match inner.runs.inputs(&script, &version, args, limits).await {
        Ok(inputs) => inputs,
        Err(problem) => {
            let error = serde_json::json!({"kind": "SetupError", "traceback": "",
                "message": problem.to_string()});
            db::jobs::interrupt(&inner.db, &job.id, &error.to_string()).await?;
            let _ = inner.finished.send(job.id);
            return Ok(());
        }
    };
    let artifacts = jobs.artifacts_dir(&job.id);
    std::fs::create_dir_all(&artifacts)?;
    inputs.artifacts_dir = Some(artifacts);

    let cancel = CancellationToken::new();
    jobs.lock_running().insert(job.id.clone(), cancel.clone());
    let live = broadcast::channel(1024).0;
    jobs.lock_live().insert(job.id.clone(), live.clone());
    let first_seq = db::jobs::next_log_seq(&inner.db, &job.id).await?;
    let (events, writer) = JobEvents::start(
        inner.db.clone(),
        job.id.clone(),
        first_seq,
        live,
        inputs.redaction(),
    );
    let events = Arc::new(events);
    if job.attempt > 1 {
        events.push(
            "system",
            None,
            format!("attempt {} of {}", job.attempt, job.max_attempts),
            None,
        );
    }
    let ports = inner
        .runs
        .ports(&script.id, RunRef::Job(job.id.clone()), events.clone());
    let outcome = inner.runtime.run(inputs.into_request(ports, cancel)).await;
    events.flush();
    finish(jobs, &job, &settings, &events, &outcome).await?;
    drop(events);
    jobs.lock_running().remove(&job.id);
    jobs.lock_live().remove(&job.id);
    let _ = writer.await;
    let _ = inner.finished.send(job.id.clone());
    metrics::counter!("jobs_finished_total", "status" => outcome.status.as_str()).increment(1);
    metrics::histogram!("job_duration_seconds").record(started.elapsed().as_secs_f64());
    Ok(())
}

async fn finish(
    jobs: &Jobs,
    job: &JobRow,
    settings: &RunSettings,
    events: &JobEvents,
    outcome: &RunOutcome,
) -> anyhow::Result<()> {
    let db = &jobs.0.db;
    let error = outcome
        .error
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let retryable = matches!(
        outcome.status,
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::MemoryExceeded
    );
    if retryable && job.attempt < job.max_attempts {
        let delay = settings.backoff_ms(job.attempt + 1);
        events.push(
            "system",
            None,
            format!(
                "attempt {} ended {}; retrying in {:.1}s",
                job.attempt,
                outcome.status.as_str(),
                delay as f64 / 1000.0
            ),
            None,
        );
        db::jobs::requeue(db, &job.id, delay, error.as_deref()).await?;
        return Ok(());
    }
    let result = outcome.result.as_ref().map(serde_json::Value::to_string);
    super::notify::after_final(jobs, job, settings, outcome);
    db::jobs::finish(
        db,
        &job.id,
        &db::jobs::Finish {
            status: outcome.status.as_str(),
            result: result.as_deref(),
            error: error.as_deref(),
            stdout: &outcome.stdout,
            stderr: &outcome.stderr,
            duration_ms: i64::try_from(outcome.duration_ms).unwrap_or(i64::MAX),
            peak_memory_bytes: i64::try_from(outcome.peak_memory_bytes).unwrap_or(i64::MAX),
            host_calls: i64::from(outcome.host_calls),
        },
    )
    .await?;
    Ok(())
}

/// Jobs left `running` by a previous run of this node (it crashed or was killed) are
/// retried when they have attempts left, otherwise marked `interrupted`. Nothing stays
/// `running` and nothing runs twice at once.
pub(super) async fn recover(jobs: &Jobs) -> anyhow::Result<()> {
    let db = &jobs.0.db;
    for job in db::jobs::running_on(db, &jobs.0.node_id).await? {
        let first_seq = db::jobs::next_log_seq(db, &job.id).await?;
        let note = "the server stopped while this job was running";
        let (message, requeue) = if job.attempt < job.max_attempts {
            (format!("{note}; it will be retried"), true)
        } else {
            (format!("{note}; no attempts left"), false)
        };
        db::jobs::append_logs(
            db,
            &job.id,
            &[db::jobs::LogRow {
                seq: first_seq,
                at: db::now_ms(),
                stream: "system".into(),
                level: None,
                message: message.clone(),
            }],
        )
        .await?;
        let error = serde_json::json!({"kind": "Interrupted", "message": message, "traceback": ""})
            .to_string();
        if requeue {
            db::jobs::requeue(db, &job.id, 0, Some(&error)).await?;
        } else {
            db::jobs::interrupt(db, &job.id, &error).await?;
        }
        tracing::warn!(job = %job.id, requeued = requeue, "recovered an interrupted job");
    }
    Ok(())
}
