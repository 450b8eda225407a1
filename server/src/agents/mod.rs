//! Agents: long-running sandboxed scripts under supervision. Each running agent has a
//! supervisor task that starts an instance, watches it (exit, hang), and restarts it
//! per its policy with exponential backoff, until it is stopped or turns `fatal`.

mod link;
mod mailbox;
mod placement;
mod supervise;

use crate::audit::{AuditEvent, AuditLog};
use crate::db::{self, Db, agents::AgentState};
use crate::signals::{Signal, Signals};
use automa_runtime::{CancellationToken, Runtime};
use link::AgentLink;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use mailbox::{MAILBOX_BYTES, MAILBOX_LEN, MESSAGE_MAX_BYTES};

/// The agent supervisor of one node. On a node that runs no agents (`--role api`),
/// starting an agent asks the nodes that do ([`placement`]).
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
    node_id: String,
    /// Whether this node runs agents.
    runs_here: bool,
    signals: Signals,
    /// Set while this node hands back what it held (its lease lapsed): no claims.
    paused: std::sync::atomic::AtomicBool,
}

struct Handle {
    /// Tells this supervision apart from an earlier or later one of the same agent.
    generation: u64,
    /// The agent's claim this supervision runs under (the database's fence).
    claim: i64,
    link: Arc<AgentLink>,
    mailbox: mailbox::MailboxSender,
    /// Ends supervision: no more restarts.
    control: CancellationToken,
    /// This node lost the agent (its lease): end here without recording anything.
    abandon: CancellationToken,
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
    #[error(
        "the agent's mailbox is full ({MAILBOX_LEN} unread messages or {} MiB); try again later",
        MAILBOX_BYTES >> 20
    )]
    MailboxFull,
    #[error("a message may be at most {} KiB of JSON", MESSAGE_MAX_BYTES >> 10)]
    MessageTooLarge,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The agent's stored row does not decode (its state, say): not acted on by a guess.
    #[error(transparent)]
    Corrupt(#[from] db::decode::CorruptRow),
}

/// Where the agents of this node run.
pub struct AgentsNode {
    pub node_id: String,
    pub runs_here: bool,
    pub signals: Signals,
}

