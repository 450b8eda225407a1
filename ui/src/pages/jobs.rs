//! `/jobs`: recent jobs.

use crate::components::{empty_state, status_badge};
use crate::layout::{PageCtx, page as framed};
use crate::pages::dashboard::JobLine;
use maud::{Markup, html};

pub fn page(ctx: &PageCtx, jobs: &[JobLine]) -> Markup {
    framed(
        ctx,
        "Jobs",
        html! {
            h1 { "Jobs" }
            @if jobs.is_empty() {
                (empty_state("No jobs yet.", html! { "Open a " a href="/scripts" { "script" } " and press Run." }))
            } @else {
                table.list {
                    thead { tr { th { "Script" } th { "Status" } th { "Created" } } }
                    tbody {
                        @for j in jobs {
                            tr {
                                td { a href={ "/jobs/" (j.id) } { (j.script_name) } }
                                td { (status_badge(&j.status)) }
                                td.muted { (j.when) }
                            }
                        }
                    }
                }
            }
        },
    )
}
