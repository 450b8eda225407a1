//! `/schedules`: every schedule the viewer may see, or those of one script, with
//! enable/disable in place.

use crate::components::{csrf_field, empty_state};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct ScheduleLine {
    pub id: String,
    pub script_id: String,
    pub script_name: String,
    pub kind: String,
    /// The timing in words: the cron pattern, "every 5 min", or the one time.
    pub spec: String,
    pub timezone: String,
    pub next_run: Option<String>,
    pub enabled: bool,
    pub last_run: Option<String>,
    pub last_job_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SchedulesView {
    /// `(id, name)` when the list is one script's.
    pub script: Option<(String, String)>,
    pub schedules: Vec<ScheduleLine>,
    /// Whether the viewer has any script to schedule.
    pub has_scripts: bool,
}

pub fn page(ctx: &PageCtx, v: &SchedulesView) -> Markup {
    let new_href = match &v.script {
        Some((id, _)) => format!("/schedules/new?script_id={id}"),
        None => "/schedules/new".to_owned(),
    };
    framed(
        ctx,
        "Schedules",
        html! {
            div.title-row {
                h1 {
                    "Schedules"
                    @if let Some((id, name)) = &v.script {
                        " of " a href={ "/scripts/" (id) } { (name) }
                    }
                }
                @if v.has_scripts { a.button.primary href=(new_href) { "New schedule" } }
            }
            @if let Some(_) = &v.script { p { a href="/schedules" { "All schedules" } } }
            @if v.schedules.is_empty() {
                @if v.has_scripts {
                    (empty_state("Nothing scheduled yet.", html! {
                        a href=(new_href) { "Create a schedule" }
                        " to run a script by cron in a time zone, every few minutes, or once."
                    }))
                } @else {
                    (empty_state("No scripts to schedule yet.", html! {
                        a href="/scripts/new" { "Create a script" } " first, then schedule it here."
                    }))
                }
            } @else {
                div.scroll {
                    table.list #schedule-list {
                        thead { tr {
                            th { "Script" } th { "When" } th.hide-sm { "Time zone" }
                            th { "Next run" } th { "Enabled" } th.hide-sm { "Last fired" } th {}
                        } }
                        tbody {
                            @for s in &v.schedules { (row(ctx, s)) }
                        }
                    }
                }
            }
        },
    )
}

fn row(ctx: &PageCtx, s: &ScheduleLine) -> Markup {
    html! {
        tr data-schedule=(s.id) {
            td { a href={ "/scripts/" (s.script_id) } { (s.script_name) } }
            td { span.tag { (s.kind) } " " span.mono { (s.spec) } }
            td.hide-sm.muted { (s.timezone) }
            td { @if let Some(n) = &s.next_run { (n) } @else { span.muted { "—" } } }
            td {
                form.inline method="post" action={ "/schedules/" (s.id) "/enabled" } {
                    (csrf_field(&ctx.csrf))
                    input type="hidden" name="back" value=(ctx.path);
                    input type="hidden" name="enabled" value=(if s.enabled { "false" } else { "true" });
                    button.linkish type="submit" title=(if s.enabled { "Disable" } else { "Enable" })
                        aria-label=(if s.enabled { "On: disable this schedule" } else { "Off: enable this schedule" }) {
                        @if s.enabled { span.badge.ok { "on" } } @else { span.badge.muted { "off" } }
                    }
                }
            }
            td.hide-sm.muted {
                @match (&s.last_run, &s.last_job_id) {
                    (Some(t), Some(job)) => a href={ "/jobs/" (job) } { (t) },
                    (Some(t), None) => (t),
                    _ => "never",
                }
            }
            td { a href={ "/schedules/" (s.id) } { "Edit" } }
        }
    }
}
