//! `/`: what happened in the last 24 hours, what is coming, and how the host is doing.

use crate::components::chart::{Bar, stacked_bars};
use crate::components::{empty_state, status_badge};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct JobLine {
    pub id: String,
    pub script_id: String,
    pub script_name: String,
    pub status: String,
    pub when: String,
}

#[derive(Debug, Clone, Default)]
pub struct UpcomingLine {
    pub script_id: String,
    pub script_name: String,
    pub kind: String,
    pub when: String,
}

#[derive(Debug, Clone, Default)]
pub struct HostView {
    pub cpu_percent: f32,
    pub memory_used: u64,
    pub memory_total: u64,
    pub disk_used: u64,
    pub disk_total: u64,
}

#[derive(Debug, Clone, Default)]
pub struct DashboardView {
    /// Jobs created in the last 24 h, per status.
    pub by_status: Vec<(String, u64)>,
    pub total: u64,
    /// Failed share of finished jobs, 0..=1, when any finished.
    pub failure_rate: Option<f64>,
    pub queued: u64,
    pub running: u64,
    /// One bar per hour, oldest first.
    pub hourly: Vec<Bar>,
    pub upcoming: Vec<UpcomingLine>,
    pub failures: Vec<JobLine>,
    pub host: HostView,
}

/// Bytes as a short human-readable size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn meter(label: &str, used: u64, total: u64) -> Markup {
    let pct = if total == 0 {
        0.0
    } else {
        used as f64 / total as f64 * 100.0
    };
    html! {
        div.meter {
            div.meter-head { span { (label) } span.muted { (human_bytes(used)) " / " (human_bytes(total)) } }
            div.progress { div.progress-fill style={ "width:" (format!("{pct:.0}")) "%" } {} }
        }
    }
}

pub fn page(ctx: &PageCtx, v: &DashboardView) -> Markup {
    // htmx refreshes the figures every 15 s (the page works without it).
    let body = html! {
        h1 { "Dashboard" }
        div #dash hx-get="/" hx-trigger="every 15s" hx-select="#dash" hx-target="this" hx-swap="outerHTML" {
        section.stats {
            div.stat { div.stat-value data-stat="total" { (v.total) } div.stat-label { "jobs in 24 h" } }
            div.stat {
                div.stat-value data-stat="failure-rate" {
                    @match v.failure_rate { Some(r) => (format!("{:.0}%", r * 100.0)), None => "–" }
                }
                div.stat-label { "failure rate" }
            }
            div.stat { div.stat-value data-stat="queued" { (v.queued) } div.stat-label { "queued" } }
            div.stat { div.stat-value data-stat="running" { (v.running) } div.stat-label { "running" } }
        }
        div.grid2 {
            section.card {
                h2 { "Jobs per hour" }
                @if v.total == 0 {
                    (empty_state("No jobs in the last 24 hours.", html! { a href="/scripts" { "Run a script" } " to see it here." }))
                } @else {
                    (stacked_bars(&v.hourly, "jobs per hour over the last 24 hours"))
                    ul.inline-list {
                        @for (status, n) in &v.by_status { li { (status_badge(status)) " " (n) } }
                    }
                }
            }
            section.card {
                h2 { "Host" }
                div.meter {
                    div.meter-head { span { "CPU" } span.muted { (format!("{:.0}%", v.host.cpu_percent)) } }
                    div.progress { div.progress-fill style={ "width:" (format!("{:.0}", v.host.cpu_percent.clamp(0.0, 100.0))) "%" } {} }
                }
                (meter("Memory", v.host.memory_used, v.host.memory_total))
                (meter("Disk (data directory)", v.host.disk_used, v.host.disk_total))
            }
            section.card {
                h2 { "Upcoming schedules" }
                @if v.upcoming.is_empty() {
                    (empty_state("Nothing scheduled.", html! { a href="/schedules/new" { "Create a schedule" } " to run a script on a timer." }))
                } @else {
                    ul.rows {
                        @for u in &v.upcoming {
                            li { a href={ "/scripts/" (u.script_id) } { (u.script_name) } " " span.muted { (u.kind) } span.right { (u.when) } }
                        }
                    }
                }
            }
            section.card {
                h2 { "Recent failures" }
                @if v.failures.is_empty() {
                    (empty_state("No failures. ", html! { "Failed jobs show up here with a link to their log." }))
                } @else {
                    ul.rows {
                        @for j in &v.failures {
                            li { a href={ "/jobs/" (j.id) } { (j.script_name) } " " (status_badge(&j.status)) span.right.muted { (j.when) } }
                        }
                    }
                }
            }
        }
        }
    };
    framed(ctx, "Dashboard", body)
}
