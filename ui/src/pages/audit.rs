//! `/audit` (admin): the audit log, newest first, filtered by actor, action and time,
//! a page at a time.

use crate::components::paging::{filter_buttons, pager};
use crate::components::{empty_state, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct AuditLine {
    pub at: String,
    /// The actor's email when it is a known user, else the raw actor.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub ip: String,
    /// Compact JSON, empty for `{}`.
    pub details: String,
}

/// The filter form's input, as typed.
#[derive(Debug, Clone, Default)]
pub struct AuditFilters {
    /// An email or a raw actor (`anonymous`, `cli`, a user id).
    pub actor: String,
    pub action: String,
    /// `datetime-local` values, in UTC.
    pub since: String,
    pub until: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditView {
    pub filters: AuditFilters,
    pub entries: Vec<AuditLine>,
    pub error: Option<String>,
    /// Link to the next (older) page.
    pub older: Option<String>,
    /// This is not the first page.
    pub paged: bool,
    /// The first page with the same filters.
    pub newest: String,
    /// Known actions, offered while typing.
    pub actions: Vec<String>,
}

fn outcome(o: &str) -> Markup {
    let class = match o {
        "success" => "ok",
        "failure" | "denied" => "bad",
        _ => "muted",
    };
    html! { span class={ "badge " (class) } { (o) } }
}

pub fn page(ctx: &PageCtx, v: &AuditView) -> Markup {
    let f = &v.filters;
    framed(
        ctx,
        "Audit log",
        html! {
            h1 { "Audit log" }
            p.muted { "Newest first. Every entry is chained to the previous by SHA-256; " code { "automa audit verify" } " checks the chain." }
            form.card.filters method="get" action="/audit" {
                div.filter-grid {
                    div.field {
                        label for="f-actor" { "Actor " span.hint { "(email, user id, anonymous, cli)" } }
                        input #f-actor type="text" name="actor" value=(f.actor);
                    }
                    div.field {
                        label for="f-action" { "Action " span.hint { "(e.g. auth.login)" } }
                        input #f-action type="text" name="action" value=(f.action) list="audit-actions";
                        datalist #audit-actions { @for a in &v.actions { option value=(a) {} } }
                    }
                    div.field {
                        label for="f-since" { "From " span.hint { "(UTC)" } }
                        input #f-since type="datetime-local" name="since" value=(f.since);
                    }
                    div.field {
                        label for="f-until" { "Until " span.hint { "(UTC)" } }
                        input #f-until type="datetime-local" name="until" value=(f.until);
                    }
                }
                (filter_buttons("/audit"))
            }
            (error_box(v.error.as_deref()))
            @if v.entries.is_empty() && v.error.is_none() {
                (empty_state("No audit entries match.", html! {
                    @if v.paged { a href=(v.newest) { "Back to the newest entries" } }
                    @else { "Widen the filters, or " a href="/audit" { "clear them" } "." }
                }))
            } @else if !v.entries.is_empty() {
                div.scroll {
                    table.list #audit {
                        thead { tr { th { "Time" } th { "Actor" } th { "Action" } th { "Target" } th { "Outcome" } th.hide-sm { "IP" } th.hide-sm { "Details" } } }
                        tbody {
                            @for e in &v.entries {
                                tr {
                                    td.muted.nowrap { (e.at) }
                                    td { (e.actor) }
                                    td.mono { (e.action) }
                                    td.mono.small { (e.target) }
                                    td { (outcome(&e.outcome)) }
                                    td.hide-sm.muted { (e.ip) }
                                    td.hide-sm.mono.small.details { (e.details) }
                                }
                            }
                        }
                    }
                }
            }
            (pager(v.paged.then_some(v.newest.as_str()), v.older.as_deref()))
        },
    )
}
