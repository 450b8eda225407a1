//! What a running job reports: output, log lines and progress go to subscribers of
//! the live stream at once and to the database in batches, up to the job's log quota
//! (past it: one marker entry, then only a count, stored when the run ends).

use crate::db::jobs::{LogRow, Unstored};
use crate::db::{self, Db, now_ms};
use crate::quotas::{Admit, LogBudget};
use crate::runs::Lines;
use crate::runs::lines::stream_name;
use automa_runtime::host::LogLevel;
use automa_runtime::host::ports::{OutputStream, RunEvents};
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use utoipa::ToSchema;

/// One entry of a job's log, as stored and as streamed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogEntry {
    /// Position in the job's log, from 1.
    pub seq: i64,
    /// RFC 3339 time.
    pub at: String,
    /// `stdout`, `stderr`, `log`, `progress` or `system`.
    pub stream: String,
    /// For `log` entries: `debug`, `info`, `warning` or `error`.
    pub level: Option<String>,
    pub message: String,
    /// Structured fields of a `log` entry, or `fraction` of a `progress` entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

impl From<LogRow> for LogEntry {
    fn from(row: LogRow) -> Self {
        let (message, fields) = match row.fields {
            Some(fields) => (row.message, serde_json::from_str(&fields).ok()),
            None => split_fields(&row.message),
        };
        Self {
            seq: row.seq,
            at: db::rfc3339(row.at),
            stream: row.stream,
            level: row.level,
            message,
            fields,
        }
    }
}

/// Rows stored before the `fields` column carry structured fields after a NUL.
fn split_fields(stored: &str) -> (String, Option<Value>) {
    match stored.split_once('\0') {
        Some((message, fields)) => (message.to_owned(), serde_json::from_str(fields).ok()),
        None => (stored.to_owned(), None),
    }
}

/// Text as the database can keep it: PostgreSQL's text type holds no NUL, so a NUL a
/// script printed is stored (and streamed) as U+FFFD instead of failing its batch.
fn storable(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}

enum Record {
    Log(LogRow),
    Progress(f64, Option<String>),
}

/// The `RunEvents` of one job. Output is cut into whole lines (a partial line waits
/// for its end, up to a limit), so `print("a", 1)` is one entry, not four.
pub struct JobEvents {
    /// Joins output into lines and scrubs the values of the secrets granted to the
    /// script (and to plugins it called): they are never stored or streamed.
    lines: Lines,
    seq: AtomicI64,
    to_store: mpsc::UnboundedSender<Record>,
    live: broadcast::Sender<LogEntry>,
    /// The job's log quota; `system` entries of the server itself are not counted.
    budget: LogBudget,
}

/// Entries and bytes written in one transaction at most, so that a flood of log lines
/// never holds the database's write lock for long.
const BATCH_ROWS: usize = 200;
const BATCH_BYTES: usize = 2 * 1024 * 1024;

impl JobEvents {
    /// Events for job `job_id` whose log continues at `first_seq`; returns the writer
    /// task, which stores what comes during the run and ends once every clone of the
    /// events is dropped, handing back what came last and is not stored yet: the
    /// caller stores it with the attempt's end, in one transaction
    /// (`db::jobs::end_attempt`), or with [`store_unstored`].
    pub fn start(
        db: Db,
        job_id: String,
        first_seq: i64,
        live: broadcast::Sender<LogEntry>,
        redact: Vec<String>,
        budget: LogBudget,
    ) -> (Self, tokio::task::JoinHandle<Unstored>) {
        let (to_store, mut records) = mpsc::unbounded_channel::<Record>();
        let writer = tokio::spawn(async move {
            while let Some(first) = records.recv().await {
                let mut batch = Unstored::default();
                let mut bytes = 0;
                let mut next = Some(first);
                let mut ended = false;
                while let Some(record) = next {
                    match record {
                        Record::Log(row) => {
                            bytes += row.message.len();
                            batch.logs.push(row);
                        }
                        Record::Progress(f, m) => batch.progress = Some((f, m)),
                    }
                    next = None;
                    if batch.logs.len() < BATCH_ROWS && bytes < BATCH_BYTES {
                        match records.try_recv() {
                            Ok(record) => next = Some(record),
                            Err(mpsc::error::TryRecvError::Disconnected) => ended = true,
                            Err(mpsc::error::TryRecvError::Empty) => {}
                        }
                    }
                }
                if ended {
                    return batch;
                }
                store_unstored(&db, &job_id, batch).await;
            }
            Unstored::default()
        });
        let events = Self {
            lines: Lines::new(redact),
            seq: AtomicI64::new(first_seq),
            to_store,
            live,
            budget,
        };
        (events, writer)
    }

