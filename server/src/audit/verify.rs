//! Walking the audit hash chain. Without checkpoints it starts at seq 1 from the genesis
//! hash. Once pruned, it checks every checkpoint (numbered from 1, each range following
//! the last, signed by the trusted key) and walks on from the newest: the first
//! remaining row must be the one after the checkpoint and name its hash.

use super::{AuditRow, GENESIS_HASH, checkpoint};
use crate::db::Db;
use crate::db::audit_checkpoints::{self, CheckpointRow};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "at", rename_all = "lowercase")]
pub enum Broken {
    /// A row of the chain (`seq`), or a row missing there.
    Row { seq: i64, reason: String },
    /// A checkpoint (`id`), or one missing there.
    Checkpoint { id: i64, reason: String },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Row { seq, reason } => write!(f, "seq {seq}: {reason}"),
            Self::Checkpoint { id, reason } => write!(f, "checkpoint #{id}: {reason}"),
        }
    }
}

/// Result of walking the chain.
#[derive(Debug)]
pub struct VerifyReport {
    /// Rows checked (those after the checkpoint, when there is one).
    pub checked: u64,
    /// The checkpoint the walk started from: the newest.
    pub checkpoint: Option<CheckpointRow>,
    /// Checkpoints in the database (all checked before the rows).
    pub checkpoints: u64,
    /// Hex of the public key checkpoints were checked against.
    pub public_key: Option<String>,
    pub first_broken: Option<Broken>,
}

/// Where a walk starts: the genesis hash, or a checkpoint.
#[derive(Clone, Copy)]
pub(super) enum Anchor {
    Genesis,
    Checkpoint(i64),
}

/// What a walk over part of the chain found.
pub(super) struct Walk {
    pub checked: u64,
    /// The hash of the last row checked (the anchor's when none).
    pub last_hash: String,
    pub broken: Option<Broken>,
}

/// Walks rows `from_seq..=upto` (or to the end) in order; row `from_seq` must name
/// `prev_hash`, the hash of the row before it or of `anchor`.
pub(super) async fn walk(
    db: &Db,
    from_seq: i64,
    prev_hash: String,
    upto: Option<i64>,
    anchor: Anchor,
) -> anyhow::Result<Walk> {
    let last = upto.unwrap_or(i64::MAX);
    let mut expected_seq = from_seq;
    let mut prev = prev_hash;
    let mut checked = 0u64;
    let broken = |seq: i64, reason: String| Broken::Row { seq, reason };
    loop {
        let rows: Vec<AuditRow> = sqlx::query_as(concat!(
            "SELECT ",
            cols!(),
            " FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT 1000"
        ))
        .bind(expected_seq)
        .bind(last)
        .fetch_all(db)
        .await?;
        if rows.is_empty() {
            let missing = upto.is_some_and(|u| expected_seq <= u);
            return Ok(Walk {
                checked,
                last_hash: prev,
                broken: missing.then(|| broken(expected_seq, "row missing (deleted?)".to_owned())),
            });
        }
        for row in rows {
            let first = expected_seq == from_seq;
            let problem = if row.seq != expected_seq {
                Some(match anchor {
                    Anchor::Checkpoint(id) if first => format!(
                        "expected seq {expected_seq}, the row after checkpoint #{id}, found {} \
                         (rows deleted past the checkpoint?)",
                        row.seq
                    ),
                    _ => format!(
                        "expected seq {expected_seq}, found {} (row deleted?)",
                        row.seq
                    ),
                })
            } else if row.prev_hash != prev {
                Some(match anchor {
                    Anchor::Checkpoint(id) if first => {
                        format!("prev_hash does not match the hash of checkpoint #{id}")
                    }
                    _ => "prev_hash does not match the previous row's hash".to_owned(),
                })
            } else if row.compute_hash() != row.hash {
                Some("hash does not match the row's contents (row edited?)".to_owned())
            } else {
                None
            };
            if let Some(p) = problem {
                return Ok(Walk {
                    checked,
                    last_hash: prev,
                    broken: Some(broken(row.seq.min(expected_seq), p)),
                });
            }
            checked += 1;
            expected_seq += 1;
            prev = row.hash;
        }
    }
}

