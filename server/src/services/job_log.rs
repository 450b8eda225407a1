//! A job's log as it grows, for the API's SSE stream and the dashboard's job page:
//! stored entries after a sequence number first, then new ones as they come, and the
//! job's final status once it ended and everything was sent.

use super::stream_slots::StreamSlot;
use crate::auth::Principal;
use crate::auth::recheck::{Recheck, still_authorized};
use crate::db;
use crate::error::ApiResult;
use crate::jobs::events::LogEntry;
use crate::state::AppState;
use futures::stream::{self, Stream};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::broadcast;

/// One item of a followed log.
#[derive(Debug)]
pub enum LogItem {
    Entry(LogEntry),
    /// The job ended (its status; `None` when it is gone) and every entry was sent.
    End(Option<String>),
}

/// Follows the job's log after `after` for `principal`, who must be able to see the
/// job. The stream ends when the job ended, or when the caller loses access (token
/// revoked, user disabled, job deleted); it holds one of the caller's stream slots.
pub async fn follow(
    state: AppState,
    principal: Principal,
    job_id: String,
    after: i64,
) -> ApiResult<impl Stream<Item = LogItem> + Send + 'static> {
    super::jobs::get(&state, &principal, &job_id).await?;
    let slot = StreamSlot::take(&principal.user_id)?;
    Ok(log_stream(
        state,
        job_id,
        after,
        Recheck::new(principal),
        slot,
    ))
}

struct Follow {
    state: AppState,
    job_id: String,
    /// The caller, checked again now and then: the stream ends when they lose access.
    recheck: Recheck,
    /// Held while the stream is open.
    _slot: StreamSlot,
    last_seq: i64,
    /// Whether stored entries were read once (the live channel covers what follows).
    read_stored: bool,
    live: Option<broadcast::Receiver<LogEntry>>,
    pending: VecDeque<LogItem>,
    done: bool,
}

/// Follows a job's log: from the live channel while the job runs in this process,
/// otherwise by reading new rows from the database, until the job is final.
fn log_stream(
    state: AppState,
    job_id: String,
    after: i64,
    recheck: Recheck,
    slot: StreamSlot,
) -> impl Stream<Item = LogItem> {
    let follow = Follow {
        live: state.jobs.subscribe(&job_id),
        state,
        job_id,
        recheck,
        _slot: slot,
        last_seq: after,
        read_stored: false,
        pending: VecDeque::new(),
        done: false,
    };
    stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(item) = f.pending.pop_front() {
                return Some((item, f));
            }
            if f.done {
                return None;
            }
            if f.recheck.due()
                && !(still_authorized(&f.state, f.recheck.principal()).await
                    && super::jobs::get(&f.state, f.recheck.principal(), &f.job_id)
                        .await
                        .is_ok())
            {
                return None;
            }
            if let Some(live) = &mut f.live {
                if !f.read_stored {
                    // Catch up from storage first; the live channel covers what follows.
                    // More than a page stored: follow storage until caught up, then live.
                    if !catch_up(&mut f).await {
                        f.live = None;
                    }
                    continue;
                }
                match tokio::time::timeout(Duration::from_secs(1), live.recv()).await {
                    Ok(Ok(entry)) => {
                        let expected = if f.last_seq < 0 { 1 } else { f.last_seq + 1 };
                        if entry.seq > expected {
                            // Entries sent before we subscribed were not in storage yet
                            // when we caught up: give the log writer a moment, read again.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            if !catch_up(&mut f).await {
                                // A gap over a page: storage delivers it and this entry.
                                f.live = None;
                                continue;
                            }
                        }
                        if entry.seq > f.last_seq {
                            f.last_seq = entry.seq;
                            f.pending.push_back(LogItem::Entry(entry));
                        }
                    }
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                        if !catch_up(&mut f).await {
                            f.live = None;
                        }
                    }
                    Ok(Err(broadcast::error::RecvError::Closed)) => f.live = None,
                    Err(_) => {}
                }
                continue;
            }
            let caught_up = catch_up(&mut f).await;
            if caught_up && !f.done && f.pending.is_empty() {
                f.live = f.state.jobs.subscribe(&f.job_id);
                if f.live.is_none() {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    })
}

/// Stored entries a stream reads at a time.
const CATCH_UP_ROWS: i64 = 500;

/// Queue the next page of stored entries newer than `last_seq`; when the job is final
/// and everything is sent, the end. Returns whether storage is caught up (the page was
/// not full).
async fn catch_up(f: &mut Follow) -> bool {
    let job = db::jobs::find(&f.state.db, &f.job_id).await.ok().flatten();
    f.read_stored = true;
    let after = f.last_seq.max(0);
    let complete = match db::jobs::logs_after(&f.state.db, &f.job_id, after, CATCH_UP_ROWS).await {
        Ok(rows) => {
            let complete = (rows.len() as i64) < CATCH_UP_ROWS;
            for row in rows {
                f.last_seq = row.seq;
                f.pending.push_back(LogItem::Entry(LogEntry::from(row)));
            }
            complete
        }
        Err(_) => true,
    };
    if f.last_seq == 0 {
        f.last_seq = -1; // nothing stored yet; live entries start at 1
    }
    let status = job.map(|j| j.status);
    let finished = status
        .as_deref()
        .is_none_or(|s| db::jobs::FINAL_STATUSES.contains(&s));
    if finished && complete && f.live.is_none() {
        f.pending.push_back(LogItem::End(status));
        f.done = true;
    }
    complete
}
