//! The link between a supervised agent and its running instance: the mailbox, the
//! polite stop signal, heartbeats, and the event history it writes. Output is joined
//! into lines and every entry scrubbed of the instance's secrets the way a job's log is
//! ([`crate::runs::Lines`]).

use crate::db::agents::{Claimed, EventRow};
use crate::db::{self, Db, now_ms};
use crate::quotas::{Admit, LogBudget};
use crate::runs::Lines;
use crate::runs::lines::stream_name;
use automa_runtime::CancellationToken;
use automa_runtime::host::LogLevel;
use automa_runtime::host::ports::{AgentChannel, BoxFuture, OutputStream, RunEvents};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Events kept per agent; older ones are trimmed.
const KEEP_EVENTS: i64 = 10_000;

/// The interval of an agent's history quota.
const BUDGET_WINDOW_MS: i64 = 60_000;

/// Kinds of history entries the instance writes itself (the quota counts them); the
/// supervisor's own entries (state transitions) are always kept.
const INSTANCE_KINDS: [&str; 4] = ["stdout", "stderr", "log", "event"];

enum Record {
    Event(EventRow),
    Status(String, Option<String>),
    /// Answered once everything sent before it is stored.
    Flush(tokio::sync::oneshot::Sender<()>),
}

pub struct AgentLink {
    mailbox: tokio::sync::Mutex<super::mailbox::MailboxReceiver>,
    stop: watch::Sender<bool>,
    last_beat: AtomicI64,
    seq: AtomicI64,
    writer: mpsc::UnboundedSender<Record>,
    /// The current instance's line joiner and redactor.
    lines: Lines,
    /// Ends the current instance (forced stop, hang watchdog).
    pub(super) kill: Mutex<CancellationToken>,
    /// The history quota of the current interval, and when that interval began.
    budget: LogBudget,
    window_start: AtomicI64,
}

impl AgentLink {
    /// A link for agent `id`, with the sender side of its mailbox (which holds at most
    /// `mailbox_len` messages the instance has not read).
    /// What it stores is for the agent's claim in `holder`.
    pub async fn open(
        db: Db,
        holder: Claimed,
        budget: LogBudget,
        mailbox_len: usize,
    ) -> sqlx::Result<(std::sync::Arc<Self>, super::mailbox::MailboxSender)> {
        let id = holder.id.clone();
        let first_seq = db::agents::next_event_seq(&db, &id).await?;
        let (to_mailbox, mailbox) = super::mailbox::mailbox(mailbox_len);
        let (writer, mut records) = mpsc::unbounded_channel::<Record>();
        tokio::spawn(async move {
            let mut written = 0u32;
            while let Some(first) = records.recv().await {
                let mut batch = Vec::new();
                let mut flushed = Vec::new();
                for record in
                    std::iter::once(first).chain(std::iter::from_fn(|| records.try_recv().ok()))
                {
                    match record {
                        Record::Event(row) => batch.push(row),
                        Record::Status(text, metrics) => {
                            let held = holder.held();
                            if let Err(e) =
                                db::agents::set_status(&db, &held, &text, metrics.as_deref()).await
                            {
                                tracing::warn!(agent = %id, error = %e, "storing agent status");
                            }
                        }
                        Record::Flush(done) => flushed.push(done),
                    }
                }
                if let Err(e) = db::agents::append_events(&db, &holder.held(), &batch).await {
                    tracing::warn!(agent = %id, error = %e, "storing agent events");
                }
                for done in flushed {
                    let _ = done.send(());
                }
                written = written.wrapping_add(1);
                if written.is_multiple_of(500) {
                    let _ = db::agents::trim_events(&db, &id, KEEP_EVENTS).await;
                }
            }
        });
        let link = Self {
            mailbox: tokio::sync::Mutex::new(mailbox),
            stop: watch::channel(false).0,
            last_beat: AtomicI64::new(now_ms()),
            seq: AtomicI64::new(first_seq),
            writer,
            lines: Lines::default(),
            kill: Mutex::new(CancellationToken::new()),
            budget,
            window_start: AtomicI64::new(now_ms()),
        };
        Ok((std::sync::Arc::new(link), to_mailbox))
    }

