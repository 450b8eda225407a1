//! Append-only audit log with a SHA-256 hash chain.
//!
//! Each row's `hash` covers its canonical fields plus the previous row's hash, so editing,
//! reordering or deleting a row in the middle breaks every later link, and
//! `automa audit verify` reports the first broken row. (Truncating the tail is not
//! detectable from the chain alone; ship the latest hash elsewhere for that.)
//! `AuditLog` is cheap to clone and is the handle other features append through.

mod host_calls;

pub use host_calls::{HostCalls, RunRef};

use crate::db::{Db, new_id, now_ms};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// One event to append; build with `AuditEvent::new(actor, action)` and the setters.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub outcome: Outcome,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            target: None,
            source_ip: None,
            outcome: Outcome::Success,
            details: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.source_ip = ip;
        self
    }
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub outcome: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// SHA-256 over a JSON array of the canonical fields (fixed order, `details` as stored).
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.id,
            self.at,
            self.actor,
            self.action,
            self.target,
            self.source_ip,
            self.outcome,
            self.details,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

#[derive(Clone)]
pub struct AuditLog {
    db: Db,
    // Serialises appenders in this process; the seq primary key catches other processes
    // (e.g. the CLI) and the append is retried.
    lock: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Return rows with seq strictly below this (newest first paging).
    pub before_seq: Option<i64>,
}

/// Result of walking the chain.
#[derive(Debug)]
pub struct VerifyReport {
    pub checked: u64,
    pub first_broken: Option<(i64, String)>,
}

macro_rules! cols {
    () => {
        "seq, id, at, actor, action, target, source_ip, outcome, details, prev_hash, hash"
    };
}

impl AuditLog {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub async fn append(&self, ev: AuditEvent) -> anyhow::Result<()> {
        let _guard = self.lock.lock().await;
        // The hash covers the stored text of the details, so key order needs no rule.
        let details = ev.details.to_string();
        let mut last_err = None;
        for _ in 0..5 {
            let last: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&self.db)
                    .await?;
            let (seq, prev_hash) = match last {
                Some((s, h)) => (s + 1, h),
                None => (1, GENESIS_HASH.to_owned()),
            };
            let mut row = AuditRow {
                seq,
                id: new_id(),
                at: now_ms(),
                actor: ev.actor.clone(),
                action: ev.action.clone(),
                target: ev.target.clone(),
                source_ip: ev.source_ip.clone(),
                outcome: ev.outcome.as_str().to_owned(),
                details: details.clone(),
                prev_hash,
                hash: String::new(),
            };
            row.hash = row.compute_hash();
            let res = sqlx::query(concat!(
                "INSERT INTO audit_log (",
                cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ))
            .bind(row.seq)
            .bind(&row.id)
            .bind(row.at)
            .bind(&row.actor)
            .bind(&row.action)
            .bind(&row.target)
            .bind(&row.source_ip)
            .bind(&row.outcome)
            .bind(&row.details)
            .bind(&row.prev_hash)
            .bind(&row.hash)
            .execute(&self.db)
            .await;
            match res {
                Ok(_) => return Ok(()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    last_err = Some(sqlx::Error::Database(e));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(anyhow::anyhow!(
            "audit append kept racing with another writer: {last_err:?}"
        ))
    }

    /// Appends, logging instead of failing: for security events on paths whose own
    /// outcome must not depend on the audit write (e.g. a failed login).
    pub async fn record(&self, ev: AuditEvent) {
        let action = ev.action.clone();
        if let Err(e) = self.append(ev).await {
            tracing::error!(error = format!("{e:#}"), action, "audit append failed");
        }
    }

    pub async fn list(&self, f: &AuditFilter, limit: i64) -> sqlx::Result<Vec<AuditRow>> {
        sqlx::query_as(concat!(
            "SELECT ",
            cols!(),
            " FROM audit_log WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
             AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4) AND seq < $5 \
             ORDER BY seq DESC LIMIT $6"
        ))
        .bind(&f.actor)
        .bind(&f.action)
        .bind(f.since)
        .bind(f.until)
        .bind(f.before_seq.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.db)
        .await
    }

    /// Walks the whole chain in seq order and reports the first inconsistent row.
    pub async fn verify(&self) -> anyhow::Result<VerifyReport> {
        let mut expected_seq = 1i64;
        let mut prev = GENESIS_HASH.to_owned();
        let mut checked = 0u64;
        loop {
            let rows: Vec<AuditRow> = sqlx::query_as(concat!(
                "SELECT ",
                cols!(),
                " FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000"
            ))
            .bind(expected_seq)
            .fetch_all(&self.db)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let problem = if row.seq != expected_seq {
                    Some(format!(
                        "expected seq {expected_seq}, found {} (row deleted?)",
                        row.seq
                    ))
                } else if row.prev_hash != prev {
                    Some("prev_hash does not match the previous row's hash".to_owned())
                } else if row.compute_hash() != row.hash {
                    Some("hash does not match the row's contents (row edited?)".to_owned())
                } else {
                    None
                };
                if let Some(p) = problem {
                    return Ok(VerifyReport {
                        checked,
                        first_broken: Some((row.seq.min(expected_seq), p)),
                    });
                }
                checked += 1;
                expected_seq += 1;
                prev = row.hash;
            }
        }
        Ok(VerifyReport {
            checked,
            first_broken: None,
        })
    }
}
