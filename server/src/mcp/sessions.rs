//! Tool-list change notifications and the sessions that carry them.
//!
//! `McpHandle` lives in `AppState`: the script API calls `tools_changed` and knows
//! nothing of rmcp. Legacy-protocol clients (`initialize` handshake) get a session
//! (rmcp's `LocalSessionManager`, wrapped in `BoundSessions`) whose user is fixed by the
//! first request; a 2026-07-28 client stays stateless and opens `subscriptions/listen`.
//! Either way the notification is only a hint: the list itself is computed per request.

use super::Caller;
use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::Peer;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    ServerSseMessage, SessionId, SessionManager,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

/// A session without any request for this long is closed (the client must initialize
/// again); it keeps idle clients from holding memory forever.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// A script that is, or was, exposed as a tool changed; its owner and admins see it.
#[derive(Debug, Clone)]
pub struct ToolChange {
    owner_id: String,
}

/// Shared between the script API (announces changes), the MCP sessions (listen) and
/// the server (ends them all on shutdown).
#[derive(Clone)]
pub struct McpHandle(Arc<HandleInner>);

struct HandleInner {
    changes: broadcast::Sender<ToolChange>,
    shutdown: CancellationToken,
    /// Open session id -> the user who opened it (`None` until `initialize` answered).
    owners: Mutex<HashMap<String, Option<String>>>,
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
            shutdown: CancellationToken::new(),
            owners: Mutex::new(HashMap::new()),
        }))
    }

    /// A tool-exposed script of `owner_id` was created, edited or deleted.
    pub fn tools_changed(&self, owner_id: &str) {
        // No receiver just means no one is listening.
        let _ = self.0.changes.send(ToolChange {
            owner_id: owner_id.to_owned(),
        });
    }

    /// Ends every MCP session and listen stream (server shutdown): open SSE streams
    /// would otherwise keep the graceful shutdown waiting.
    pub fn shutdown(&self) {
        self.0.shutdown.cancel();
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.0.shutdown.clone()
    }

    fn owners(&self) -> MutexGuard<'_, HashMap<String, Option<String>>> {
        // A panic while holding this lock cannot leave the map half-updated.
        self.0.owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// May `user_id` use session `id`? Unknown sessions are refused too, so a session is
    /// never reachable before it is bound to its user.
    pub(super) fn session_belongs_to(&self, id: &str, user_id: &str) -> bool {
        self.owners()
            .get(id)
            .is_some_and(|owner| owner.as_deref() == Some(user_id))
    }

    /// Binds a just-initialized session to its user (only a fresh, unbound one).
    pub(super) fn bind_session(&self, id: &str, user_id: &str) {
        if let Some(owner @ None) = self.owners().get_mut(id) {
            *owner = Some(user_id.to_owned());
        }
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
                Ok(c) if caller.principal.is_admin() || c.owner_id == caller.principal.user_id => {
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

/// rmcp's in-memory sessions, bookkept in `McpHandle` so each session id can be bound
/// to the user who opened it and forgotten when it closes, however it closes.
pub(super) struct BoundSessions {
    inner: LocalSessionManager,
    hub: McpHandle,
}

impl BoundSessions {
    pub(super) fn new(hub: McpHandle, idle: Duration) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = Some(idle);
        Self { inner, hub }
    }
}

impl SessionManager for BoundSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, transport) = self.inner.create_session().await?;
        self.hub.owners().insert(id.to_string(), None);
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
        self.hub.owners().remove(id.as_ref());
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
