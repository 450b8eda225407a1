//! `/scripts/{id}`: source editor, versions and the run form generated from `main()`.

use crate::commands;
use crate::components::form_fields::{self, Field};
use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct VersionLine {
    pub version: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct ScriptView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub doc: Option<String>,
    pub version: i64,
    /// The editor's text: the current source, or what the user submitted on error.
    pub source: String,
    pub source_error: Option<String>,
    pub versions: Vec<VersionLine>,
    pub fields: Vec<Field>,
    /// Submitted run-form values (kept when the run is refused).
    pub values: HashMap<String, String>,
    pub field_errors: Vec<(String, String)>,
    pub run_error: Option<String>,
    /// The current version's requirement lines.
    pub requirements: Vec<String>,
    /// What they resolved to: `(distribution, version)`, dependencies included.
    pub resolved: Vec<(String, String)>,
    /// The server's public URL, for the equivalent commands.
    pub base_url: String,
    /// The runtime profile the script runs on (`default` or `data`).
    pub runtime: String,
}

pub fn page(ctx: &PageCtx, v: &ScriptView) -> Markup {
    framed(
        ctx,
        &v.name,
        html! {
            h1 { (v.name) " " span.muted.small { "v" (v.version) } }
            @if !v.description.is_empty() { p.muted { (v.description) } }
            p.script-links {
                a href={ "/schedules?script_id=" (v.id) } { "Schedules" } " · "
                a href={ "/schedules/new?script_id=" (v.id) } { "Schedule it" } " · "
                a href={ "/agents/new?script_id=" (v.id) } { "Run as an agent" } " · "
                a href={ "/scripts/" (v.id) "/retention" } { "Retention" } " · "
                a href={ "/scripts/" (v.id) "/runtime" } { "Runtime: " (v.runtime) }
            }
            div.grid2.script-grid {
                section.card #run {
                    h2 { "Run" }
                    @if v.runtime == "data" {
                        p.muted #run-runtime { "Runs on the data profile (numpy, pandas, scipy, matplotlib, …)." }
                    }
                    @if let Some(doc) = &v.doc { pre.doc { (doc) } }
                    (error_box(v.run_error.as_deref()))
                    form.run-form method="post" action={ "/scripts/" (v.id) "/run" } {
                        (csrf_field(&ctx.csrf))
                        @if v.fields.is_empty() { p.muted { "This script takes no arguments." } }
                        (form_fields::render(&v.fields, &v.values, &v.field_errors))
                        button.primary type="submit" { "Run" }
                    }
                }
                section.card {
                    h2 { "Versions" }
                    ul.rows {
                        @for ver in &v.versions {
                            li { "v" (ver.version) span.right.muted { (ver.created_at) } }
                        }
                    }
                    p { a href={ "/scripts/" (v.id) "/versions" } { "History and changes" } }
                }
            }
            @if !v.requirements.is_empty() { (packages(&v.requirements, &v.resolved)) }
            section.card {
                h2 { "Source" }
                (error_box(v.source_error.as_deref()))
                form method="post" action={ "/scripts/" (v.id) "/source" } {
                    (csrf_field(&ctx.csrf))
                    div.editor data-editor {
                        textarea.code name="source" data-code spellcheck="false" autocapitalize="off" autocomplete="off"
                            aria-label="Script source" rows="18" { (v.source) }
                    }
                    button type="submit" { "Save as new version" }
                }
            }
            (commands::card(&commands::for_script(&v.base_url, &v.id, &v.name, &v.fields)))
            script src="/static/editor.min.js" defer {}
        },
    )
}

/// The requirement lines and the distributions they resolved to.
fn packages(requirements: &[String], resolved: &[(String, String)]) -> Markup {
    html! {
        section.card #packages {
            h2 { "Packages" }
            p.muted { "Requirements: " code { (requirements.join(", ")) } }
            table.packages {
                thead { tr { th { "Distribution" } th { "Resolved version" } } }
                tbody {
                    @for (name, version) in resolved {
                        tr { td { code { (name) } } td { (version) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packages_card_shows_the_resolved_versions() {
        let html = packages(
            &["jinja2<4".into()],
            &[
                ("jinja2".into(), "3.1.4".into()),
                ("markupsafe".into(), "3.0.2".into()),
            ],
        )
        .into_string();
        assert!(html.contains("<code>jinja2&lt;4</code>"), "{html}");
        assert!(
            html.contains("<td><code>markupsafe</code></td><td>3.0.2</td>"),
            "{html}"
        );
    }
}
