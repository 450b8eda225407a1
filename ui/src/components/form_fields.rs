//! The run form generated from a script's `parameters` JSON Schema (the subset that
//! `describe` produces: typed properties, `required`, `enum`, `default`), and the way
//! back from submitted form values to JSON arguments.

use maud::{Markup, html};
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text,
    Integer,
    Number,
    Boolean,
    /// `enum`: each option is the JSON text of an allowed value.
    Choice(Vec<String>),
    /// A `date` hint: `<input type=date>`, sent as `YYYY-MM-DD`.
    Date,
    /// A `datetime` hint: `<input type=datetime-local>`, sent as `YYYY-MM-DDTHH:MM[:SS]`.
    DateTime,
    /// Arrays, objects and untyped parameters: JSON typed into a textarea.
    Json,
}

/// `date` or `datetime` from a Python hint (`date`, `datetime.date`, `Optional[date]`,
/// `date | None`, ...). The signature reader gives these no JSON type (the API takes
/// any JSON for them), so the form sends them as ISO 8601 strings, the same text
/// `automa run --arg day=2026-12-01` sends and `date.fromisoformat` reads.
fn date_kind(hint: &str) -> Option<FieldKind> {
    let bare = hint.trim();
    let bare = bare
        .strip_prefix("Optional[")
        .or_else(|| bare.strip_prefix("typing.Optional["))
        .and_then(|b| b.strip_suffix(']'))
        .unwrap_or(bare);
    let bare = bare.strip_suffix("| None").unwrap_or(bare).trim();
    let bare = bare.strip_prefix("None |").unwrap_or(bare).trim();
    match bare {
        "date" | "datetime.date" => Some(FieldKind::Date),
        "datetime" | "datetime.datetime" => Some(FieldKind::DateTime),
        _ => None,
    }
}

/// `YYYY-MM-DD` with a real month and day (leap years included).
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let digits = s
        .bytes()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    digits && y >= 1 && (1..=days).contains(&d)
}

/// `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (what `datetime-local` submits).
fn is_iso_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once('T') else {
        return false;
    };
    let parts: Vec<&str> = time.split(':').collect();
    let two = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|n| n <= max);
    is_iso_date(date)
        && matches!(parts.len(), 2 | 3)
        && two(parts[0], 23)
        && two(parts[1], 59)
        && parts.get(2).is_none_or(|sec| two(sec, 59))
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub required: bool,
    /// May be `None`/null (an `Optional[...]` hint).
    pub nullable: bool,
    /// The default as the form shows it.
    pub default: Option<String>,
    /// The Python type hint, shown as a hint.
    pub hint: Option<String>,
}

