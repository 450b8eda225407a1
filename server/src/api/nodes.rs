//! `GET /api/v1/nodes` (admin): the nodes sharing the database, with their role,
//! version, heartbeat, lease and load.

use super::ApiJson;
use crate::auth::extract::AdminUser;
use crate::db::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, nodes::Node};
use crate::state::AppState;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeView {
    pub id: String,
    /// `all`, `api` or `worker`.
    pub role: String,
    pub version: String,
    pub hostname: String,
    /// `alive`, `lost` (its lease lapsed; another node took its work) or `left`.
    pub state: String,
    /// Alive and heard from within its lease.
    pub live: bool,
    /// Whether this is the node that answered.
    pub this_node: bool,
    pub started_at: String,
    pub heartbeat_at: String,
    /// Milliseconds since the last heartbeat.
    pub heartbeat_age_ms: i64,
    pub lease_ms: i64,
    pub workers: i64,
    pub running_jobs: i64,
    pub running_agents: i64,
    /// The machine's one-minute load average.
    pub load: f64,
    /// Sandbox memory the node's runs hold, in MiB.
    pub memory_used_mb: i64,
}

impl From<Node> for NodeView {
    fn from(n: Node) -> Self {
        let row = n.row;
        Self {
            live: n.live,
            this_node: n.this_node,
            heartbeat_age_ms: n.heartbeat_age_ms,
            started_at: rfc3339(row.started_at),
            heartbeat_at: rfc3339(row.heartbeat_at),
            load: row.load_centi as f64 / 100.0,
            id: row.id,
            role: row.role,
            version: row.version,
            hostname: row.hostname,
            state: row.state,
            lease_ms: row.lease_ms,
            workers: row.workers,
            running_jobs: row.running_jobs,
            running_agents: row.running_agents,
            memory_used_mb: row.memory_used_mb,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeList {
    pub items: Vec<NodeView>,
}

/// The nodes sharing this database (admin).
#[utoipa::path(get, path = "/api/v1/nodes", tag = "nodes",
    responses((status = 200, body = NodeList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_nodes(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
) -> ApiResult<ApiJson<NodeList>> {
    let nodes = services::nodes::list(&state, &p).await?;
    let items = nodes.into_iter().map(NodeView::from).collect();
    Ok(ApiJson(NodeList { items }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_nodes))
}
