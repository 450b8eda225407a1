//! Read-only aggregates for the web dashboard. `owner` limits every query to one
//! user's jobs (non-admins); `None` means all (admins).

use super::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobStamp {
    pub status: String,
    pub created_at: i64,
}

/// Status and creation time of the jobs created since `since` (newest 20 000 at most).
pub async fn jobs_since(db: &Db, owner: Option<&str>, since: i64) -> sqlx::Result<Vec<JobStamp>> {
    sqlx::query_as(
        "SELECT status, created_at FROM jobs WHERE created_at >= $1 \
         AND ($2 IS NULL OR owner_id = $2) ORDER BY created_at DESC LIMIT 20000",
    )
    .bind(since)
    .bind(owner)
    .fetch_all(db)
    .await
}

/// Jobs waiting and running now.
pub async fn active_counts(db: &Db, owner: Option<&str>) -> sqlx::Result<(i64, i64)> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') \
         AND ($1 IS NULL OR owner_id = $1) GROUP BY status",
    )
    .bind(owner)
    .fetch_all(db)
    .await?;
    let get = |s: &str| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
    Ok((get("queued"), get("running")))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobWithScript {
    pub id: String,
    pub script_id: String,
    pub script_name: String,
    pub status: String,
    pub created_at: i64,
}

/// The newest jobs, optionally only failed ones, with their script's name.
pub async fn recent_jobs(
    db: &Db,
    owner: Option<&str>,
    only_failed: bool,
    limit: i64,
) -> sqlx::Result<Vec<JobWithScript>> {
    sqlx::query_as(
        "SELECT j.id, j.script_id, s.name AS script_name, j.status, j.created_at \
         FROM jobs j JOIN scripts s ON s.id = j.script_id \
         WHERE ($1 IS NULL OR j.owner_id = $1) \
         AND ($2 = 0 OR j.status IN ('failed', 'timed_out', 'memory_exceeded', 'cpu_exceeded', \
         'interrupted')) \
         ORDER BY j.created_at DESC, j.id DESC LIMIT $3",
    )
    .bind(owner)
    .bind(i64::from(only_failed))
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upcoming {
    pub script_id: String,
    pub script_name: String,
    pub kind: String,
    pub next_run_at: i64,
}

/// Enabled schedules by next run time.
pub async fn upcoming(db: &Db, owner: Option<&str>, limit: i64) -> sqlx::Result<Vec<Upcoming>> {
    sqlx::query_as(
        "SELECT sc.script_id, s.name AS script_name, sc.kind, sc.next_run_at \
         FROM schedules sc JOIN scripts s ON s.id = sc.script_id \
         WHERE sc.enabled = 1 AND sc.next_run_at IS NOT NULL \
         AND ($1 IS NULL OR sc.owner_id = $1) ORDER BY sc.next_run_at LIMIT $2",
    )
    .bind(owner)
    .bind(limit)
    .fetch_all(db)
    .await
}
