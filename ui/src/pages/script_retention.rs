//! `/scripts/{id}/retention`: a script's retention overrides (run settings `jobs_days`,
//! `job_logs_days`, `artifacts_days`, `agent_history_days`), each empty for the
//! server's period, `0` for forever, or a number of days.

use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

/// The form's fields: setting name and label, in order.
pub const FIELDS: [(&str, &str); 4] = [
    ("jobs_days", "Finished jobs"),
    ("job_logs_days", "Job logs and output"),
    ("artifacts_days", "Artifacts"),
    ("agent_history_days", "Agent history"),
];

#[derive(Debug, Clone, Default)]
pub struct RetentionView {
    pub script_id: String,
    pub script_name: String,
    /// The values as stored or as typed, in the order of [`FIELDS`] (empty: the
    /// server's period).
    pub values: [String; 4],
    /// The server's periods in days (0: forever), shown for the empty fields.
    pub defaults: [u32; 4],
    pub error: Option<String>,
    /// Whether the last save went through.
    pub saved: bool,
}

fn period(days: u32) -> String {
    match days {
        0 => "forever".to_owned(),
        1 => "1 day".to_owned(),
        d => format!("{d} days"),
    }
}

pub fn page(ctx: &PageCtx, v: &RetentionView) -> Markup {
    framed(
        ctx,
        &format!("Retention of {}", v.script_name),
        html! {
            h1 { "Retention of " a href={ "/scripts/" (v.script_id) } { (v.script_name) } }
            section.card #retention {
                p.muted {
                    "How long this script's finished work is kept, in days (at most 3650). "
                    "Empty: the server's period, shown in the field; " code { "0" } ": forever."
                }
                (error_box(v.error.as_deref()))
                @if v.saved { div.notice role="status" { "Saved." } }
                form method="post" action={ "/scripts/" (v.script_id) "/retention" } {
                    (csrf_field(&ctx.csrf))
                    div.grid2 {
                        @for (i, (name, label)) in FIELDS.iter().enumerate() {
                            div.field {
                                label for=(name) { (label) " " span.hint { "(days)" } }
                                input #(name) type="number" min="0" max="3650" step="1" name=(name)
                                    placeholder={ "server: " (period(v.defaults[i])) }
                                    value=(v.values[i]);
                            }
                        }
                    }
                    button.primary type="submit" { "Save" }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_shows_each_value_the_server_periods_and_the_refusal() {
        let ctx = PageCtx {
            email: "a@example.org".into(),
            is_admin: false,
            theme: "system".into(),
            csrf: "token".into(),
            nav: crate::Nav::Scripts,
            path: "/scripts/s1/retention".into(),
        };
        let view = RetentionView {
            script_id: "s1".into(),
            script_name: "report".into(),
            values: ["7".into(), String::new(), "0".into(), String::new()],
            defaults: [90, 30, 30, 0],
            error: Some("jobs_days must be between 1 and 3650 days".into()),
            saved: false,
        };
        let html = page(&ctx, &view).into_string();
        assert!(html.contains(r#"action="/scripts/s1/retention""#), "{html}");
        assert!(
            html.contains(r#"name="jobs_days" placeholder="server: 90 days" value="7""#),
            "{html}"
        );
        assert!(
            html.contains(r#"name="agent_history_days" placeholder="server: forever" value="""#),
            "{html}"
        );
        assert!(html.contains("jobs_days must be between"), "{html}");
    }
}