    /// Add a line of the given stream.
    pub fn push(&self, stream: &str, level: Option<&str>, message: String, fields: Option<Value>) {
        if stream != "system" {
            let size = message.len() + fields.as_ref().map_or(0, |f| f.to_string().len());
            match self.budget.admit(size) {
                Admit::Store => {}
                Admit::Marker(marker) => return self.record("system", None, marker, None),
                Admit::Drop => return,
            }
        }
        self.record(stream, level, message, fields);
    }

    fn record(&self, stream: &str, level: Option<&str>, message: String, fields: Option<Value>) {
        let message = storable(self.lines.scrub(message));
        let fields = fields.map(|f| self.lines.scrub_value(f));
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let at = now_ms();
        let stored_fields = fields.as_ref().map(Value::to_string);
        let message_for_store = message.clone();
        let _ = self.live.send(LogEntry {
            seq,
            at: db::rfc3339(at),
            stream: stream.to_owned(),
            level: level.map(str::to_owned),
            message,
            fields,
        });
        let _ = self.to_store.send(Record::Log(LogRow {
            seq,
            at,
            stream: stream.to_owned(),
            level: level.map(str::to_owned),
            message: message_for_store,
            fields: stored_fields,
        }));
    }
}

impl JobEvents {
    /// Store output still waiting for its line end, and the count of entries dropped
    /// over the quota; call when the run is over.
    pub fn flush(&self) {
        for (stream, text) in self.lines.rest() {
            self.push(stream_name(stream), None, text, None);
        }
        if let Some(dropped) = self.budget.close() {
            self.record("system", None, dropped, None);
        }
    }

    /// Entries and bytes dropped over the quota so far.
    pub fn dropped(&self) -> (u64, u64) {
        self.budget.dropped()
    }
}

/// Store entries and progress on their own: a batch during the run, or what a run left
/// when its end is stored without it. Logs that cannot be stored are dropped with a
/// warning (the run goes on).
pub async fn store_unstored(db: &Db, job_id: &str, batch: Unstored) {
    store_logs(db, job_id, &batch.logs).await;
    if let Some((fraction, message)) = batch.progress
        && let Err(e) = db::jobs::set_progress(db, job_id, fraction, message.as_deref()).await
    {
        tracing::warn!(job = %job_id, error = %e, "storing job progress");
    }
}

/// Store a batch of log entries, trying again a few times when the database is busy;
/// a batch that cannot be stored is dropped with a warning (the run goes on).
async fn store_logs(db: &Db, job_id: &str, batch: &[LogRow]) {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=5 {
        match db::jobs::append_logs(db, job_id, batch).await {
            Ok(()) => return,
            Err(e) if attempt == 5 => {
                tracing::warn!(job = %job_id, error = %e, rows = batch.len(), "storing job logs");
            }
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

impl RunEvents for JobEvents {
    fn also_redact(&self, secret: &str) {
        self.lines.also_redact(secret);
    }

    fn output(&self, stream: OutputStream, chunk: &[u8]) {
        if let Some(text) = self.lines.output(stream, chunk) {
            self.push(stream_name(stream), None, text, None);
        }
    }

    fn log(&self, level: LogLevel, message: &str, fields: Option<&Value>) {
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        };
        self.push("log", Some(level), message.to_owned(), fields.cloned());
    }

    fn progress(&self, fraction: f32, message: Option<&str>) {
        let fields = serde_json::json!({ "fraction": fraction });
        self.push(
            "progress",
            None,
            message.unwrap_or_default().to_owned(),
            Some(fields),
        );
        let _ = self.to_store.send(Record::Progress(
            f64::from(fraction),
            message.map(|m| storable(m.to_owned())),
        ));
    }
}
