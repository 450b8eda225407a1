//! What an admin grants a plugin: the only capabilities it runs with.

use automa_runtime::host::{Capabilities, HttpRule};
use serde::{Deserialize, Serialize};

/// A plugin's grants. Everything is denied unless listed here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PluginGrants {
    /// HTTP allowlist entries: `host`, `*.domain`, `host:port` or a URL prefix.
    pub http: Vec<String>,
    /// Names of secrets the plugin may read.
    pub secrets: Vec<String>,
    /// Whether the plugin has its own key-value state.
    pub state: bool,
}

impl PluginGrants {
    /// Every entry that does not parse.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .http
            .iter()
            .filter_map(|rule| HttpRule::parse(rule).err())
            .collect();
        for name in &self.secrets {
            if name.trim().is_empty() {
                problems.push("a granted secret name is empty".into());
            }
        }
        problems
    }

    /// The capabilities a call runs with. Rules that do not parse (only possible if
    /// the stored grants were edited by hand) grant nothing.
    pub fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities {
            secrets: self.secrets.clone(),
            ..Capabilities::default()
        };
        capabilities.http.rules = self
            .http
            .iter()
            .filter_map(|rule| HttpRule::parse(rule).ok())
            .collect();
        capabilities
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grants_become_capabilities() {
        let grants = PluginGrants {
            http: vec!["hooks.example.com".into(), "http://127.0.0.1:9000/x".into()],
            secrets: vec!["TOKEN".into()],
            state: true,
        };
        assert!(grants.problems().is_empty());
        let caps = grants.capabilities();
        assert_eq!(caps.http.rules.len(), 2);
        assert_eq!(caps.secrets, vec!["TOKEN".to_owned()]);
        assert!(caps.plugins.is_empty() && caps.shared_dirs.is_empty());
    }

    #[test]
    fn bad_rules_are_listed() {
        let grants: PluginGrants =
            serde_json::from_value(serde_json::json!({"http": ["", "ok.example.com"]})).unwrap();
        assert_eq!(grants.problems().len(), 1);
        assert!(serde_json::from_value::<PluginGrants>(serde_json::json!({"email": []})).is_err());
    }
}
