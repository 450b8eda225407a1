//! `/jobs/{id}`: status, result or error, progress, and the log arriving live.

use crate::components::{csrf_field, progress, status_badge};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct LogLine {
    pub stream: String,
    pub level: Option<String>,
    pub message: String,
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
    pub args: String,
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
            section.card {
                h2 { "Log " @if !v.finished { span.live #live-indicator { "live" } } }
                pre.log #log data-stream=[(!v.finished).then(|| format!("/jobs/{}/events", v.id))] {
                    @for l in &v.log { (log_line(l)) }
                }
                @if v.finished && v.log.is_empty() && v.log_after == 0 { p.muted #log-empty { "This job wrote no log." } }
                @if v.log_after > 0 || v.log_next.is_some() {
                    p.muted #log-pages {
                        @if v.log_after > 0 { "Entries after " (v.log_after) ". " a href={ "/jobs/" (v.id) } { "From the start" } }
                        @if let Some(next) = &v.log_next { @if v.log_after > 0 { " · " } a #log-next href=(next) { "Next entries" } }
                    }
                }
            }
        },
    )
}

fn log_line(l: &LogLine) -> Markup {
    html! {
        // Printed lines end with their own newline; structured log lines do not.
        span class={ "line " (l.stream) " " (l.level.as_deref().unwrap_or("")) } {
            (l.message) @if !l.message.ends_with('\n') { "\n" }
        }
    }
}
