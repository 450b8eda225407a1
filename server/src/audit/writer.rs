//! The one writer of the audit log in a process: appends wait in a bounded queue and a
//! task writes them in batches, one transaction each, chaining every row to the last.
//! On SQLite the writer keeps the chain's end it wrote last, so a batch is only inserts;
//! the end is read from the table when it is not known (the first batch, after any
//! failure). Another writer of the file (the CLI) is caught by the `seq` primary key: an
//! insert after a stale end takes a sequence number already used, fails, and the batch
//! is written again after the end is read. On PostgreSQL several nodes append to the
//! one chain all the time, so each batch reads the end in its transaction, as a kept
//! end would be stale (a failed batch) whenever another node wrote in between.
//!
//! The queue holds at most [`QUEUE_CAPACITY`] admitted records. A caller that finds it
//! full waits, up to [`ADMIT_WAIT`], and then fails: an API request answers an error, a
//! host call is refused before it runs. Nothing is dropped: a batch the database
//! refuses is retried until it is written, while the queue in front of it fills and
//! the callers behind it are refused. A few records are taken without waiting (the
//! record of a call that already ran, the count of a run's repeated refusals); they
//! take a free place when there is one and are never refused.

use super::{AuditEvent, AuditRow, GENESIS_HASH};
use crate::db::{Db, new_id, now_ms};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

/// Admitted records the queue holds at most.
pub const QUEUE_CAPACITY: usize = 4096;
/// How long an append waits for a place in the queue, or for its record to be written.
pub const ADMIT_WAIT: Duration = Duration::from_secs(10);
/// Rows written in one transaction at most.
const BATCH_ROWS: usize = 256;

/// Why an append could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit log is not keeping up (its queue stayed full); nothing was done")]
    Full,
    #[error("the audit record was not written in time: {0}")]
    NotWritten(String),
    #[error("the audit log has stopped")]
    Stopped,
}

struct Item {
    event: AuditEvent,
    /// Whether the record holds a place of the queue (given back once written).
    placed: bool,
    done: Option<oneshot::Sender<()>>,
}

pub(super) struct Writer {
    wait: Duration,
    sender: mpsc::UnboundedSender<Item>,
    places: Arc<Semaphore>,
    /// Records queued and not written yet (placed or not).
    pending: Arc<std::sync::atomic::AtomicUsize>,
    written: Arc<Notify>,
    /// The database's last refusal while a batch is being retried.
    failing: Arc<Mutex<Option<String>>>,
}

impl Writer {
    /// The writer task of `db`, with a queue of `capacity` places that callers wait
    /// for at most `wait`.
    pub(super) fn start(db: Db, capacity: usize, wait: Duration) -> Self {
        let (sender, items) = mpsc::unbounded_channel();
        let writer = Self {
            wait,
            sender,
            places: Arc::new(Semaphore::new(capacity)),
            pending: Arc::default(),
            written: Arc::new(Notify::new()),
            failing: Arc::default(),
        };
        tokio::spawn(write_all(
            db,
            items,
            writer.places.clone(),
            writer.pending.clone(),
            writer.written.clone(),
            writer.failing.clone(),
        ));
        writer
    }

    /// Waits (bounded) for a place in the queue; the caller then holds it until
    /// [`Writer::push`] with `placed`.
    pub(super) async fn reserve(&self) -> Result<(), AuditError> {
        match tokio::time::timeout(self.wait, self.places.acquire()).await {
            Ok(Ok(permit)) => {
                permit.forget();
                Ok(())
            }
            Ok(Err(_)) => Err(AuditError::Stopped),
            Err(_) => Err(match self.failing.lock().ok().and_then(|f| f.clone()) {
                Some(error) => AuditError::NotWritten(error),
                None => AuditError::Full,
            }),
        }
    }

    /// How long callers wait for a place, and for their record.
    pub(super) fn wait(&self) -> Duration {
        self.wait
    }

    /// Gives back a place taken by [`Writer::reserve`] and not used.
    pub(super) fn release(&self, places: usize) {
        self.places.add_permits(places);
    }

    /// Takes a free place if there is one, without waiting.
    pub(super) fn try_reserve(&self) -> bool {
        self.places.try_acquire().map(|p| p.forget()).is_ok()
    }

