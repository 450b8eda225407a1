//! Signals between the nodes sharing one database: a new job to claim, a cancel, agent
//! control and messages, a finished job someone waits for, changed MCP tools or
//! plugins. Within a node they are a broadcast channel; on PostgreSQL they also travel
//! between nodes with `LISTEN`/`NOTIFY` ([`listener`]). Notifications can be lost
//! (a dropped connection), so every consumer also polls slowly; [`Signal::Resync`] tells
//! consumers that some may have been missed.

mod listener;

use crate::db::Db;
use automa_runtime::CancellationToken;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

/// The PostgreSQL channel all nodes listen on.
const CHANNEL: &str = "automa_signals";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// A job was queued: a worker should claim.
    JobQueued,
    /// Cancellation of this job was asked; the node running it ends it.
    JobCancel { job: String },
    /// The job reached a final state (for callers waiting on it elsewhere).
    JobFinished { job: String },
    /// An agent waits for a node to run it.
    AgentsPending,
    /// A stop of this agent was asked on another node than the one running it.
    AgentStop { agent: String },
    /// A message for this agent waits in the database.
    AgentMessage { agent: String },
    /// The owner's MCP tool list changed.
    ToolsChanged { owner: String },
    /// A plugin was installed, replaced or removed.
    PluginsChanged,
    /// The link to the other nodes was lost and re-established: anything may have
    /// been missed; look again.
    Resync,
}

/// The signal hub of one node.
#[derive(Clone)]
pub struct Signals(Arc<Inner>);

struct Inner {
    local: broadcast::Sender<Signal>,
    /// Outgoing notifications to the other nodes (PostgreSQL only), bounded.
    remote: Option<listener::Outgoing>,
}

impl Signals {
    /// One node alone (SQLite): signals stay in this process.
    pub fn local() -> Self {
        Self(Arc::new(Inner {
            local: broadcast::channel(1024).0,
            remote: None,
        }))
    }

    /// Signals shared with the other nodes on the PostgreSQL database `url`.
    pub async fn shared(
        db: Db,
        url: &str,
        node_id: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let local = broadcast::channel(1024).0;
        let remote = listener::start(db, url, node_id.to_owned(), local.clone(), shutdown).await?;
        Ok(Self(Arc::new(Inner {
            local,
            remote: Some(remote),
        })))
    }

    /// Tell every node, this one included.
    pub fn publish(&self, signal: Signal) {
        let _ = self.0.local.send(signal.clone());
        self.tell_others(signal);
    }

    /// Tell the other nodes only (this node acted on it already).
    pub fn tell_others(&self, signal: Signal) {
        if let Some(remote) = &self.0.remote {
            remote.send(signal);
        }
    }

    /// Whether other nodes can hear this one (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.0.remote.is_some()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.0.local.subscribe()
    }
}
