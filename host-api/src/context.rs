//! The per-run host state that every interface implementation works on.

use crate::Capabilities;
use crate::HostError;
use crate::ports::{
    AuditSink, HostCallRecord, HttpClient, Mailer, RunEvents, SecretStore, StateStore,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Counts of host calls in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCounters {
    /// Every host call, of any interface.
    pub total: u32,
    /// HTTP requests sent (redirect hops count once each).
    pub http_requests: u32,
    /// Emails sent.
    pub emails: u32,
    /// Network connections attempted past the allowlist (`automa:host/net`).
    pub net_connections: u32,
}

/// Caps of one run's host calls and of its script's state store, set by the server's
/// quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Host calls of any interface a run may make; past it calls fail with
    /// `limit reached`.
    pub max_calls: u32,
    /// Keys a script's state store may hold.
    pub state_keys: u64,
    /// Bytes (keys plus values) a script's state store may hold.
    pub state_bytes: u64,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            max_calls: 100_000,
            state_keys: 1_000,
            state_bytes: 10 * 1024 * 1024,
        }
    }
}

/// What the host implementations need for one run: the capabilities, the ports, and
/// the run's own bookkeeping.
pub struct HostContext {
    /// What the script may do.
    pub capabilities: Arc<Capabilities>,
    /// Sends HTTP requests.
    pub http: Arc<dyn HttpClient>,
    /// Sends email, when the server has SMTP settings.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Reads secrets.
    pub secrets: Arc<dyn SecretStore>,
    /// The script's key-value store, when it has one.
    pub state: Option<Arc<dyn StateStore>>,
    /// Records every host call.
    pub audit: Arc<dyn AuditSink>,
    /// Receives output, log lines and progress.
    pub events: Arc<dyn RunEvents>,
    /// Host directory for published artifacts.
    pub artifacts_dir: Option<PathBuf>,
    /// Largest total size of published artifacts, in bytes.
    pub max_artifact_bytes: u64,
    /// The disk quota of `/artifacts`, which published artifacts count against with
    /// the files the script writes there; `None`: only `max_artifact_bytes` bounds them.
    pub artifacts_space: Option<Arc<dyn crate::ports::DiskSpace>>,
    /// Guest paths of the mounted directories.
    pub mounts: Vec<String>,
    /// The agent's mailbox and supervisor link; `None` for jobs.
    pub agent: Option<Arc<dyn crate::ports::AgentChannel>>,
    /// Runs the host plugins the script was granted; `None` where there are none.
    pub plugins: Option<Arc<dyn crate::ports::PluginCaller>>,
    /// The plugin this context runs, when it is a plugin's rather than a script's:
    /// denials then say how to grant the plugin, not the script.
    pub plugin_name: Option<String>,
    /// The CAs TLS connections trust: the webpki roots unless the server adds its own.
    pub tls: Arc<crate::TlsTrust>,
    /// Caps of host calls and state.
    pub limits: CallLimits,
    pub(crate) refusals: crate::refusals::Refusals,
    pub(crate) net: crate::net::NetState,
    pub(crate) counters: HostCounters,
    pub(crate) artifact_bytes: u64,
    pub(crate) revealed_secrets: Vec<String>,
}

impl HostContext {
    /// A context with the given capabilities and ports for HTTP, audit and events; no
    /// mailer, secrets, state or artifacts until set.
    pub fn new(
        capabilities: Arc<Capabilities>,
        http: Arc<dyn HttpClient>,
        audit: Arc<dyn AuditSink>,
        events: Arc<dyn RunEvents>,
    ) -> Self {
        Self {
            capabilities,
            http,
            mailer: None,
            secrets: Arc::new(crate::ports::Nothing),
            state: None,
            audit,
            events,
            artifacts_dir: None,
            max_artifact_bytes: 100 * 1024 * 1024,
            artifacts_space: None,
            mounts: Vec::new(),
            agent: None,
            plugins: None,
            plugin_name: None,
            tls: crate::TlsTrust::webpki(),
            limits: CallLimits::default(),
            refusals: crate::refusals::Refusals::default(),
            net: crate::net::NetState::default(),
            counters: HostCounters::default(),
            artifact_bytes: 0,
            revealed_secrets: Vec::new(),
        }
    }

    /// The calls made so far.
    pub fn counters(&self) -> HostCounters {
        self.counters
    }

    /// Secret values handed to the guest; the runtime redacts them from outputs.
    pub fn revealed_secrets(&self) -> &[String] {
        &self.revealed_secrets
    }

    /// Who is denied and where an admin grants it: the script's capabilities, or the
    /// plugin's grants.
    pub(crate) fn grantee(&self) -> (String, String) {
        match &self.plugin_name {
            Some(name) => (
                format!("the plugin {name:?}"),
                format!(
                    "the plugin's grants (dashboard Plugins page, or PATCH /api/v1/plugins/{name})"
                ),
            ),
            None => ("this script".into(), "the script's capabilities".into()),
        }
    }

    /// `text` with every secret handed to the guest replaced by a marker.
    fn scrub(&self, mut text: String) -> String {
        for secret in &self.revealed_secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[REDACTED]");
            }
        }
        text
    }

    /// Refuse the call when the run has made all the host calls it may
    /// ([`CallLimits::max_calls`]); the refusal is counted and audited like a call.
    pub(crate) fn call_budget(&self) -> Result<(), HostError> {
        if self.counters.total >= self.limits.max_calls {
            return Err(HostError::LimitReached(format!(
                "this run made its {} host calls (the server's host_calls_per_run quota)",
                self.limits.max_calls
            )));
        }
        Ok(())
    }

    /// Wait until the audit sink can take this call's record; when it cannot, the
    /// call fails before it does anything (no host call runs unaudited). Not counted
    /// and not audited itself: the audit log is what is unavailable.
    pub(crate) fn audit_ready(
        &self,
    ) -> impl std::future::Future<Output = Result<(), HostError>> + Send + 'static {
        // The context is not `Sync`: the future holds the sink, not a borrow of it.
        let audit = self.audit.clone();
        async move {
            audit.ready().await.map_err(|reason| {
                HostError::Failed(format!(
                    "the audit log cannot record this call, so it was not made: {reason}"
                ))
            })
        }
    }

    /// Count a call and send its record to the audit sink: fields cut to a bounded
    /// size, a refusal repeated within the run counted instead of recorded again.
    pub(crate) fn audit<T>(
        &mut self,
        operation: &'static str,
        target: String,
        started: Instant,
        result: &Result<T, HostError>,
    ) {
        self.counters.total = self.counters.total.saturating_add(1);
        let (outcome, detail) = match result {
            Ok(_) => ("ok", None),
            Err(e) => (e.kind(), Some(self.scrub(e.to_string()))),
        };
        // A secret used in a call (a webhook URL, a token in a path) must not end up
        // in the audit log, which cannot be edited afterwards.
        let target =
            crate::refusals::bounded(self.scrub(target), crate::refusals::MAX_TARGET_BYTES);
        let detail = detail.map(|d| crate::refusals::bounded(d, crate::refusals::MAX_DETAIL_BYTES));
        let record = HostCallRecord {
            operation,
            target,
            outcome,
            detail,
            duration: started.elapsed(),
        };
        if result.is_err() && !self.refusals.admit(&record, self.audit.as_ref()) {
            return;
        }
        self.audit.record(record);
    }
}

impl Drop for HostContext {
    /// The run is over: record the counts of repeated refusals.
    fn drop(&mut self) {
        self.refusals.flush(self.audit.as_ref());
    }
}
