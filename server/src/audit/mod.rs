//! Append-only audit log with a SHA-256 hash chain.
//!
//! Each row's `hash` covers its canonical fields plus the previous row's hash, so editing,
//! reordering or deleting a row in the middle breaks every later link, and
//! `automa audit verify` reports the first broken row. (Truncating the tail is not
//! detectable from the chain alone; ship the latest hash elsewhere for that.) With
//! `[retention] audit_days` the oldest rows are pruned behind a signed checkpoint
//! ([`prune`], [`checkpoint`]) that verification starts from ([`verify`]).
//! `AuditLog` is cheap to clone and is the handle other features append through; every
//! append goes through one bounded queue and one writer (see [`writer`]).

mod host_calls;

pub use host_calls::{HostCalls, RunRef};

use crate::db::Db;
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
    /// `details` as JSON; a row whose details do not decode is an error naming it (the
    /// log is evidence: a corrupt entry is reported, never shown as empty).
    pub fn details_value(&self) -> Result<serde_json::Value, crate::db::decode::CorruptRow> {
        crate::db::decode::json("audit_log", &self.id, "details", &self.details)
    }

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
    // The process's one writer; the seq primary key catches other processes (the CLI,
    // other nodes) and the batch is retried.
    writer: Arc<writer::Writer>,
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

macro_rules! cols {
    () => {
        "seq, id, at, actor, action, target, source_ip, outcome, details, prev_hash, hash"
    };
}

pub mod checkpoint;
pub mod prune;
mod verify;
pub mod writer;

pub use verify::{Broken, VerifyReport, verify_with_key_of};
pub use writer::AuditError;

impl AuditLog {
    /// The audit log of `db`, with its writer task (call from within a Tokio runtime).
    pub fn new(db: Db) -> Self {
        Self::with_queue(db, writer::QUEUE_CAPACITY, writer::ADMIT_WAIT)
    }

    /// An audit log whose queue has `capacity` places, waited for at most `wait`.
    pub fn with_queue(db: Db, capacity: usize, wait: std::time::Duration) -> Self {
        Self {
            writer: Arc::new(writer::Writer::start(db.clone(), capacity, wait)),
            db,
        }
    }

