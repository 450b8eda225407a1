//! The job page's log viewer: one row per entry with its time, stream, level, message
//! and structured fields, and the tools (level filter, search, follow live, copy) that
//! `app.js` wires up. Live entries are drawn by `app.js` in this same shape, so a
//! finished job and a running one read alike.

use super::{JobView, LogLine};
use maud::{Markup, html};
use serde_json::Value;

/// The levels the filter offers: "this level and above". Printed lines count as `info`
/// (stdout) and `error` (stderr), so "Errors" keeps a traceback in view.
const LEVEL_FILTER: [(&str, &str); 4] = [
    ("", "All levels"),
    ("info", "Info and above"),
    ("warning", "Warnings and errors"),
    ("error", "Errors only"),
];

pub fn log_card(v: &JobView) -> Markup {
    html! {
        section.card.logview #logview {
            div.log-head {
                h2 { "Log " @if !v.finished { span.live #live-indicator { "live" } } }
                // Hidden until app.js runs: without it they would do nothing.
                div.log-tools hidden {
                    select #log-level aria-label="Level" {
                        @for (value, label) in LEVEL_FILTER { option value=(value) { (label) } }
                    }
                    input #log-search type="search" placeholder="Search the log" aria-label="Search the log";
                    @if !v.finished {
                        label.check { input #log-follow type="checkbox" checked; " Follow live" }
                    }
                    button #log-copy type="button" title="Copy the lines shown" { "Copy" }
                    span.muted #log-count {}
                }
            }
            div.loglines #log role="log" aria-live="polite"
                data-stream=[(!v.finished).then(|| format!("/jobs/{}/events", v.id))] {
                @for l in &v.log { (line(l)) }
            }
            @if v.finished && v.log.is_empty() && v.log_after == 0 { p.muted #log-empty { "This job wrote no log." } }
            @if v.log_after > 0 || v.log_next.is_some() {
                p.muted #log-pages {
                    @if v.log_after > 0 { "Entries after " (v.log_after) ". " a href={ "/jobs/" (v.id) } { "From the start" } }
                    @if let Some(next) = &v.log_next { @if v.log_after > 0 { " · " } a #log-next href=(next) { "Next entries" } }
                }
            }
        }
    }
}

/// One entry. The message is kept verbatim (printed lines end with their own newline,
/// which the row's `white-space: pre-wrap` does not turn into an empty line).
pub fn line(l: &LogLine) -> Markup {
    let level = l.level.as_deref().unwrap_or("");
    html! {
        div.line data-seq=(l.seq) data-stream=(l.stream) data-level=(level) {
            time.at datetime=(l.at) title=(l.at) { (clock(&l.at)) }
            span.stream { (l.stream) }
            span.lvl { (level) }
            span.body {
                span.msg { (l.message) }
                @if let Some(Value::Object(fields)) = &l.fields {
                    @for (k, v) in fields { " " span.field { span.k { (k) } "=" span.v { (field_text(v)) } } }
                }
            }
        }
    }
}

/// `HH:MM:SS.mmm` of an RFC 3339 time (the date is the job's; the title has it all).
pub fn clock(at: &str) -> &str {
    let time = at.split_once('T').map_or(at, |(_, t)| t);
    let end = time
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(time.len())
        .min(12);
    &time[..end]
}

/// A field's value as `k=v` shows it: plain words bare, other strings quoted (so a
/// space or `=` inside cannot be mistaken for the next field), the rest as JSON.
pub fn field_text(v: &Value) -> String {
    match v {
        Value::String(s)
            if !s.is_empty()
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control()) =>
        {
            s.clone()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_structured_line_shows_time_stream_level_and_fields() {
        let html = line(&LogLine {
            seq: 4,
            at: "2026-12-01T16:40:01.123Z".into(),
            stream: "log".into(),
            level: Some("info".into()),
            message: "step".into(),
            fields: Some(json!({"i": 3, "who": "ada lovelace", "ok": true})),
        })
        .into_string();
        assert!(
            html.contains(r#"data-stream="log" data-level="info""#),
            "{html}"
        );
        assert!(html.contains(">16:40:01.123</time>"), "{html}");
        assert!(
            html.contains(r#"<span class="k">i</span>=<span class="v">3</span>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="v">&quot;ada lovelace&quot;</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span class="v">true</span>"#), "{html}");
    }

    #[test]
    fn clock_and_field_text_edges() {
        assert_eq!(clock("2026-12-01T16:40:01Z"), "16:40:01");
        assert_eq!(clock("garbage"), "");
        assert_eq!(field_text(&json!("plain")), "plain");
        assert_eq!(field_text(&json!("")), r#""""#);
        assert_eq!(field_text(&json!("a=b")), r#""a=b""#);
        assert_eq!(field_text(&json!([1, 2])), "[1,2]");
    }
}
