//! Secret repository: names in clear, values sealed (see `crate::secrets`).

use super::{Db, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecretRow {
    pub name: String,
    pub ciphertext: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Create or replace; returns true when it was new.
pub async fn put(db: &Db, name: &str, ciphertext: &str, by: &str) -> sqlx::Result<bool> {
    let now = now_ms();
    let updated =
        sqlx::query("UPDATE secrets SET ciphertext = $2, updated_at = $3 WHERE name = $1")
            .bind(name)
            .bind(ciphertext)
            .bind(now)
            .execute(db)
            .await?;
    if updated.rows_affected() > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO secrets (name, ciphertext, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(name)
    .bind(ciphertext)
    .bind(by)
    .bind(now)
    .execute(db)
    .await?;
    Ok(true)
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<SecretRow>> {
    sqlx::query_as(
        "SELECT name, ciphertext, created_by, created_at, updated_at FROM secrets ORDER BY name",
    )
    .fetch_all(db)
    .await
}

pub async fn find(db: &Db, name: &str) -> sqlx::Result<Option<SecretRow>> {
    sqlx::query_as(
        "SELECT name, ciphertext, created_by, created_at, updated_at FROM secrets WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: &Db, name: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM secrets WHERE name = $1")
        .bind(name)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
