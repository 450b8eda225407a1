//! A unified line diff between two texts (script versions) with `similar`: hunks with
//! three lines of context, old and new line numbers, added and removed lines marked.

use maud::{Markup, html};
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// Counts of changed lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffStats {
    pub added: usize,
    pub removed: usize,
}

/// The diff of `old` to `new` and its counts. Identical texts give an empty-state line.
pub fn unified(old: &str, new: &str) -> (Markup, DiffStats) {
    let diff = TextDiff::configure()
        // A bound for pathological inputs; the result is then a coarser, still correct diff.
        .timeout(Duration::from_secs(1))
        .diff_lines(old, new);
    let mut stats = DiffStats::default();
    let groups = diff.grouped_ops(3);
    let markup = html! {
        @if groups.is_empty() {
            p.muted.diff-same { "No differences: the two versions have the same source." }
        } @else {
            div.scroll {
                table.diff {
                    @for group in &groups {
                        @let (first, last) = (&group[0], &group[group.len() - 1]);
                        @let (o, n) = (first.old_range().start, first.new_range().start);
                        @let (olen, nlen) = (last.old_range().end - o, last.new_range().end - n);
                        tbody {
                            tr.hunk { td colspan="3" { "@@ -" (o + 1) "," (olen) " +" (n + 1) "," (nlen) " @@" } }
                            @for op in group {
                                @for change in diff.iter_changes(op) {
                                    @let (class, sign) = match change.tag() {
                                        ChangeTag::Delete => { stats.removed += 1; ("del", "-") }
                                        ChangeTag::Insert => { stats.added += 1; ("add", "+") }
                                        ChangeTag::Equal => ("ctx", " "),
                                    };
                                    tr class=(class) {
                                        td.ln { @if let Some(i) = change.old_index() { (i + 1) } }
                                        td.ln { @if let Some(i) = change.new_index() { (i + 1) } }
                                        td.code {
                                            span.sign aria-hidden="true" { (sign) }
                                            (change.value().trim_end_matches(['\n', '\r']))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    (markup, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_added_and_removed_lines_with_their_numbers() {
        let old = "a\nb\nc\n";
        let new = "a\nB\nc\nd\n";
        let (m, stats) = unified(old, new);
        let m = m.into_string();
        assert_eq!(
            stats,
            DiffStats {
                added: 2,
                removed: 1
            }
        );
        assert!(m.contains("@@ -1,3 +1,4 @@"), "{m}");
        assert!(m.contains(r#"<tr class="del"><td class="ln">2</td><td class="ln"></td>"#));
        assert!(m.contains(r#"<tr class="add"><td class="ln"></td><td class="ln">2</td>"#));
        assert!(m.contains(r#"<span class="sign" aria-hidden="true">+</span>d</td>"#));
    }

    #[test]
    fn escapes_source_text_and_reports_no_difference() {
        let (m, _) = unified("x\n", "<b>x</b>\n");
        assert!(m.into_string().contains("&lt;b&gt;x&lt;/b&gt;"));
        let (m, stats) = unified("same\n", "same\n");
        assert_eq!(stats, DiffStats::default());
        assert!(m.into_string().contains("No differences"));
    }
}
