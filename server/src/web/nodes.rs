//! `/nodes` (admin): the node registry, over `services::nodes`.

use super::page::{Viewer, html};
use crate::error::PageError;
use crate::services::{self, nodes::Node};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::nodes::{NodeLine, page};
use axum::extract::State;
use axum::response::Response;

pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let nodes = services::nodes::list(&state, &viewer.principal).await?;
    let lines: Vec<NodeLine> = nodes.into_iter().map(line).collect();
    Ok(html(page(&viewer.ctx(Nav::Nodes), &lines)))
}

fn line(n: Node) -> NodeLine {
    let row = n.row;
    NodeLine {
        live: n.live,
        this_node: n.this_node,
        heartbeat: format!("{:.1} s ago", n.heartbeat_age_ms as f64 / 1000.0),
        lease: format!("{:.0} s", row.lease_ms as f64 / 1000.0),
        load: format!("{:.2}", row.load_centi as f64 / 100.0),
        id: row.id,
        role: row.role,
        version: row.version,
        hostname: row.hostname,
        state: row.state,
        workers: row.workers,
        running_jobs: row.running_jobs,
        running_agents: row.running_agents,
        memory_used_mb: row.memory_used_mb,
    }
}
