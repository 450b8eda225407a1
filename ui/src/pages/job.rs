//! `/jobs/{id}`: status, result or error, progress, and the log arriving live.

use crate::commands;
use crate::components::{csrf_field, progress, status_badge};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

pub mod log_view;

/// One entry of the job's log, as the API gives it.
#[derive(Debug, Clone, Default)]
pub struct LogLine {
    pub seq: i64,
    /// RFC 3339 time.
    pub at: String,
    pub stream: String,
    pub level: Option<String>,
    pub message: String,
    /// Structured fields of a `log` entry (`automa.log.info("step", i=3)`), or the
    /// `fraction` of a `progress` entry.
    pub fields: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct JobView {
    pub id: String,
    pub script_id: String,
    pub script_name: String,
    pub script_version: i64,
    pub status: String,
    pub finished: bool,
    pub trigger: String,
    pub attempt: i64,
    pub max_attempts: i64,
    /// The arguments, pretty JSON.
    pub args: String,
    /// The same arguments as JSON, for the equivalent commands.
    pub args_json: serde_json::Value,
    /// The server's public URL, for the equivalent commands.
    pub base_url: String,
    pub result: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub traceback: Option<String>,
    pub progress: Option<f64>,
    pub progress_message: Option<String>,
    pub duration: Option<String>,
    /// The CPU the run used, e.g. `CPU 420 ms (2.10 CPU s budgeted)`.
    pub cpu: Option<String>,
    pub created_at: String,
    /// The stored log, for finished jobs (running ones stream it): one page of it.
    pub log: Vec<LogLine>,
    /// The page shows the entries after this one (0: from the start).
    pub log_after: i64,
    /// The page with the entries that follow, when there are more.
    pub log_next: Option<String>,
}

pub fn page(ctx: &PageCtx, v: &JobView) -> Markup {
    framed(
        ctx,
        "Job",
        html! {
            h1 { "Job " span.muted.small.mono { (v.id) } }
            div.job-head {
                (status_badge(&v.status))
                " " a href={ "/scripts/" (v.script_id) } { (v.script_name) } " v" (v.script_version)
                span.muted { " · " (v.trigger) " · attempt " (v.attempt) "/" (v.max_attempts) " · " (v.created_at) }
                @if let Some(d) = &v.duration { span.muted { " · " (d) } }
                @if let Some(c) = &v.cpu { span.muted data-cpu { " · " (c) } }
            }
            div.actions {
                @if !v.finished {
                    form method="post" action={ "/jobs/" (v.id) "/cancel" } {
                        (csrf_field(&ctx.csrf))
                        button.danger type="submit" { "Cancel" }
                    }
                }
                form method="post" action={ "/jobs/" (v.id) "/rerun" } {
                    (csrf_field(&ctx.csrf))
                    button type="submit" { "Run again" }
                }
            }
            (progress(v.progress, v.progress_message.as_deref()))
            div.grid2 {
                section.card { h2 { "Arguments" } pre.mono { (v.args) } }
                section.card {
                    @if let Some(r) = &v.result { h2 { "Result" } pre.mono #result { (r) } }
                    @else if let Some(m) = &v.error_message {
                        h2 { "Error" }
                        p.alert #error { strong { (v.error_kind.as_deref().unwrap_or("Error")) } ": " (m) }
                        @if let Some(tb) = v.traceback.as_deref().filter(|t| !t.is_empty()) { pre.mono.traceback { (tb) } }
                    } @else {
                        h2 { "Result" } p.muted { @if v.finished { "No result." } @else { "Not finished yet." } }
                    }
                }
            }
            (log_view::log_card(v))
            (commands::card(&commands::for_job(&v.base_url, &v.id, &v.script_id, &v.script_name, &v.args_json)))
        },
    )
}
