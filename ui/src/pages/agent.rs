//! `/agents/{id}`: state and status (refreshed by htmx), start / stop / restart, a form
//! to send a message, and the agent's history and replies arriving live over SSE.

use super::agents::state_badge;
use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct EventLine {
    pub seq: i64,
    /// Time of day (UTC).
    pub at: String,
    /// `event`, `transition`, `stdout`, `stderr` or `log`.
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub script_id: String,
    pub script_name: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub status_text: Option<String>,
    pub metrics: Vec<(String, String)>,
    pub uptime: Option<String>,
    pub restarts: i64,
    pub last_exit: Option<String>,
    pub restart_policy: String,
    pub autostart: bool,
    /// The newest history entries, oldest first.
    pub events: Vec<EventLine>,
    /// The stream continues after this sequence number.
    pub last_seq: i64,
    pub message: MessageForm,
    /// A refused start / stop / restart.
    pub error: Option<String>,
}

/// The message form's state (re-rendered alone after an htmx submit).
#[derive(Debug, Clone, Default)]
pub struct MessageForm {
    pub agent_id: String,
    pub body: String,
    pub error: Option<String>,
    pub sent: bool,
}

/// The part of the page htmx refreshes: state, status, uptime, restarts.
pub fn status(v: &AgentView) -> Markup {
    html! {
        section.card #agent-status hx-get={ "/agents/" (v.id) "/status" } hx-trigger="every 2s, refresh"
            hx-swap="outerHTML" {
            div.job-head {
                (state_badge(&v.state))
                @if let Some(r) = &v.state_reason { " " span.muted { (r) } }
            }
            dl.facts {
                dt { "Status" } dd #status-text { (v.status_text.as_deref().unwrap_or("—")) }
                @for (k, val) in &v.metrics { dt { (k) } dd { (val) } }
                dt { "Uptime" } dd { (v.uptime.as_deref().unwrap_or("—")) }
                dt { "Restarts" } dd { (v.restarts) }
                @if let Some(e) = &v.last_exit { dt { "Last exit" } dd { (e) } }
            }
        }
    }
}

pub fn message_form(ctx: &PageCtx, m: &MessageForm) -> Markup {
    html! {
        form #message-form method="post" action={ "/agents/" (m.agent_id) "/message" }
            hx-post={ "/agents/" (m.agent_id) "/message" } hx-target="this" hx-swap="outerHTML" {
            (csrf_field(&ctx.csrf))
            div.field.invalid[m.error.is_some()] {
                label for="body" { "Message " span.hint { "(JSON, or plain text sent as a string)" } }
                textarea #body.json name="body" rows="3" placeholder="{\"name\": \"Ada\"}" { (m.body) }
                @if let Some(e) = &m.error { p.field-error role="alert" { (e) } }
            }
            button.primary type="submit" { "Send" }
            @if m.sent { " " span.muted #message-sent { "Sent." } }
        }
    }
}

fn event_line(e: &EventLine) -> Markup {
    html! {
        span class={ "line " (e.kind) } { span.muted { (e.at) " " (e.kind) " " } (e.text) "\n" }
    }
}

pub fn page(ctx: &PageCtx, v: &AgentView) -> Markup {
    framed(
        ctx,
        &v.name,
        html! {
            h1 { (v.name) " " span.muted.small { "agent" } }
            p.muted {
                "Runs " a href={ "/scripts/" (v.script_id) } { (v.script_name) }
                " · restart " (v.restart_policy)
                @if v.autostart { " · starts with the server" }
                " · " a href={ "/agents/" (v.id) "/edit" } { "Settings" }
            }
            (error_box(v.error.as_deref()))
            div.actions.agent-actions {
                @for (action, label, class) in [("start", "Start", "primary"), ("stop", "Stop", "danger"), ("restart", "Restart", "")] {
                    form method="post" action={ "/agents/" (v.id) "/" (action) } {
                        (csrf_field(&ctx.csrf))
                        button type="submit" class=(class) data-action=(action) { (label) }
                    }
                }
            }
            div.grid2 {
                (status(v))
                section.card {
                    h2 { "Send a message" }
                    (message_form(ctx, &v.message))
                    h3 { "Replies " span.live { "live" } }
                    ol.rows #replies {
                        @for e in v.events.iter().filter(|e| e.kind == "event") {
                            li { span.muted { (e.at) } " " span.mono { (e.text) } }
                        }
                    }
                }
            }
            section.card {
                h2 { "History " span.live { "live" } }
                pre.log #agent-log data-agent-stream={ "/agents/" (v.id) "/events?after=" (v.last_seq) } {
                    @for e in &v.events { (event_line(e)) }
                }
            }
            form method="post" action={ "/agents/" (v.id) "/delete" } data-confirm="Delete this agent and its history?" {
                (csrf_field(&ctx.csrf))
                button.danger type="submit" { "Delete agent" }
            }
            script src="/static/pages.js" defer {}
        },
    )
}
