//! The pieces shared by the filtered, paged lists (jobs, audit log): the filter form's
//! buttons and the links between pages.

use maud::{Markup, html};

/// Submit and "Clear" (back to `list` without filters).
pub fn filter_buttons(list: &str) -> Markup {
    html! {
        div.actions {
            button.primary type="submit" { "Filter" }
            a.button href=(list) { "Clear" }
        }
    }
}

/// Links to the first page (`newest`, when this is a later one) and the next, older one.
pub fn pager(newest: Option<&str>, older: Option<&str>) -> Markup {
    html! {
        nav.pager aria-label="Pages" {
            @if let Some(newest) = newest { a.button href=(newest) { "← Newest" } }
            @if let Some(older) = older { a.button href=(older) rel="next" { "Older →" } }
        }
    }
}
