//! What each user holds now, for their usage against their quotas: one grouped query
//! per resource, for one user (`Some(id)`) or every user (`None`).

use super::Db;

/// A running job of the user, with its script's settings (its memory limit is there).
#[derive(Debug, sqlx::FromRow)]
pub struct RunningJob {
    pub owner_id: String,
    pub settings: String,
}

/// Running jobs, with their scripts' settings. Few: at most the workers of every node.
pub async fn running_jobs(db: &Db, user: Option<&str>) -> sqlx::Result<Vec<RunningJob>> {
    sqlx::query_as(
        "SELECT j.owner_id, s.settings FROM jobs j JOIN scripts s ON s.id = j.script_id \
         WHERE j.status = 'running' AND ($1 IS NULL OR j.owner_id = $1)",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

/// Per owner: agents wanted running (as the agents ceiling counts them), the memory
/// limits of those holding an instance, and the CPU time their instances used.
pub async fn agents(db: &Db, user: Option<&str>) -> sqlx::Result<Vec<(String, i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT owner_id, \
         CAST(COALESCE(SUM(CASE WHEN state IN ('starting', 'running', 'backoff', 'stopping') \
              THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN state IN ('starting', 'running', 'stopping') \
              THEN memory_mb ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(cpu_time_ms), 0) AS BIGINT) \
         FROM agents WHERE ($1 IS NULL OR owner_id = $1) GROUP BY owner_id",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

/// Per owner: CPU time of the jobs still stored (retention removes old ones).
pub async fn job_cpu_ms(db: &Db, user: Option<&str>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT owner_id, CAST(COALESCE(SUM(cpu_time_ms), 0) AS BIGINT) FROM jobs \
         WHERE ($1 IS NULL OR owner_id = $1) GROUP BY owner_id",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

/// One script of the user with what its `automa.state` holds (keys, and key plus
/// value lengths, counted as the state quota counts them).
#[derive(Debug, sqlx::FromRow)]
pub struct ScriptState {
    pub owner_id: String,
    pub script_id: String,
    pub keys: i64,
    pub bytes: i64,
}

/// Every script, with its state's size.
pub async fn scripts(db: &Db, user: Option<&str>) -> sqlx::Result<Vec<ScriptState>> {
    sqlx::query_as(
        "SELECT s.owner_id AS owner_id, s.id AS script_id, \
         CAST(COUNT(st.key) AS BIGINT) AS keys, \
         CAST(COALESCE(SUM(LENGTH(st.key) + LENGTH(st.value)), 0) AS BIGINT) AS bytes \
         FROM scripts s LEFT JOIN script_state st ON st.script_id = s.id \
         WHERE ($1 IS NULL OR s.owner_id = $1) GROUP BY s.owner_id, s.id",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

/// The users, by email: `(id, email)`.
pub async fn users(db: &Db, user: Option<&str>) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT id, email FROM users WHERE ($1 IS NULL OR id = $1) ORDER BY email")
        .bind(user)
        .fetch_all(db)
        .await
}
