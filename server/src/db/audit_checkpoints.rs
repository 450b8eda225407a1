//! The audit log's signed checkpoints (0014): one row per prune, oldest first.

use super::Db;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRow {
    pub id: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub last_hash: String,
    pub pruned_rows: i64,
    pub at: i64,
    pub public_key: String,
    pub signature: String,
}

macro_rules! cols {
    () => {
        "id, first_seq, last_seq, last_hash, pruned_rows, at, public_key, signature"
    };
}

/// Every checkpoint, oldest first (a few a day at most: one per sweep that pruned).
pub async fn all(db: &Db) -> sqlx::Result<Vec<CheckpointRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM audit_checkpoints ORDER BY id"
    ))
    .fetch_all(db)
    .await
}

/// The newest checkpoint, if the log was ever pruned.
pub async fn latest(db: &Db) -> sqlx::Result<Option<CheckpointRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM audit_checkpoints ORDER BY id DESC LIMIT 1"
    ))
    .fetch_optional(db)
    .await
}

/// Inserts `row` in the pruning transaction `tx`.
pub async fn insert(tx: &mut sqlx::AnyConnection, row: &CheckpointRow) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "INSERT INTO audit_checkpoints (",
        cols!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(row.id)
    .bind(row.first_seq)
    .bind(row.last_seq)
    .bind(&row.last_hash)
    .bind(row.pruned_rows)
    .bind(row.at)
    .bind(&row.public_key)
    .bind(&row.signature)
    .execute(tx)
    .await
    .map(|_| ())
}
