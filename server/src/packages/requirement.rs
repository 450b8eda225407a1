//! Requirement lines: a distribution name from the index, optional extras and version
//! specifiers. Everything else pip would accept (archives, paths, URLs, VCS refs,
//! options) is refused before pip runs: an sdist archive or a local project would run
//! its build backend as host code, and an option could point pip anywhere.

/// A parsed requirement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The line as the user wrote it (what pip is given).
    pub line: String,
    /// The name as written (`Jinja2`).
    pub name: String,
    /// The normalised name (PEP 503: lower case, runs of `-_.` as `-`).
    pub key: String,
    /// `(operator, version)` pairs, e.g. `("==", "1.10.*")`.
    pub specifiers: Vec<(String, String)>,
}

impl Requirement {
    /// Whether the user bounded the version from above (`==`, `~=`, `<`, `<=`, `===`):
    /// then an older major version or a placeholder is what they asked for.
    pub fn pins_explicitly(&self) -> bool {
        self.specifiers
            .iter()
            .any(|(op, _)| matches!(op.as_str(), "==" | "===" | "~=" | "<" | "<="))
    }
}

/// PEP 503 normalisation, so `Jinja2`, `jinja_2` and `jinja-2` compare equal.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

const OPERATORS: [&str; 8] = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"];
const ARCHIVE_SUFFIXES: [&str; 9] = [
    ".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip", ".egg", ".tbz",
];

/// Parse one line, or say in plain words why it is refused.
pub fn parse(line: &str) -> Result<Requirement, String> {
    let text = line.trim();
    let shown = if text.len() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text.to_owned()
    };
    if let Some(reason) = refusal(text) {
        return Err(format!("requirement {shown:?} is refused: {reason}"));
    }
    grammar(text).ok_or_else(|| {
        format!(
            "requirement {shown:?} is not a package name with an optional version: write it like \
             `humanize`, `humanize==4.9.0` or `requests[socks]>=2,<3`"
        )
    })
}

/// The kinds of lines pip accepts that must never reach it.
fn refusal(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if text.is_empty() {
        return Some("it is empty");
    }
    if text.len() > 200 {
        return Some("it is longer than 200 characters");
    }
    if text.starts_with('-') {
        return Some(
            "pip options (--index-url, -e, -r, ...) are not accepted; an admin sets where \
             packages come from",
        );
    }
    if ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| lower.starts_with(p) || lower.contains(&format!("@ {p}")))
    {
        return Some("version-control references are not accepted; name a released version");
    }
    if lower.contains("://") || lower.starts_with("file:") || text.contains('@') {
        return Some("URLs and direct references are not accepted; name a package on the index");
    }
    if ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return Some(
            "archive files are not accepted (a source archive would run its build code on the \
             host); name the package and version instead, like `name==1.0`",
        );
    }
    if text.contains('/') || text.contains('\\') || text.starts_with('.') || text.starts_with('~') {
        return Some("paths are not accepted; name a package on the index");
    }
    if text.contains(';') {
        return Some("environment markers are not supported; the sandbox is always Python 3.14");
    }
    None
}

/// `name [extras] specifiers`, whitespace allowed between the parts.
fn grammar(text: &str) -> Option<Requirement> {
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let edges_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !edges_ok {
        return None;
    }
    let mut rest = text[name_end..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']')?;
        let extras = &after[..close];
        let extras_ok = extras.split(',').all(|e| {
            let e = e.trim();
            !e.is_empty()
                && e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
        if !extras_ok {
            return None;
        }
        rest = after[close + 1..].trim_start();
    }
    let mut specifiers = Vec::new();
    if !rest.is_empty() {
        for clause in rest.split(',') {
            let clause = clause.trim();
            let op = OPERATORS.iter().find(|op| clause.starts_with(**op))?;
            let version = clause[op.len()..].trim();
            let version_ok = !version.is_empty()
                && version.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '-' | '_')
                });
            if !version_ok {
                return None;
            }
            specifiers.push(((*op).to_owned(), version.to_owned()));
        }
    }
    Some(Requirement {
        line: text.to_owned(),
        name: name.to_owned(),
        key: normalize(name),
        specifiers,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_extras_and_specifiers_parse() {
        let r = parse("requests[socks, security] >=2, <3").unwrap();
        assert_eq!(r.key, "requests");
        assert_eq!(
            r.specifiers,
            vec![(">=".into(), "2".into()), ("<".into(), "3".into())]
        );
        assert!(r.pins_explicitly());
        assert_eq!(parse("Jinja_2.x").unwrap().key, "jinja-2-x");
        assert!(parse("pydantic==1.10.*").unwrap().pins_explicitly());
        assert!(!parse("pydantic>=1").unwrap().pins_explicitly());
        assert!(!parse("pydantic").unwrap().pins_explicitly());
    }

    #[test]
    fn everything_but_index_names_is_refused_with_the_reason() {
        for (line, reason) in [
            ("--index-url=http://x", "pip options"),
            ("-e .", "pip options"),
            ("-r other.txt", "pip options"),
            ("git+https://example.org/x.git", "version-control"),
            ("pkg @ git+https://example.org/x.git", "version-control"),
            ("https://example.org/x.whl", "URLs"),
            ("pkg @ https://example.org/x.whl", "URLs"),
            ("file:///tmp/x", "URLs"),
            ("evil-1.0.tar.gz", "archive files"),
            ("evil-1.0-py3-none-any.whl", "archive files"),
            ("./x", "paths"),
            ("/etc/passwd", "paths"),
            ("..", "paths"),
            ("x; python_version < '3'", "markers"),
            ("", "empty"),
        ] {
            let message = parse(line).unwrap_err();
            assert!(message.contains(reason), "{line}: {message}");
        }
        for bad in ["x==", "x[", "x $y", "-", "x==1;", "x>>1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
