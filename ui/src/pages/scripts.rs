//! `/scripts`: the scripts list with search.

use crate::components::empty_state;
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct ScriptLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: i64,
    pub tags: Vec<String>,
    pub updated: String,
}

#[derive(Debug, Clone, Default)]
pub struct ScriptsView {
    pub q: String,
    pub scripts: Vec<ScriptLine>,
}

pub fn page(ctx: &PageCtx, v: &ScriptsView) -> Markup {
    framed(
        ctx,
        "Scripts",
        html! {
            div.title-row {
                h1 { "Scripts" }
                a.button.primary href="/scripts/new" { "New script" }
            }
            form.search method="get" action="/scripts" role="search" {
                // htmx swaps in the matching list while typing; without JS the button submits.
                input type="search" name="q" value=(v.q) placeholder="Search by name or description" aria-label="Search scripts"
                    hx-get="/scripts" hx-trigger="input changed delay:300ms, search" hx-target="#script-list"
                    hx-select="#script-list" hx-swap="outerHTML" hx-push-url="true";
                button type="submit" { "Search" }
            }
            div #script-list {
            @if v.scripts.is_empty() {
                @if v.q.is_empty() {
                    (empty_state("No scripts yet.", html! {
                        a href="/scripts/new" { "Create your first script" }
                        " here, or upload one with " code { "POST /api/v1/scripts" }
                        " (see " a href="/api/docs" { "the API docs" } ")."
                    }))
                } @else {
                    (empty_state("No script matches this search.", html! { a href="/scripts" { "Show all scripts" } }))
                }
            } @else {
                table.list {
                    thead { tr { th { "Name" } th.hide-sm { "Description" } th { "Version" } th.hide-sm { "Updated" } } }
                    tbody {
                        @for s in &v.scripts {
                            tr {
                                td { a href={ "/scripts/" (s.id) } { (s.name) }
                                     @for t in &s.tags { " " span.tag { (t) } } }
                                td.hide-sm.muted { (s.description) }
                                td { "v" (s.version) }
                                td.hide-sm.muted { (s.updated) }
                            }
                        }
                    }
                }
            }
            }
        },
    )
}
