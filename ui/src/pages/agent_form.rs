//! `/agents/new` and `/agents/{id}/edit`: an agent's script, arguments, restart policy,
//! memory, stop grace and autostart.

use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct AgentFormView {
    /// `Some` when changing an existing agent's settings.
    pub id: Option<String>,
    /// `(id, name)` of the scripts to pick from (new agents only).
    pub scripts: Vec<(String, String)>,
    /// The script of an existing agent (it cannot change).
    pub script_name: String,
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

pub fn page(ctx: &PageCtx, v: &AgentFormView) -> Markup {
    let err = |f: &str| {
        v.field_errors
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, m)| m.clone())
    };
    let (title, action) = match &v.id {
        Some(id) => ("Agent settings", format!("/agents/{id}/edit")),
        None => ("New agent", "/agents/new".to_owned()),
    };
    framed(
        ctx,
        title,
        html! {
            h1 { (title) }
            p.muted { "An agent runs its script's " code { "main()" } " under supervision: it is restarted per its policy, receives messages with "
                code { "automa.agent.receive()" } " and answers with " code { "automa.agent.emit()" } "." }
            (error_box(v.error.as_deref()))
            form.card method="post" action=(action) {
                (csrf_field(&ctx.csrf))
                div.field.invalid[err("name").is_some()] {
                    label for="name" { "Name" span.req { " *" } " " span.hint { "(letters, digits, - _ .)" } }
                    input #name type="text" name="name" value=(v.name) required autofocus;
                    @if let Some(m) = err("name") { p.field-error { (m) } }
                }
                div.field.invalid[err("script_id").is_some()] {
                    label for="script_id" { "Script" }
                    @if v.id.is_some() {
                        p { a href={ "/scripts/" (v.script_id) } { (v.script_name) } }
                    } @else {
                        select #script_id name="script_id" required {
                            @for (id, name) in &v.scripts {
                                option value=(id) selected[*id == v.script_id] { (name) }
                            }
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
                button.primary type="submit" { @if v.id.is_some() { "Save" } @else { "Create agent" } }
            }
        },
    )
}
