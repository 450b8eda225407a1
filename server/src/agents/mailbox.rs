//! An agent's mailbox: messages it has not read yet, bounded in count and in bytes so
//! that a sender cannot grow the server's memory (or the database, for an agent on
//! another node) by writing to an agent that never reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// Unread messages an agent's mailbox holds before senders are told it is full.
pub const MAILBOX_LEN: usize = 1000;
/// Unread bytes it holds before senders are told it is full.
pub const MAILBOX_BYTES: usize = 4 << 20;
/// The largest single message.
pub const MESSAGE_MAX_BYTES: usize = 64 << 10;

/// Why a message was not put in the mailbox.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Full,
    Closed,
}

#[derive(Clone)]
pub struct MailboxSender {
    tx: mpsc::Sender<String>,
    unread: Arc<AtomicUsize>,
}

pub struct MailboxReceiver {
    rx: mpsc::Receiver<String>,
    unread: Arc<AtomicUsize>,
}

/// A mailbox of at most `len` messages and [`MAILBOX_BYTES`] unread bytes.
pub fn mailbox(len: usize) -> (MailboxSender, MailboxReceiver) {
    let (tx, rx) = mpsc::channel(len.max(1));
    let unread = Arc::new(AtomicUsize::new(0));
    (
        MailboxSender {
            tx,
            unread: unread.clone(),
        },
        MailboxReceiver { rx, unread },
    )
}

impl MailboxSender {
    /// Put `body` in the mailbox when both bounds leave room for it.
    pub fn offer(&self, body: String) -> Result<(), Refused> {
        let size = body.len();
        let before = self.unread.fetch_add(size, Ordering::SeqCst);
        if before + size > MAILBOX_BYTES {
            self.unread.fetch_sub(size, Ordering::SeqCst);
            return Err(Refused::Full);
        }
        self.put(body)
    }

    /// Put a message already accepted elsewhere (queued in the database under the
    /// same bounds, and taken only when [`Self::room_bytes`] has room for it) in the
    /// mailbox: only the count bound applies, so it is not lost.
    pub fn hand_over(&self, body: String) -> Result<(), Refused> {
        self.unread.fetch_add(body.len(), Ordering::SeqCst);
        self.put(body)
    }

    fn put(&self, body: String) -> Result<(), Refused> {
        let size = body.len();
        self.tx.try_send(body).map_err(|e| {
            self.unread.fetch_sub(size, Ordering::SeqCst);
            match e {
                mpsc::error::TrySendError::Full(_) => Refused::Full,
                mpsc::error::TrySendError::Closed(_) => Refused::Closed,
            }
        })
    }

    /// Messages that still fit by count.
    pub fn room(&self) -> usize {
        self.tx.capacity()
    }

    /// Bytes that still fit.
    pub fn room_bytes(&self) -> usize {
        MAILBOX_BYTES.saturating_sub(self.unread.load(Ordering::SeqCst))
    }
}

impl MailboxReceiver {
    pub async fn recv(&mut self) -> Option<String> {
        let body = self.rx.recv().await?;
        self.unread.fetch_sub(body.len(), Ordering::SeqCst);
        Some(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounds_count_and_bytes_and_frees_what_is_read() {
        let (tx, mut rx) = mailbox(3);
        let big = "x".repeat(MAILBOX_BYTES / 2);
        assert_eq!(tx.offer(big.clone()), Ok(()));
        assert_eq!(tx.offer(big.clone()), Ok(()));
        assert_eq!(tx.offer("y".into()), Err(Refused::Full), "bytes bound");
        assert_eq!(rx.recv().await.map(|b| b.len()), Some(big.len()));
        assert_eq!(tx.offer("y".into()), Ok(()), "reading freed its bytes");
        assert_eq!(tx.offer("z".into()), Ok(()));
        assert_eq!(tx.offer("w".into()), Err(Refused::Full), "count bound");
        drop(rx);
        let (tx, rx) = mailbox(1);
        drop(rx);
        assert_eq!(tx.offer("a".into()), Err(Refused::Closed));
    }
}
