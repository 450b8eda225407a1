//! How agents find a node: a node that runs agents takes those waiting for one (asked
//! on an API node, or moved off a lost node), acts on stops and messages asked on
//! other nodes, and looks again slowly in case a signal was lost.

use super::Agents;
use crate::db;
use crate::signals::Signal;
use automa_runtime::CancellationToken;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The fallback poll: how often a node looks for waiting agents, stops and messages.
const POLL: Duration = Duration::from_secs(3);
/// A node waits this long per agent it already runs before taking a waiting one, so
/// that the less busy nodes get there first.
const PER_AGENT_DELAY: Duration = Duration::from_millis(25);

pub(super) async fn follow(agents: Agents, shutdown: CancellationToken) {
    let mut signals = agents.0.signals.subscribe();
    let shared = agents.0.signals.is_shared();
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = poll.tick() => look_again(&agents, shared, &shutdown).await,
            signal = signals.recv() => match signal {
                Ok(Signal::AgentsPending) => take_waiting(&agents, &shutdown).await,
                Ok(Signal::AgentStop { agent }) => stop_here(&agents, &agent).await,
                Ok(Signal::AgentMessage { agent }) => agents.deliver_queued(&agent).await,
                Ok(Signal::Resync) | Err(RecvError::Lagged(_)) => {
                    look_again(&agents, shared, &shutdown).await;
                }
                Ok(_) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

async fn look_again(agents: &Agents, shared: bool, shutdown: &CancellationToken) {
    take_waiting(agents, shutdown).await;
    if !shared {
        return;
    }
    let node = agents.0.node_id.clone();
    match db::agents::stops_requested_on(&agents.0.db, &node).await {
        Ok(ids) => {
            for id in ids {
                stop_here(agents, &id).await;
            }
        }
        Err(e) => tracing::debug!(error = %e, "checking for agent stops"),
    }
    match db::agents::with_messages_on(&agents.0.db, &node).await {
        Ok(ids) => {
            for id in ids {
                agents.deliver_queued(&id).await;
            }
        }
        Err(e) => tracing::debug!(error = %e, "checking for agent messages"),
    }
}

/// Take every agent waiting for a node that this node can claim first.
async fn take_waiting(agents: &Agents, shutdown: &CancellationToken) {
    let waiting = match db::agents::pending(&agents.0.db).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::debug!(error = %e, "listing agents waiting for a node");
            return;
        }
    };
    for id in waiting {
        let busy = u32::try_from(agents.running_count())
            .unwrap_or(u32::MAX)
            .min(40);
        tokio::select! {
            () = tokio::time::sleep(PER_AGENT_DELAY * busy) => {}
            () = shutdown.cancelled() => return,
        }
        if let Err(e) = agents
            .take_waiting(&id, &format!("started on node {}", agents.0.node_id))
            .await
        {
            tracing::warn!(agent = %id, error = %e, "taking a waiting agent");
        }
    }
}

/// A stop asked elsewhere for an agent this node runs.
async fn stop_here(agents: &Agents, id: &str) {
    if !agents.is_supervised(id) {
        return;
    }
    let grace = match db::agents::find(&agents.0.db, id).await {
        Ok(Some(row)) => Duration::from_secs(u64::try_from(row.stop_grace_seconds).unwrap_or(10)),
        _ => Duration::from_secs(10),
    };
    let agents = agents.clone();
    let id = id.to_owned();
    // A stop waits out the grace period: not in the signal loop's way.
    tokio::spawn(async move {
        let _ = agents.stop(&id, grace).await;
    });
}
