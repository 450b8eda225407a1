//! `LISTEN`/`NOTIFY` transport: one task sends this node's signals with `pg_notify`
//! (in order, off the caller's path), one dedicated connection listens for the others'.

use super::{CHANNEL, Signal};
use crate::db::Db;
use automa_runtime::CancellationToken;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// PostgreSQL's limit on a notification payload is 8000 bytes; ours are far smaller.
const MAX_PAYLOAD: usize = 7900;
/// Signals waiting to be sent; past this they are dropped, and the other nodes are
/// told to look again once the queue has room ([`Signal::Resync`]).
const QUEUE: usize = 4096;
/// Each node sends itself a probe this often through the database, and a listening
/// link that heard nothing (not even its own probes) for [`SILENT_LIMIT`] is replaced:
/// a half-open TCP link (a peer or firewall that vanished) never errors, it goes quiet.
const PROBE_EVERY: Duration = Duration::from_secs(10);
const SILENT_LIMIT: Duration = Duration::from_secs(35);

/// The bounded queue of this node's outgoing signals.
pub(super) struct Outgoing {
    queue: mpsc::Sender<Signal>,
    overflowed: Arc<AtomicBool>,
}

impl Outgoing {
    /// Queue `signal`; when the queue is full it is dropped (a flood of queued jobs
    /// cannot grow memory), and a `Resync` follows once there is room.
    pub(super) fn send(&self, signal: Signal) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(signal) {
            self.overflowed.store(true, Ordering::SeqCst);
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    from: String,
    /// `None`: a probe of the sender's own listening link.
    signal: Option<Signal>,
}

/// Starts both tasks; returns the queue of outgoing signals.
pub(super) async fn start(
    db: Db,
    url: &str,
    node_id: String,
    local: broadcast::Sender<Signal>,
    shutdown: CancellationToken,
) -> anyhow::Result<Outgoing> {
    let listener = listen(url).await?;
    let (queue, rx) = mpsc::channel(QUEUE);
    let overflowed = Arc::new(AtomicBool::new(false));
    tokio::spawn(send_loop(db, node_id.clone(), rx, overflowed.clone()));
    tokio::spawn(listen_loop(
        listener,
        url.to_owned(),
        node_id,
        local,
        shutdown,
    ));
    Ok(Outgoing { queue, overflowed })
}

async fn send_loop(
    db: Db,
    node_id: String,
    mut outgoing: mpsc::Receiver<Signal>,
    overflowed: Arc<AtomicBool>,
) {
    let mut probes = tokio::time::interval(PROBE_EVERY);
    loop {
        let mut signal = tokio::select! {
            next = outgoing.recv() => match next {
                Some(signal) => Some(signal),
                None => return,
            },
            _ = probes.tick() => None,
        };
        // Some signals were dropped: the others look again instead of hearing them.
        if signal.is_some() && overflowed.swap(false, Ordering::SeqCst) {
            tracing::warn!("signals to the other nodes were dropped; asking them to look again");
            signal = Some(Signal::Resync);
        }
        let envelope = Envelope {
            from: node_id.clone(),
            signal,
        };
        let Ok(payload) = serde_json::to_string(&envelope) else {
            continue;
        };
        if payload.len() > MAX_PAYLOAD {
            tracing::warn!(size = payload.len(), "signal too large to send; dropped");
            continue;
        }
        let sent = sqlx::query("SELECT pg_notify($1, $2)::text")
            .bind(CHANNEL)
            .bind(&payload)
            .fetch_one(&db)
            .await;
        if let Err(e) = sent {
            // The other nodes' slow polls pick up what this one missed telling them.
            tracing::warn!(error = %e, "sending a signal to the other nodes");
        }
    }
}

async fn listen(url: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn listen_loop(
    mut listener: PgListener,
    url: String,
    node_id: String,
    local: broadcast::Sender<Signal>,
    shutdown: CancellationToken,
) {
    let mut heard = tokio::time::Instant::now();
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            next = listener.try_recv() => next,
            () = tokio::time::sleep_until(heard + SILENT_LIMIT) => {
                // The wait is dropped with the link: a fresh one, or another try soon.
                tracing::warn!("the signal connection to PostgreSQL went silent; reconnecting");
                match listen(&url).await {
                    Ok(fresh) => listener = fresh,
                    Err(e) => tracing::warn!(error = %e, "reconnecting the signal connection"),
                }
                heard = tokio::time::Instant::now();
                let _ = local.send(Signal::Resync);
                continue;
            }
        };
        match next {
            Ok(Some(notification)) => {
                heard = tokio::time::Instant::now();
                match serde_json::from_str::<Envelope>(notification.payload()) {
                    Ok(Envelope {
                        from,
                        signal: Some(signal),
                    }) if from != node_id => {
                        let _ = local.send(signal);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "an unreadable signal; ignored"),
                }
            }
            // The connection dropped and came back: notifications may have been lost.
            Ok(None) => {
                tracing::warn!("the signal connection to PostgreSQL was re-established");
                let _ = local.send(Signal::Resync);
            }
            Err(e) => {
                tracing::warn!(error = %e, "listening for signals; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = local.send(Signal::Resync);
            }
        }
    }
}
