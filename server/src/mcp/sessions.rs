//! Tool-list change notifications and the sessions that carry them.
//!
//! `McpHandle` lives in `AppState`: the script API calls `tools_changed` and knows
//! nothing of rmcp. Legacy-protocol clients (`initialize` handshake) get a session
//! (rmcp's `LocalSessionManager`, wrapped in `BoundSessions`) whose user is fixed by the
//! first request; a 2026-07-28 client stays stateless and opens `subscriptions/listen`.
//! Either way the notification is only a hint: the list itself is computed per request.

use super::Caller;
use crate::state::AppState;
use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::Peer;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    ServerSseMessage, SessionId, SessionManager,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Open sessions per user; initializing one more closes that user's least recently used
/// session (each holds a task and a notification receiver).
pub const MAX_SESSIONS_PER_USER: usize = 16;

/// A script that is, or was, exposed as a tool changed; its owner and admins see it.
#[derive(Debug, Clone)]
pub struct ToolChange {
    /// `None`: anyone's tools may have changed (another node's notice may be lost).
    owner_id: Option<String>,
}

/// Shared between the script API (announces changes), the MCP sessions (listen) and
/// the server (ends them all on shutdown).
#[derive(Clone)]
pub struct McpHandle(Arc<HandleInner>);

struct HandleInner {
    changes: broadcast::Sender<ToolChange>,
    /// Tells the other nodes' sessions (a cluster on PostgreSQL).
    signals: Option<crate::signals::Signals>,
    shutdown: CancellationToken,
    /// The legacy sessions (rmcp's, plus who owns each and when it was last used).
    sessions: Arc<BoundSessions>,
}

impl Default for McpHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl McpHandle {
    pub fn new() -> Self {
        // Lagging listeners lose nothing that matters: one notification means "refetch".
        let (changes, _) = broadcast::channel(64);
        Self(Arc::new(HandleInner {
            changes,
            signals: None,
            shutdown: CancellationToken::new(),
            sessions: Arc::new(BoundSessions::new()),
        }))
    }

    /// A tool-exposed script of `owner_id` was created, edited or deleted.
    /// A hub whose changes also reach the sessions on the other nodes.
    pub fn shared(signals: crate::signals::Signals) -> Self {
        let hub = Self::new();
        let inner = HandleInner {
            changes: hub.0.changes.clone(),
            signals: Some(signals),
            shutdown: hub.0.shutdown.clone(),
            sessions: hub.0.sessions.clone(),
        };
        Self(Arc::new(inner))
    }

    pub fn tools_changed(&self, owner_id: &str) {
        self.tools_changed_here(owner_id);
        if let Some(signals) = &self.0.signals {
            signals.tell_others(crate::signals::Signal::ToolsChanged {
                owner: owner_id.to_owned(),
            });
        }
    }

    /// Tell this node's sessions only (the change was made on another node).
    pub fn tools_changed_here(&self, owner_id: &str) {
        // No receiver just means no one is listening.
        let _ = self.0.changes.send(ToolChange {
            owner_id: Some(owner_id.to_owned()),
        });
    }

    /// A notice from another node may have been lost: every session hears of a change
    /// (a needless one only makes clients list the tools again).
    pub fn tools_may_have_changed(&self) {
        let _ = self.0.changes.send(ToolChange { owner_id: None });
    }

    /// Ends every MCP session and listen stream (server shutdown): open SSE streams
    /// would otherwise keep the graceful shutdown waiting.
    pub fn shutdown(&self) {
        self.0.shutdown.cancel();
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.0.shutdown.clone()
    }

    pub(super) fn sessions(&self) -> Arc<BoundSessions> {
        self.0.sessions.clone()
    }

    /// May `user_id` use session `id`? Unknown sessions are refused too, so a session is
    /// never reachable before it is bound to its user. A yes counts as a use of the
    /// session (idle expiry counts client requests only, not what the server sends).
    pub(super) fn use_session(&self, id: &str, user_id: &str) -> bool {
        let mut table = self.0.sessions.table();
        match table.get_mut(id) {
            Some(entry) if entry.owner.as_deref() == Some(user_id) => {
                entry.last_request = Instant::now();
                true
            }
            _ => false,
        }
    }

    /// Binds a just-initialized session to its user (only a fresh, unbound one). Past
    /// `MAX_SESSIONS_PER_USER`, the user's least recently used sessions are closed.
    pub(super) fn bind_session(&self, id: &str, user_id: &str) {
        let evicted = {
            let mut table = self.0.sessions.table();
            match table.get_mut(id) {
                Some(entry) if entry.owner.is_none() => {
                    entry.owner = Some(user_id.to_owned());
                    entry.last_request = Instant::now();
                }
                _ => return,
            }
            let mut theirs: Vec<(Instant, String)> = table
                .iter()
                .filter(|(sid, e)| e.owner.as_deref() == Some(user_id) && sid.as_str() != id)
                .map(|(sid, e)| (e.last_request, sid.clone()))
                .collect();
            let excess = (theirs.len() + 1).saturating_sub(MAX_SESSIONS_PER_USER);
            theirs.sort();
            let evicted: Vec<String> = theirs.into_iter().take(excess).map(|(_, s)| s).collect();
            // Unreachable from now on; rmcp's side is closed below.
            for sid in &evicted {
                table.remove(sid);
            }
            evicted
        };
        if !evicted.is_empty() {
            tracing::info!(
                user = %user_id,
                closed = evicted.len(),
                "MCP session limit reached; closed the least recently used"
            );
            self.0.sessions.close_later(evicted);
        }
    }

