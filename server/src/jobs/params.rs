//! Checks a run's arguments against the JSON Schema read from `main()`'s signature,
//! before the job is queued. The schema is always the small subset that
//! `describe` produces (object of typed properties, `required`, `enum`,
//! `additionalProperties`), so this checks exactly that subset.

use serde_json::{Map, Value};

/// Arguments that do not fit a script's signature; every problem listed.
#[derive(Debug, thiserror::Error)]
#[error("invalid arguments: {}", .0.join("; "))]
pub struct InvalidArguments(pub Vec<String>);

/// Check `args` against the parameters of a script version (its `parameter_schema`,
/// decoded by the caller: a corrupt column is the server's fault, not the caller's).
pub fn validate_for(schema: &Value, args: &Value) -> Result<Map<String, Value>, InvalidArguments> {
    validate(schema, args).map_err(InvalidArguments)
}

/// Every problem with `args` against `schema`; the arguments when there is none.
pub fn validate(schema: &Value, args: &Value) -> Result<Map<String, Value>, Vec<String>> {
    let Some(args) = args.as_object() else {
        return Err(vec!["args must be a JSON object".into()]);
    };
    let empty = Map::new();
    let properties = schema["properties"].as_object().unwrap_or(&empty);
    let mut problems = Vec::new();
    for name in schema["required"].as_array().into_iter().flatten() {
        if let Some(name) = name.as_str()
            && !args.contains_key(name)
        {
            problems.push(format!("missing required argument `{name}`"));
        }
    }
    let open = schema["additionalProperties"].as_bool().unwrap_or(true);
    for (name, value) in args {
        match properties.get(name) {
            Some(property) => {
                if let Some(problem) = check_value(name, property, value) {
                    problems.push(problem);
                }
            }
            None if !open => problems.push(format!("unknown argument `{name}`")),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(args.clone())
    } else {
        Err(problems)
    }
}

fn check_value(name: &str, property: &Value, value: &Value) -> Option<String> {
    if let Some(allowed) = property["enum"].as_array()
        && !allowed.contains(value)
    {
        return Some(format!(
            "argument `{name}` must be one of {}",
            Value::from(allowed.clone())
        ));
    }
    let types: Vec<&str> = match &property["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    if types.iter().any(|t| matches_type(t, value)) {
        return None;
    }
    Some(format!(
        "argument `{name}` must be {}, got {}",
        types.join(" or "),
        type_name(value)
    ))
}

fn matches_type(expected: &str, value: &Value) -> bool {
    match expected {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "default": 3},
                "ratio": {"type": "number"},
                "units": {"enum": ["c", "f"]},
                "tags": {"type": ["array", "null"]},
                "anything": {}
            },
            "required": ["city"],
            "additionalProperties": false
        })
    }

    #[test]
    fn accepts_valid_arguments() {
        let args = json!({"city": "Oslo", "days": 2, "ratio": 1, "units": "c", "tags": null, "anything": [1]});
        assert!(validate(&schema(), &args).is_ok());
    }

    #[test]
    fn reports_every_problem() {
        let args = json!({"days": "two", "units": "k", "extra": 1, "ratio": "x"});
        let problems = validate(&schema(), &args).unwrap_err();
        assert!(problems.contains(&"missing required argument `city`".to_owned()));
        assert!(problems.contains(&"argument `days` must be integer, got string".to_owned()));
        assert!(problems.contains(&"unknown argument `extra`".to_owned()));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("argument `units` must be one of"))
        );
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn integer_is_not_a_float() {
        let problems = validate(&schema(), &json!({"city": "x", "days": 1.5})).unwrap_err();
        assert_eq!(
            problems,
            vec!["argument `days` must be integer, got number"]
        );
    }
}
