//! `LISTEN`/`NOTIFY` transport: one task sends this node's signals with `pg_notify`
//! (in order, off the caller's path), one dedicated connection listens for the others'.

use super::{CHANNEL, Signal};
use crate::db::Db;
use automa_runtime::CancellationToken;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// PostgreSQL's limit on a notification payload is 8000 bytes; ours are far smaller.
const MAX_PAYLOAD: usize = 7900;

#[derive(Serialize, Deserialize)]
struct Envelope {
    from: String,
    signal: Signal,
}

/// Starts both tasks; returns the sender of outgoing signals.
pub(super) async fn start(
    db: Db,
    url: &str,
    node_id: String,
    local: broadcast::Sender<Signal>,
    shutdown: CancellationToken,
) -> anyhow::Result<mpsc::UnboundedSender<Signal>> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(send_loop(db, node_id.clone(), rx));
    tokio::spawn(listen_loop(listener, node_id, local, shutdown));
    Ok(tx)
}

async fn send_loop(db: Db, node_id: String, mut outgoing: mpsc::UnboundedReceiver<Signal>) {
    while let Some(signal) = outgoing.recv().await {
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

async fn listen_loop(
    mut listener: PgListener,
    node_id: String,
    local: broadcast::Sender<Signal>,
    shutdown: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            next = listener.try_recv() => next,
        };
        match next {
            Ok(Some(notification)) => {
                match serde_json::from_str::<Envelope>(notification.payload()) {
                    Ok(envelope) if envelope.from != node_id => {
                        let _ = local.send(envelope.signal);
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
