//! `/schedules/new` and `/schedules/{id}`: the schedule form (cron, interval or once),
//! with the next five run times computed by the server. The fields of the other kinds
//! are hidden by CSS (`:has`), and htmx refreshes the preview as the user types.

use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

/// The next runs of the timing in the form, or why there are none.
#[derive(Debug, Clone)]
pub enum Preview {
    /// Each run as `(time in the schedule's zone, the same in UTC)`.
    Runs(Vec<(String, String)>),
    Problem(String),
}

impl Default for Preview {
    fn default() -> Self {
        Preview::Runs(Vec::new())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ScheduleFormView {
    /// `Some` when editing an existing schedule.
    pub id: Option<String>,
    /// `(id, name)` of the scripts to pick from (new schedules only).
    pub scripts: Vec<(String, String)>,
    pub script_id: String,
    pub script_name: String,
    /// The script's parameters as a hint for the arguments, e.g. `name: str`.
    pub params: Vec<String>,
    pub kind: String,
    pub cron: String,
    pub every_seconds: String,
    /// `datetime-local` value in the schedule's zone.
    pub at: String,
    pub timezone: String,
    /// No zone was chosen yet: the browser's own zone replaces the default.
    pub guess_timezone: bool,
    /// Interval anchor (unix ms) of an existing schedule, for the preview.
    pub anchor: Option<i64>,
    pub args: String,
    pub enabled: bool,
    pub overlap: String,
    pub catch_up: String,
    pub zones: Vec<&'static str>,
    pub preview: Preview,
    pub error: Option<String>,
    pub field_errors: Vec<(String, String)>,
}

impl ScheduleFormView {
    fn err(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn field_error(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { p.field-error { (m) } } }
}

/// The preview fragment (also what `/schedules/preview` answers).
pub fn preview(p: &Preview) -> Markup {
    html! {
        div #schedule-preview aria-live="polite" {
            h2 { "Next runs" }
            @match p {
                Preview::Problem(m) => p.alert role="alert" #preview-problem { (m) },
                Preview::Runs(runs) if runs.is_empty() => p.muted { "No upcoming runs." },
                Preview::Runs(runs) => ol.rows.runs {
                    @for (local, utc) in runs {
                        li { span.mono { (local) } " " span.muted.small { "(" (utc) ")" } }
                    }
                },
            }
        }
    }
}

pub fn page(ctx: &PageCtx, v: &ScheduleFormView) -> Markup {
    let title = if v.id.is_some() {
        "Edit schedule"
    } else {
        "New schedule"
    };
    let action = match &v.id {
        Some(id) => format!("/schedules/{id}"),
        None => "/schedules/new".to_owned(),
    };
    framed(
        ctx,
        title,
        html! {
            h1 { (title) }
            (error_box(v.error.as_deref()))
            div.grid2 {
            form.card.schedule method="post" action=(action) {
                (csrf_field(&ctx.csrf))
                @if let Some(a) = v.anchor { input type="hidden" name="anchor" value=(a); }
                div.field.invalid[v.err("script_id").is_some()] {
                    label for="script_id" { "Script" }
                    @if v.id.is_some() {
                        p { a href={ "/scripts/" (v.script_id) } { (v.script_name) } }
                    } @else {
                        select #script_id name="script_id" required {
                            @for (id, name) in &v.scripts {
                                option value=(id) selected[*id == v.script_id] { (name) }
                            }
                        }
                    }
                    (field_error(v.err("script_id")))
                }
                // Changing any timing field re-renders the preview (GET, without the token).
                div.timing hx-get="/schedules/preview" hx-trigger="input changed delay:300ms, change"
                    hx-include="closest form" hx-params="not csrf" hx-target="#schedule-preview"
                    hx-swap="outerHTML" {
                    div.field.invalid[v.err("kind").is_some()] {
                        label for="kind" { "Kind" }
                        select #kind name="kind" {
                            @for (value, label) in [("cron", "Cron pattern"), ("interval", "Every N seconds"), ("once", "Once")] {
                                option value=(value) selected[v.kind == value] { (label) }
                            }
                        }
                        (field_error(v.err("kind")))
                    }
                    div.field.kind-field.for-cron.invalid[v.err("cron").is_some()] {
                        label for="cron" { "Cron pattern " span.hint { "minute hour day month weekday, e.g. 0 9 * * MON-FRI (6 fields: seconds first)" } }
                        input #cron.mono type="text" name="cron" value=(v.cron) autocomplete="off" spellcheck="false" placeholder="0 9 * * MON-FRI";
                        (field_error(v.err("cron")))
                    }
                    div.field.kind-field.for-interval.invalid[v.err("every_seconds").is_some()] {
                        label for="every_seconds" { "Every (seconds)" }
                        input #every_seconds type="number" min="1" step="1" name="every_seconds" value=(v.every_seconds);
                        (field_error(v.err("every_seconds")))
                    }
                    div.field.kind-field.for-once.invalid[v.err("at").is_some()] {
                        label for="at" { "At " span.hint { "in the time zone below" } }
                        input #at type="datetime-local" name="at" value=(v.at);
                        (field_error(v.err("at")))
                    }
                    div.field.kind-field.for-cron.for-once.invalid[v.err("timezone").is_some()] {
                        label for="timezone" { "Time zone" }
                        select #timezone name="timezone" data-guess-timezone[v.guess_timezone] {
                            @for z in &v.zones { option value=(z) selected[*z == v.timezone] { (z) } }
                        }
                        (field_error(v.err("timezone")))
                    }
                }
                div.field.invalid[v.err("args").is_some()] {
                    label for="args" {
                        "Arguments " span.hint { "(JSON object"
                        @if !v.params.is_empty() { ": " (v.params.join(", ")) }
                        ")" }
                    }
                    textarea #args.json name="args" rows="3" placeholder="{}" { (v.args) }
                    (field_error(v.err("args")))
                }
                div.field {
                    label for="overlap" { "If the previous run is still going" }
                    select #overlap name="overlap" {
                        option value="skip" selected[v.overlap == "skip"] { "Skip this run" }
                        option value="queue" selected[v.overlap == "queue"] { "Queue it anyway" }
                    }
                }
                div.field {
                    label for="catch_up" { "Runs missed while the server was down" }
                    select #catch_up name="catch_up" {
                        option value="run_once" selected[v.catch_up == "run_once"] { "Run once on start" }
                        option value="skip" selected[v.catch_up == "skip"] { "Skip them" }
                    }
                }
                div.field {
                    label.check for="enabled" {
                        input #enabled type="checkbox" name="enabled" value="true" checked[v.enabled];
                        " Enabled"
                    }
                }
                button.primary type="submit" { @if v.id.is_some() { "Save" } @else { "Create schedule" } }
            }
            section.card { (preview(&v.preview)) }
            }
            @if let Some(id) = &v.id {
                form method="post" action={ "/schedules/" (id) "/delete" } data-confirm="Delete this schedule? Jobs it started stay in the history." {
                    (csrf_field(&ctx.csrf))
                    button.danger type="submit" { "Delete schedule" }
                }
            }
            script src="/static/pages.js" defer {}
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_lists_the_runs_or_names_the_problem() {
        let runs = vec![(
            "Mon 2030-07-01 09:00 CEST".into(),
            "Mon 2030-07-01 07:00 UTC".into(),
        )];
        let html = preview(&Preview::Runs(runs)).into_string();
        assert!(html.contains("09:00 CEST") && html.contains("(Mon 2030-07-01 07:00 UTC)"));
        let html = preview(&Preview::Problem("invalid cron pattern".into())).into_string();
        assert!(html.contains(r#"role="alert""#) && html.contains("invalid cron pattern"));
        let html = preview(&Preview::Runs(Vec::new())).into_string();
        assert!(html.contains("No upcoming runs."));
    }
}