/// Verifies the log of a server with data dir `data_dir`: checkpoints are checked
/// against `public_key` (hex) when given, else against the data dir's signing key.
/// What `automa audit verify` and `GET /api/v1/audit/verify` run.
pub async fn verify_with_key_of(
    db: &Db,
    data_dir: &std::path::Path,
    public_key: Option<&str>,
) -> anyhow::Result<VerifyReport> {
    let trusted = match public_key {
        Some(text) => Some(checkpoint::parse_public_key(text)?),
        None => checkpoint::public_key(data_dir)?,
    };
    verify(db, trusted.as_ref()).await
}

/// Verifies the whole log: the checkpoints against `trusted` (required once the log
/// was pruned), then the rows from the newest checkpoint on.
pub async fn verify(db: &Db, trusted: Option<&VerifyingKey>) -> anyhow::Result<VerifyReport> {
    let checkpoints = audit_checkpoints::all(db).await?;
    let mut report = VerifyReport {
        checked: 0,
        checkpoint: checkpoints.last().cloned(),
        checkpoints: checkpoints.len() as u64,
        public_key: trusted.map(|k| hex::encode(k.as_bytes())),
        first_broken: None,
    };
    let (from_seq, prev, anchor) = match checkpoints.last() {
        None => (1, GENESIS_HASH.to_owned(), Anchor::Genesis),
        Some(newest) => {
            if let Some(broken) = check_checkpoints(&checkpoints, trusted) {
                report.first_broken = Some(broken);
                return Ok(report);
            }
            (
                newest.last_seq + 1,
                newest.last_hash.clone(),
                Anchor::Checkpoint(newest.id),
            )
        }
    };
    let walked = walk(db, from_seq, prev, None, anchor).await?;
    report.checked = walked.checked;
    report.first_broken = walked.broken;
    if let (Anchor::Checkpoint(id), 0, None) = (anchor, walked.checked, &report.first_broken) {
        // Pruning always keeps the newest row: an empty rest was deleted.
        report.first_broken = Some(Broken::Row {
            seq: from_seq,
            reason: format!(
                "no row after checkpoint #{id} (rows deleted past it; pruning keeps the newest)"
            ),
        });
    }
    Ok(report)
}

/// The first checkpoint that is missing, out of sequence, miscounted or not signed by
/// `trusted`.
fn check_checkpoints(all: &[CheckpointRow], trusted: Option<&VerifyingKey>) -> Option<Broken> {
    let broken = |id: i64, reason: String| Some(Broken::Checkpoint { id, reason });
    let Some(key) = trusted else {
        let id = all.last().map_or(0, |c| c.id);
        return broken(
            id,
            "cannot check its signature: no audit signing key in the data dir \
             (keys/audit.key) and no --public-key given"
                .to_owned(),
        );
    };
    let mut next_seq = 1;
    for (i, c) in all.iter().enumerate() {
        let expected_id = i as i64 + 1;
        if c.id != expected_id {
            return broken(
                expected_id,
                format!("missing (deleted?): the next one is #{}", c.id),
            );
        }
        if let Some(why) = checkpoint::refusal(key, c) {
            return broken(c.id, why);
        }
        if c.first_seq != next_seq
            || c.last_seq < c.first_seq
            || c.pruned_rows != c.last_seq - c.first_seq + 1
        {
            return broken(
                c.id,
                format!(
                    "covers seq {}..={} as {} rows; expected a range starting at seq {next_seq} \
                     and its length",
                    c.first_seq, c.last_seq, c.pruned_rows
                ),
            );
        }
        next_seq = c.last_seq + 1;
    }
    None
}
