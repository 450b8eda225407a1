//! Admin-only pages: users, audit log, secrets (names only: values are never shown).

use crate::components::empty_state;
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

/// A simple table page: headers and rows of text cells.
#[derive(Debug, Clone, Default)]
pub struct TableView {
    pub title: String,
    pub intro: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub empty: String,
}

pub fn table_page(ctx: &PageCtx, v: &TableView) -> Markup {
    framed(
        ctx,
        &v.title,
        html! {
            h1 { (v.title) }
            @if !v.intro.is_empty() { p.muted { (v.intro) } }
            @if v.rows.is_empty() {
                (empty_state(&v.empty, html! {}))
            } @else {
                div.scroll {
                    table.list {
                        thead { tr { @for h in &v.headers { th { (h) } } } }
                        tbody { @for r in &v.rows { tr { @for c in r { td { (c) } } } } }
                    }
                }
            }
        },
    )
}
