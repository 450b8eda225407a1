//! `GET /api/v1/nodes` (admin): the nodes sharing the database, with their role,
//! version, heartbeat, lease and load.

use super::ApiJson;
use crate::auth::extract::AdminUser;
use crate::db::{self, nodes::NodeRow, rfc3339};
use crate::error::{ApiResult, ErrorBody};
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

impl NodeView {
    pub fn of(row: NodeRow, now: i64, this_node: &str) -> Self {
        Self {
            live: row.is_live(now),
            this_node: row.id == this_node,
            started_at: rfc3339(row.started_at),
            heartbeat_at: rfc3339(row.heartbeat_at),
            heartbeat_age_ms: (now - row.heartbeat_at).max(0),
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
    AdminUser(_p): AdminUser,
) -> ApiResult<ApiJson<NodeList>> {
    let now = db::nodes::db_now(&state.db).await?;
    let items = db::nodes::list(&state.db)
        .await?
        .into_iter()
        .map(|row| NodeView::of(row, now, state.node.id()))
        .collect();
    Ok(ApiJson(NodeList { items }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_nodes))
}
