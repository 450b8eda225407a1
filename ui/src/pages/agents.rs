//! `/agents`: the agents with their state.

use crate::components::empty_state;
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

/// An agent state as a coloured badge.
pub fn state_badge(state: &str) -> Markup {
    let class = match state {
        "running" => "ok",
        "fatal" => "bad",
        "starting" | "stopping" | "backoff" => "wait",
        _ => "muted",
    };
    html! { span class={ "badge " (class) } data-state=(state) { (state) } }
}

#[derive(Debug, Clone, Default)]
pub struct AgentLine {
    pub id: String,
    pub name: String,
    pub script_id: String,
    pub script_name: String,
    pub state: String,
    pub uptime: Option<String>,
    pub restarts: i64,
    pub status_text: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AgentsView {
    pub agents: Vec<AgentLine>,
    pub has_scripts: bool,
}

pub fn page(ctx: &PageCtx, v: &AgentsView) -> Markup {
    framed(
        ctx,
        "Agents",
        html! {
            div.title-row {
                h1 { "Agents" }
                @if v.has_scripts { a.button.primary href="/agents/new" { "New agent" } }
            }
            @if v.agents.is_empty() {
                @if v.has_scripts {
                    (empty_state("No agents yet.", html! {
                        a href="/agents/new" { "Create an agent" }
                        " from a script that loops on " code { "automa.agent.receive()" }
                        "; it keeps running under supervision and answers messages."
                    }))
                } @else {
                    (empty_state("No scripts to run as an agent yet.", html! {
                        a href="/scripts/new" { "Create a script" } " that uses "
                        code { "automa.agent" } " first."
                    }))
                }
            } @else {
                div.scroll {
                    // States change on their own: the table refreshes itself.
                    table.list #agent-list hx-get="/agents" hx-trigger="every 5s" hx-select="#agent-list" hx-swap="outerHTML" {
                        thead { tr {
                            th { "Name" } th { "State" } th.hide-sm { "Script" } th { "Uptime" }
                            th.hide-sm { "Restarts" } th { "Status" }
                        } }
                        tbody {
                            @for a in &v.agents {
                                tr data-agent=(a.id) {
                                    td { a href={ "/agents/" (a.id) } { (a.name) } }
                                    td { (state_badge(&a.state)) }
                                    td.hide-sm { a href={ "/scripts/" (a.script_id) } { (a.script_name) } }
                                    td.muted { (a.uptime.as_deref().unwrap_or("—")) }
                                    td.hide-sm { (a.restarts) }
                                    td.muted { (a.status_text.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