/// The form fields for a schema, in the schema's property order.
pub fn fields_from_schema(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| {
            let types: Vec<&str> = match &p["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let nullable = types.contains(&"null");
            let main: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
            let date = main
                .is_empty()
                .then(|| p["x-python-type"].as_str().and_then(date_kind))
                .flatten();
            let kind = if let Some(options) = p["enum"].as_array() {
                FieldKind::Choice(options.iter().map(Value::to_string).collect())
            } else if let Some(date) = date {
                date
            } else {
                match main.as_slice() {
                    ["string"] => FieldKind::Text,
                    ["integer"] => FieldKind::Integer,
                    ["number"] | ["integer", "number"] | ["number", "integer"] => FieldKind::Number,
                    ["boolean"] => FieldKind::Boolean,
                    _ => FieldKind::Json,
                }
            };
            let default = p.get("default").map(|d| match (&kind, d) {
                (FieldKind::Choice(_), d) => d.to_string(),
                (FieldKind::Text | FieldKind::Date | FieldKind::DateTime, Value::String(s)) => {
                    s.clone()
                }
                // `day: date = None`: an empty input, so the script's None applies.
                (FieldKind::Date | FieldKind::DateTime, Value::Null) => String::new(),
                (_, Value::Bool(b)) => b.to_string(),
                (_, d) => d.to_string(),
            });
            Field {
                name: name.clone(),
                kind,
                required: required.contains(&name.as_str()),
                nullable,
                default,
                hint: p["x-python-type"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// JSON arguments from submitted values. An empty optional field is left out so the
/// script's default applies. Problems are reported per field name.
pub fn args_from_form(
    fields: &[Field],
    values: &HashMap<String, String>,
) -> Result<Map<String, Value>, Vec<(String, String)>> {
    let mut args = Map::new();
    let mut problems = Vec::new();
    for f in fields {
        let raw = values.get(&f.name).map(|s| s.trim()).unwrap_or("");
        if f.kind == FieldKind::Boolean {
            // An unchecked box sends nothing, which means `false`.
            args.insert(f.name.clone(), Value::Bool(raw == "true" || raw == "on"));
            continue;
        }
        if raw.is_empty() {
            if f.required && f.kind != FieldKind::Text {
                problems.push((f.name.clone(), "this field is required".to_owned()));
            } else if f.required {
                args.insert(f.name.clone(), Value::String(String::new()));
            }
            continue;
        }
        let parsed = match &f.kind {
            FieldKind::Text => Ok(Value::String(values[&f.name].clone())),
            FieldKind::Integer => raw
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "enter a whole number".to_owned()),
            FieldKind::Number => raw
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| "enter a number".to_owned()),
            FieldKind::Choice(_) | FieldKind::Json => {
                serde_json::from_str(raw).map_err(|e| format!("enter valid JSON ({e})"))
            }
            FieldKind::Date if is_iso_date(raw) => Ok(Value::String(raw.to_owned())),
            FieldKind::Date => Err("enter a date as YYYY-MM-DD".to_owned()),
            FieldKind::DateTime if is_iso_datetime(raw) => Ok(Value::String(raw.to_owned())),
            FieldKind::DateTime => Err("enter a date and time as YYYY-MM-DDTHH:MM".to_owned()),
            FieldKind::Boolean => Ok(Value::Bool(true)),
        };
        match parsed {
            Ok(v) => {
                args.insert(f.name.clone(), v);
            }
            Err(m) => problems.push((f.name.clone(), m)),
        }
    }
    if problems.is_empty() {
        Ok(args)
    } else {
        Err(problems)
    }
}

/// The inputs of the run form. `values` are what the user submitted (kept on error),
/// `errors` the problems per field.
pub fn render(
    fields: &[Field],
    values: &HashMap<String, String>,
    errors: &[(String, String)],
) -> Markup {
    html! {
        @for f in fields {
            @let id = format!("arg-{}", f.name);
            @let value = values.get(&f.name).cloned().or_else(|| f.default.clone()).unwrap_or_default();
            @let err = errors.iter().find(|(n, _)| *n == f.name).map(|(_, m)| m.as_str());
            div.field.invalid[err.is_some()] {
                @if f.kind == FieldKind::Boolean {
                    label.check for=(id) {
                        input type="checkbox" id=(id) name=(f.name) value="true" checked[value == "true" || value == "on"];
                        " " (f.name)
                        @if f.required { span.req title="required" { " *" } }
                    }
                } @else {
                    label for=(id) {
                        (f.name)
                        @if f.required { span.req title="required" { " *" } }
                        @if let Some(h) = &f.hint { " " span.hint { (h) } }
                    }
                    @match &f.kind {
                        FieldKind::Text => input type="text" id=(id) name=(f.name) value=(value) required[f.required];
                        FieldKind::Integer => input type="number" step="1" id=(id) name=(f.name) value=(value) required[f.required];
                        FieldKind::Number => input type="number" step="any" id=(id) name=(f.name) value=(value) required[f.required];
                        FieldKind::Date => input type="date" id=(id) name=(f.name) value=(value) required[f.required];
                        // step=1 lets seconds be entered too (browsers show minutes otherwise).
                        FieldKind::DateTime => input type="datetime-local" step="1" id=(id) name=(f.name) value=(value) required[f.required];
                        FieldKind::Choice(options) => select id=(id) name=(f.name) required[f.required] {
                            @if !f.required { option value="" { "(default)" } }
                            @for o in options { option value=(o) selected[*o == value] { (o) } }
                        },
                        _ => textarea.json id=(id) name=(f.name) rows="3" placeholder="JSON" required[f.required] { (value) },
                    }
                }
                @if let Some(m) = err { p.field-error { (m) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer", "default": 3},
            "ratio": {"type": ["number", "null"], "default": null},
            "loud": {"type": "boolean", "default": false},
            "mode": {"enum": ["a", "b"]},
            "items": {"type": "array"}
        }, "required": ["name"], "additionalProperties": false})
    }

    #[test]
    fn fields_follow_the_schema() {
        let f = fields_from_schema(&schema());
        assert_eq!(f.len(), 6);
        assert_eq!(f[0].kind, FieldKind::Text);
        assert!(f[0].required && !f[1].required);
        assert_eq!(f[1].default.as_deref(), Some("3"));
        assert!(f[2].nullable);
        assert_eq!(
            f[4].kind,
            FieldKind::Choice(vec!["\"a\"".into(), "\"b\"".into()])
        );
    }

    #[test]
    fn date_hints_get_date_inputs_and_send_iso_text() {
        let schema = json!({"type": "object", "properties": {
            "day": {"x-python-type": "date"},
            "at": {"x-python-type": "Optional[datetime.datetime]"},
            "until": {"x-python-type": "date | None", "default": "2026-01-31"},
            "since": {"x-python-type": "Optional[date]", "default": null},
            "label": {"type": "string", "x-python-type": "str"}
        }, "required": ["day"]});
        let f = fields_from_schema(&schema);
        let kinds: Vec<_> = f.iter().map(|f| f.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                FieldKind::Date,
                FieldKind::DateTime,
                FieldKind::Date,
                FieldKind::Date,
                FieldKind::Text
            ]
        );
        let html = render(&f, &HashMap::new(), &[]).into_string();
        assert!(
            html.contains(r#"type="date" id="arg-day" name="day" value="" required"#),
            "{html}"
        );
        assert!(
            html.contains(r#"type="datetime-local" step="1" id="arg-at""#),
            "{html}"
        );
        assert!(html.contains(r#"name="since" value="""#), "{html}");
        assert!(
            html.contains(r#"name="until" value="2026-01-31""#),
            "{html}"
        );
        let v = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        let args =
            args_from_form(&f, &v(&[("day", "2024-02-29"), ("at", "2026-12-01T17:05")])).unwrap();
        assert_eq!(
            Value::Object(args),
            json!({"day": "2024-02-29", "at": "2026-12-01T17:05"})
        );
        let problems = args_from_form(&f, &v(&[("day", "2023-02-29"), ("at", "2026-12-01 17:05")]))
            .unwrap_err();
        assert_eq!(
            problems,
            vec![
                ("day".to_owned(), "enter a date as YYYY-MM-DD".to_owned()),
                (
                    "at".to_owned(),
                    "enter a date and time as YYYY-MM-DDTHH:MM".to_owned()
                ),
            ]
        );
        assert!(is_iso_datetime("2026-12-01T17:05:09") && !is_iso_datetime("2026-12-01T24:00"));
    }

    #[test]
    fn values_become_typed_args_and_bad_ones_are_named() {
        let f = fields_from_schema(&schema());
        let mut v: HashMap<String, String> = [
            ("name", "Ada"),
            ("count", "7"),
            ("ratio", ""),
            ("loud", "true"),
            ("mode", "\"b\""),
            ("items", "[1, 2]"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let args = args_from_form(&f, &v).unwrap();
        assert_eq!(
            Value::Object(args),
            json!({"name": "Ada", "count": 7, "loud": true, "mode": "b", "items": [1, 2]})
        );
        v.insert("count".into(), "seven".into());
        let problems = args_from_form(&f, &v).unwrap_err();
        assert_eq!(
            problems,
            vec![("count".to_owned(), "enter a whole number".to_owned())]
        );
        let html = render(&f, &v, &problems).into_string();
        assert!(html.contains(r#"value="seven""#), "input kept");
        assert!(html.contains("enter a whole number"));
    }
}
