//! Static assets, embedded so the binary needs no files next to it. htmx is vendored
//! from the `htmx.org` npm package (`dist/htmx.min.js`, version below).

pub const HTMX_VERSION: &str = "2.0.11";
pub const HTMX_JS: &str = include_str!("../assets/htmx.min.js");
pub const APP_CSS: &str = include_str!("../assets/app.css");
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The source editor (CodeMirror 6 with Python), bundled from npm by
/// `ui/editor/build.sh` (exact versions in `ui/editor/package-lock.json`, licenses in
/// `assets/editor.LICENSES.txt`); loaded only by the pages with a source field.
pub const EDITOR_JS: &str = include_str!("../assets/editor.min.js");
/// Enhancements of the schedule and agent pages, loaded only by them.
pub const PAGES_JS: &str = include_str!("../assets/pages.js");

/// `(path under /static/, content type, body)` of every asset.
pub const ALL: [(&str, &str, &str); 5] = [
    ("htmx.min.js", "text/javascript; charset=utf-8", HTMX_JS),
    ("app.css", "text/css; charset=utf-8", APP_CSS),
    ("app.js", "text/javascript; charset=utf-8", APP_JS),
    ("pages.js", "text/javascript; charset=utf-8", PAGES_JS),
    ("editor.min.js", "text/javascript; charset=utf-8", EDITOR_JS),
];

pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    ALL.iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ty, body)| (*ty, *body))
}
