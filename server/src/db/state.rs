//! The per-script key-value store behind `automa.state`.

use super::{Db, now_ms};

pub async fn get(db: &Db, script_id: &str, key: &str) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM script_state WHERE script_id = $1 AND key = $2")
            .bind(script_id)
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| r.0))
}

pub async fn set(db: &Db, script_id: &str, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO script_state (script_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (script_id, key) DO UPDATE SET value = $3, updated_at = $4",
    )
    .bind(script_id)
    .bind(key)
    .bind(value)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, script_id: &str, key: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM script_state WHERE script_id = $1 AND key = $2")
        .bind(script_id)
        .bind(key)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn keys(db: &Db, script_id: &str) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT key FROM script_state WHERE script_id = $1 ORDER BY key")
            .bind(script_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
