//! `/scripts/{id}/versions`: a script's version history and a unified diff between two
//! versions (by default the newest against the one before).

use crate::components::diff::unified;
use crate::components::empty_state;
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct VersionItem {
    pub version: i64,
    pub created: String,
    /// Who saved it (an email when known).
    pub author: String,
}

/// One side of the comparison.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub version: i64,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct VersionsView {
    pub script_id: String,
    pub script_name: String,
    /// Newest first.
    pub versions: Vec<VersionItem>,
    /// `None` when there is only one version.
    pub compare: Option<(Side, Side)>,
}

fn picker(name: &str, label: &str, versions: &[VersionItem], chosen: i64) -> Markup {
    html! {
        div.field {
            label for={ "v-" (name) } { (label) }
            select id={ "v-" (name) } name=(name) {
                @for v in versions { option value=(v.version) selected[v.version == chosen] { "v" (v.version) " · " (v.created) } }
            }
        }
    }
}

pub fn page(ctx: &PageCtx, v: &VersionsView) -> Markup {
    framed(
        ctx,
        &format!("{} versions", v.script_name),
        html! {
            p { a href={ "/scripts/" (v.script_id) } { "← " (v.script_name) } }
            h1 { "Versions of " (v.script_name) }
            @match &v.compare {
                None => {
                    (empty_state("Only one version so far.", html! {
                        "Each save of the source makes a new version; "
                        a href={ "/scripts/" (v.script_id) } { "edit the script" } " to compare versions here."
                    }))
                }
                Some((old, new)) => {
                    form.card.filters method="get" action={ "/scripts/" (v.script_id) "/versions" } {
                        div.filter-grid {
                            (picker("from", "From", &v.versions, old.version))
                            (picker("to", "To", &v.versions, new.version))
                        }
                        button type="submit" { "Compare" }
                    }
                    @let (diff, stats) = unified(&old.source, &new.source);
                    section.card #diff {
                        h2 {
                            "v" (old.version) " → v" (new.version) " "
                            span.diff-add { "+" (stats.added) } " " span.diff-del { "−" (stats.removed) }
                        }
                        (diff)
                    }
                }
            }
            section.card {
                h2 { "History" }
                div.scroll {
                    table.list #versions {
                        thead { tr { th { "Version" } th { "Saved" } th.hide-sm { "By" } th { "" } } }
                        tbody {
                            @for (i, ver) in v.versions.iter().enumerate() {
                                tr {
                                    td { "v" (ver.version) }
                                    td.muted { (ver.created) }
                                    td.hide-sm.muted { (ver.author) }
                                    td {
                                        @if let Some(prev) = v.versions.get(i + 1) {
                                            a href={ "/scripts/" (v.script_id) "/versions?from=" (prev.version) "&to=" (ver.version) } { "changes" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
