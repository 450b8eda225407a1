//! Host calls of runs (jobs, agents and the plugins they call) into the audit log.
//!
//! A script's host call must not wait for the database, so each record goes through a
//! channel to one appending task, started once per process by [`HostCalls::start`].

use super::{AuditEvent, AuditLog, Outcome};
use automa_runtime::host::ports::{AuditSink, ConnectionRecord, HostCallRecord};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The run a host call belongs to, named in its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRef {
    Job(String),
    Agent(String),
}

impl RunRef {
    fn detail(&self) -> (&'static str, &str) {
        match self {
            RunRef::Job(id) => ("job_id", id),
            RunRef::Agent(id) => ("agent_id", id),
        }
    }
}

/// The process's queue of host-call records into the audit log. Cheap to clone.
#[derive(Clone)]
pub struct HostCalls {
    sender: mpsc::UnboundedSender<AuditEvent>,
}

impl HostCalls {
    /// Start the appending task; it ends once every clone of the queue is dropped.
    pub fn start(audit: AuditLog) -> Self {
        let (sender, mut events) = mpsc::unbounded_channel::<AuditEvent>();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                audit.record(event).await;
            }
        });
        Self { sender }
    }

    /// Append `event` without waiting (from paths that must not block on the database).
    pub fn queue(&self, event: AuditEvent) {
        let _ = self.sender.send(event);
    }

    /// The sink for the calls `actor` (`script:<id>`, `plugin:<name>`) makes in `run`.
    pub fn sink(&self, actor: String, run: RunRef) -> Arc<dyn AuditSink> {
        Arc::new(HostCallSink {
            actor,
            run,
            sender: self.sender.clone(),
        })
    }
}

struct HostCallSink {
    actor: String,
    run: RunRef,
    sender: mpsc::UnboundedSender<AuditEvent>,
}

impl HostCallSink {
    fn event(&self, call: HostCallRecord) -> AuditEvent {
        let outcome = match call.outcome {
            "ok" => Outcome::Success,
            "denied" => Outcome::Denied,
            _ => Outcome::Failure,
        };
        let (run_key, run_id) = self.run.detail();
        AuditEvent::new(self.actor.clone(), format!("host.{}", call.operation))
            .target(call.target)
            .outcome(outcome)
            .details(json!({
                run_key: run_id,
                "duration_ms": u64::try_from(call.duration.as_millis()).unwrap_or(u64::MAX),
                "error": call.detail,
            }))
    }
}

impl AuditSink for HostCallSink {
    fn record(&self, call: HostCallRecord) {
        let _ = self.sender.send(self.event(call));
    }

    /// A TCP connection keeps its facts (address, TLS, bytes each way) as fields.
    fn connection(&self, call: HostCallRecord, connection: &ConnectionRecord) {
        let mut event = self.event(call);
        if let (Some(details), Ok(facts)) = (
            event.details.as_object_mut(),
            serde_json::to_value(connection),
        ) {
            details.insert("connection".into(), facts);
        }
        let _ = self.sender.send(event);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_denied_call_of_an_agent_names_the_agent() {
        let (sender, mut events) = mpsc::unbounded_channel();
        let calls = HostCalls { sender };
        calls
            .sink("script:s1".into(), RunRef::Agent("a1".into()))
            .record(HostCallRecord {
                operation: "http.request",
                target: "GET https://example.com/".into(),
                outcome: "denied",
                detail: Some("not allowed".into()),
                duration: Duration::from_millis(3),
            });
        let event = events.try_recv().unwrap();
        assert_eq!(event.actor, "script:s1");
        assert_eq!(event.action, "host.http.request");
        assert_eq!(event.outcome, Outcome::Denied);
        assert_eq!(
            event.details,
            json!({"agent_id": "a1", "duration_ms": 3, "error": "not allowed"})
        );
    }
}