    /// Record an entry of the agent's history, scrubbed of the instance's secrets.
    /// What the instance writes counts against its quota per interval: past it, one
    /// marker entry, and at the next interval one entry counting what was dropped.
    pub fn record(&self, kind: &str, body: Value) {
        if INSTANCE_KINDS.contains(&kind) {
            self.close_window(false);
            let size = match &body {
                Value::String(text) => text.len(),
                other => other.to_string().len(),
            };
            match self.budget.admit(size) {
                Admit::Store => {}
                Admit::Marker(marker) => return self.store("system", Value::String(marker)),
                Admit::Drop => return,
            }
        }
        self.store(kind, body);
    }

    /// Start a new quota interval when the current one is over (or `now`), recording
    /// how much the last one dropped.
    fn close_window(&self, now: bool) {
        let start = self.window_start.load(Ordering::Relaxed);
        let at = now_ms();
        if (now || at - start >= BUDGET_WINDOW_MS)
            && self
                .window_start
                .compare_exchange(start, at, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            && let Some(dropped) = self.budget.close()
        {
            self.store("system", Value::String(dropped));
        }
    }

    fn store(&self, kind: &str, body: Value) {
        let row = EventRow {
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            at: now_ms(),
            kind: kind.to_owned(),
            body: self.lines.scrub_value(body).to_string(),
        };
        let _ = self.writer.send(Record::Event(row));
    }

    /// Wait until every event recorded so far is stored.
    pub async fn flush(&self) {
        let (done, stored) = tokio::sync::oneshot::channel();
        if self.writer.send(Record::Flush(done)).is_ok() {
            let _ = stored.await;
        }
    }

    /// Ask the instance to stop (it sees `stop_requested`, its sleep and receive end).
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    /// A fresh instance starts: not stopping, alive now, a new kill switch, no output
    /// pending, and its secrets (`redact`) to scrub from what it records.
    pub fn reset_for_instance(&self, redact: Vec<String>) -> CancellationToken {
        self.lines.reset(redact);
        self.stop.send_replace(false);
        self.last_beat.store(now_ms(), Ordering::Relaxed);
        let token = CancellationToken::new();
        *self.kill.lock().unwrap_or_else(|e| e.into_inner()) = token.clone();
        token
    }

    /// Record the instance's output still waiting for a line end; call when it is over.
    pub fn end_instance(&self) {
        for (stream, text) in self.lines.rest() {
            self.record(stream_name(stream), Value::String(text));
        }
        self.close_window(true);
    }

    pub fn kill_instance(&self) {
        self.kill.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    }

    pub fn last_beat(&self) -> i64 {
        self.last_beat.load(Ordering::Relaxed)
    }
}

impl AgentChannel for AgentLink {
    fn receive(&self, timeout: Duration) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let mut stop = self.stop.subscribe();
            if *stop.borrow() {
                return None;
            }
            let mut mailbox = self.mailbox.lock().await;
            tokio::select! {
                message = mailbox.recv() => message,
                () = tokio::time::sleep(timeout) => None,
                _ = stop.wait_for(|s| *s) => None,
            }
        })
    }

    fn emit(&self, value_json: String) {
        let body = serde_json::from_str(&value_json).unwrap_or(Value::String(value_json));
        self.record("event", body);
    }

    fn set_status(&self, text: String, metrics: Option<Value>) {
        let text = self.lines.scrub(text);
        let metrics = metrics.map(|m| self.lines.scrub_value(m).to_string());
        let _ = self.writer.send(Record::Status(text, metrics));
    }

    fn stop_requested(&self) -> bool {
        *self.stop.borrow()
    }

    fn stopped(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut stop = self.stop.subscribe();
            let _ = stop.wait_for(|s| *s).await;
        })
    }

    fn heartbeat(&self) {
        self.last_beat.store(now_ms(), Ordering::Relaxed);
    }
}

impl RunEvents for AgentLink {
    fn also_redact(&self, secret: &str) {
        self.lines.also_redact(secret);
    }

    fn output(&self, stream: OutputStream, chunk: &[u8]) {
        if let Some(text) = self.lines.output(stream, chunk) {
            self.record(stream_name(stream), Value::String(text));
        }
    }

    fn log(&self, level: LogLevel, message: &str, fields: Option<&Value>) {
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        };
        self.record(
            "log",
            json!({"level": level, "message": message, "fields": fields}),
        );
    }
}
