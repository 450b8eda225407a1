//! `/nodes` (admin): the node registry, through `GET /api/v1/nodes`.

use super::page::{Viewer, html};
use crate::auth::policy;
use crate::error::PageError;
use automa_ui::Nav;
use automa_ui::pages::nodes::{NodeLine, page};
use axum::response::Response;
use serde_json::Value;

pub async fn list(viewer: Viewer) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let answer = viewer.api.get("/api/v1/nodes").await?;
    let nodes: Vec<NodeLine> = answer["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(line)
        .collect();
    Ok(html(page(&viewer.ctx(Nav::Nodes), &nodes)))
}

fn line(n: &Value) -> NodeLine {
    let text = |key: &str| n[key].as_str().unwrap_or_default().to_owned();
    let int = |key: &str| n[key].as_i64().unwrap_or_default();
    NodeLine {
        id: text("id"),
        role: text("role"),
        version: text("version"),
        hostname: text("hostname"),
        state: text("state"),
        live: n["live"].as_bool().unwrap_or(false),
        this_node: n["this_node"].as_bool().unwrap_or(false),
        heartbeat: format!("{:.1} s ago", int("heartbeat_age_ms") as f64 / 1000.0),
        lease: format!("{:.0} s", int("lease_ms") as f64 / 1000.0),
        workers: int("workers"),
        running_jobs: int("running_jobs"),
        running_agents: int("running_agents"),
        load: format!("{:.2}", n["load"].as_f64().unwrap_or_default()),
        memory_used_mb: int("memory_used_mb"),
    }
}
