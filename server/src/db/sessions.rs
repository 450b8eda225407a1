//! Browser session repository. Only SHA-256 hashes of session ids are stored.

use super::{Db, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub auth_version: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

pub async fn insert(
    db: &Db,
    id_hash: &str,
    user_id: &str,
    auth_version: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, auth_version, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(auth_version)
    .bind(now_ms())
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id_hash: &str) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(
        "SELECT id_hash, user_id, auth_version, created_at, expires_at, revoked_at \
         FROM sessions WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(db)
    .await
}

pub async fn revoke(db: &Db, id_hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Drops sessions that can no longer be used (expired or revoked a day ago).
pub async fn prune(db: &Db) -> sqlx::Result<u64> {
    let now = now_ms();
    let res = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $2")
        .bind(now)
        .bind(now - 86_400_000)
        .execute(db)
        .await?;
    Ok(res.rows_affected())
}
