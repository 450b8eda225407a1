//! The plugin's work, free of the component bindings: the functions it offers, their
//! argument schemas, and Markdown rendering with pulldown-cmark. `plugins/src/lib.rs`
//! includes this file in its native tests, so CI checks it without a WASM host.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Why a call failed; `lib.rs` maps these onto the WIT `error` variant.
#[derive(Debug, PartialEq, Eq)]
pub enum CallError {
    /// The arguments are not valid JSON or do not fit the function's schema.
    InvalidInput(String),
    /// The plugin has no function of that name.
    NotFound(String),
}

/// One function the plugin offers: name, description and JSON Schema of its arguments.
pub struct FunctionInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters_schema: Value,
}

/// The plugin's functions, in the order the manifest lists them.
pub fn functions() -> Vec<FunctionInfo> {
    let markdown = json!({
        "type": "string",
        "description": "The Markdown text (CommonMark with the enabled extensions)."
    });
    vec![
        FunctionInfo {
            name: "render",
            description: "Render Markdown to HTML. Raw HTML in the input is escaped and links \
                          other than http, https, mailto and relative ones lose their target, \
                          unless raw_html is true. Returns {\"html\": ...}.",
            parameters_schema: json!({
                "type": "object",
                "properties": {
                    "markdown": markdown,
                    "tables": {"type": "boolean", "default": true, "description": "GitHub-style tables."},
                    "strikethrough": {"type": "boolean", "default": true, "description": "~~struck~~ text."},
                    "tasklists": {"type": "boolean", "default": true, "description": "- [x] task list items."},
                    "footnotes": {"type": "boolean", "default": true, "description": "[^1] footnotes."},
                    "smart_punctuation": {"type": "boolean", "default": false, "description": "Curly quotes, en and em dashes, ellipses."},
                    "heading_ids": {"type": "boolean", "default": false, "description": "Give each heading an id attribute (the ids `headings` returns)."},
                    "raw_html": {"type": "boolean", "default": false, "description": "Pass raw HTML and every link scheme through unchanged (only for trusted input)."}
                },
                "required": ["markdown"],
                "additionalProperties": false
            }),
        },
        FunctionInfo {
            name: "headings",
            description: "The headings of a Markdown document, in order, as \
                          {\"headings\": [{\"level\": 1-6, \"text\": ..., \"id\": ...}]}; the ids are \
                          GitHub-style anchors, unique within the document.",
            parameters_schema: json!({
                "type": "object",
                "properties": {"markdown": markdown},
                "required": ["markdown"],
                "additionalProperties": false
            }),
        },
    ]
}

/// Run `function` with the JSON object `args_json`; returns the JSON text of the result.
pub fn call(function: &str, args_json: &str) -> Result<String, CallError> {
    let result = match function {
        "render" => json!({"html": render(&parse_args::<RenderArgs>(args_json)?)}),
        "headings" => {
            let args: HeadingsArgs = parse_args(args_json)?;
            json!({"headings": headings(&args.markdown)})
        }
        other => {
            return Err(CallError::NotFound(format!(
                "the markdown plugin has no function {other:?}"
            )));
        }
    };
    Ok(result.to_string())
}

