//! Schedule repository.

use super::{Db, new_id, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: String,
    pub script_id: String,
    pub owner_id: String,
    pub kind: String,
    pub at: Option<i64>,
    pub every_seconds: Option<i64>,
    pub cron: Option<String>,
    pub timezone: String,
    pub args: String,
    pub enabled: i64,
    pub overlap: String,
    pub catch_up: String,
    pub next_run_at: Option<i64>,
    pub last_run_at: Option<i64>,
    pub last_job_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ScheduleRow {
    /// The arguments each run gets (`args`).
    pub fn arguments(&self) -> Result<serde_json::Value, super::decode::CorruptRow> {
        super::decode::json("schedules", &self.id, "args", &self.args)
    }
}

macro_rules! cols {
    () => {
        "id, script_id, owner_id, kind, at, every_seconds, cron, timezone, args, enabled, \
         overlap, catch_up, next_run_at, last_run_at, last_job_id, created_at, updated_at"
    };
}

/// The fields a user sets.
pub struct ScheduleFields<'a> {
    pub script_id: &'a str,
    pub kind: &'a str,
    pub at: Option<i64>,
    pub every_seconds: Option<i64>,
    pub cron: Option<&'a str>,
    pub timezone: &'a str,
    pub args: &'a str,
    pub enabled: bool,
    pub overlap: &'a str,
    pub catch_up: &'a str,
}

/// A new id and creation time, so the caller can compute the first run from them.
pub fn new_identity() -> (String, i64) {
    (new_id(), now_ms())
}

pub async fn insert(
    db: &Db,
    (id, created_at): (&str, i64),
    owner_id: &str,
    f: &ScheduleFields<'_>,
    next_run_at: Option<i64>,
) -> sqlx::Result<ScheduleRow> {
    sqlx::query_as(concat!(
        "INSERT INTO schedules (id, script_id, owner_id, kind, at, every_seconds, cron, timezone, \
         args, enabled, overlap, catch_up, next_run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(f.script_id)
    .bind(owner_id)
    .bind(f.kind)
    .bind(f.at)
    .bind(f.every_seconds)
    .bind(f.cron)
    .bind(f.timezone)
    .bind(f.args)
    .bind(i64::from(f.enabled))
    .bind(f.overlap)
    .bind(f.catch_up)
    .bind(next_run_at)
    .bind(created_at)
    .fetch_one(db)
    .await
}

pub async fn update(
    db: &Db,
    id: &str,
    f: &ScheduleFields<'_>,
    next_run_at: Option<i64>,
) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as(concat!(
        "UPDATE schedules SET kind = $2, at = $3, every_seconds = $4, cron = $5, timezone = $6, \
         args = $7, enabled = $8, overlap = $9, catch_up = $10, next_run_at = $11, updated_at = $12 \
         WHERE id = $1 RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(f.kind)
    .bind(f.at)
    .bind(f.every_seconds)
    .bind(f.cron)
    .bind(f.timezone)
    .bind(f.args)
    .bind(i64::from(f.enabled))
    .bind(f.overlap)
    .bind(f.catch_up)
    .bind(next_run_at)
    .bind(now_ms())
    .fetch_optional(db)
    .await
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM schedules WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list(
    db: &Db,
    owner: Option<&str>,
    script_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ScheduleRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM schedules WHERE ($1 IS NULL OR owner_id = $1) AND ($2 IS NULL OR script_id = $2) \
         AND ($3 IS NULL OR id > $3) ORDER BY id LIMIT $4"
    ))
    .bind(owner)
    .bind(script_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM schedules WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Enabled schedules whose next run is due.
pub async fn due(db: &Db, now: i64) -> sqlx::Result<Vec<ScheduleRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= $1 \
         ORDER BY next_run_at LIMIT 100"
    ))
    .bind(now)
    .fetch_all(db)
    .await
}

/// Move the schedule from the firing due at `due` to `next` (compare-and-set):
/// true for the one caller that wins.
pub async fn advance(
    db: &Db,
    id: &str,
    due: i64,
    next: Option<i64>,
    job_id: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE schedules SET next_run_at = $3, last_run_at = $4, \
         last_job_id = COALESCE($5, last_job_id) WHERE id = $1 AND next_run_at = $2",
    )
    .bind(id)
    .bind(due)
    .bind(next)
    .bind(now_ms())
    .bind(job_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
