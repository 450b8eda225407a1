//! `/agents` and `/agents/new`: the agents with their state, and the create form.

use crate::components::{csrf_field, empty_state, error_box};
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

#[derive(Debug, Clone, Default)]
pub struct NewAgentView {
    /// `(id, name)` of the scripts to pick from.
    pub scripts: Vec<(String, String)>,
    pub name: String,
    pub script_id: String,
    pub args: String,
    pub restart_policy: String,
    pub autostart: bool,
    pub memory_mb: String,
    pub stop_grace_seconds: String,
    pub error: Option<String>,
    pub field_errors: Vec<(String, String)>,
}

pub fn new_page(ctx: &PageCtx, v: &NewAgentView) -> Markup {
    let err = |f: &str| {
        v.field_errors
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, m)| m.clone())
    };
    framed(
        ctx,
        "New agent",
        html! {
            h1 { "New agent" }
            p.muted { "An agent runs its script's " code { "main()" } " under supervision: it is restarted per its policy, receives messages with "
                code { "automa.agent.receive()" } " and answers with " code { "automa.agent.emit()" } "." }
            (error_box(v.error.as_deref()))
            form.card method="post" action="/agents/new" {
                (csrf_field(&ctx.csrf))
                div.field.invalid[err("name").is_some()] {
                    label for="name" { "Name" span.req { " *" } " " span.hint { "(letters, digits, - _ .)" } }
                    input #name type="text" name="name" value=(v.name) required autofocus;
                    @if let Some(m) = err("name") { p.field-error { (m) } }
                }
                div.field.invalid[err("script_id").is_some()] {
                    label for="script_id" { "Script" }
                    select #script_id name="script_id" required {
                        @for (id, name) in &v.scripts {
                            option value=(id) selected[*id == v.script_id] { (name) }
                        }
                    }
                    @if let Some(m) = err("script_id") { p.field-error { (m) } }
                }
                div.field.invalid[err("args").is_some()] {
                    label for="args" { "Arguments " span.hint { "(JSON object for main())" } }
                    textarea #args.json name="args" rows="3" placeholder="{}" { (v.args) }
                    @if let Some(m) = err("args") { p.field-error { (m) } }
                }
                div.field {
                    label for="restart_policy" { "Restart policy" }
                    select #restart_policy name="restart_policy" {
                        @for (value, label) in [("on-failure", "On failure"), ("always", "Always"), ("never", "Never")] {
                            option value=(value) selected[v.restart_policy == value] { (label) }
                        }
                    }
                }
                div.grid2 {
                    div.field.invalid[err("memory_mb").is_some()] {
                        label for="memory_mb" { "Memory (MiB)" }
                        input #memory_mb type="number" min="32" max="4096" name="memory_mb" value=(v.memory_mb);
                        @if let Some(m) = err("memory_mb") { p.field-error { (m) } }
                    }
                    div.field.invalid[err("stop_grace_seconds").is_some()] {
                        label for="stop_grace_seconds" { "Stop grace (seconds)" }
                        input #stop_grace_seconds type="number" min="0" max="600" name="stop_grace_seconds" value=(v.stop_grace_seconds);
                        @if let Some(m) = err("stop_grace_seconds") { p.field-error { (m) } }
                    }
                }
                div.field {
                    label.check for="autostart" {
                        input #autostart type="checkbox" name="autostart" value="true" checked[v.autostart];
                        " Start with the server"
                    }
                }
                button.primary type="submit" { "Create agent" }
            }
        },
    )
}
