//! Error pages (403, 404, 500, ...).

use crate::layout::{PageCtx, bare, page as framed};
use maud::{Markup, html};

fn body(status: u16, message: &str) -> Markup {
    html! {
        h1 { "Error " (status) }
        p.alert role="alert" { (message) }
        p { a href="/" { "Back to the dashboard" } }
    }
}

/// An error page inside the frame when the viewer is known, bare otherwise.
pub fn page(ctx: Option<&PageCtx>, status: u16, message: &str) -> Markup {
    match ctx {
        Some(ctx) => framed(ctx, "Error", body(status, message)),
        None => bare("Error", body(status, message)),
    }
}
