//! One function of a host plugin as script authors need it: what it does, how a script
//! calls it, and the JSON Schema its keyword arguments are checked against.

use maud::{Markup, html};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct FunctionDoc {
    pub name: String,
    pub description: String,
    /// The JSON Schema of its keyword arguments.
    pub parameters: Value,
}

/// The attribute scripts use for a plugin: `chat-notify` is `automa.plugins.chat_notify`.
pub fn python_name(plugin: &str) -> String {
    plugin.replace('-', "_")
}

/// A placeholder argument of the schema's type, written as Python.
fn placeholder(property: &Value) -> &'static str {
    let ty = match &property["type"] {
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        t => t.as_str().unwrap_or(""),
    };
    match ty {
        "string" => "\"...\"",
        "integer" => "0",
        "number" => "0.0",
        "boolean" => "False",
        "array" => "[]",
        "object" => "{}",
        _ => "...",
    }
}

/// `automa.plugins.<plugin>.<function>(required=...)`: the required arguments in the
/// schema's `required` order, or every argument when none is required.
pub fn call_example(plugin: &str, f: &FunctionDoc) -> String {
    let properties = &f.parameters["properties"];
    let mut names: Vec<&str> = f.parameters["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if names.is_empty() {
        names = properties
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| name.as_str())
            .collect();
    }
    let args: Vec<String> = names
        .iter()
        .map(|name| format!("{name}={}", placeholder(&properties[*name])))
        .collect();
    format!(
        "automa.plugins.{}.{}({})",
        python_name(plugin),
        f.name,
        args.join(", ")
    )
}

/// A function's description, call and schema (the schema folded away).
pub fn render(plugin: &str, f: &FunctionDoc) -> Markup {
    let schema = serde_json::to_string_pretty(&f.parameters).unwrap_or_default();
    html! {
        div.plugin-function {
            h3.mono { (f.name) }
            @if !f.description.is_empty() { p { (f.description) } }
            pre.call { code { (call_example(plugin, f)) } }
            details {
                summary { "Arguments (JSON Schema)" }
                pre.schema { code { (schema) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_example_call_names_the_required_arguments_with_python_placeholders() {
        let f = FunctionDoc {
            name: "send".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {
                "text": {"type": "string"}, "count": {"type": ["integer", "null"]},
                "loud": {"type": "boolean"}
            }, "required": ["text", "loud"]}),
        };
        assert_eq!(
            call_example("chat-notify", &f),
            r#"automa.plugins.chat_notify.send(text="...", loud=False)"#
        );
        let none_required = FunctionDoc {
            name: "ping".into(),
            parameters: json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
            ..FunctionDoc::default()
        };
        assert_eq!(
            call_example("x", &none_required),
            "automa.plugins.x.ping(n=0)"
        );
    }
}
