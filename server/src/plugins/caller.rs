//! The plugin port of one run: finds the plugin, checks the arguments, and invokes it
//! with the plugin's own grants, limits, secrets and state.

use super::{Plugins, limits_of};
use crate::audit::RunRef;
use crate::db::{self, state_store::DbState};
use automa_runtime::host::ports::{BoxFuture, MapSecrets, PluginCaller, RunEvents};
use automa_runtime::host::{HostContext, HostError, LogLevel};
use serde_json::Value;
use std::sync::Arc;

/// Runs plugins for one job or agent instance.
pub struct RunPlugins {
    plugins: Plugins,
    run: RunRef,
    events: Arc<dyn RunEvents>,
}

impl Plugins {
    /// The plugin port for a run whose output goes to `events`.
    pub fn caller(&self, run: RunRef, events: Arc<dyn RunEvents>) -> Arc<dyn PluginCaller> {
        Arc::new(RunPlugins {
            plugins: self.clone(),
            run,
            events,
        })
    }
}

impl PluginCaller for RunPlugins {
    fn call<'a>(
        &'a self,
        plugin: &'a str,
        function: &'a str,
        args_json: &'a str,
    ) -> BoxFuture<'a, Result<String, HostError>> {
        Box::pin(self.invoke(plugin, function, args_json))
    }

    fn describe<'a>(&'a self, plugin: &'a str) -> BoxFuture<'a, Result<String, HostError>> {
        Box::pin(async move {
            let row = self.enabled_row(plugin).await?;
            Ok(row.manifest)
        })
    }
}

impl RunPlugins {
    async fn enabled_row(&self, name: &str) -> Result<db::plugins::PluginRow, HostError> {
        let row = db::plugins::find(&self.plugins.0.db, name)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "reading a plugin");
                HostError::Failed("the plugin registry is unavailable".into())
            })?
            .ok_or_else(|| HostError::NotFound(format!("no plugin named {name:?} is installed")))?;
        if row.enabled == 0 {
            return Err(HostError::NotFound(format!(
                "the plugin {name:?} is disabled; an admin can enable it"
            )));
        }
        Ok(row)
    }

    async fn invoke(
        &self,
        name: &str,
        function: &str,
        args_json: &str,
    ) -> Result<String, HostError> {
        let row = self.enabled_row(name).await?;
        let manifest = row
            .manifest()
            .map_err(|e| HostError::Failed(format!("the plugin {name:?} is damaged: {e}")))?;
        let Some(spec) = manifest.function(function) else {
            let offered: Vec<&str> = manifest.functions.iter().map(|f| f.name.as_str()).collect();
            return Err(HostError::NotFound(format!(
                "the plugin {name:?} has no function {function:?}; it offers {}",
                offered.join(", ")
            )));
        };
        let args: Value = serde_json::from_str(args_json)
            .map_err(|e| HostError::InvalidInput(format!("the arguments are not JSON: {e}")))?;
        self.plugins.validate_args(&row.sha256, spec, &args)?;
        let plugin = self.plugins.loaded(&row).await?;

        let inner = &self.plugins.0;
        let grants = row
            .grant_set()
            .map_err(|e| HostError::Failed(format!("the plugin {name:?} is damaged: {e}")))?;
        // Decrypted up front so the plugin's log lines can be scrubbed of them too.
        let secrets = crate::secrets::granted(&inner.db, &inner.secrets_key, &grants.secrets).await;
        // Whole lines of the run's log are scrubbed too, so a secret split across writes
        // is caught where the run's own events join them.
        for value in secrets.values() {
            self.events.also_redact(value);
        }
        let mut host = HostContext::new(
            Arc::new(grants.capabilities()),
            inner.http.clone(),
            inner
                .host_calls
                .sink(format!("plugin:{name}"), self.run.clone()),
            Arc::new(PrefixedEvents {
                prefix: format!("[{name}] "),
                inner: self.events.clone(),
                redact: secrets.values().cloned().collect(),
            }),
        );
        host.secrets = Arc::new(MapSecrets(secrets));
        host.plugin_name = Some(name.to_owned());
        if grants.state {
            host.state = Some(Arc::new(DbState::plugin(inner.db.clone(), name)));
        }
        let result = inner
            .runtime
            .invoke_plugin(&plugin, host, &limits_of(&row), function, args_json)
            .await?;
        // Checked without building a tree: the script parses it anyway.
        if serde_json::from_str::<serde::de::IgnoredAny>(&result).is_err() {
            return Err(HostError::Failed(format!(
                "the plugin {name:?} returned something that is not JSON from {function}"
            )));
        }
        Ok(result)
    }
}

/// The calling run's events, with the plugin's name in front of its log lines and the
/// plugin's secrets scrubbed from them (they were granted to the plugin, not the script).
struct PrefixedEvents {
    prefix: String,
    inner: Arc<dyn RunEvents>,
    redact: Vec<String>,
}

impl PrefixedEvents {
    fn scrub(&self, text: &str) -> String {
        self.redact
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(text.to_owned(), |text, secret| {
                text.replace(secret.as_str(), "[REDACTED]")
            })
    }
}

impl RunEvents for PrefixedEvents {
    fn output(&self, stream: automa_runtime::host::ports::OutputStream, chunk: &[u8]) {
        if self.redact.is_empty() {
            return self.inner.output(stream, chunk);
        }
        let text = self.scrub(&String::from_utf8_lossy(chunk));
        self.inner.output(stream, text.as_bytes());
    }
    fn also_redact(&self, secret: &str) {
        self.inner.also_redact(secret);
    }
    fn log(&self, level: LogLevel, message: &str, fields: Option<&Value>) {
        let message = self.scrub(&format!("{}{message}", self.prefix));
        let fields = fields.map(|f| {
            let text = self.scrub(&f.to_string());
            serde_json::from_str(&text).unwrap_or(Value::Null)
        });
        self.inner.log(level, &message, fields.as_ref());
    }
}
