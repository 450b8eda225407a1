//! "From the command line": the `automa` CLI and `curl` commands that do what a script
//! or job page shows, so the dashboard teaches the API. The token is always the
//! placeholder `$AUTOMA_TOKEN` (expanded by the user's shell), never a real one.

use crate::components::form_fields::{Field, FieldKind};
use maud::{Markup, html};
use serde_json::{Map, Value};

/// The commands of one page, one command per entry (continuation lines included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Equivalent {
    pub cli: Vec<String>,
    pub curl: Vec<String>,
}

const AUTH: &str = "-H \"Authorization: Bearer $AUTOMA_TOKEN\"";

/// Quotes a word for a POSIX shell when it needs it.
pub fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `--arg KEY=VALUE` as `automa run` reads it: VALUE is JSON when it parses as JSON,
/// else a string, so a string that would parse (`"3"`, `"true"`) is written as JSON.
fn cli_arg(key: &str, v: &Value) -> String {
    let text = match v {
        Value::String(s) if serde_json::from_str::<Value>(s).is_err() => s.clone(),
        other => other.to_string(),
    };
    format!("--arg {}", sh_quote(&format!("{key}={text}")))
}

fn run_commands(base: &str, script_id: &str, name: &str, args: &Map<String, Value>) -> Equivalent {
    let mut cli = format!("automa run {}", sh_quote(name));
    for (k, v) in args {
        cli.push(' ');
        cli.push_str(&cli_arg(k, v));
    }
    cli.push_str(" --wait");
    let body = serde_json::json!({ "args": args }).to_string();
    let curl = format!(
        "curl -sS -X POST {} \\\n  {AUTH} \\\n  -H 'Content-Type: application/json' \\\n  -d {}",
        sh_quote(&format!("{base}/api/v1/scripts/{script_id}/run?wait=true")),
        sh_quote(&body)
    );
    Equivalent {
        cli: vec![format!("automa login {}", sh_quote(base)), cli],
        curl: vec![curl],
    }
}

/// A value to type in for a required parameter without a default.
fn placeholder(f: &Field) -> Value {
    match &f.kind {
        FieldKind::Integer | FieldKind::Number => Value::from(0),
        FieldKind::Boolean => Value::Bool(false),
        FieldKind::Date => Value::from("YYYY-MM-DD"),
        FieldKind::DateTime => Value::from("YYYY-MM-DDTHH:MM"),
        FieldKind::Choice(options) => options
            .first()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null),
        FieldKind::Text => Value::from(f.name.to_uppercase()),
        FieldKind::Json => Value::Null,
    }
}

/// Running a script: its required parameters with a placeholder each (the others keep
/// their defaults).
pub fn for_script(base: &str, script_id: &str, name: &str, fields: &[Field]) -> Equivalent {
    let args: Map<String, Value> = fields
        .iter()
        .filter(|f| f.required && f.default.is_none())
        .map(|f| (f.name.clone(), placeholder(f)))
        .collect();
    run_commands(base, script_id, name, &args)
}

/// A job: look at it, read its log, retry it, and run its script with the same
/// arguments.
pub fn for_job(base: &str, job_id: &str, script_id: &str, name: &str, args: &Value) -> Equivalent {
    let empty = Map::new();
    let rerun = run_commands(base, script_id, name, args.as_object().unwrap_or(&empty));
    let id = sh_quote(job_id);
    let url = |path: &str| sh_quote(&format!("{base}/api/v1/jobs/{job_id}{path}"));
    Equivalent {
        cli: vec![
            format!("automa jobs show {id}"),
            format!("automa jobs logs {id} -f"),
            // "Run again": the same version and arguments...
            format!("automa jobs retry {id} --wait"),
            // ...or the script's current version with these arguments.
            rerun.cli[1].clone(),
        ],
        curl: vec![
            format!("curl -sS {} {AUTH}", url("")),
            format!("curl -sS {} {AUTH}", url("/logs")),
            rerun.curl[0].clone(),
        ],
    }
}

pub fn card(e: &Equivalent) -> Markup {
    html! {
        section.card.equivalent #equivalent {
            h2 { "From the command line" }
            p.muted.small {
                "With a personal API token from " a href="/tokens" { "API tokens" }
                " in " code { "$AUTOMA_TOKEN" } "."
            }
            div.cmd-head { h3 { "CLI" } button type="button" data-copy="#cli-command" { "Copy" } }
            pre.mono #cli-command { (e.cli.join("\n")) }
            div.cmd-head { h3 { "curl" } button type="button" data-copy="#curl-command" { "Copy" } }
            pre.mono #curl-command { (e.curl.join("\n\n")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(sh_quote("greeter"), "greeter");
        assert_eq!(sh_quote("name=Ada"), "name=Ada");
        assert_eq!(sh_quote("who=Ada L"), "'who=Ada L'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn a_job_gives_show_logs_and_the_same_run() {
        let e = for_job(
            "https://automa.test",
            "j1",
            "s1",
            "greeter",
            &json!({"name": "Ada Lovelace", "times": 2, "code": "3", "day": "2026-12-01"}),
        );
        assert_eq!(e.cli[0], "automa jobs show j1");
        assert_eq!(e.cli[2], "automa jobs retry j1 --wait");
        assert_eq!(
            e.cli[3],
            r#"automa run greeter --arg 'name=Ada Lovelace' --arg times=2 --arg 'code="3"' --arg day=2026-12-01 --wait"#
        );
        assert_eq!(
            e.curl[0],
            r#"curl -sS https://automa.test/api/v1/jobs/j1 -H "Authorization: Bearer $AUTOMA_TOKEN""#
        );
        assert!(e.curl[2].contains("'https://automa.test/api/v1/scripts/s1/run?wait=true'"));
        assert!(
            e.curl[2].contains(
                r#"-d '{"args":{"name":"Ada Lovelace","times":2,"code":"3","day":"2026-12-01"}}'"#
            ),
            "{}",
            e.curl[2]
        );
    }
}
