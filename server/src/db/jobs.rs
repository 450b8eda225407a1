//! Job repository: the DB-backed queue (atomic claim), outcomes and logs.

use super::{Db, new_id, now_ms};

/// Where a statement runs: the pool, or a connection inside a transaction.
pub trait Executor<'e>: sqlx::Executor<'e, Database = sqlx::Any> {}
impl<'e, E: sqlx::Executor<'e, Database = sqlx::Any>> Executor<'e> for E {}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub script_id: String,
    pub script_version: i64,
    pub owner_id: String,
    pub trigger_kind: String,
    pub args: String,
    pub status: String,
    pub attempt: i64,
    pub max_attempts: i64,
    pub run_after: i64,
    pub worker_id: Option<String>,
    pub cancel_requested: i64,
    pub result: Option<String>,
    pub error: Option<String>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub progress: Option<f64>,
    pub progress_message: Option<String>,
    pub duration_ms: Option<i64>,
    pub peak_memory_bytes: Option<i64>,
    pub host_calls: Option<i64>,
    pub cpu_time_ms: Option<i64>,
    pub fuel_consumed: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl JobRow {
    /// The job's status; a spelling no version wrote is an error naming the row.
    pub fn job_status(&self) -> Result<JobStatus, super::decode::CorruptRow> {
        super::decode::word("jobs", &self.id, "status", &self.status, JobStatus::parse)
    }

    /// The arguments the job was submitted with (`args`).
    pub fn arguments(&self) -> Result<serde_json::Value, super::decode::CorruptRow> {
        super::decode::json("jobs", &self.id, "args", &self.args)
    }

    /// What the job's `main` returned (`result`), once it succeeded; stored text that
    /// is not JSON is an error naming the row (never shown as no result).
    pub fn returned(&self) -> Result<Option<serde_json::Value>, super::decode::CorruptRow> {
        self.result
            .as_deref()
            .map(|r| super::decode::json("jobs", &self.id, "result", r))
            .transpose()
    }

    /// How the job failed (`kind`, `message`, `traceback`); an error stored as plain
    /// text is the message of an `Error`.
    pub fn failure(&self) -> Option<serde_json::Value> {
        self.error.as_deref().map(|e| {
            serde_json::from_str(e).unwrap_or_else(
                |_| serde_json::json!({"kind": "Error", "message": e, "traceback": ""}),
            )
        })
    }

    /// The CPU seconds the run used as its budget (`cpu_seconds`) counts them: its fuel
    /// when the runtime counted fuel, else its measured CPU time.
    pub fn cpu_seconds(&self) -> Option<f64> {
        match self.fuel_consumed {
            Some(fuel) => Some(automa_runtime::fuel_to_cpu_seconds(
                u64::try_from(fuel).unwrap_or_default(),
            )),
            None => self.cpu_time_ms.map(|ms| ms as f64 / 1000.0),
        }
    }
}

macro_rules! cols {
    () => {
        "id, script_id, script_version, owner_id, trigger_kind, args, status, attempt, \
         max_attempts, run_after, worker_id, cancel_requested, result, error, stdout, stderr, \
         progress, progress_message, duration_ms, peak_memory_bytes, host_calls, cpu_time_ms, \
         fuel_consumed, created_at, \
         started_at, finished_at"
    };
}

pub use super::job_status::JobStatus;

/// Statuses after which a job never runs again, as stored (`JobStatus::is_final`).
pub const FINAL_STATUSES: [&str; 7] = [
    "succeeded",
    "failed",
    "timed_out",
    "memory_exceeded",
    "cpu_exceeded",
    "cancelled",
    "interrupted",
];

pub struct NewJob<'a> {
    pub script_id: &'a str,
    pub script_version: i64,
    pub owner_id: &'a str,
    pub trigger: &'a str,
    pub args: &'a str,
    pub max_attempts: i64,
}

pub async fn insert(db: &Db, job: &NewJob<'_>) -> sqlx::Result<JobRow> {
    insert_with_id(db, &new_id(), job).await
}

