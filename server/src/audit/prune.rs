//! Audit retention (`[retention] audit_days`): the rows older than the cutoff are
//! deleted from the start of the chain and, in the same transaction, a signed checkpoint
//! of the pruned head is recorded (see [`super::checkpoint`] and [`super::verify`]).
//!
//! The newest row is never pruned: the writer chains each new row to the last one in
//! the table. The rows about to go are verified first, so a broken chain is reported,
//! not signed over; one checkpoint covers at most [`MAX_ROWS`] rows to keep each
//! transaction bounded (a first prune of a long log makes several).

use super::verify::{Anchor, walk};
use super::{GENESIS_HASH, checkpoint};
use crate::db::Db;
use crate::db::audit_checkpoints::{self, CheckpointRow};
use anyhow::bail;
use std::path::Path;

/// Rows one checkpoint covers at most.
pub const MAX_ROWS: i64 = 50_000;

/// Prunes the rows written before `cutoff_ms` (signing with the key of `data_dir`);
/// returns how many went.
pub async fn prune(db: &Db, data_dir: &Path, cutoff_ms: i64, now_ms: i64) -> anyhow::Result<u64> {
    let mut pruned = 0;
    while let Some(rows) = prune_once(db, data_dir, cutoff_ms, now_ms).await? {
        pruned += rows;
    }
    Ok(pruned)
}

async fn prune_once(
    db: &Db,
    data_dir: &Path,
    cutoff_ms: i64,
    now_ms: i64,
) -> anyhow::Result<Option<u64>> {
    let latest = audit_checkpoints::latest(db).await?;
    let (last_id, after_seq, prev_hash, anchor) = match latest {
        Some(c) => (c.id, c.last_seq, c.last_hash, Anchor::Checkpoint(c.id)),
        None => (0, 0, GENESIS_HASH.to_owned(), Anchor::Genesis),
    };
    let (newest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
        .fetch_one(db)
        .await?;
    let Some(newest) = newest else {
        return Ok(None);
    };
    // The chain is pruned as a prefix: up to the first row that is not old enough.
    let (first_recent,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(seq) FROM audit_log WHERE at >= $1")
            .bind(cutoff_ms)
            .fetch_one(db)
            .await?;
    let upto = (first_recent.unwrap_or(newest) - 1)
        .min(newest - 1)
        .min(after_seq + MAX_ROWS);
    if upto <= after_seq {
        return Ok(None);
    }
    let walked = walk(db, after_seq + 1, prev_hash, Some(upto), anchor).await?;
    if let Some(broken) = walked.broken {
        bail!("the audit log is broken at {broken}; nothing pruned (see `automa audit verify`)");
    }
    let key = checkpoint::signing_key(data_dir)?;
    let mut row = CheckpointRow {
        id: last_id + 1,
        first_seq: after_seq + 1,
        last_seq: upto,
        last_hash: walked.last_hash,
        pruned_rows: upto - after_seq,
        at: now_ms,
        public_key: String::new(),
        signature: String::new(),
    };
    checkpoint::sign(&key, &mut row);
    // The DELETE comes first so the transaction takes SQLite's write lock at once.
    let mut tx = crate::db::begin_write(db).await?;
    let deleted = sqlx::query("DELETE FROM audit_log WHERE seq >= $1 AND seq <= $2")
        .bind(row.first_seq)
        .bind(row.last_seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted != row.pruned_rows as u64 {
        tx.rollback().await?;
        bail!(
            "the audit log changed while pruning seq {}..={} (another node pruning?); \
             nothing pruned",
            row.first_seq,
            row.last_seq
        );
    }
    audit_checkpoints::insert(&mut tx, &row).await?;
    tx.commit().await?;
    tracing::info!(
        checkpoint = row.id,
        last_seq = row.last_seq,
        rows = deleted,
        "audit log pruned"
    );
    Ok(Some(deleted))
}
