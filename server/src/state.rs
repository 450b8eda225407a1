//! Shared application state handed to every handler.

use crate::audit::AuditLog;
use crate::auth::cache::AuthCache;
use crate::auth::jwt::JwtKeys;
use crate::auth::rate_limit::LoginThrottle;
use crate::config::Config;
use crate::db::Db;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub jwt: JwtKeys,
    pub audit: AuditLog,
    pub throttle: LoginThrottle,
    pub auth_cache: AuthCache,
    /// One-time first-run token; `Some` only while no user exists.
    pub setup_token: tokio::sync::Mutex<Option<String>>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Key for secrets at rest, used by later features (script secrets).
    pub secrets_key: Vec<u8>,
    /// The job queue, its workers and the Python runtime they share.
    pub jobs: crate::jobs::Jobs,
    /// The agent supervisor.
    pub agents: crate::agents::Agents,
    /// Tool-list change notices for MCP clients; ends MCP sessions on shutdown.
    pub mcp: crate::mcp::McpHandle,
    /// Signals to the other nodes sharing the database.
    pub signals: crate::signals::Signals,
    /// This process in the node registry.
    pub node: crate::nodes::Node,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
