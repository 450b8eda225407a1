//! Jobs: a queue in the database, a pool of workers that claim from it atomically and
//! run scripts in the sandbox, live logs, cancellation and crash recovery.

mod due;
pub mod events;
mod notify;
pub mod params;
mod persist;
mod prepared;
pub mod settings;
mod signals;
mod worker;

use crate::db::scripts::{ScriptRow, VersionRow};
use crate::db::{self, Db, jobs::JobRow};
use crate::signals::{Signal, Signals};
use automa_runtime::{CancellationToken, Runtime};
use events::LogEntry;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, broadcast};

/// Why a run could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    InvalidArguments(#[from] params::InvalidArguments),
    /// The script's settings are over its owner's ceilings.
    #[error("{0}")]
    OverQuota(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The script's stored settings do not decode.
    #[error(transparent)]
    Corrupt(#[from] db::decode::CorruptRow),
}

/// The largest output (result, error, stdout, stderr) of a row sent with its job's
/// finished announcement.
const ANNOUNCED_ROW_BYTES: usize = 16 << 10;

/// A job that reached a final state or went back to the queue, with its row as stored
/// when this node ended it: a waiter here has it without reading it.
#[derive(Debug, Clone)]
pub struct Finished {
    pub id: String,
    pub row: Option<Arc<JobRow>>,
}

/// A job ready to queue: its arguments checked, its settings within the ceilings.
struct CheckedJob<'a> {
    script: &'a ScriptRow,
    version: i64,
    trigger: &'a str,
    args: String,
    max_attempts: i64,
}

impl CheckedJob<'_> {
    fn row(&self) -> db::jobs::NewJob<'_> {
        db::jobs::NewJob {
            script_id: &self.script.id,
            script_version: self.version,
            owner_id: &self.script.owner_id,
            trigger: self.trigger,
            args: &self.args,
            max_attempts: self.max_attempts,
        }
    }
}

/// The job system of one server process.
#[derive(Clone)]
pub struct Jobs(Arc<Inner>);

struct Inner {
    db: Db,
    runtime: Arc<Runtime>,
    /// This node's identity in `jobs.worker_id`, stable across restarts so that
    /// recovery finds the jobs it left running.
    node_id: String,
    data_dir: PathBuf,
    /// Job workers of this node; 0 on a node that runs no jobs (`--role api`).
    workers: usize,
    wake: Notify,
    /// Whether an idle worker need ask when the next delayed job comes due.
    delays: due::Delays,
    running: Mutex<HashMap<String, CancellationToken>>,
    /// Jobs this node gave up (it lost its lease): their outcome is not stored here,
    /// the job is recovered like a crashed node's.
    abandoned: Mutex<HashSet<String>>,
    /// Set while this node hands back what it held (its lease lapsed): no claims.
    paused: std::sync::atomic::AtomicBool,
    signals: Signals,
    live: Mutex<HashMap<String, broadcast::Sender<LogEntry>>>,
    finished: broadcast::Sender<Finished>,
    /// Builds each job's run from its script version and grants.
    runs: crate::runs::Runs,
    /// What jobs queued here just now run from, for the worker that claims them.
    prepared: prepared::PreparedRuns,
}

/// What the job system is built from.
pub struct JobsSetup {
    pub db: Db,
    pub runtime: Arc<Runtime>,
    pub data_dir: PathBuf,
    /// Job workers to run; 0: this node runs no jobs.
    pub workers: usize,
    pub runs: crate::runs::Runs,
    pub node_id: String,
    pub signals: Signals,
}

impl Jobs {
    pub fn new(setup: JobsSetup) -> anyhow::Result<Self> {
        let JobsSetup {
            db,
            runtime,
            data_dir,
            workers,
            runs,
            node_id,
            signals,
        } = setup;
        Ok(Self(Arc::new(Inner {
            db,
            runtime,
            node_id,
            data_dir,
            workers,
            wake: Notify::new(),
            delays: due::Delays::new(signals.is_shared()),
            running: Mutex::default(),
            abandoned: Mutex::default(),
            paused: std::sync::atomic::AtomicBool::new(false),
            signals,
            live: Mutex::default(),
            finished: broadcast::channel(1024).0,
            runs,
            prepared: prepared::PreparedRuns::default(),
        })))
    }