    /// Appends `ev` and waits until it is written. A full queue is waited on (by
    /// default at most [`writer::ADMIT_WAIT`]); then, or when the record is not written in that time,
    /// the append fails and the caller must not report success.
    pub async fn append(&self, ev: AuditEvent) -> Result<(), AuditError> {
        self.writer.reserve().await?;
        let (done, written) = tokio::sync::oneshot::channel();
        self.writer.push(ev, true, Some(done))?;
        let wait = self.writer.wait();
        match tokio::time::timeout(wait, written).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(AuditError::Stopped),
            Err(_) => Err(AuditError::NotWritten(
                self.writer
                    .failing()
                    .unwrap_or_else(|| format!("still queued after {wait:?}")),
            )),
        }
    }

    /// Waits (bounded) for a place in the queue for a record to come; the place is the
    /// caller's until [`AuditLog::queue_placed`] or [`AuditLog::release`].
    pub async fn reserve(&self) -> Result<(), AuditError> {
        self.writer.reserve().await
    }

    /// Gives back `places` taken by [`AuditLog::reserve`] and not used.
    pub fn release(&self, places: usize) {
        self.writer.release(places);
    }

    /// Queues `ev` into a place the caller reserved; it is written soon, not waited for.
    pub fn queue_placed(&self, ev: AuditEvent) {
        self.enqueue(ev, true);
    }

    /// Queues `ev` without waiting, for a record of something that already happened
    /// (it takes a free place when there is one, and is never refused).
    pub fn queue(&self, ev: AuditEvent) {
        let placed = self.writer.try_reserve();
        self.enqueue(ev, placed);
    }

    fn enqueue(&self, ev: AuditEvent, placed: bool) {
        let action = ev.action.clone();
        if let Err(e) = self.writer.push(ev, placed, None) {
            tracing::error!(error = %e, action, "audit record not queued");
        }
    }

    /// Waits until the queued records are written, at most `within` (at shutdown);
    /// whether none is left.
    pub async fn flush(&self, within: std::time::Duration) -> bool {
        self.writer.drain(within).await
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

    /// Verifies the chain (from the newest checkpoint when pruned, its signature
    /// checked against `trusted`) and reports the first inconsistency.
    pub async fn verify(
        &self,
        trusted: Option<&ed25519_dalek::VerifyingKey>,
    ) -> anyhow::Result<VerifyReport> {
        verify::verify(&self.db, trusted).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::{Duration, Instant};

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        (dir, crate::db::connect(&url).await.unwrap())
    }

    async fn rows(db: &Db) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
            .fetch_one(db)
            .await
            .unwrap();
        n
    }

    #[tokio::test]
    async fn concurrent_appends_are_written_in_batches_as_one_chain() {
        let (_dir, db) = db().await;
        let audit = AuditLog::new(db.clone());
        let before = rows(&db).await;
        let appends = (0..300).map(|i| {
            let audit = audit.clone();
            tokio::spawn(async move { audit.append(AuditEvent::new("t", format!("a.{i}"))).await })
        });
        for done in futures::future::join_all(appends).await {
            done.unwrap().unwrap();
        }
        for i in 0..300 {
            audit.queue(AuditEvent::new("t", format!("q.{i}")));
        }
        assert!(audit.flush(Duration::from_secs(10)).await);
        assert_eq!(rows(&db).await - before, 600);
        let report = audit.verify(None).await.unwrap();
        assert!(report.first_broken.is_none(), "{report:?}");
    }

    #[tokio::test]
    async fn two_writers_of_one_table_each_go_on_from_the_real_end_of_the_chain() {
        let (_dir, db) = db().await;
        // Two processes' writers (the CLI and the server, or two nodes): each keeps the
        // end it wrote last, which the other's appends make stale.
        let (one, other) = (AuditLog::new(db.clone()), AuditLog::new(db.clone()));
        let before = rows(&db).await;
        for i in 0..20 {
            one.append(AuditEvent::new("t", format!("one.{i}")))
                .await
                .unwrap();
            other
                .append(AuditEvent::new("t", format!("other.{i}")))
                .await
                .unwrap();
        }
        let both = (0..100).map(|i| {
            let audit = if i % 2 == 0 {
                one.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { audit.append(AuditEvent::new("t", format!("b.{i}"))).await })
        });
        for done in futures::future::join_all(both).await {
            done.unwrap().unwrap();
        }
        assert_eq!(rows(&db).await - before, 140);
        let report = one.verify(None).await.unwrap();
        assert!(report.first_broken.is_none(), "{report:?}");
    }

    #[tokio::test]
    async fn a_full_queue_is_waited_on_then_refused() {
        let (_dir, db) = db().await;
        let audit = AuditLog::with_queue(db, 2, Duration::from_millis(300));
        audit.reserve().await.unwrap();
        audit.reserve().await.unwrap();
        let started = Instant::now();
        let refused = audit.reserve().await.unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(matches!(refused, AuditError::Full), "{refused}");
        let refused = audit.append(AuditEvent::new("t", "a")).await.unwrap_err();
        assert!(refused.to_string().contains("not keeping up"), "{refused}");
        // A place given back (or freed by the writer) admits the next.
        audit.release(1);
        audit.append(AuditEvent::new("t", "a")).await.unwrap();
    }

    #[tokio::test]
    async fn a_record_the_database_refuses_is_retried_until_written() {
        let (_dir, db) = db().await;
        let audit = AuditLog::with_queue(db.clone(), 100, Duration::from_millis(500));
        let before = rows(&db).await;
        sqlx::query("ALTER TABLE audit_log RENAME TO audit_log_away")
            .execute(&db)
            .await
            .unwrap();
        // The caller is told within its wait, naming the database's refusal.
        let refused = audit
            .append(AuditEvent::new("t", "kept"))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, AuditError::NotWritten(e) if e.contains("audit_log")),
            "{refused}"
        );
        audit.queue(AuditEvent::new("t", "also kept"));
        sqlx::query("ALTER TABLE audit_log_away RENAME TO audit_log")
            .execute(&db)
            .await
            .unwrap();
        // Nothing was dropped: both records are written once the table is back.
        assert!(audit.flush(Duration::from_secs(10)).await);
        assert_eq!(rows(&db).await - before, 2);
    }
}