/// Insert with a chosen id (the scheduler records it before queueing).
pub async fn insert_with_id(db: &Db, id: &str, job: &NewJob<'_>) -> sqlx::Result<JobRow> {
    let now = now_ms();
    sqlx::query_as(concat!(
        "INSERT INTO jobs (id, script_id, script_version, owner_id, trigger_kind, args, status, \
         attempt, max_attempts, run_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', 1, $7, $8, $8) RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(job.script_id)
    .bind(job.script_version)
    .bind(job.owner_id)
    .bind(job.trigger)
    .bind(job.args)
    .bind(job.max_attempts)
    .bind(now)
    .fetch_one(db)
    .await
}

/// The conditions under which a queued job may start now: due, not cancelled, its
/// owner enabled, its script under its concurrency limit, its owner under their share
/// of running jobs (`user_quotas`, or `$3`): one user cannot hold every worker.
macro_rules! runnable {
    () => {
        "j.status = 'queued' AND j.run_after <= $2 AND j.cancel_requested = 0 \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = j.owner_id AND u.disabled = 1) \
         AND (SELECT COUNT(*) FROM jobs r WHERE r.script_id = j.script_id AND r.status = 'running') \
         < s.max_concurrency \
         AND (SELECT COUNT(*) FROM jobs o WHERE o.owner_id = j.owner_id AND o.status = 'running') \
         < COALESCE((SELECT q.running_jobs FROM user_quotas q WHERE q.user_id = j.owner_id), $3)"
    };
}

/// A claimed job and where its log continues (a retried or recovered job has entries).
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    #[sqlx(flatten)]
    pub job: JobRow,
    pub next_log_seq: i64,
}

/// What a claim returns besides the job's columns: its next log position, read by the
/// claim itself instead of a query of its own.
macro_rules! claimed_cols {
    () => {
        concat!(
            cols!(),
            ", (SELECT COALESCE(MAX(l.seq), 0) + 1 FROM job_logs l WHERE l.job_id = jobs.id) \
             AS next_log_seq"
        )
    };
}

/// Claim the oldest runnable job for `worker_id`. SQLite has one writer at a time, so
/// one `UPDATE … WHERE id = (SELECT …) AND status = 'queued'` is atomic; PostgreSQL
/// runs several claimers at once and takes [`claim_postgres`]'s path.
pub async fn claim(
    db: &Db,
    worker_id: &str,
    max_running_per_user: i64,
) -> sqlx::Result<Option<Claimed>> {
    if super::is_postgres(db) {
        return claim_postgres(db, worker_id, max_running_per_user).await;
    }
    let now = now_ms();
    sqlx::query_as(concat!(
        "UPDATE jobs SET status = 'running', worker_id = $1, started_at = $2, progress = NULL, \
         progress_message = NULL WHERE id = (SELECT j.id FROM jobs j JOIN scripts s ON s.id = j.script_id \
         WHERE ",
        runnable!(),
        " ORDER BY j.run_after, j.created_at LIMIT 1) AND status = 'queued' RETURNING ",
        claimed_cols!()
    ))
    .bind(worker_id)
    .bind(now)
    .bind(max_running_per_user)
    .fetch_optional(db)
    .await
}

/// How often a PostgreSQL claim starts over when a concurrent claimer filled the
/// script's or owner's room first.
const CLAIM_ROUNDS: usize = 4;

/// PostgreSQL under READ COMMITTED: the candidate row is locked with `SKIP LOCKED` (so
/// claimers never queue on one row), then claimers of the same owner and script are
/// serialised by transaction-scoped advisory locks (owner first, then script: one
/// order, no deadlock) and the limits are counted again, now seeing every claim
/// committed before the lock was granted. Two nodes can never both fill the last slot.
async fn claim_postgres(
    db: &Db,
    worker_id: &str,
    max_running_per_user: i64,
) -> sqlx::Result<Option<Claimed>> {
    for _ in 0..CLAIM_ROUNDS {
        let now = now_ms();
        let mut tx = db.begin().await?;
        let candidate: Option<(String, String, String)> = sqlx::query_as(concat!(
            "SELECT j.id, j.script_id, j.owner_id FROM jobs j JOIN scripts s ON s.id = j.script_id \
             WHERE $1 <> '' AND ",
            runnable!(),
            " ORDER BY j.run_after, j.created_at LIMIT 1 FOR UPDATE OF j SKIP LOCKED"
        ))
        .bind(worker_id)
        .bind(now)
        .bind(max_running_per_user)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, script_id, owner_id)) = candidate else {
            tx.rollback().await?;
            return Ok(None);
        };
        for key in [format!("owner:{owner_id}"), format!("script:{script_id}")] {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)::text")
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        }
        // Read after the locks: a claim that waited for another node's finish to commit
        // starts after it, not at the time it began to wait.
        let now = now_ms();
        let claimed: Option<Claimed> = sqlx::query_as(concat!(
            "UPDATE jobs SET status = 'running', worker_id = $1, started_at = $2, progress = NULL, \
             progress_message = NULL WHERE id = $4 AND status = 'queued' AND id IN \
             (SELECT j.id FROM jobs j JOIN scripts s ON s.id = j.script_id WHERE j.id = $4 AND ",
            runnable!(),
            ") RETURNING ",
            claimed_cols!()
        ))
        .bind(worker_id)
        .bind(now)
        .bind(max_running_per_user)
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        if claimed.is_some() {
            return Ok(claimed);
        }
    }
    Ok(None)
}