fn parse_args<T: for<'de> Deserialize<'de>>(args_json: &str) -> Result<T, CallError> {
    serde_json::from_str(args_json).map_err(|e| CallError::InvalidInput(e.to_string()))
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderArgs {
    markdown: String,
    #[serde(default = "yes")]
    tables: bool,
    #[serde(default = "yes")]
    strikethrough: bool,
    #[serde(default = "yes")]
    tasklists: bool,
    #[serde(default = "yes")]
    footnotes: bool,
    #[serde(default)]
    smart_punctuation: bool,
    #[serde(default)]
    heading_ids: bool,
    #[serde(default)]
    raw_html: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadingsArgs {
    markdown: String,
}

fn render(args: &RenderArgs) -> String {
    let mut options = Options::empty();
    for (enabled, option) in [
        (args.tables, Options::ENABLE_TABLES),
        (args.strikethrough, Options::ENABLE_STRIKETHROUGH),
        (args.tasklists, Options::ENABLE_TASKLISTS),
        (args.footnotes, Options::ENABLE_FOOTNOTES),
        (args.smart_punctuation, Options::ENABLE_SMART_PUNCTUATION),
    ] {
        if enabled {
            options.insert(option);
        }
    }
    let mut events: Vec<Event<'_>> = Parser::new_ext(&args.markdown, options).collect();
    if !args.raw_html {
        for event in &mut events {
            make_safe(event);
        }
    }
    if args.heading_ids {
        add_heading_ids(&mut events);
    }
    let mut out = String::with_capacity(args.markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// Raw HTML becomes text (escaped on output); links and images to schemes other than
/// http, https and mailto lose their target.
fn make_safe(event: &mut Event<'_>) {
    match event {
        Event::Html(raw) | Event::InlineHtml(raw) => {
            *event = Event::Text(std::mem::replace(raw, CowStr::Borrowed("")));
        }
        Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. })
            if !is_safe_url(dest_url) =>
        {
            *dest_url = CowStr::Borrowed("");
        }
        _ => {}
    }
}

/// A relative URL, or one whose scheme is http, https or mailto (case-insensitive).
/// Anything before the first `:` that is not one of those (`javascript`, `data`, or a
/// scheme hidden behind spaces or control characters) is refused.
fn is_safe_url(url: &str) -> bool {
    match url.find([':', '/', '?', '#']) {
        Some(at) if url[at..].starts_with(':') => {
            let scheme = &url[..at];
            ["http", "https", "mailto"]
                .iter()
                .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
        }
        _ => true,
    }
}

/// One heading of a document.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub id: String,
}

fn headings(markdown: &str) -> Vec<Heading> {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, Options::empty()).collect();
    let mut ids = Anchors::default();
    let mut found = Vec::new();
    for (start, level) in heading_starts(&events) {
        let text = heading_text(&events[start + 1..]);
        let id = ids.unique(&text);
        found.push(Heading {
            level: level as u8,
            text,
            id,
        });
    }
    found
}

fn add_heading_ids(events: &mut [Event<'_>]) {
    let mut ids = Anchors::default();
    for (start, _) in heading_starts(events) {
        let text = heading_text(&events[start + 1..]);
        let anchor = ids.unique(&text);
        if let Event::Start(Tag::Heading { id, .. }) = &mut events[start] {
            id.get_or_insert(CowStr::from(anchor));
        }
    }
}

fn heading_starts(events: &[Event<'_>]) -> Vec<(usize, HeadingLevel)> {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, event)| match event {
            Event::Start(Tag::Heading { level, .. }) => Some((i, *level)),
            _ => None,
        })
        .collect()
}

/// The plain text of the heading whose events start at `events[0]`.
fn heading_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::End(TagEnd::Heading(_)) => break,
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_owned()
}

/// GitHub-style anchors: lower case, letters, digits, `-` and `_` kept, spaces turned
/// into `-`, everything else dropped; a repeated anchor gets `-1`, `-2`, ...
#[derive(Default)]
struct Anchors {
    seen: BTreeMap<String, usize>,
}

