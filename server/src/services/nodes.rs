//! The node registry (admin): every node sharing the database, as the database's clock
//! sees it (so a node's heartbeat age does not depend on which node answers).

use crate::auth::{Principal, policy};
use crate::db::{self, nodes::NodeRow};
use crate::error::ApiResult;
use crate::state::AppState;

/// A node and how it looks from here.
pub struct Node {
    pub live: bool,
    /// Whether this is the node that answered.
    pub this_node: bool,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
    pub row: NodeRow,
}

/// The nodes sharing this database.
pub async fn list(state: &AppState, p: &Principal) -> ApiResult<Vec<Node>> {
    policy::require_admin(p)?;
    let now = db::nodes::db_now(&state.db).await?;
    let this = state.node.id();
    Ok(db::nodes::list(&state.db)
        .await?
        .into_iter()
        .map(|row| Node {
            live: row.is_live(now),
            this_node: row.id == this,
            heartbeat_age_ms: now.saturating_sub(row.heartbeat_at).max(0),
            row,
        })
        .collect())
}
