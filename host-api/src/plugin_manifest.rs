//! What a plugin says about itself, as the host keeps and checks it.

use crate::plugin_bindings::automa::host::plugin_types as wit;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A plugin's name, version, functions and the capabilities it asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginManifest {
    /// The name scripts call it by.
    pub name: String,
    /// Its version.
    pub version: String,
    /// What it is for.
    pub description: String,
    /// The functions scripts may call.
    pub functions: Vec<PluginFunction>,
    /// The capabilities it asks for.
    pub capabilities: Vec<CapabilityRequest>,
}

/// One function of a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginFunction {
    /// The name scripts call it by.
    pub name: String,
    /// What it does.
    pub description: String,
    /// A JSON Schema object of its keyword arguments.
    pub parameters: Value,
}

/// A capability a plugin asks an admin for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum CapabilityRequest {
    /// Outbound HTTP matching this rule.
    Http(String),
    /// Reading this secret.
    Secret(String),
    /// Its own key-value state.
    State,
}

const MAX_NAME: usize = 64;
const MAX_FUNCTIONS: usize = 256;

impl PluginManifest {
    /// Check and convert the manifest a plugin returned; every problem is listed.
    pub fn from_wit(manifest: wit::Manifest) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        if !valid_name(&manifest.name, &['-']) {
            problems.push(format!(
                "the plugin name {:?} must be 1-{MAX_NAME} lower-case letters, digits or `-`, \
                 starting with a letter",
                manifest.name
            ));
        }
        if manifest.version.trim().is_empty() || manifest.version.len() > MAX_NAME {
            problems.push("the plugin version must be 1-64 characters".into());
        }
        if manifest.functions.is_empty() || manifest.functions.len() > MAX_FUNCTIONS {
            problems.push(format!(
                "a plugin must offer 1-{MAX_FUNCTIONS} functions, this one offers {}",
                manifest.functions.len()
            ));
        }
        let mut functions: Vec<PluginFunction> = Vec::new();
        for function in manifest.functions {
            if !valid_name(&function.name, &['_']) {
                problems.push(format!(
                    "the function name {:?} must be lower-case letters, digits or `_`, starting \
                     with a letter",
                    function.name
                ));
            }
            if functions.iter().any(|f| f.name == function.name) {
                problems.push(format!(
                    "the function {:?} is declared twice",
                    function.name
                ));
            }
            let parameters = match serde_json::from_str::<Value>(&function.parameters_schema) {
                Ok(schema) if schema.is_object() => schema,
                Ok(_) => {
                    problems.push(format!(
                        "the parameters schema of {:?} must be a JSON object",
                        function.name
                    ));
                    Value::Null
                }
                Err(e) => {
                    problems.push(format!(
                        "the parameters schema of {:?} is not JSON: {e}",
                        function.name
                    ));
                    Value::Null
                }
            };
            functions.push(PluginFunction {
                name: function.name,
                description: function.description,
                parameters,
            });
        }
        let capabilities = manifest
            .capabilities
            .into_iter()
            .map(|c| match c {
                wit::CapabilityRequest::Http(rule) => CapabilityRequest::Http(rule),
                wit::CapabilityRequest::Secret(name) => CapabilityRequest::Secret(name),
                wit::CapabilityRequest::State => CapabilityRequest::State,
            })
            .collect();
        if problems.is_empty() {
            Ok(Self {
                name: manifest.name,
                version: manifest.version,
                description: manifest.description,
                functions,
                capabilities,
            })
        } else {
            Err(problems)
        }
    }

    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&PluginFunction> {
        self.functions.iter().find(|f| f.name == name)
    }
}

fn valid_name(name: &str, extra: &[char]) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn manifest(name: &str, functions: Vec<(&str, &str)>) -> wit::Manifest {
        wit::Manifest {
            name: name.into(),
            version: "1.0.0".into(),
            description: "test".into(),
            functions: functions
                .into_iter()
                .map(|(name, schema)| wit::FunctionSpec {
                    name: name.into(),
                    description: String::new(),
                    parameters_schema: schema.into(),
                })
                .collect(),
            capabilities: vec![wit::CapabilityRequest::Http("api.example.com".into())],
        }
    }

    #[test]
    fn accepts_a_good_manifest() {
        let m = PluginManifest::from_wit(manifest("md-tools", vec![("render", "{}")])).unwrap();
        assert_eq!(
            m.function("render").unwrap().parameters,
            serde_json::json!({})
        );
        assert_eq!(
            serde_json::to_value(&m.capabilities).unwrap(),
            serde_json::json!([{"kind": "http", "value": "api.example.com"}])
        );
    }

    #[test]
    fn lists_every_problem() {
        let problems = PluginManifest::from_wit(manifest(
            "Bad Name",
            vec![("ok", "[]"), ("ok", "{"), ("Nope", "{}")],
        ))
        .unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(PluginManifest::from_wit(manifest("x", vec![])).is_err());
    }
}