/// When the next queued job not yet due (a retry's backoff, a job waiting for memory)
/// comes due.
pub async fn next_due(db: &Db) -> sqlx::Result<Option<i64>> {
    let (due,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(run_after) FROM jobs WHERE status = 'queued' AND run_after > $1",
    )
    .bind(now_ms())
    .fetch_one(db)
    .await?;
    Ok(due)
}

/// Give a claimed job back to the queue, untouched, to be claimed after `delay_ms`
/// (it did not fit in the server's sandbox memory yet).
pub async fn unclaim(db: &Db, id: &str, delay_ms: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'queued', worker_id = NULL, started_at = NULL, run_after = $2 \
         WHERE id = $1 AND status = 'running'",
    )
    .bind(id)
    .bind(now_ms() + delay_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// Which claim a write is for: the node that claimed and when. A write for a claim
/// that is over (the job was recovered, and maybe claimed again, even by the same
/// node) changes nothing.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub worker_id: &'a str,
    pub started_at: i64,
}

impl<'a> Claim<'a> {
    pub fn of(job: &'a JobRow) -> Self {
        Self {
            worker_id: job.worker_id.as_deref().unwrap_or_default(),
            started_at: job.started_at.unwrap_or_default(),
        }
    }
}

/// What a finished attempt produced.
pub struct Finish<'a> {
    pub status: &'a str,
    pub result: Option<&'a str>,
    pub error: Option<&'a str>,
    pub stdout: &'a str,
    pub stderr: &'a str,
    pub duration_ms: i64,
    pub peak_memory_bytes: i64,
    pub host_calls: i64,
    pub cpu_time_ms: i64,
    pub fuel_consumed: Option<i64>,
}

/// Store the final outcome of `worker_id`'s attempt. A node that lost its lease (its
/// jobs were recovered elsewhere) no longer holds the job, and its write does nothing.
/// The row as stored, when the write took: whoever waits for the job needs not read it.
pub async fn finish<'e>(
    db: impl Executor<'e>,
    id: &str,
    claim: Claim<'_>,
    f: &Finish<'_>,
) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(concat!(
        "UPDATE jobs SET status = $2, result = $3, error = $4, stdout = $5, stderr = $6, \
         duration_ms = $7, peak_memory_bytes = $8, host_calls = $9, finished_at = $10, \
         cpu_time_ms = $12, fuel_consumed = $13 \
         WHERE id = $1 AND status = 'running' AND worker_id = $11 AND started_at = $14 \
         RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(f.status)
    .bind(f.result)
    .bind(f.error)
    .bind(f.stdout)
    .bind(f.stderr)
    .bind(f.duration_ms)
    .bind(f.peak_memory_bytes)
    .bind(f.host_calls)
    .bind(now_ms())
    .bind(claim.worker_id)
    .bind(f.cpu_time_ms)
    .bind(f.fuel_consumed)
    .bind(claim.started_at)
    .fetch_optional(db)
    .await
}

/// How an attempt ends: its final outcome, or back to the queue for another try after
/// `delay_ms` (`error`: why this one failed).
pub enum AttemptEnd<'a> {
    Final(&'a Finish<'a>),
    Retry {
        delay_ms: i64,
        error: Option<&'a str>,
    },
}

