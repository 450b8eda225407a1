//! What an owner's account status does to their automations, in the database: pausing
//! and resuming schedules and agents (flagged `paused_by_owner`, so a resume touches only
//! what a disable paused) and skipping queued jobs.

use super::{Db, now_ms};

/// Disables the owner's enabled schedules and flags them; returns their ids.
pub async fn pause_schedules(db: &Db, owner_id: &str) -> sqlx::Result<Vec<String>> {
    ids(sqlx::query_as(
        "UPDATE schedules SET enabled = 0, paused_by_owner = 1, updated_at = $2 \
         WHERE owner_id = $1 AND enabled = 1 RETURNING id",
    )
    .bind(owner_id)
    .bind(now_ms())
    .fetch_all(db)
    .await?)
}

/// Enables again the schedules a disable paused; returns their ids.
pub async fn resume_schedules(db: &Db, owner_id: &str) -> sqlx::Result<Vec<String>> {
    ids(sqlx::query_as(
        "UPDATE schedules SET enabled = 1, paused_by_owner = 0, updated_at = $2 \
         WHERE owner_id = $1 AND paused_by_owner = 1 RETURNING id",
    )
    .bind(owner_id)
    .bind(now_ms())
    .fetch_all(db)
    .await?)
}

/// Every agent of the owner, with its stop grace in seconds.
pub async fn agents_of(db: &Db, owner_id: &str) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT id, stop_grace_seconds FROM agents WHERE owner_id = $1 ORDER BY id")
        .bind(owner_id)
        .fetch_all(db)
        .await
}

/// Flags an agent as stopped by its owner's disable.
pub async fn mark_agent_paused(db: &Db, agent_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE agents SET paused_by_owner = 1 WHERE id = $1")
        .bind(agent_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Clears the flag of the owner's agents a disable stopped; returns their ids, to start.
pub async fn take_paused_agents(db: &Db, owner_id: &str) -> sqlx::Result<Vec<String>> {
    ids(sqlx::query_as(
        "UPDATE agents SET paused_by_owner = 0 WHERE owner_id = $1 AND paused_by_owner = 1 \
         RETURNING id",
    )
    .bind(owner_id)
    .fetch_all(db)
    .await?)
}

/// Ends the owner's queued jobs as `cancelled` with `reason`; returns their ids.
pub async fn skip_queued_jobs(db: &Db, owner_id: &str, reason: &str) -> sqlx::Result<Vec<String>> {
    ids(sqlx::query_as(
        "UPDATE jobs SET status = 'cancelled', cancel_requested = 1, error = $2, \
         finished_at = $3 WHERE owner_id = $1 AND status = 'queued' RETURNING id",
    )
    .bind(owner_id)
    .bind(reason)
    .bind(now_ms())
    .fetch_all(db)
    .await?)
}

/// The owner's running jobs.
pub async fn running_jobs(db: &Db, owner_id: &str) -> sqlx::Result<Vec<String>> {
    ids(
        sqlx::query_as("SELECT id FROM jobs WHERE owner_id = $1 AND status = 'running'")
            .bind(owner_id)
            .fetch_all(db)
            .await?,
    )
}

fn ids(rows: Vec<(String,)>) -> sqlx::Result<Vec<String>> {
    Ok(rows.into_iter().map(|r| r.0).collect())
}
