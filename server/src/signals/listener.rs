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
/// The longest a send or a reconnect may take: on a half-open link they never end.
const DB_CALL_LIMIT: Duration = Duration::from_secs(5);

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
    let listener = listen(url, None).await?;
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
            .fetch_one(&db);
        match tokio::time::timeout(DB_CALL_LIMIT, sent).await {
            Ok(Ok(_)) => {}
            // The other nodes' slow polls pick up what this one missed telling them.
            Ok(Err(e)) => tracing::warn!(error = %e, "sending a signal to the other nodes"),
            Err(_) => tracing::warn!("sending a signal to the other nodes: no answer in time"),
        }
    }
}

/// A listening link, and which backend serves it.
struct Link {
    listener: PgListener,
    /// The backend's pid and start time (together they name it: pids are reused).
    backend: Option<(i32, String)>,
}

/// A fresh link; `replaced`: the backend of the silent link it replaces, ended first.
/// That backend may live on (PostgreSQL does not see a half-open link either), and a
/// listener that reads nothing holds PostgreSQL's notification queue for everyone.
async fn listen(url: &str, replaced: Option<(i32, String)>) -> sqlx::Result<Link> {
    let mut listener = PgListener::connect(url).await?;
    let backend: Option<(i32, String)> = sqlx::query_as(
        "SELECT pid, CAST(backend_start AS TEXT) FROM pg_stat_activity WHERE pid = pg_backend_pid()",
    )
    .fetch_optional(&mut listener)
    .await?;
    if let Some((pid, started)) = replaced {
        let ended = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE pid = $1 AND CAST(backend_start AS TEXT) = $2",
        )
        .bind(pid)
        .bind(started)
        .execute(&mut listener)
        .await;
        if let Err(e) = ended {
            tracing::warn!(error = %e, pid, "ending the silent signal connection's backend");
        }
    }
    listener.listen(CHANNEL).await?;
    Ok(Link { listener, backend })
}

async fn listen_loop(
    link: Link,
    url: String,
    node_id: String,
    local: broadcast::Sender<Signal>,
    shutdown: CancellationToken,
) {
    let Link {
        mut listener,
        mut backend,
    } = link;
    let mut heard = tokio::time::Instant::now();
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            next = listener.try_recv() => next,
            () = tokio::time::sleep_until(heard + SILENT_LIMIT) => {
                // The wait is dropped with the link: a fresh one, or another try soon.
                tracing::warn!("the signal connection to PostgreSQL went silent; reconnecting");
                match tokio::time::timeout(DB_CALL_LIMIT, listen(&url, backend.clone())).await {
                    Ok(Ok(fresh)) => {
                        listener = fresh.listener;
                        backend = fresh.backend;
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "reconnecting the signal connection"),
                    Err(_) => tracing::warn!("reconnecting the signal connection: no answer in time"),
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
                // Another backend now, not learnt: the old one is not ended later.
                backend = None;
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