impl Anchors {
    fn unique(&mut self, text: &str) -> String {
        let mut base: String = text
            .chars()
            .flat_map(char::to_lowercase)
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        if base.is_empty() {
            base.push_str("section");
        }
        let mut candidate = base.clone();
        // A generated `intro-1` may clash with a heading literally named "Intro 1".
        while self.seen.contains_key(&candidate) {
            let count = self.seen.entry(base.clone()).or_insert(0);
            *count += 1;
            candidate = format!("{base}-{count}");
        }
        self.seen.insert(candidate.clone(), 0);
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_json(function: &str, args: Value) -> Value {
        let text = call(function, &args.to_string()).expect("the call succeeds");
        serde_json::from_str(&text).expect("the result is JSON")
    }

    fn html(args: Value) -> String {
        call_json("render", args)["html"]
            .as_str()
            .expect("html is a string")
            .to_owned()
    }

    #[test]
    fn renders_commonmark_and_the_default_extensions() {
        let out = html(
            json!({"markdown": "# Title\n\nSome *emphasis* and ~~gone~~.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n"}),
        );
        assert!(out.contains("<h1>Title</h1>"), "{out}");
        assert!(out.contains("<em>emphasis</em>"), "{out}");
        assert!(out.contains("<del>gone</del>"), "{out}");
        assert!(out.contains("<table>"), "{out}");
        assert!(out.contains("<td>2</td>"), "{out}");
        assert!(out.contains("checkbox"), "{out}");
    }

    #[test]
    fn extensions_can_be_switched_off() {
        let out = html(
            json!({"markdown": "~~x~~\n\n| a |\n|---|\n| 1 |\n", "tables": false, "strikethrough": false}),
        );
        assert!(!out.contains("<del>"), "{out}");
        assert!(!out.contains("<table>"), "{out}");
    }

    #[test]
    fn smart_punctuation_is_opt_in() {
        let plain = html(json!({"markdown": "\"quoted\" -- dash..."}));
        assert!(plain.contains("\"quoted\" -- dash..."), "{plain}");
        let smart = html(json!({"markdown": "\"quoted\" -- dash...", "smart_punctuation": true}));
        assert!(smart.contains("\u{201c}quoted\u{201d}"), "{smart}");
        assert!(smart.contains('\u{2013}'), "{smart}");
        assert!(smart.contains('\u{2026}'), "{smart}");
    }

    #[test]
    fn raw_html_and_unsafe_links_are_neutralised_by_default() {
        let source = "<script>alert(1)</script>\n\nhi <b onclick=\"x\">there</b> \
                      [a](javascript:alert(1)) [b](JavaScript:x) [c](https://ok.test/p?q=1) \
                      [d](/relative#frag) [e](mailto:me@ok.test) ![i](data:image/png;base64,AA)";
        let safe = html(json!({"markdown": source}));
        assert!(!safe.contains("<script>"), "{safe}");
        assert!(safe.contains("&lt;script&gt;"), "{safe}");
        assert!(!safe.contains("<b onclick"), "{safe}");
        assert!(!safe.to_lowercase().contains("javascript:"), "{safe}");
        assert!(!safe.contains("data:image"), "{safe}");
        assert!(safe.contains("href=\"https://ok.test/p?q=1\""), "{safe}");
        assert!(safe.contains("href=\"/relative#frag\""), "{safe}");
        assert!(safe.contains("href=\"mailto:me@ok.test\""), "{safe}");

        let raw = html(json!({"markdown": source, "raw_html": true}));
        assert!(raw.contains("<script>alert(1)</script>"), "{raw}");
        assert!(raw.contains("href=\"javascript:alert(1)\""), "{raw}");
    }

    #[test]
    fn url_schemes() {
        for ok in [
            "https://a.test",
            "HTTP://a.test",
            "mailto:x@y.test",
            "/p",
            "p/a:b",
            "#x",
            "?a=b:c",
            "",
        ] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:x",
            " javascript:x",
            "java\tscript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            assert!(!is_safe_url(bad), "{bad}");
        }
    }

    #[test]
    fn headings_with_unique_github_style_ids() {
        let result = call_json(
            "headings",
            json!({"markdown": "# Intro\n\ntext\n\n## Set `up` & run!\n\n## Intro\n\nSetext\n------\n\n### Intro 1\n"}),
        );
        assert_eq!(
            result,
            json!({"headings": [
                {"level": 1, "text": "Intro", "id": "intro"},
                {"level": 2, "text": "Set up & run!", "id": "set-up--run"},
                {"level": 2, "text": "Intro", "id": "intro-1"},
                {"level": 2, "text": "Setext", "id": "setext"},
                {"level": 3, "text": "Intro 1", "id": "intro-1-1"}
            ]})
        );
    }

    #[test]
    fn heading_ids_in_html_match_headings() {
        let out = html(json!({"markdown": "# Intro\n\n## Intro\n", "heading_ids": true}));
        assert!(out.contains("<h1 id=\"intro\">Intro</h1>"), "{out}");
        assert!(out.contains("<h2 id=\"intro-1\">Intro</h2>"), "{out}");
        let plain = html(json!({"markdown": "# Intro\n"}));
        assert!(plain.contains("<h1>Intro</h1>"), "{plain}");
    }

    #[test]
    fn bad_arguments_and_unknown_functions() {
        assert!(matches!(
            call("render", "{}"),
            Err(CallError::InvalidInput(_))
        ));
        assert!(matches!(
            call("render", "not json"),
            Err(CallError::InvalidInput(_))
        ));
        assert!(matches!(
            call("render", r#"{"markdown": "x", "colour": true}"#),
            Err(CallError::InvalidInput(_))
        ));
        assert!(matches!(
            call("render", r#"{"markdown": 3}"#),
            Err(CallError::InvalidInput(_))
        ));
        assert!(matches!(call("explode", "{}"), Err(CallError::NotFound(_))));
    }

    #[test]
    fn schemas_are_objects_that_name_their_required_arguments() {
        let functions = functions();
        assert_eq!(
            functions.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["render", "headings"]
        );
        for function in functions {
            assert_eq!(function.parameters_schema["type"], "object");
            assert_eq!(function.parameters_schema["required"], json!(["markdown"]));
        }
    }
}