    /// What runs are built from.
    pub fn runs(&self) -> &crate::runs::Runs {
        &self.0.runs
    }

    /// The server's quotas.
    pub fn quotas(&self) -> &crate::quotas::Quotas {
        self.0.runs.quotas()
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.0.runtime
    }

    /// The plugin registry the jobs call into.
    pub fn plugins(&self) -> &crate::plugins::Plugins {
        self.0.runs.plugins()
    }

    /// The store of scripts' Python dependencies.
    pub fn packages(&self) -> &crate::packages::Packages {
        self.0.runs.packages()
    }

    /// Recover what a previous run of this node left running, then start the workers
    /// (none on a node that runs no jobs) and the listener for other nodes' signals.
    pub async fn start(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tokio::spawn(signals::follow(self.clone(), shutdown.clone()));
        if self.0.workers == 0 {
            return Ok(());
        }
        self.recover_node(&self.0.node_id, worker::RESTART_NOTE)
            .await?;
        for n in 0..self.0.workers {
            let jobs = self.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { worker::work(jobs, n, shutdown).await });
        }
        Ok(())
    }

    /// Retry or interrupt the jobs `node` left running (see [`worker::recover_node`]),
    /// and tell the workers of every node that there is work.
    pub async fn recover_node(&self, node: &str, note: &str) -> anyhow::Result<usize> {
        let recovered = worker::recover_node(&self.0.db, node, note).await?;
        if !recovered.is_empty() {
            self.0.wake.notify_waiters();
            self.0.signals.tell_others(Signal::JobQueued);
        }
        for id in &recovered {
            self.announce_finished(id);
        }
        Ok(recovered.len())
    }

    /// This node lost its lease: stop every run here without storing an outcome (the
    /// jobs belong to the queue again). Returns how many were running.
    pub fn abandon_all(&self) -> usize {
        let running: Vec<(String, CancellationToken)> = self
            .lock_running()
            .iter()
            .map(|(id, token)| (id.clone(), token.clone()))
            .collect();
        let mut abandoned = self.0.abandoned.lock().unwrap_or_else(|e| e.into_inner());
        for (id, token) in &running {
            abandoned.insert(id.clone());
            token.cancel();
        }
        running.len()
    }

    /// Stop (or resume) claiming new jobs on this node.
    pub fn pause_claims(&self, paused: bool) {
        self.0
            .paused
            .store(paused, std::sync::atomic::Ordering::SeqCst);
    }

    fn claims_paused(&self) -> bool {
        self.0.paused.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// This node shuts down cleanly: stop claiming, end the runs here and put their
    /// jobs back in the queue as they were (the attempt does not count), so the other
    /// nodes take them at once. Returns how many went back.
    pub async fn hand_back_all(&self, note: &str) -> anyhow::Result<usize> {
        self.pause_claims(true);
        self.abandon_all();
        let db = &self.0.db;
        let mut handed = 0;
        for job in db::jobs::running_on(db, &self.0.node_id).await? {
            if !db::jobs::hand_back(db, &job.id, db::jobs::Claim::of(&job)).await? {
                continue;
            }
            handed += 1;
            let line = format!("{note}; the job goes back to the queue");
            db::jobs::append_system_line(db, &job.id, line).await?;
        }
        if handed > 0 {
            self.0.signals.tell_others(Signal::JobQueued);
        }
        Ok(handed)
    }

    /// Jobs running in this process now.
    pub fn running_count(&self) -> usize {
        self.lock_running().len()
    }

    /// This node's job workers (0 when it runs no jobs).
    pub fn workers(&self) -> usize {
        self.0.workers
    }

    pub fn node_id(&self) -> &str {
        &self.0.node_id
    }

    /// Whether this node gave the job up; forgets it.
    fn take_abandoned(&self, id: &str) -> bool {
        self.0
            .abandoned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// Tell waiters here and on other nodes that the job reached a final state (or
    /// went back to the queue).
    fn announce_finished(&self, id: &str) {
        self.announce_ended(id, None);
    }

    /// [`Jobs::announce_finished`] with the job's final row, when there is one and it
    /// is small: the channel holds its last announcements until every listener has read
    /// them, and a waiter reads a large row from the database anyway.
    fn announce_ended(&self, id: &str, row: Option<JobRow>) {
        let size = |row: &JobRow| {
            [&row.result, &row.error, &row.stdout, &row.stderr]
                .iter()
                .map(|text| text.as_ref().map_or(0, String::len))
                .sum::<usize>()
        };
        let row = row.filter(|row| size(row) <= ANNOUNCED_ROW_BYTES);
        let _ = self.0.finished.send(Finished {
            id: id.to_owned(),
            row: row.map(Arc::new),
        });
        self.0
            .signals
            .tell_others(Signal::JobFinished { job: id.to_owned() });
    }

    /// Queue a job and wake a worker.
    pub async fn enqueue(&self, job: &db::jobs::NewJob<'_>) -> sqlx::Result<JobRow> {
        let row = db::jobs::insert(&self.0.db, job).await?;
        self.queued();
        Ok(row)
    }

    /// Wake a worker here and tell the other nodes.
    fn queued(&self) {
        self.0.wake.notify_one();
        self.0.signals.tell_others(Signal::JobQueued);
        metrics::counter!("jobs_queued_total").increment(1);
    }

    /// Check `args` against the version's signature and queue a run of it.
    pub async fn submit(
        &self,
        script: &ScriptRow,
        version: &VersionRow,
        args: &serde_json::Value,
        trigger: &str,
    ) -> Result<JobRow, SubmitError> {
        let ceilings = self.0.runs.ceilings(&script.owner_id).await?;
        let job = self.checked(script, version, args, trigger, &ceilings)?;
        Ok(self.enqueue(&job.row()).await?)
    }

    /// [`Jobs::submit`] of what `db::run_source` read: the script, its version and its
    /// owner's quota overrides, kept for the worker here that claims the job at once.
    /// `read_at`: when it was read.
    pub async fn submit_source(
        &self,
        source: db::run_source::RunSource,
        read_at: Instant,
        version: VersionRow,
        args: &serde_json::Value,
        trigger: &str,
    ) -> Result<JobRow, SubmitError> {
        let ceilings = crate::quotas::Ceilings::of(self.quotas(), &source.quotas);
        let job = self.checked(&source.script, &version, args, trigger, &ceilings)?;
        let row = db::jobs::insert(&self.0.db, &job.row()).await?;
        let source = db::run_source::RunSource {
            version: Some(version),
            ..source
        };
        if self.0.workers > 0 {
            self.0.prepared.keep(&row.id, read_at, source);
        }
        self.queued();
        Ok(row)
    }

    /// A job of `version` with `args` checked against its parameters, its script's
    /// settings within the owner's `ceilings`.
    fn checked<'a>(
        &self,
        script: &'a ScriptRow,
        version: &VersionRow,
        args: &serde_json::Value,
        trigger: &'a str,
        ceilings: &crate::quotas::Ceilings,
    ) -> Result<CheckedJob<'a>, SubmitError> {
        let args = params::validate_for(&version.parameter_schema()?, args)?;
        let settings: settings::RunSettings = script.run_settings()?;
        if let Some(refusal) = settings.ceiling_refusal(ceilings) {
            return Err(SubmitError::OverQuota(refusal));
        }
        Ok(CheckedJob {
            script,
            version: version.version,
            trigger,
            args: serde_json::Value::Object(args).to_string(),
            max_attempts: i64::from(settings.retries) + 1,
        })
    }

    /// Queue a job under a chosen id.
    pub async fn enqueue_with_id(
        &self,
        id: &str,
        job: &db::jobs::NewJob<'_>,
    ) -> sqlx::Result<JobRow> {
        let row = db::jobs::insert_with_id(&self.0.db, id, job).await?;
        self.queued();
        Ok(row)
    }

    /// Wait until the job reaches a final status or `timeout` passes; returns the row
    /// as it is then.
    pub async fn wait(&self, job_id: &str, timeout: Duration) -> sqlx::Result<Option<JobRow>> {
        let finished = self.0.finished.subscribe();
        self.wait_on(finished, job_id, timeout, true).await
    }

    /// [`Jobs::wait`] for a job queued after `finished` was taken ([`Jobs::finished`]):
    /// its end cannot have been announced before, so its row is first read once it is
    /// (or after the poll's pause), not at once.
    pub async fn wait_queued(
        &self,
        finished: broadcast::Receiver<Finished>,
        job_id: &str,
        timeout: Duration,
    ) -> sqlx::Result<Option<JobRow>> {
        self.wait_on(finished, job_id, timeout, false).await
    }

    async fn wait_on(
        &self,
        mut finished: broadcast::Receiver<Finished>,
        job_id: &str,
        timeout: Duration,
        mut read_now: bool,
    ) -> sqlx::Result<Option<JobRow>> {
        let deadline = Instant::now() + timeout;
        loop {
            if read_now {
                let row = db::jobs::find(&self.0.db, job_id).await?;
                match &row {
                    Some(r) if r.job_status().is_ok_and(|s| !s.is_final()) => {}
                    _ => return Ok(row),
                }
                if deadline <= Instant::now() {
                    return Ok(row);
                }
            }
            read_now = true;
            let left = deadline.saturating_duration_since(Instant::now());
            // A finish on another node comes as a signal; the cap covers a lost one.
            let poll = left.min(Duration::from_millis(500));
            let heard = tokio::time::timeout(poll, async {
                loop {
                    match finished.recv().await {
                        Ok(ended) if ended.id == job_id => return ended.row,
                        Ok(_) => {}
                        // Announcements were missed, maybe this job's: read it again.
                        Err(_) => return None,
                    }
                }
            })
            .await;
            // The row its worker here stored, when final: no need to read it again.
            if let Ok(Some(row)) = heard
                && row.job_status().is_ok_and(|s| s.is_final())
            {
                return Ok(Some(Arc::unwrap_or_clone(row)));
            }
        }
    }

    /// Cancel a queued or running job; returns its status afterwards. A job running on
    /// another node is ended there (a signal; its node also polls for cancels). A job
    /// `running` on a node that no longer runs it (its final update failed, or the
    /// node is gone) is ended at once.
    pub async fn cancel(&self, job_id: &str) -> sqlx::Result<Option<String>> {
        let mut status = db::jobs::request_cancel(&self.0.db, job_id).await?;
        let token = self.lock_running().get(job_id).cloned();
        if let Some(token) = token {
            token.cancel();
        } else if status.as_deref() == Some("running") {
            let holder = db::jobs::find(&self.0.db, job_id)
                .await?
                .and_then(|job| job.worker_id)
                .unwrap_or_default();
            let elsewhere =
                holder != self.0.node_id && db::nodes::is_live(&self.0.db, &holder).await?;
            if elsewhere {
                self.0.signals.tell_others(Signal::JobCancel {
                    job: job_id.to_owned(),
                });
            } else if db::jobs::cancel_stuck(&self.0.db, job_id, &holder).await? {
                tracing::warn!(job = %job_id, node = %holder, "cancelled a job no worker was running");
                status = Some("cancelled".to_owned());
            }
        }
        if status.as_deref() == Some("cancelled") {
            self.announce_finished(job_id);
        }
        Ok(status)
    }

    /// Cancel the run of `job_id` if it runs here (a signal from another node).
    fn cancel_local(&self, job_id: &str) {
        if let Some(token) = self.lock_running().get(job_id) {
            token.cancel();
        }
    }

    /// Live log entries of a job running in this process.
    pub fn subscribe(&self, job_id: &str) -> Option<broadcast::Receiver<LogEntry>> {
        self.lock_live()
            .get(job_id)
            .map(broadcast::Sender::subscribe)
    }

    /// Notified with a job id whenever a job finishes in this process.
    pub fn finished(&self) -> broadcast::Receiver<Finished> {
        self.0.finished.subscribe()
    }

    /// Where a job's artifacts are kept.
    pub fn artifacts_dir(&self, job_id: &str) -> PathBuf {
        self.0.data_dir.join("jobs").join(job_id).join("artifacts")
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.0.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<LogEntry>>> {
        self.0.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}
