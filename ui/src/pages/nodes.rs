//! `/nodes` (admin): the nodes sharing the database: role, version, heartbeat, what
//! each runs and its load.

use crate::components::empty_state;
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct NodeLine {
    pub id: String,
    pub role: String,
    pub version: String,
    pub hostname: String,
    /// `alive`, `lost` or `left`.
    pub state: String,
    pub live: bool,
    pub this_node: bool,
    /// e.g. "1.2 s ago".
    pub heartbeat: String,
    pub lease: String,
    pub workers: i64,
    pub running_jobs: i64,
    pub running_agents: i64,
    pub load: String,
    pub memory_used_mb: i64,
}

fn state_badge(n: &NodeLine) -> Markup {
    html! {
        @if n.live { span.badge.ok { "alive" } }
        @else if n.state == "alive" { span.badge.wait { "silent" } }
        @else if n.state == "lost" { span.badge.bad { "lost" } }
        @else { span.badge { (n.state) } }
    }
}

pub fn page(ctx: &PageCtx, nodes: &[NodeLine]) -> Markup {
    framed(
        ctx,
        "Nodes",
        html! {
            h1 { "Nodes" }
            p.muted { "Every server process sharing this database. A node not heard from within its lease is taken over: its jobs are retried or marked interrupted, its agents start on another node." }
            @if nodes.is_empty() {
                (empty_state("No node has registered.", html! { "Nodes register when they start." }))
            } @else {
                div.scroll {
                    table.list #nodes {
                        thead { tr {
                            th { "Node" } th { "Role" } th { "State" } th { "Heartbeat" }
                            th { "Jobs" } th { "Agents" } th.hide-sm { "Load" } th.hide-sm { "Sandbox memory" }
                            th.hide-sm { "Host" } th.hide-sm { "Version" }
                        } }
                        tbody {
                            @for n in nodes {
                                tr {
                                    td { code { (n.id) } @if n.this_node { " " span.muted { "(this node)" } } }
                                    td { (n.role) }
                                    td { (state_badge(n)) }
                                    td title={ "lease " (n.lease) } { (n.heartbeat) }
                                    td { (n.running_jobs) span.muted { " / " (n.workers) } }
                                    td { (n.running_agents) }
                                    td.hide-sm { (n.load) }
                                    td.hide-sm { (n.memory_used_mb) " MiB" }
                                    td.hide-sm { (n.hostname) }
                                    td.hide-sm.muted { (n.version) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