    /// Closes, every `idle / 8` (at most a minute), the sessions without a client request
    /// for `idle` and those of users since disabled or deleted; stops on shutdown.
    pub(super) fn spawn_sweeper(&self, state: AppState, idle: Duration) {
        let sessions = self.sessions();
        let shutdown = self.shutdown_token();
        let every = (idle / 8).clamp(Duration::from_millis(50), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                sessions.sweep(&state, idle).await;
            }
        });
    }

    /// Waits for the next change `caller` may see; `false` once `stop` fires or the
    /// server shuts down.
    pub(super) async fn next_change(
        &self,
        changes: &mut broadcast::Receiver<ToolChange>,
        caller: &Caller,
        stop: &CancellationToken,
    ) -> bool {
        loop {
            let change = tokio::select! {
                _ = stop.cancelled() => return false,
                _ = self.0.shutdown.cancelled() => return false,
                change = changes.recv() => change,
            };
            match change {
                Ok(c)
                    if caller.principal.is_admin()
                        || c.owner_id
                            .as_deref()
                            .is_none_or(|o| o == caller.principal.user_id) =>
                {
                    return true;
                }
                Ok(_) => {}
                // Missed some: one of them may have been visible.
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<ToolChange> {
        self.0.changes.subscribe()
    }

    /// Sends `notifications/tools/list_changed` to a legacy session's peer for every
    /// change its user sees, until the session ends (`ended`) or the server stops.
    pub(super) fn notify_session(
        &self,
        caller: Caller,
        peer: Peer<RoleServer>,
        ended: CancellationToken,
    ) {
        let hub = self.clone();
        let mut changes = self.subscribe();
        tokio::spawn(async move {
            while hub.next_change(&mut changes, &caller, &ended).await {
                if let Err(err) = peer.notify_tool_list_changed().await {
                    tracing::debug!(error = %err, "MCP session gone; no more notifications");
                    return;
                }
            }
        });
    }
}

/// Cancels its token when the last clone of the per-session handler is dropped, which
/// rmcp does when the session ends (closed, idle, or server shutdown).
pub(super) struct SessionEnd {
    token: CancellationToken,
    _guard: DropGuard,
}

impl SessionEnd {
    pub(super) fn new() -> Arc<Self> {
        let token = CancellationToken::new();
        Arc::new(Self {
            _guard: token.clone().drop_guard(),
            token,
        })
    }

    pub(super) fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

/// One open session: its user (`None` until `initialize` answered) and its last request.
struct Entry {
    owner: Option<String>,
    last_request: Instant,
}

/// rmcp's in-memory sessions, bookkept so each session id can be bound to the user who
/// opened it, expired by client requests alone, and forgotten when it closes, however
/// it closes. rmcp's own idle timer is off: the notifications the server sends reset
/// it, so a session left open while tools kept changing never expired.
pub(super) struct BoundSessions {
    inner: LocalSessionManager,
    table: Mutex<HashMap<String, Entry>>,
}

impl BoundSessions {
    fn new() -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = None;
        Self {
            inner,
            table: Mutex::new(HashMap::new()),
        }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave the map half-updated.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes sessions already removed from the table (so refused from now on) in rmcp,
    /// which ends their handler, notifications and streams.
    fn close_later(self: &Arc<Self>, ids: Vec<String>) {
        let sessions = self.clone();
        tokio::spawn(async move {
            for id in ids {
                let id = SessionId::from(id);
                if let Err(err) = sessions.inner.close_session(&id).await {
                    tracing::debug!(error = %err, "closing an MCP session failed");
                }
            }
        });
    }

    async fn sweep(self: &Arc<Self>, state: &AppState, idle: Duration) {
        let now = Instant::now();
        let (mut expired, owners) = {
            let table = self.table();
            let expired: Vec<String> = table
                .iter()
                .filter(|(_, e)| now.saturating_duration_since(e.last_request) > idle)
                .map(|(id, _)| id.clone())
                .collect();
            let owners: HashSet<String> = table.values().filter_map(|e| e.owner.clone()).collect();
            (expired, owners)
        };
        // Their requests are refused already; this frees what their sessions hold.
        let mut gone = Vec::new();
        for user_id in owners {
            match crate::db::users::find_by_id(&state.db, &user_id).await {
                Ok(Some(user)) if !user.disabled => {}
                Ok(_) => gone.push(user_id),
                Err(err) => tracing::warn!(error = %err, "MCP session sweep: user lookup failed"),
            }
        }
        {
            let mut table = self.table();
            // Re-checked under the lock: a request may have used one meanwhile.
            expired.retain(|id| {
                table.get(id).is_some_and(|e| {
                    Instant::now().saturating_duration_since(e.last_request) > idle
                })
            });
            expired.extend(
                table
                    .iter()
                    .filter(|(_, e)| e.owner.as_ref().is_some_and(|o| gone.contains(o)))
                    .map(|(id, _)| id.clone()),
            );
            expired.sort();
            expired.dedup();
            for id in &expired {
                table.remove(id);
            }
        }
        if !expired.is_empty() {
            tracing::debug!(closed = expired.len(), "MCP sessions expired");
            self.close_later(expired);
        }
    }
}

impl SessionManager for BoundSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, transport) = self.inner.create_session().await?;
        self.table().insert(
            id.to_string(),
            Entry {
                owner: None,
                last_request: Instant::now(),
            },
        );
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    /// Called for DELETE and by rmcp when a session's service ends (idle, shutdown).
    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.table().remove(id.as_ref());
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl futures::Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>
    {
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl futures::Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>
    {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl futures::Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>
    {
        self.inner.resume(id, last_event_id).await
    }
}
