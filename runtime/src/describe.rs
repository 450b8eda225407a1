//! Reading a script's parameters from its `main` signature, inside the sandbox.

use crate::{Limits, Runtime, ScriptFailure};
use automa_host_api::HostContext;
use automa_host_api::ports::Nothing;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// What a script declares about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptDescription {
    /// Whether the script defines `main`.
    pub has_main: bool,
    /// The docstring of `main`, else of the module.
    pub description: Option<String>,
    /// A JSON Schema object of `main`'s arguments.
    pub parameters: Value,
}

impl Runtime {
    /// Parse `source` in the sandbox (nothing of it runs) and describe its `main`.
    /// A syntax error comes back as the failure, with its line.
    pub async fn describe(
        &self,
        source: &str,
        filename: &str,
    ) -> Result<ScriptDescription, ScriptFailure> {
        let limits = Limits {
            timeout: Duration::from_secs(10),
            ..Limits::default()
        };
        let host = HostContext::new(
            Arc::default(),
            Arc::new(automa_host_api::ReqwestClient::new()),
            Arc::new(Nothing),
            Arc::new(Nothing),
        );
        let wasi = wasmtime_wasi::WasiCtxBuilder::new().build();
        let mut store = self.new_store(wasi, host, &limits, &crate::cpu::CpuClock::default());
        let failure = |kind: &str, message: String| ScriptFailure {
            kind: kind.to_owned(),
            message,
            traceback: String::new(),
        };
        let call = async {
            let runner = self.pre.instantiate_async(&mut store).await?;
            runner.call_describe(&mut store, source, filename).await
        };
        let json = match tokio::time::timeout(limits.timeout, call).await {
            Err(_) => {
                return Err(failure(
                    "Timeout",
                    "describing the script took too long".into(),
                ));
            }
            Ok(Err(trap)) => return Err(failure("Trap", format!("{trap:#}"))),
            Ok(Ok(Err(error))) => {
                return Err(ScriptFailure {
                    kind: error.kind,
                    message: error.message,
                    traceback: error.traceback,
                });
            }
            Ok(Ok(Ok(json))) => json,
        };
        serde_json::from_str(&json).map_err(|e| failure("DescribeError", e.to_string()))
    }
}
