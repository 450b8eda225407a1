//! Schedules live in the database; a loop in each server process fires the due ones.
//! Firing is a compare-and-set on `next_run_at`, so with several processes each due
//! run starts exactly once.

mod cron_syntax;
pub mod spec;
#[cfg(test)]
mod spec_conformance;

use crate::db::{self, Db, now_ms, schedules::ScheduleRow};
use crate::jobs::Jobs;
use automa_runtime::CancellationToken;
use spec::Spec;
use std::time::Duration;

/// A run due more than this long ago was missed (the server was down): the
/// schedule's catch-up policy decides.
const MISSED_AFTER_MS: i64 = 60_000;

/// Runs until `shutdown`, checking for due schedules twice a second.
pub fn start(db: Db, jobs: Jobs, shutdown: CancellationToken) {
    tokio::spawn(async move {
        while !shutdown.is_cancelled() {
            if let Err(e) = tick(&db, &jobs).await {
                tracing::warn!(error = format!("{e:#}"), "scheduler");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
                () = shutdown.cancelled() => {}
            }
        }
    });
}

async fn tick(db: &Db, jobs: &Jobs) -> anyhow::Result<()> {
    let now = now_ms();
    for schedule in db::schedules::due(db, now).await? {
        // One schedule's failure (a corrupt script row) does not hold up the others.
        if let Err(e) = fire(db, jobs, &schedule, now).await {
            tracing::warn!(schedule = %schedule.id, error = format!("{e:#}"), "schedule not fired");
        }
    }
    Ok(())
}

async fn fire(db: &Db, jobs: &Jobs, schedule: &ScheduleRow, now: i64) -> anyhow::Result<()> {
    let Some(due) = schedule.next_run_at else {
        return Ok(());
    };
    let spec = match spec_of(schedule) {
        Ok(spec) => spec,
        Err(problem) => {
            tracing::warn!(schedule = %schedule.id, %problem, "disabling an invalid schedule");
            db::schedules::advance(db, &schedule.id, due, None, None).await?;
            return Ok(());
        }
    };
    let next = spec.next_after(now.max(due));
    // Claim this firing; another process that read the same row loses here.
    let missed = now - due > MISSED_AFTER_MS;
    let run = !missed || schedule.catch_up == "run_once";
    let busy = run && schedule.overlap == "skip" && previous_still_running(db, schedule).await?;
    let job_id = if run && !busy {
        Some(crate::db::new_id())
    } else {
        None
    };
    if !db::schedules::advance(db, &schedule.id, due, next, job_id.as_deref()).await? {
        return Ok(());
    }
    let Some(job_id) = job_id else {
        tracing::info!(schedule = %schedule.id, missed, busy, "schedule skipped a run");
        return Ok(());
    };
    let Some(script) = db::scripts::find(db, &schedule.script_id).await? else {
        return Ok(());
    };
    // A corrupt settings column loses this firing with an error naming the script row,
    // rather than queueing a job with default limits.
    let settings = script.run_settings()?;
    jobs.enqueue_with_id(
        &job_id,
        &db::jobs::NewJob {
            script_id: &script.id,
            script_version: script.current_version,
            owner_id: &script.owner_id,
            trigger: "schedule",
            args: &schedule.args,
            max_attempts: i64::from(settings.retries) + 1,
        },
    )
    .await?;
    Ok(())
}

async fn previous_still_running(db: &Db, schedule: &ScheduleRow) -> anyhow::Result<bool> {
    let Some(last) = &schedule.last_job_id else {
        return Ok(false);
    };
    Ok(db::jobs::find(db, last)
        .await?
        .is_some_and(|job| job.job_status().is_ok_and(|s| !s.is_final())))
}

/// The timing of a stored schedule.
pub fn spec_of(row: &ScheduleRow) -> Result<Spec, String> {
    Spec::parse(
        &row.kind,
        row.at,
        row.every_seconds,
        row.cron.as_deref(),
        &row.timezone,
        row.created_at,
    )
}
