//! `automa:host/plugins`: calls from a script to the plugins it was granted.

use crate::bindings::automa::host::plugins::Host;
use crate::bindings::automa::host::types::Error as WitError;
use crate::{HostContext, HostError};
use std::time::Instant;

/// Largest JSON text of one call's arguments: the host parses and checks it before
/// the plugin runs, so it must stay small next to the server's memory.
pub const MAX_PLUGIN_ARGS_BYTES: usize = 1024 * 1024;

impl Host for HostContext {
    async fn call(
        &mut self,
        name: String,
        function: String,
        args_json: String,
    ) -> Result<String, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = match self.plugin_caller(&name) {
            Ok(_) if args_json.len() > MAX_PLUGIN_ARGS_BYTES => Err(HostError::TooLarge(format!(
                "plugin arguments are limited to {} KiB",
                MAX_PLUGIN_ARGS_BYTES / 1024
            ))),
            Ok(caller) => caller.call(&name, &function, &args_json).await,
            Err(denied) => Err(denied),
        };
        self.audit(
            "plugins.call",
            format!("{name}.{function}"),
            started,
            &result,
        );
        result.map_err(Into::into)
    }

    async fn describe(&mut self, name: String) -> Result<String, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = match self.plugin_caller(&name) {
            Ok(caller) => caller.describe(&name).await,
            Err(denied) => Err(denied),
        };
        self.audit("plugins.describe", name, started, &result);
        result.map_err(Into::into)
    }
}

impl HostContext {
    /// The plugin port, if the script was granted `name`.
    fn plugin_caller(
        &self,
        name: &str,
    ) -> Result<std::sync::Arc<dyn crate::ports::PluginCaller>, HostError> {
        let granted = self.capabilities.plugins.iter().any(|p| p == name);
        match (&self.plugins, granted) {
            (Some(caller), true) => Ok(caller.clone()),
            _ => Err(HostError::Denied(format!(
                "the plugin {name:?} is not granted to this script; an admin can grant it in \
                 the script's capabilities (\"plugins\": [{name:?}])"
            ))),
        }
    }
}
