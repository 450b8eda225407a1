//! Small reusable pieces of markup.

pub mod chart;
pub mod diff;
pub mod form_fields;
pub mod paging;
pub mod plugin_function;
pub mod qr;
pub mod usage;

use maud::{Markup, html};

/// The hidden CSRF field every form carries (checked server-side).
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A job status as a coloured badge.
pub fn status_badge(status: &str) -> Markup {
    let class = match status {
        "succeeded" => "ok",
        "failed" | "timed_out" | "memory_exceeded" | "cpu_exceeded" | "interrupted" => "bad",
        "running" => "run",
        "cancelled" => "muted",
        _ => "wait",
    };
    html! { span class={ "badge " (class) } data-status=(status) { (status.replace('_', " ")) } }
}

/// An empty list, saying what to do next.
pub fn empty_state(title: &str, next: Markup) -> Markup {
    html! {
        div.empty {
            p.empty-title { (title) }
            div.empty-next { (next) }
        }
    }
}

/// An error message shown above a form (the form keeps its input).
pub fn error_box(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            div.alert role="alert" { (m) }
        }
    }
}

/// A progress bar for a fraction in 0..=1.
pub fn progress(fraction: Option<f64>, message: Option<&str>) -> Markup {
    let pct = (fraction.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0).round();
    html! {
        div.progress-wrap {
            div.progress role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=(pct) {
                div.progress-fill style={ "width:" (pct) "%" } {}
            }
            span.progress-label { (pct) "%" @if let Some(m) = message { " · " (m) } }
        }
    }
}
