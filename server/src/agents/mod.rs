//! Agents: long-running sandboxed scripts under supervision. Each running agent has a
//! supervisor task that starts an instance, watches it (exit, hang), and restarts it
//! per its policy with exponential backoff, until it is stopped or turns `fatal`.

mod link;
mod supervise;

use crate::audit::AuditLog;
use crate::db::{self, Db};
use automa_runtime::{CancellationToken, Runtime};
use link::AgentLink;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The agent supervisor of one server process.
#[derive(Clone)]
pub struct Agents(Arc<Inner>);

struct Inner {
    db: Db,
    runtime: Arc<Runtime>,
    audit: AuditLog,
    /// Builds each instance's run exactly as a job of the same script is built.
    runs: crate::runs::Runs,
    running: Mutex<HashMap<String, Handle>>,
    generation: std::sync::atomic::AtomicU64,
}

struct Handle {
    /// Tells this supervision apart from an earlier or later one of the same agent.
    generation: u64,
    link: Arc<AgentLink>,
    mailbox: mpsc::UnboundedSender<String>,
    /// Ends supervision: no more restarts.
    control: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// Why an agent operation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the agent is not running")]
    NotRunning,
    /// The owner already runs as many agents as their ceiling allows.
    #[error("{0}")]
    OverQuota(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Agents {
    pub fn new(db: Db, runtime: Arc<Runtime>, audit: AuditLog, runs: crate::runs::Runs) -> Self {
        Self(Arc::new(Inner {
            db,
            runtime,
            audit,
            runs,
            running: Mutex::default(),
            generation: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Handle>> {
        self.0.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After a server start: no agent may claim to run, then the autostart ones start.
    pub async fn boot(&self) -> anyhow::Result<()> {
        let corrected = db::agents::reset_after_restart(&self.0.db).await?;
        if corrected > 0 {
            tracing::info!(corrected, "agents marked stopped after a restart");
        }
        for id in db::agents::autostart_ids(&self.0.db).await? {
            match self.start(&id, "autostart at server start").await {
                Err(AgentError::OverQuota(why)) => {
                    tracing::warn!(agent = %id, reason = %why, "autostart refused");
                }
                other => other?,
            }
        }
        Ok(())
    }

    /// Start supervising the agent; nothing happens when it already runs.
    pub async fn start(&self, id: &str, reason: &str) -> Result<(), AgentError> {
        if self.lock().contains_key(id) {
            return Ok(());
        }
        self.within_agent_ceiling(id).await?;
        // Callers (the API, boot) see `starting` at once, not the state before.
        db::agents::set_state(&self.0.db, id, "starting", Some(reason), false).await?;
        let (link, mailbox) = AgentLink::open(
            self.0.db.clone(),
            id.to_owned(),
            self.0.runs.quotas().agent_log_budget(),
        )
        .await?;
        let control = CancellationToken::new();
        let generation = self
            .0
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let task = tokio::spawn(supervise::supervise(
            self.clone(),
            id.to_owned(),
            link.clone(),
            control.clone(),
            reason.to_owned(),
            generation,
        ));
        let mut running = self.lock();
        if running.contains_key(id) {
            control.cancel();
            task.abort();
            return Ok(());
        }
        running.insert(
            id.to_owned(),
            Handle {
                generation,
                link,
                mailbox,
                control,
                task,
            },
        );
        Ok(())
    }

    /// `Ok` when the agent's owner runs fewer agents than their ceiling allows.
    async fn within_agent_ceiling(&self, id: &str) -> Result<(), AgentError> {
        let Some(agent) = db::agents::find(&self.0.db, id).await? else {
            return Ok(());
        };
        let ceiling = self.0.runs.ceilings(&agent.owner_id).await?.agents;
        let others = db::agents::list_ids_of(&self.0.db, &agent.owner_id).await?;
        let running = others
            .iter()
            .filter(|other| other.as_str() != id && self.is_supervised(other))
            .count() as u64;
        if running >= ceiling {
            return Err(AgentError::OverQuota(format!(
                "the owner already runs {running} agents, their ceiling; stop one first, or an \
                 admin can raise the ceiling for this user (PUT /api/v1/users/{{id}}/quotas)"
            )));
        }
        Ok(())
    }

    /// Stop politely: the instance sees the stop request; after `grace` it is ended.
    pub async fn stop(&self, id: &str, grace: Duration) -> Result<(), AgentError> {
        let Some(handle) = self.lock().remove(id) else {
            return Err(AgentError::NotRunning);
        };
        handle.control.cancel();
        handle.link.request_stop();
        let mut task = handle.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            handle.link.kill_instance();
            let _ = tokio::time::timeout(Duration::from_secs(10), &mut task).await;
        }
        // The next start reads the history's last sequence number: it must be stored.
        handle.link.flush().await;
        Ok(())
    }

    /// Deliver a message to the running agent's mailbox.
    pub fn send(&self, id: &str, body: String) -> Result<(), AgentError> {
        let running = self.lock();
        let handle = running.get(id).ok_or(AgentError::NotRunning)?;
        handle
            .mailbox
            .send(body)
            .map_err(|_| AgentError::NotRunning)
    }

    pub fn is_supervised(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// Called by a supervisor task when it ends by itself (exited, fatal).
    fn forget(&self, id: &str, generation: u64) {
        let mut running = self.lock();
        if running.get(id).is_some_and(|h| h.generation == generation) {
            running.remove(id);
        }
    }

    /// Stop every agent (server shutdown) without changing their autostart flags.
    pub async fn shutdown(&self) {
        let ids: Vec<String> = self.lock().keys().cloned().collect();
        for id in ids {
            let _ = self.stop(&id, Duration::from_secs(5)).await;
        }
    }
}