impl Agents {
    pub fn new(
        db: Db,
        runtime: Arc<Runtime>,
        audit: AuditLog,
        runs: crate::runs::Runs,
        node: AgentsNode,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            runtime,
            audit,
            runs,
            running: Mutex::default(),
            generation: std::sync::atomic::AtomicU64::new(0),
            node_id: node.node_id,
            runs_here: node.runs_here,
            signals: node.signals,
            paused: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Handle>> {
        self.0.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After this node starts: none of its agents may claim to run, then the autostart
    /// ones start, and this node begins taking agents that wait for a node.
    ///
    /// `autostart` means "start with the server"; on a cluster, with the cluster: by
    /// the first node up (an API node places them for the workers). A node joining a
    /// cluster that runs leaves agents' states alone, so one stopped by hand stays so.
    pub async fn boot(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let shared = self.0.signals.is_shared();
        let first_up = !shared || !self.other_nodes_live().await?;
        if !self.0.runs_here {
            if first_up {
                self.autostart().await?;
            }
            return Ok(());
        }
        if shared {
            // A cluster node back from a crash: what it ran restarts by its policy (here
            // or on another node), as if another node had taken it over.
            let note = format!("node {} restarted", self.0.node_id);
            let moved = self.fail_over(&self.0.node_id, &note).await?;
            if moved > 0 {
                tracing::info!(moved, "agents of this node's previous run wait for a node");
            }
        } else {
            let corrected = db::agents::reset_after_restart(&self.0.db).await?;
            if corrected > 0 {
                tracing::info!(corrected, "agents marked stopped after a restart");
            }
        }
        if first_up {
            self.autostart().await?;
        } else {
            tracing::info!("joined a running cluster: agents keep their states");
        }
        tokio::spawn(placement::follow(self.clone(), shutdown));
        Ok(())
    }

    async fn other_nodes_live(&self) -> sqlx::Result<bool> {
        let now = db::nodes::db_now(&self.0.db).await?;
        let others = db::nodes::others_alive(&self.0.db, &self.0.node_id, now).await?;
        Ok(!others.is_empty())
    }

    async fn autostart(&self) -> anyhow::Result<()> {
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

    /// Stop (or resume) taking agents on this node.
    pub fn pause_claims(&self, paused: bool) {
        self.0
            .paused
            .store(paused, std::sync::atomic::Ordering::SeqCst);
    }

    /// Start supervising the agent; nothing happens when it already runs (here or on
    /// another live node). On a node that runs no agents, it waits for one that does.
    pub async fn start(&self, id: &str, reason: &str) -> Result<(), AgentError> {
        self.start_as(id, reason, false).await
    }

    /// Take an agent that waits for a node (placement): only while it still waits.
    pub(super) async fn take_waiting(&self, id: &str, reason: &str) -> Result<(), AgentError> {
        self.start_as(id, reason, true).await
    }

    async fn start_as(&self, id: &str, reason: &str, only_waiting: bool) -> Result<(), AgentError> {
        if self.lock().contains_key(id) {
            return Ok(());
        }
        self.within_agent_ceiling(id).await?;
        let now = db::nodes::db_now(&self.0.db).await?;
        // A node that runs no agents, or is handing its work back: another node takes it.
        if !self.0.runs_here || self.0.paused.load(std::sync::atomic::Ordering::SeqCst) {
            if db::agents::request_placement(&self.0.db, id, reason, now).await? {
                self.0.signals.publish(Signal::AgentsPending);
            }
            return Ok(());
        }
        // Callers (the API, boot) see `starting` at once, not the state before.
        let node = &self.0.node_id;
        let Some(claim) =
            db::agents::claim(&self.0.db, id, node, reason, now, only_waiting).await?
        else {
            return Ok(());
        };
        let started = self.supervise_here(id, reason, claim).await;
        if started.is_err() {
            // Not left held by a node that does not run it.
            let _ = db::agents::move_off(&self.0.db, id, node, AgentState::Starting, reason).await;
        }
        started
    }

    /// Begin supervising an agent this node holds under `claim`.
    async fn supervise_here(&self, id: &str, reason: &str, claim: i64) -> Result<(), AgentError> {
        let (link, mailbox) = AgentLink::open(
            self.0.db.clone(),
            db::agents::Claimed {
                id: id.to_owned(),
                node: self.0.node_id.clone(),
                claim,
            },
            self.0.runs.quotas().agent_log_budget(),
            MAILBOX_LEN,
        )
        .await?;
        let control = CancellationToken::new();
        let abandon = CancellationToken::new();
        let generation = self
            .0
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let task = tokio::spawn(supervise::supervise(
            self.clone(),
            id.to_owned(),
            link.clone(),
            supervise::Tokens {
                control: control.clone(),
                abandon: abandon.clone(),
            },
            reason.to_owned(),
            supervise::Supervision { generation, claim },
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
                claim,
                link,
                mailbox,
                control,
                abandon,
                task,
            },
        );
        Ok(())
    }

    /// `Ok` when the agent's owner runs fewer agents than their ceiling allows (on
    /// every node).
    async fn within_agent_ceiling(&self, id: &str) -> Result<(), AgentError> {
        let Some(agent) = db::agents::find(&self.0.db, id).await? else {
            return Ok(());
        };
        let ceiling = self.0.runs.ceilings(&agent.owner_id).await?.agents;
        let running = db::agents::count_active_of(&self.0.db, &agent.owner_id, id).await?;
        let running = u64::try_from(running).unwrap_or(0);
        if running >= ceiling {
            return Err(AgentError::OverQuota(format!(
                "the owner already runs {running} agents, their ceiling; stop one first, or an \
                 admin can raise the ceiling for this user (PUT /api/v1/users/{{id}}/quotas)"
            )));
        }
        Ok(())
    }

    /// Stop politely: the instance sees the stop request; after `grace` it is ended.
    /// An agent running on another node is stopped there; one waiting for a node, or
    /// whose node is gone, is marked stopped.
    pub async fn stop(&self, id: &str, grace: Duration) -> Result<(), AgentError> {
        let handle = self.lock().remove(id);
        let Some(handle) = handle else {
            return self.stop_elsewhere(id, grace).await;
        };
        let held = db::agents::Held {
            id,
            node: &self.0.node_id,
            claim: handle.claim,
        };
        let _ = db::agents::set_state_held(
            &self.0.db,
            &held,
            AgentState::Stopping,
            "stop requested",
            false,
        )
        .await;
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

    async fn stop_elsewhere(&self, id: &str, grace: Duration) -> Result<(), AgentError> {
        let db = &self.0.db;
        let Some(row) = db::agents::find(db, id).await? else {
            return Err(AgentError::NotRunning);
        };
        if !row.agent_state()?.is_active() {
            return Err(AgentError::NotRunning);
        }
        let now = db::nodes::db_now(db).await?;
        if db::agents::stop_unheld(db, id, "stopped on request", now).await? {
            return Ok(());
        }
        let Some(holder) = row.node_id else {
            return Err(AgentError::NotRunning);
        };
        if !db::agents::request_stop(db, id, &holder).await? {
            return Err(AgentError::NotRunning);
        }
        self.0.signals.tell_others(Signal::AgentStop {
            agent: id.to_owned(),
        });
        // The holder stops it within its grace; wait for that, as a local stop does.
        let deadline = tokio::time::Instant::now() + grace + Duration::from_secs(15);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            match db::agents::find(db, id).await? {
                Some(row)
                    if row.agent_state()?.is_active()
                        && row.node_id.as_deref() == Some(&holder) => {}
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Deliver a message to the running agent's mailbox (on whichever node runs it).
    pub async fn send(&self, id: &str, body: String) -> Result<(), AgentError> {
        if body.len() > MESSAGE_MAX_BYTES {
            return Err(AgentError::MessageTooLarge);
        }
        let local = self.lock().get(id).map(|h| h.mailbox.clone());
        if let Some(mailbox) = local {
            return mailbox.offer(body).map_err(|e| match e {
                mailbox::Refused::Full => AgentError::MailboxFull,
                mailbox::Refused::Closed => AgentError::NotRunning,
            });
        }
        let db = &self.0.db;
        let row = db::agents::find(db, id)
            .await?
            .ok_or(AgentError::NotRunning)?;
        let held = match &row.node_id {
            Some(node) => row.agent_state()?.is_active() && db::nodes::is_live(db, node).await?,
            None => false,
        };
        if !held {
            return Err(AgentError::NotRunning);
        }
        let bounds = db::agents::MailboxBounds {
            messages: i64::try_from(MAILBOX_LEN).unwrap_or(i64::MAX),
            bytes: i64::try_from(MAILBOX_BYTES).unwrap_or(i64::MAX),
        };
        if !db::agents::push_message(db, id, &body, bounds).await? {
            return Err(AgentError::MailboxFull);
        }
        self.0.signals.tell_others(Signal::AgentMessage {
            agent: id.to_owned(),
        });
        Ok(())
    }

    /// Move the messages queued in the database for `id` into its mailbox here, as
    /// many as its bounds leave room for (the others wait there, under the same bounds).
    async fn deliver_queued(&self, id: &str) {
        let Some(mailbox) = self.lock().get(id).map(|h| h.mailbox.clone()) else {
            return;
        };
        let room = i64::try_from(mailbox.room()).unwrap_or(0);
        let bytes = mailbox.room_bytes();
        if room == 0 || bytes == 0 {
            return;
        }
        match db::agents::take_messages(&self.0.db, id, room, bytes).await {
            Ok(bodies) => {
                for body in bodies {
                    let _ = mailbox.hand_over(body);
                }
            }
            Err(e) => tracing::warn!(agent = %id, error = %e, "taking queued agent messages"),
        }
    }

    /// Whether the agent runs here.
    pub fn is_supervised(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// Whether the agent is wanted running: here, on another node, or waiting for one.
    pub async fn is_active(&self, id: &str) -> Result<bool, AgentError> {
        if self.is_supervised(id) {
            return Ok(true);
        }
        match db::agents::find(&self.0.db, id).await? {
            Some(row) => Ok(row.agent_state()?.is_active()),
            None => Ok(false),
        }
    }

    /// Agents supervised on this node now.
    pub fn running_count(&self) -> usize {
        self.lock().len()
    }

    /// Called by a supervisor task when it ends by itself (exited, fatal).
    fn forget(&self, id: &str, generation: u64) {
        let mut running = self.lock();
        if running.get(id).is_some_and(|h| h.generation == generation) {
            running.remove(id);
        }
    }

    /// This node lost its lease: end every instance here, recording nothing (the
    /// agents may run elsewhere already). Returns how many there were.
    pub async fn abandon_all(&self) -> usize {
        self.end_all_here(Duration::ZERO).await
    }

    /// End every instance here without recording anything: each is asked to stop and
    /// given up to `grace` (all together) before it is ended.
    async fn end_all_here(&self, grace: Duration) -> usize {
        let handles: Vec<Handle> = self.lock().drain().map(|(_, handle)| handle).collect();
        let count = handles.len();
        for handle in &handles {
            handle.abandon.cancel();
            handle.control.cancel();
            handle.link.request_stop();
        }
        let deadline = tokio::time::Instant::now() + grace;
        for handle in handles {
            let mut task = handle.task;
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                handle.link.kill_instance();
                if tokio::time::timeout(Duration::from_secs(10), &mut task)
                    .await
                    .is_err()
                {
                    task.abort();
                }
            }
        }
        count
    }

    /// The agents `node` held (it is gone, or it is this node giving up): by their
    /// restart policy they wait for another node, or end. Returns how many moved.
    pub async fn fail_over(&self, node: &str, note: &str) -> sqlx::Result<usize> {
        self.move_agents_off(node, note, false).await
    }

    /// Move `node`'s agents off it; `everything`: whatever their restart policy (a
    /// clean shutdown is not the agent failing).
    async fn move_agents_off(
        &self,
        node: &str,
        note: &str,
        everything: bool,
    ) -> sqlx::Result<usize> {
        let mut moved = 0;
        for agent in db::agents::held_by(&self.0.db, node).await? {
            let current = match agent.agent_state() {
                Ok(current) => current,
                // Neither moved nor let go on a guess; the others still move.
                Err(corrupt) => {
                    tracing::error!(error = %corrupt, "agent left on its node");
                    continue;
                }
            };
            if !current.is_active() {
                db::agents::let_go(&self.0.db, &agent.id, node).await?;
                continue;
            }
            // A stop someone asked for (here or from another node) outlives the node.
            let stop_asked = current == AgentState::Stopping || agent.stop_requested != 0;
            let restarts = (everything
                || agent
                    .restart()
                    .is_ok_and(db::agents::RestartPolicy::may_restart))
                && !stop_asked;
            let (state, reason) = if restarts {
                (
                    AgentState::Starting,
                    format!("{note}; starting on another node"),
                )
            } else if stop_asked {
                (AgentState::Stopped, format!("{note}; a stop was asked for"))
            } else {
                (
                    AgentState::Stopped,
                    format!("{note}; its restart policy is {}", agent.restart_policy),
                )
            };
            if !db::agents::move_off(&self.0.db, &agent.id, node, state, &reason).await? {
                continue;
            }
            moved += usize::from(restarts);
            self.0
                .audit
                .record(
                    AuditEvent::new(format!("node:{}", self.0.node_id), format!("agent.{state}"))
                        .target(format!("agent:{}", agent.id))
                        .details(serde_json::json!({"reason": reason, "from_node": node})),
                )
                .await;
        }
        if moved > 0 {
            self.0.signals.publish(Signal::AgentsPending);
        }
        Ok(moved)
    }

    /// Stop every agent (server shutdown) without changing their autostart flags. On
    /// a cluster they move to the other nodes instead.
    pub async fn shutdown(&self) {
        if self.0.signals.is_shared() {
            // A polite stop first (as on a single node), then the agents move.
            self.pause_claims(true);
            self.end_all_here(Duration::from_secs(5)).await;
            let note = format!("node {} shut down", self.0.node_id);
            if let Err(e) = self.move_agents_off(&self.0.node_id, &note, true).await {
                tracing::warn!(error = %e, "handing agents to other nodes");
            }
            return;
        }
        let ids: Vec<String> = self.lock().keys().cloned().collect();
        for id in ids {
            let _ = self.stop(&id, Duration::from_secs(5)).await;
        }
    }
}
