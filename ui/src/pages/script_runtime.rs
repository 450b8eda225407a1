//! `/scripts/{id}/runtime`: which interpreter runs the script and its agents (run
//! settings `runtime`): the default profile or the data profile.

use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

/// The profiles, as the setting names them, with what each brings.
pub const PROFILES: [(&str, &str); 2] = [
    (
        "default",
        "CPython 3.14 with the standard library, network clients through the host and \
         the script's own pure-Python requirements.",
    ),
    (
        "data",
        "CPython 3.15 with numpy, pandas, scipy, scikit-learn, statsmodels, matplotlib, \
         pillow, lxml, openpyxl, pyyaml, jinja2, beautifulsoup4 and more compiled in; \
         no sockets (HTTP goes through automa.http and the requests shim).",
    ),
];

#[derive(Debug, Clone, Default)]
pub struct RuntimeView {
    pub script_id: String,
    pub script_name: String,
    /// The profile as stored (or as chosen, when the save was refused).
    pub runtime: String,
    /// Whether this server offers the data profile (`data_profile = true`).
    pub data_offered: bool,
    pub error: Option<String>,
    /// Whether the last save went through.
    pub saved: bool,
}

pub fn page(ctx: &PageCtx, v: &RuntimeView) -> Markup {
    framed(
        ctx,
        &format!("Runtime of {}", v.script_name),
        html! {
            h1 { "Runtime of " a href={ "/scripts/" (v.script_id) } { (v.script_name) } }
            section.card #runtime {
                p.muted { "The interpreter this script's jobs and agents run on. Both run in the same sandbox, with the same limits, grants and SDK." }
                @if !v.data_offered {
                    p.notice role="note" {
                        "This server does not offer the data profile: an admin turns it on with "
                        code { "data_profile = true" } ". Runs of a script set to it fail with that reason."
                    }
                }
                (error_box(v.error.as_deref()))
                @if v.saved { div.notice role="status" { "Saved." } }
                form method="post" action={ "/scripts/" (v.script_id) "/runtime" } {
                    (csrf_field(&ctx.csrf))
                    @for (name, about) in PROFILES {
                        div.field {
                            label {
                                input type="radio" name="runtime" value=(name) checked[v.runtime == name];
                                " " strong { (name) } " — " span.muted { (about) }
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
    fn the_form_marks_the_stored_profile_and_says_when_the_server_lacks_data() {
        let ctx = PageCtx {
            email: "a@example.org".into(),
            is_admin: false,
            theme: "system".into(),
            csrf: "token".into(),
            nav: crate::Nav::Scripts,
            path: "/scripts/s1/runtime".into(),
        };
        let view = RuntimeView {
            script_id: "s1".into(),
            script_name: "report".into(),
            runtime: "data".into(),
            data_offered: false,
            error: None,
            saved: true,
        };
        let html = page(&ctx, &view).into_string();
        assert!(html.contains(r#"action="/scripts/s1/runtime""#), "{html}");
        assert!(html.contains(r#"value="data" checked"#), "{html}");
        assert!(!html.contains(r#"value="default" checked"#), "{html}");
        assert!(html.contains("does not offer the data profile"), "{html}");
        assert!(html.contains("Saved."), "{html}");
    }
}
