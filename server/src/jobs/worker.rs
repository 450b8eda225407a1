//! The worker loop: claim a job, run it in the sandbox, store the outcome, retry or
//! finish; and recovery of jobs a crashed process left running.

use super::Jobs;
use super::events::JobEvents;
use super::persist::with_retries;
use super::settings::RunSettings;
use crate::audit::RunRef;
use crate::db::{self, jobs::JobRow};
use crate::runs;
use automa_runtime::{CancellationToken, RunOutcome, RunStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long a job that does not fit in the sandbox memory waits before the next try.
const MEMORY_WAIT_MS: i64 = 500;

pub(super) async fn work(jobs: Jobs, n: usize, shutdown: CancellationToken) {
    tracing::debug!(worker = n, "job worker started");
    while !shutdown.is_cancelled() {
        let share = i64::try_from(jobs.quotas().max_running_jobs_per_user).unwrap_or(i64::MAX);
        match db::jobs::claim(&jobs.0.db, &jobs.0.node_id, share).await {
            Ok(Some(job)) => {
                let id = job.id.clone();
                // Known as running here from the claim on: a Cancel of a job that is
                // `running` in the database but not here ends it (it is stuck).
                let cancel = CancellationToken::new();
                jobs.lock_running().insert(id.clone(), cancel.clone());
                if let Err(e) = execute(&jobs, job, cancel).await {
                    tracing::error!(job = %id, error = format!("{e:#}"), "running a job failed");
                    let error = serde_json::json!({"kind": "InternalError", "traceback": "",
                        "message": "internal error while running the job"})
                    .to_string();
                    let ended = with_retries("marking a job interrupted", &id, || {
                        db::jobs::interrupt(&jobs.0.db, &id, &error)
                    })
                    .await;
                    if let Err(e) = ended {
                        tracing::error!(job = %id, error = %e, "the job stays running until cancelled");
                    }
                    let _ = jobs.0.finished.send(id.clone());
                }
                jobs.lock_running().remove(&id);
                jobs.lock_live().remove(&id);
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

async fn execute(jobs: &Jobs, job: JobRow, cancel: CancellationToken) -> anyhow::Result<()> {
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
    // The owner's ceilings (lowered since the job was queued, or a schedule's job), then
    // the server's sandbox memory: a job that does not fit yet goes back to the queue.
    let ceilings = inner.runs.ceilings(&job.owner_id).await?;
    let refusal = ceilings.refusal(settings.memory_mb, Some(settings.timeout_seconds));
    let memory = match refusal {
        Some(refusal) => Err(refusal),
        None => match inner.runs.memory().reserve(settings.memory_mb) {
            Ok(held) => Ok(held),
            Err(crate::quotas::PoolError::Full { .. }) => {
                with_retries("putting a job back in the queue", &job.id, || {
                    db::jobs::unclaim(&inner.db, &job.id, MEMORY_WAIT_MS)
                })
                .await?;
                return Ok(());
            }
            Err(never) => Err(never.to_string()),
        },
    };
    let _memory = match memory {
        Ok(held) => held,
        Err(problem) => {
            let error = serde_json::json!({"kind": "QuotaExceeded", "traceback": "",
                "message": problem});
            db::jobs::interrupt(&inner.db, &job.id, &error.to_string()).await?;
            let _ = inner.finished.send(job.id);
            return Ok(());
        }
    };
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

    let live = broadcast::channel(1024).0;
    jobs.lock_live().insert(job.id.clone(), live.clone());
    let first_seq = db::jobs::next_log_seq(&inner.db, &job.id).await?;
    let (events, writer) = JobEvents::start(
        inner.db.clone(),
        job.id.clone(),
        first_seq,
        live,
        inputs.redaction(),
        inner.runs.quotas().job_log_budget(),
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
    let outcome = inner
        .runtime
        .run(inner.runs.request(inputs, ports, cancel))
        .await;
    events.flush();
    let (dropped, _) = events.dropped();
    if dropped > 0 {
        metrics::counter!("job_log_entries_dropped_total").increment(dropped);
    }
    let finished = finish(jobs, &job, &settings, &events, &outcome).await;
    drop(events);
    let _ = writer.await;
    finished?;
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
        with_retries("requeueing a job", &job.id, || {
            db::jobs::requeue(db, &job.id, delay, error.as_deref())
        })
        .await?;
        return Ok(());
    }
    let result = outcome.result.as_ref().map(serde_json::Value::to_string);
    super::notify::after_final(jobs, job, settings, outcome);
    let row = db::jobs::Finish {
        status: outcome.status.as_str(),
        result: result.as_deref(),
        error: error.as_deref(),
        stdout: &outcome.stdout,
        stderr: &outcome.stderr,
        duration_ms: i64::try_from(outcome.duration_ms).unwrap_or(i64::MAX),
        peak_memory_bytes: i64::try_from(outcome.peak_memory_bytes).unwrap_or(i64::MAX),
        host_calls: i64::from(outcome.host_calls),
    };
    with_retries("storing a job's outcome", &job.id, || {
        db::jobs::finish(db, &job.id, &row)
    })
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
