//! The one place a run is put together: from plain inputs (a script, its grants and
//! its limits) and the ports it talks through to the runtime's `RunRequest`. Jobs,
//! agents and `automa run` all come through here, so they cannot disagree on what a
//! grant means.

use automa_runtime::host::ports::{
    AgentChannel, AuditSink, HttpClient, Mailer, MapSecrets, PluginCaller, RunEvents, StateStore,
};
use automa_runtime::host::{Capabilities, HostContext, TlsTrust};
use automa_runtime::{CancellationToken, Limits, Mounts, Profile, RunRequest, SharedMount};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Bytes of stdout and of stderr kept in a run's outcome (server runs).
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// Server-run limits: `memory_mb` of memory, `timeout` of wall-clock time.
pub fn limits(memory_mb: u64, timeout: Duration) -> Limits {
    Limits {
        memory_bytes: memory_mb.saturating_mul(1024 * 1024),
        timeout,
        max_output_bytes: MAX_OUTPUT_BYTES,
        ..Limits::default()
    }
}

/// What a run is made of, as plain values. The server fills it from a script version
/// and its grants (`Runs::inputs`); `automa run`, which has no database, from flags.
/// Not `Debug`: it holds secret values.
pub struct RunInputs {
    /// The Python source.
    pub source: String,
    /// The name shown in tracebacks, e.g. `hello.py`.
    pub filename: String,
    /// Arguments for `main(**args)`.
    pub args: Value,
    /// What the script may do; its `shared_dirs` become the `/shared/<name>` mounts.
    pub capabilities: Capabilities,
    /// The granted secrets' values by name; also what is scrubbed from the run's records.
    pub secrets: HashMap<String, String>,
    /// The script's package environment, read-only at `/packages`.
    pub packages: Option<PathBuf>,
    /// Read-write at `/data`.
    pub data_dir: Option<PathBuf>,
    /// Read-write at `/artifacts` (jobs keep what lands there).
    pub artifacts_dir: Option<PathBuf>,
    pub limits: Limits,
    /// Which interpreter runs the script.
    pub profile: Profile,
}

/// The ports a run talks through. The events should scrub [`RunInputs::redaction`].
pub struct RunPorts {
    pub http: Arc<dyn HttpClient>,
    /// `None` when no SMTP server is configured (sending then fails with a reason).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Where every host call is recorded.
    pub audit: Arc<dyn AuditSink>,
    /// Output, log lines and progress.
    pub events: Arc<dyn RunEvents>,
    /// `automa.state`.
    pub state: Option<Arc<dyn StateStore>>,
    /// Host plugins (what the script may call is in its capabilities).
    pub plugins: Option<Arc<dyn PluginCaller>>,
    /// The supervisor link of an agent instance; `None` for jobs.
    pub agent: Option<Arc<dyn AgentChannel>>,
    /// The CAs the run's TLS connections trust (webpki roots plus the server's extras).
    pub tls: Arc<TlsTrust>,
}

impl RunInputs {
    /// The values the run's events must never record: its secrets.
    pub fn redaction(&self) -> Vec<String> {
        self.secrets
            .values()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect()
    }

    /// The request the runtime runs, cancelled by `cancel`.
    pub fn into_request(self, ports: RunPorts, cancel: CancellationToken) -> RunRequest {
        let shared = self
            .capabilities
            .shared_dirs
            .iter()
            .map(|d| SharedMount {
                name: d.name.clone(),
                path: d.path.clone(),
                writable: d.writable,
            })
            .collect();
        let mut host = HostContext::new(
            Arc::new(self.capabilities),
            ports.http,
            ports.audit,
            ports.events,
        );
        host.secrets = Arc::new(MapSecrets(self.secrets));
        host.mailer = ports.mailer;
        host.state = ports.state;
        host.plugins = ports.plugins;
        host.agent = ports.agent;
        host.tls = ports.tls;
        RunRequest {
            source: self.source,
            filename: self.filename,
            args: self.args,
            limits: self.limits,
            mounts: Mounts {
                data: self.data_dir,
                scratch: None,
                artifacts: self.artifacts_dir,
                shared,
                packages: self.packages,
            },
            host,
            cancel,
            profile: self.profile,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use automa_runtime::host::SharedDir;
    use automa_runtime::host::ports::{MemoryState, Nothing};

    #[tokio::test]
    async fn every_grant_reaches_the_request() {
        let capabilities = Capabilities {
            secrets: vec!["api_token".into()],
            shared_dirs: vec![SharedDir {
                name: "reports".into(),
                path: "/srv/reports".into(),
                writable: true,
            }],
            ..Capabilities::default()
        };
        let inputs = RunInputs {
            source: "print(1)".into(),
            filename: "s.py".into(),
            args: serde_json::json!({"a": 1}),
            capabilities: capabilities.clone(),
            secrets: HashMap::from([("api_token".into(), "v4lue".into())]),
            packages: Some("/envs/abc".into()),
            data_dir: Some("/data/s".into()),
            artifacts_dir: None,
            limits: limits(64, Duration::from_secs(5)),
            profile: Default::default(),
        };
        assert_eq!(inputs.redaction(), ["v4lue"]);
        let request = inputs.into_request(
            RunPorts {
                http: Arc::new(automa_runtime::host::ReqwestClient::new()),
                mailer: None,
                audit: Arc::new(Nothing),
                events: Arc::new(Nothing),
                state: Some(Arc::new(MemoryState::default())),
                plugins: None,
                agent: None,
                tls: TlsTrust::webpki(),
            },
            CancellationToken::new(),
        );
        assert_eq!(*request.host.capabilities, capabilities);
        assert_eq!(
            request.host.secrets.get("api_token").await.unwrap(),
            Some("v4lue".into())
        );
        assert!(request.host.state.is_some());
        assert_eq!(request.mounts.shared.len(), 1);
        assert_eq!(request.mounts.shared[0].name, "reports");
        assert!(request.mounts.shared[0].writable);
        assert_eq!(request.mounts.packages, Some("/envs/abc".into()));
        assert_eq!(request.mounts.data, Some("/data/s".into()));
        assert_eq!(request.limits.memory_bytes, 64 * 1024 * 1024);
        assert_eq!(request.limits.max_output_bytes, MAX_OUTPUT_BYTES);
    }
}