/// What a run reported that is not stored yet when it ends: log entries and its last
/// progress.
#[derive(Debug, Default)]
pub struct Unstored {
    pub logs: Vec<LogRow>,
    pub progress: Option<(f64, Option<String>)>,
}

impl Unstored {
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty() && self.progress.is_none()
    }
}

/// Store the end of `claim`'s attempt together with what it reported last, in one
/// transaction: a reader that sees the attempt ended reads its whole log. Nothing left
/// to store: the end is one statement, no transaction. The job's row after a final end.
pub async fn end_attempt(
    db: &Db,
    id: &str,
    claim: Claim<'_>,
    end: &AttemptEnd<'_>,
    rest: &Unstored,
) -> sqlx::Result<Option<JobRow>> {
    if rest.is_empty() {
        return end_in(db, id, claim, end).await;
    }
    let mut tx = super::begin_write(db).await?;
    insert_logs(&mut tx, id, &rest.logs).await?;
    if let Some((fraction, message)) = &rest.progress {
        set_progress(&mut *tx, id, *fraction, message.as_deref()).await?;
    }
    let ended = end_in(&mut *tx, id, claim, end).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The job's row after a final end (`None` after a retry, or when the claim was lost).
async fn end_in<'e>(
    db: impl Executor<'e>,
    id: &str,
    claim: Claim<'_>,
    end: &AttemptEnd<'_>,
) -> sqlx::Result<Option<JobRow>> {
    match end {
        AttemptEnd::Final(outcome) => finish(db, id, claim, outcome).await,
        AttemptEnd::Retry { delay_ms, error } => requeue(db, id, claim, *delay_ms, *error)
            .await
            .map(|_| None),
    }
}

/// Put `worker_id`'s failed (or interrupted) attempt back in the queue for another try
/// after `delay_ms`. Returns whether it did: of two nodes recovering the same job, one.
pub async fn requeue<'e>(
    db: impl Executor<'e>,
    id: &str,
    claim: Claim<'_>,
    delay_ms: i64,
    error: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', attempt = attempt + 1, run_after = $2, \
         worker_id = NULL, error = $3 WHERE id = $1 AND status = 'running' AND worker_id = $4 \
         AND started_at = $5",
    )
    .bind(id)
    .bind(now_ms() + delay_ms)
    .bind(error)
    .bind(claim.worker_id)
    .bind(claim.started_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_progress<'e>(
    db: impl Executor<'e>,
    id: &str,
    fraction: f64,
    message: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE jobs SET progress = $2, progress_message = $3 WHERE id = $1")
        .bind(id)
        .bind(fraction)
        .bind(message)
        .execute(db)
        .await?;
    Ok(())
}

/// Ask for cancellation. A queued job is cancelled at once; a running one is flagged
/// for its worker. Returns the job's status afterwards.
pub async fn request_cancel(db: &Db, id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = $2 \
         WHERE id = $1 AND status = 'queued'",
    )
    .bind(id)
    .bind(now_ms())
    .execute(db)
    .await?;
    sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND status = 'running'")
        .bind(id)
        .execute(db)
        .await?;
    let status: Option<(String,)> = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(status.map(|s| s.0))
}

/// End a job left `running` on `worker_id` that no worker there runs any more (its
/// final update failed): it becomes `cancelled`. Returns whether it was.
pub async fn cancel_stuck(db: &Db, id: &str, worker_id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = $3, \
         error = COALESCE(error, $4) WHERE id = $1 AND status = 'running' AND worker_id = $2",
    )
    .bind(id)
    .bind(worker_id)
    .bind(now_ms())
    .bind(
        r#"{"kind":"Cancelled","message":"cancelled; no worker was running the job","traceback":""}"#,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Jobs this worker node left running when it stopped (a crash or kill -9).
pub async fn running_on(db: &Db, worker_id: &str) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM jobs WHERE status = 'running' AND worker_id = $1"
    ))
    .bind(worker_id)
    .fetch_all(db)
    .await
}

