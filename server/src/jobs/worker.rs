//! The worker loop: claim a job, run it in the sandbox, store the outcome, retry or
//! finish; and recovery of jobs a crashed process left running.

use super::Jobs;
use super::events::{JobEvents, store_unstored};
use super::persist::with_retries;
use super::settings::RunSettings;
use crate::audit::RunRef;
use crate::db::{self, jobs::JobRow};
use automa_runtime::{CancellationToken, RunOutcome, RunStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long a job that does not fit in the sandbox memory waits before the next try.
const MEMORY_WAIT_MS: i64 = 500;
/// The longest an idle worker sleeps: new jobs wake it sooner (this node's, or another
/// node's signal), and so does the next delayed job coming due.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// What a job's log says when this node finds it running after a restart.
pub(super) const RESTART_NOTE: &str = "the server stopped while this job was running";

pub(super) async fn work(jobs: Jobs, n: usize, shutdown: CancellationToken) {
    tracing::debug!(worker = n, "job worker started");
    while !shutdown.is_cancelled() {
        if jobs.claims_paused() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let share = i64::try_from(jobs.quotas().max_running_jobs_per_user).unwrap_or(i64::MAX);
        match db::jobs::claim(&jobs.0.db, &jobs.0.node_id, share).await {
            Ok(Some(db::jobs::Claimed { job, next_log_seq })) => {
                // Jobs queued while every worker was between claims leave one wake-up
                // (a `Notify` keeps one permit), so each claim passes it on: another
                // idle worker looks for the next job instead of napping until a poll.
                jobs.0.wake.notify_one();
                let id = job.id.clone();
                let (worker_id, started_at) = (job.worker_id.clone(), job.started_at);
                // A new claim: whatever was given up of an earlier one is not this one's.
                jobs.take_abandoned(&id);
                // Known as running here from the claim on: a Cancel of a job that is
                // `running` in the database but not here ends it (it is stuck).
                let cancel = CancellationToken::new();
                jobs.lock_running().insert(id.clone(), cancel.clone());
                if let Err(e) = execute(&jobs, job, next_log_seq, cancel).await {
                    tracing::error!(job = %id, error = format!("{e:#}"), "running a job failed");
                    let error = serde_json::json!({"kind": "InternalError", "traceback": "",
                        "message": "internal error while running the job"})
                    .to_string();
                    let claim = db::jobs::Claim {
                        worker_id: worker_id.as_deref().unwrap_or_default(),
                        started_at: started_at.unwrap_or_default(),
                    };
                    let ended = with_retries("marking a job interrupted", &id, || async {
                        db::jobs::interrupt(&jobs.0.db, &id, claim, &error)
                            .await
                            .map(drop)
                    })
                    .await;
                    if let Err(e) = ended {
                        tracing::error!(job = %id, error = %e, "the job stays running until cancelled");
                    }
                    jobs.announce_finished(&id);
                }
                jobs.lock_running().remove(&id);
                jobs.lock_live().remove(&id);
            }
            Ok(None) => {
                let nap = match jobs.0.delays.next_due(&jobs.0.db).await {
                    Ok(Some(due)) => {
                        Duration::from_millis(u64::try_from(due - db::now_ms()).unwrap_or(0).max(5))
                            .min(IDLE_POLL)
                    }
                    _ => IDLE_POLL,
                };
                tokio::select! {
                    () = jobs.0.wake.notified() => {}
                    () = tokio::time::sleep(nap) => {}
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

/// Removes a job's artifacts directory and the job's directory above it when the run
/// left them empty, as most runs do: otherwise every job would keep two inodes until
/// retention (30 days by default), which at a few hundred jobs a second runs a disk out
/// of inodes within a day. A job without the directory simply has no artifacts.
fn remove_if_empty(artifacts: &std::path::Path) {
    // `rmdir` refuses a directory that is not empty: nothing is checked beforehand.
    if std::fs::remove_dir(artifacts).is_ok()
        && let Some(job_dir) = artifacts.parent()
    {
        let _ = std::fs::remove_dir(job_dir);
    }
}

/// Ends a claimed job whose stored rows do not decode, naming the row (kind `CorruptRow`).
async fn refuse_corrupt(
    jobs: &Jobs,
    job: &JobRow,
    corrupt: &db::decode::CorruptRow,
) -> anyhow::Result<()> {
    tracing::error!(job = %job.id, error = %corrupt, "job not run");
    let error = serde_json::json!({"kind": "CorruptRow", "traceback": "",
        "message": corrupt.to_string()});
    db::jobs::interrupt(
        &jobs.0.db,
        &job.id,
        db::jobs::Claim::of(job),
        &error.to_string(),
    )
    .await?;
    jobs.announce_finished(&job.id);
    Ok(())
}

async fn execute(
    jobs: &Jobs,
    job: JobRow,
    first_seq: i64,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let inner = &jobs.0;
    let started = Instant::now();
    let source = match inner.prepared.take(&job.id) {
        Some(kept) => Some(kept),
        None => {
            db::run_source::find(
                &inner.db,
                &job.script_id,
                Some(job.script_version),
                Some(&job.owner_id),
            )
            .await?
        }
    };
    let Some(db::run_source::RunSource {
        script,
        version: Some(version),
        quotas,
    }) = source
    else {
        db::jobs::interrupt(
            &inner.db,
            &job.id,
            db::jobs::Claim::of(&job),
            "the script was deleted",
        )
        .await?;
        jobs.announce_finished(&job.id);
        return Ok(());
    };
    let settings: RunSettings = match script.run_settings() {
        Ok(settings) => settings,
        // Not the default limits: the job ends, saying which row is corrupt.
        Err(corrupt) => return refuse_corrupt(jobs, &job, &corrupt).await,
    };
    // The owner's ceilings (lowered since the job was queued, or a schedule's job), then
    // the server's sandbox memory: a job that does not fit yet goes back to the queue.
    let ceilings = crate::quotas::Ceilings::of(inner.runs.quotas(), &quotas);
    let refusal = settings.ceiling_refusal(&ceilings);
    let memory = match refusal {
        Some(refusal) => Err(refusal),
        None => match inner.runs.memory().reserve(settings.memory_mb) {
            Ok(held) => Ok(held),
            Err(crate::quotas::PoolError::Full { .. }) => {
                with_retries("putting a job back in the queue", &job.id, || {
                    db::jobs::unclaim(&inner.db, &job.id, MEMORY_WAIT_MS)
                })
                .await?;
                inner.delays.made_one();
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
            db::jobs::interrupt(
                &inner.db,
                &job.id,
                db::jobs::Claim::of(&job),
                &error.to_string(),
            )
            .await?;
            jobs.announce_finished(&job.id);
            return Ok(());
        }
    };
    let args = match job.arguments() {
        Ok(args) => args,
        Err(corrupt) => return refuse_corrupt(jobs, &job, &corrupt).await,
    };
    let limits = settings.limits(&ceilings);
    let mut inputs = match inner.runs.inputs(&script, &version, args, limits).await {
        Ok(inputs) => inputs,
        Err(problem) => {
            let error = serde_json::json!({"kind": "SetupError", "traceback": "",
                "message": problem.to_string()});
            db::jobs::interrupt(
                &inner.db,
                &job.id,
                db::jobs::Claim::of(&job),
                &error.to_string(),
            )
            .await?;
            jobs.announce_finished(&job.id);
            return Ok(());
        }
    };
    let artifacts = jobs.artifacts_dir(&job.id);
    std::fs::create_dir_all(&artifacts)?;
    inputs.artifacts_dir = Some(artifacts.clone());

    let live = broadcast::channel(1024).0;
    jobs.lock_live().insert(job.id.clone(), live.clone());
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
    remove_if_empty(&artifacts);
    events.flush();
    let (dropped, _) = events.dropped();
    if dropped > 0 {
        metrics::counter!("job_log_entries_dropped_total").increment(dropped);
    }
    if jobs.take_abandoned(&job.id) {
        // This node lost its lease: the job belongs to the queue again.
        drop(events);
        let rest = writer.await.unwrap_or_default();
        store_unstored(&inner.db, &job.id, rest).await;
        tracing::warn!(job = %job.id, "a job this node gave up ended here; its outcome is not stored");
        return Ok(());
    }
    let retry = retry_delay(&job, &settings, &outcome);
    if let Some(delay) = retry {
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
    }
    // What the run reported last is stored with the attempt's end (`finish`).
    drop(events);
    let rest = writer.await.unwrap_or_default();
    let row = finish(jobs, &job, &settings, retry, &outcome, rest).await?;
    jobs.announce_ended(&job.id, row);
    metrics::counter!("jobs_finished_total", "status" => outcome.status.as_str()).increment(1);
    metrics::histogram!("job_duration_seconds").record(started.elapsed().as_secs_f64());
    Ok(())
}

/// The pause before the next attempt, when this one failed in a way worth retrying and
/// attempts are left.
fn retry_delay(job: &JobRow, settings: &RunSettings, outcome: &RunOutcome) -> Option<i64> {
    let retryable = matches!(
        outcome.status,
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::MemoryExceeded
    );
    (retryable && job.attempt < job.max_attempts).then(|| settings.backoff_ms(job.attempt + 1))
}

/// Store the attempt's outcome, back to the queue after `retry` or final, with what
/// the run reported last (`rest`); the job's final row.
async fn finish(
    jobs: &Jobs,
    job: &JobRow,
    settings: &RunSettings,
    retry: Option<i64>,
    outcome: &RunOutcome,
    rest: db::jobs::Unstored,
) -> anyhow::Result<Option<JobRow>> {
    let error = outcome
        .error
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    if let Some(delay) = retry {
        let end = db::jobs::AttemptEnd::Retry {
            delay_ms: delay,
            error: error.as_deref(),
        };
        store_end(jobs, job, "requeueing a job", &end, rest).await?;
        jobs.0.delays.made_one();
        return Ok(None);
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
        cpu_time_ms: i64::try_from(outcome.cpu_time_ms).unwrap_or(i64::MAX),
        fuel_consumed: outcome
            .fuel_consumed
            .map(|f| i64::try_from(f).unwrap_or(i64::MAX)),
    };
    let end = db::jobs::AttemptEnd::Final(&row);
    store_end(jobs, job, "storing a job's outcome", &end, rest).await
}

/// One transaction for the attempt's end and its last log entries. Should it fail,
/// the entries are stored on their own (dropped if they cannot be, as during the run)
/// and the end is retried without them: a log the database refuses never keeps a job
/// `running`. The job's row after a final end.
async fn store_end(
    jobs: &Jobs,
    job: &JobRow,
    what: &str,
    end: &db::jobs::AttemptEnd<'_>,
    rest: db::jobs::Unstored,
) -> anyhow::Result<Option<JobRow>> {
    let db = &jobs.0.db;
    let claim = db::jobs::Claim::of(job);
    if rest.is_empty() {
        return Ok(with_retries(what, &job.id, || {
            db::jobs::end_attempt(db, &job.id, claim, end, &rest)
        })
        .await?);
    }
    match db::jobs::end_attempt(db, &job.id, claim, end, &rest).await {
        Ok(row) => Ok(row),
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "{what} with its last log entries; storing them apart");
            store_unstored(db, &job.id, rest).await;
            let nothing = db::jobs::Unstored::default();
            Ok(with_retries(what, &job.id, || {
                db::jobs::end_attempt(db, &job.id, claim, end, &nothing)
            })
            .await?)
        }
    }
}

/// Jobs left `running` by `node` (this node before a crash or kill -9, or another node
/// whose lease lapsed) are retried when they have attempts left, otherwise marked
/// `interrupted`; each step is logged on the job. Nothing stays `running` and nothing
/// runs twice at once: every write is conditional on the job still being `node`'s.
pub(crate) async fn recover_node(
    db: &db::Db,
    node: &str,
    note: &str,
) -> anyhow::Result<Vec<String>> {
    let mut recovered = Vec::new();
    for job in db::jobs::running_on(db, node).await? {
        let (message, requeue) = if job.attempt < job.max_attempts {
            (format!("{note}; it will be retried"), true)
        } else {
            (format!("{note}; no attempts left"), false)
        };
        let error = serde_json::json!({"kind": "Interrupted", "message": message, "traceback": ""})
            .to_string();
        let claim = db::jobs::Claim::of(&job);
        let done = if requeue {
            db::jobs::requeue(db, &job.id, claim, 0, Some(&error)).await?
        } else {
            db::jobs::interrupt(db, &job.id, claim, &error).await?
        };
        if !done {
            continue;
        }
        db::jobs::append_system_line(db, &job.id, message).await?;
        tracing::warn!(job = %job.id, node, requeued = requeue, "recovered an interrupted job");
        recovered.push(job.id);
    }
    Ok(recovered)
}