    /// Queues `event`; `placed` when the caller holds a place for it.
    pub(super) fn push(
        &self,
        event: AuditEvent,
        placed: bool,
        done: Option<oneshot::Sender<()>>,
    ) -> Result<(), AuditError> {
        self.pending
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let item = Item {
            event,
            placed,
            done,
        };
        if self.sender.send(item).is_err() {
            self.pending
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            if placed {
                self.release(1);
            }
            return Err(AuditError::Stopped);
        }
        Ok(())
    }

    /// Waits until every queued record is written, or `within` has passed; whether
    /// the queue is empty.
    pub(super) async fn drain(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let written = self.written.notified();
            if self.pending.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, written).await.is_err() {
                return self.pending.load(std::sync::atomic::Ordering::SeqCst) == 0;
            }
        }
    }

    /// The last database error while a batch is retried, if it is being retried.
    pub(super) fn failing(&self) -> Option<String> {
        self.failing.lock().ok().and_then(|f| f.clone())
    }
}

async fn write_all(
    db: Db,
    mut items: mpsc::UnboundedReceiver<Item>,
    places: Arc<Semaphore>,
    pending: Arc<std::sync::atomic::AtomicUsize>,
    written: Arc<Notify>,
    failing: Arc<Mutex<Option<String>>>,
) {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let keep_end = !crate::db::is_postgres(&db);
    let mut end = None;
    while items.recv_many(&mut batch, BATCH_ROWS).await > 0 {
        let mut delay = Duration::from_millis(20);
        let mut attempts = 0u32;
        loop {
            match write_batch(&db, &batch, end.take()).await {
                Ok(written) => {
                    end = keep_end.then_some(written);
                    break;
                }
                Err(e) => {
                    attempts += 1;
                    tracing::debug!(error = %e, attempts, records = batch.len(), "an audit batch was refused");
                    // Another process (the CLI, another node) took the same sequence
                    // number: read the chain's end again at once. Anything else waits.
                    let raced = matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation());
                    if !raced || attempts > 20 {
                        let message = format!("{e}");
                        if attempts == 3 || attempts.is_multiple_of(50) {
                            tracing::error!(error = %message, records = batch.len(), attempts,
                                "writing audit records failed; retrying (callers wait, then are refused)");
                        }
                        if let Ok(mut f) = failing.lock() {
                            *f = Some(message);
                        }
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(2));
                    }
                }
            }
        }
        if let Ok(mut f) = failing.lock() {
            *f = None;
        }
        let placed = batch.iter().filter(|i| i.placed).count();
        let count = batch.len();
        for item in batch.drain(..) {
            if let Some(done) = item.done {
                let _ = done.send(());
            }
        }
        places.add_permits(placed);
        pending.fetch_sub(count, std::sync::atomic::Ordering::SeqCst);
        written.notify_waiters();
    }
}

/// The last row of the chain: its `seq` and `hash`.
type ChainEnd = (i64, String);

/// Appends `batch` in one transaction, each row chained to the one before and the first
/// to `end` (read in the transaction when `None`); returns the new end.
async fn write_batch(db: &Db, batch: &[Item], end: Option<ChainEnd>) -> sqlx::Result<ChainEnd> {
    let mut tx = crate::db::begin_write(db).await?;
    let (mut seq, mut prev_hash) = match end {
        Some(end) => end,
        None => read_end(&mut tx).await?,
    };
    for item in batch {
        let ev = &item.event;
        seq += 1;
        let mut row = AuditRow {
            seq,
            id: new_id(),
            at: now_ms(),
            actor: ev.actor.clone(),
            action: ev.action.clone(),
            target: ev.target.clone(),
            source_ip: ev.source_ip.clone(),
            outcome: ev.outcome.as_str().to_owned(),
            // The hash covers the stored text of the details, so key order needs no rule.
            details: ev.details.to_string(),
            prev_hash,
            hash: String::new(),
        };
        row.hash = row.compute_hash();
        sqlx::query(concat!(
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
        .execute(&mut *tx)
        .await?;
        prev_hash = row.hash;
    }
    tx.commit().await?;
    Ok((seq, prev_hash))
}

/// The chain's end as stored: the row with the highest `seq` (the newest row is never
/// pruned), or the genesis of an empty log.
async fn read_end(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> sqlx::Result<ChainEnd> {
    let last: Option<ChainEnd> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    Ok(last.unwrap_or_else(|| (0, GENESIS_HASH.to_owned())))
}