/// Give a claimed job back to the queue as it was, its attempt not counted (the node
/// shut down cleanly while it ran). Returns whether it did.
pub async fn hand_back(db: &Db, id: &str, claim: Claim<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', worker_id = NULL, started_at = NULL, run_after = $2 \
         WHERE id = $1 AND status = 'running' AND worker_id = $3 AND started_at = $4",
    )
    .bind(id)
    .bind(now_ms())
    .bind(claim.worker_id)
    .bind(claim.started_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Mark `worker_id`'s running job interrupted for good; returns whether it did.
pub async fn interrupt(db: &Db, id: &str, claim: Claim<'_>, error: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'interrupted', error = $2, finished_at = $3 \
         WHERE id = $1 AND status = 'running' AND worker_id = $4 AND started_at = $5",
    )
    .bind(id)
    .bind(error)
    .bind(now_ms())
    .bind(claim.worker_id)
    .bind(claim.started_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Running jobs of `worker_id` whose cancellation was asked (on any node).
pub async fn cancel_requested_on(db: &Db, worker_id: &str) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM jobs WHERE status = 'running' AND worker_id = $1 AND cancel_requested = 1",
    )
    .bind(worker_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Newest first; every filter optional; `before` is the previous page's last id.
pub struct JobFilter<'a> {
    pub owner: Option<&'a str>,
    pub script_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub since: Option<i64>,
    pub before: Option<&'a str>,
}

pub async fn list(db: &Db, f: &JobFilter<'_>, limit: i64) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM jobs WHERE ($1 IS NULL OR owner_id = $1) AND ($2 IS NULL OR script_id = $2) \
         AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR created_at >= $4) \
         AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
    ))
    .bind(f.owner)
    .bind(f.script_id)
    .bind(f.status)
    .bind(f.since)
    .bind(f.before)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub seq: i64,
    pub at: i64,
    pub stream: String,
    pub level: Option<String>,
    pub message: String,
    /// The entry's structured fields as JSON text (rows from before migration 0016
    /// carry them in `message`, after a NUL).
    pub fields: Option<String>,
}

pub async fn append_logs(db: &Db, job_id: &str, rows: &[LogRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = super::begin_write(db).await?;
    insert_logs(&mut tx, job_id, rows).await?;
    tx.commit().await
}

/// Log entries one `INSERT` writes at most (6 parameters each; well under both
/// databases' limit on parameters, and few distinct statements to prepare).
const LOG_ROWS_PER_INSERT: usize = 32;

/// Insert `rows` on `conn` (inside the caller's transaction), several per statement.
async fn insert_logs(
    conn: &mut sqlx::AnyConnection,
    job_id: &str,
    rows: &[LogRow],
) -> sqlx::Result<()> {
    for chunk in rows.chunks(LOG_ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO job_logs (job_id, seq, at, stream, level, message, fields) VALUES ",
        );
        for n in 0..chunk.len() {
            let p = n * 7;
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7
            ));
        }
        // Only placeholders are formatted into the text; every value is bound.
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            insert = insert
                .bind(job_id)
                .bind(row.seq)
                .bind(row.at)
                .bind(&row.stream)
                .bind(&row.level)
                .bind(&row.message)
                .bind(&row.fields);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn logs(db: &Db, job_id: &str) -> sqlx::Result<Vec<LogRow>> {
    sqlx::query_as(
        "SELECT seq, at, stream, level, message, fields FROM job_logs WHERE job_id = $1 \
         ORDER BY seq",
    )
    .bind(job_id)
    .fetch_all(db)
    .await
}

/// At most `limit` log entries after `after_seq`, oldest first (a live stream's next
/// page: it never re-reads what it has sent).
pub async fn logs_after(
    db: &Db,
    job_id: &str,
    after_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<LogRow>> {
    sqlx::query_as(
        "SELECT seq, at, stream, level, message, fields FROM job_logs WHERE job_id = $1 \
         AND seq > $2 \
         ORDER BY seq LIMIT $3",
    )
    .bind(job_id)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Append one `system` line after the job's last log entry (a step of its recovery).
pub async fn append_system_line(db: &Db, job_id: &str, message: String) -> sqlx::Result<()> {
    let seq = next_log_seq(db, job_id).await?;
    let row = LogRow {
        seq,
        at: now_ms(),
        stream: "system".into(),
        level: None,
        message,
        fields: None,
    };
    append_logs(db, job_id, &[row]).await
}

pub async fn next_log_seq(db: &Db, job_id: &str) -> sqlx::Result<i64> {
    let row: (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM job_logs WHERE job_id = $1")
        .bind(job_id)
        .fetch_one(db)
        .await?;
    Ok(row.0.unwrap_or(0) + 1)
}
