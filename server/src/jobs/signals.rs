//! What the job system does with signals from other nodes, and its slow poll for a
//! cancel whose signal was lost.

use super::Jobs;
use crate::db;
use crate::signals::Signal;
use automa_runtime::CancellationToken;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a node of a cluster checks for cancels of its jobs asked elsewhere.
const CANCEL_POLL: Duration = Duration::from_secs(2);

pub(super) async fn follow(jobs: Jobs, shutdown: CancellationToken) {
    let mut signals = jobs.0.signals.subscribe();
    let shared = jobs.0.signals.is_shared() && jobs.0.workers > 0;
    let mut poll = tokio::time::interval(CANCEL_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = poll.tick(), if shared => cancels_asked_elsewhere(&jobs).await,
            signal = signals.recv() => match signal {
                Ok(Signal::JobQueued) => jobs.0.wake.notify_one(),
                Ok(Signal::JobCancel { job }) => jobs.cancel_local(&job),
                Ok(Signal::JobFinished { job }) => {
                    let _ = jobs.0.finished.send(super::Finished { id: job, row: None });
                }
                Ok(Signal::Resync) | Err(RecvError::Lagged(_)) => {
                    jobs.0.wake.notify_waiters();
                    if shared {
                        cancels_asked_elsewhere(&jobs).await;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

async fn cancels_asked_elsewhere(jobs: &Jobs) {
    match db::jobs::cancel_requested_on(&jobs.0.db, &jobs.0.node_id).await {
        Ok(ids) => {
            for id in ids {
                jobs.cancel_local(&id);
            }
        }
        Err(e) => tracing::debug!(error = %e, "checking for cancelled jobs"),
    }
}
