//! `/jobs`: job history, newest first, filtered by status, script and start time, a
//! page at a time.

use crate::components::paging::{filter_buttons, pager};
use crate::components::{empty_state, error_box, status_badge};
use crate::layout::{PageCtx, page as framed};
use crate::pages::dashboard::JobLine;
use maud::{Markup, html};

/// Job statuses offered by the filter.
pub const STATUSES: [&str; 9] = [
    "queued",
    "running",
    "succeeded",
    "failed",
    "timed_out",
    "memory_exceeded",
    "cpu_exceeded",
    "cancelled",
    "interrupted",
];

/// The filter form's input, as typed.
#[derive(Debug, Clone, Default)]
pub struct JobFilters {
    pub status: String,
    pub script_id: String,
    /// A `datetime-local` value, in UTC.
    pub since: String,
}

impl JobFilters {
    pub fn is_empty(&self) -> bool {
        self.status.is_empty() && self.script_id.is_empty() && self.since.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct JobsView {
    pub filters: JobFilters,
    /// `(id, name)` of the scripts to filter by.
    pub scripts: Vec<(String, String)>,
    pub jobs: Vec<JobLine>,
    pub error: Option<String>,
    /// Link to the next (older) page.
    pub older: Option<String>,
    /// The first page with the same filters, when this is a later page.
    pub newest: Option<String>,
}

pub fn page(ctx: &PageCtx, v: &JobsView) -> Markup {
    let f = &v.filters;
    framed(
        ctx,
        "Jobs",
        html! {
            h1 { "Jobs" }
            form.card.filters method="get" action="/jobs" {
                div.filter-grid {
                    div.field {
                        label for="f-status" { "Status" }
                        select #f-status name="status" {
                            option value="" { "Any status" }
                            @for s in STATUSES { option value=(s) selected[f.status == s] { (s.replace('_', " ")) } }
                        }
                    }
                    div.field {
                        label for="f-script" { "Script" }
                        select #f-script name="script_id" {
                            option value="" { "Any script" }
                            @for (id, name) in &v.scripts { option value=(id) selected[&f.script_id == id] { (name) } }
                        }
                    }
                    div.field {
                        label for="f-since" { "Created from " span.hint { "(UTC)" } }
                        input #f-since type="datetime-local" name="since" value=(f.since);
                    }
                }
                (filter_buttons("/jobs"))
            }
            (error_box(v.error.as_deref()))
            @if v.jobs.is_empty() && v.error.is_none() {
                @if f.is_empty() && v.newest.is_none() {
                    (empty_state("No jobs yet.", html! { "Open a " a href="/scripts" { "script" } " and press Run." }))
                } @else {
                    (empty_state("No job matches these filters.", html! { a href="/jobs" { "Show all jobs" } }))
                }
            } @else if !v.jobs.is_empty() {
                div.scroll {
                    table.list #jobs {
                        thead { tr { th { "Script" } th { "Status" } th { "Created" } } }
                        tbody {
                            @for j in &v.jobs {
                                tr {
                                    td { a href={ "/jobs/" (j.id) } { (j.script_name) } }
                                    td { (status_badge(&j.status)) }
                                    td.muted { (j.when) }
                                }
                            }
                        }
                    }
                }
            }
            (pager(v.newest.as_deref(), v.older.as_deref()))
        },
    )
}
