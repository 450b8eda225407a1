//! Host calls of runs (jobs, agents and the plugins they call) into the audit log.
//!
//! A script's host call waits, before it runs, for a place in the audit log's bounded
//! queue (`AuditSink::ready`); its record then goes into that place without waiting.
//! When no place frees up in time the call fails instead of running unaudited.

use super::{AuditEvent, AuditLog, Outcome};
use automa_runtime::host::ports::{AuditSink, BoxFuture, ConnectionRecord, HostCallRecord};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// The process's host-call records into the audit log. Cheap to clone.
#[derive(Clone)]
pub struct HostCalls {
    audit: AuditLog,
}

impl HostCalls {
    pub fn start(audit: AuditLog) -> Self {
        Self { audit }
    }

    /// Append `event` without waiting (from paths that must not block on the database).
    pub fn queue(&self, event: AuditEvent) {
        self.audit.queue(event);
    }

    /// The sink for the calls `actor` (`script:<id>`, `plugin:<name>`) makes in `run`.
    pub fn sink(&self, actor: String, run: RunRef) -> Arc<dyn AuditSink> {
        Arc::new(HostCallSink {
            actor,
            run,
            audit: self.audit.clone(),
            placed: AtomicBool::new(false),
        })
    }
}

struct HostCallSink {
    actor: String,
    run: RunRef,
    audit: AuditLog,
    /// Whether the run holds a place in the queue for its next record (a run's calls
    /// come one at a time, so one place is enough; a refusal that is only counted
    /// leaves it for the next call).
    placed: AtomicBool,
}

impl HostCallSink {
    fn send(&self, event: AuditEvent) {
        if self.placed.swap(false, Ordering::SeqCst) {
            self.audit.queue_placed(event);
        } else {
            self.audit.queue(event);
        }
    }
}

impl Drop for HostCallSink {
    fn drop(&mut self) {
        if *self.placed.get_mut() {
            self.audit.release(1);
        }
    }
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
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            if self.placed.load(Ordering::SeqCst) {
                return Ok(());
            }
            self.audit.reserve().await.map_err(|e| {
                tracing::warn!(actor = %self.actor, error = %e, "host call refused: no place in the audit queue");
                e.to_string()
            })?;
            if self.placed.swap(true, Ordering::SeqCst) {
                self.audit.release(1);
            }
            Ok(())
        })
    }

    fn record(&self, call: HostCallRecord) {
        self.send(self.event(call));
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
        self.send(event);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn refused() -> HostCallRecord {
        HostCallRecord {
            operation: "http.request",
            target: "GET https://example.com/".into(),
            outcome: "denied",
            detail: Some("not allowed".into()),
            duration: Duration::from_millis(3),
        }
    }

    #[tokio::test]
    async fn a_call_waits_for_a_place_and_its_record_names_the_agent() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        let db = crate::db::connect(&url).await.unwrap();
        let audit = AuditLog::with_queue(db.clone(), 1, Duration::from_millis(200));
        let calls = HostCalls::start(audit.clone());
        let sink = calls.sink("script:s1".into(), RunRef::Agent("a1".into()));
        sink.ready().await.unwrap();
        // The run holds the only place: another run's call is refused, not run.
        let other = calls.sink("script:s2".into(), RunRef::Job("j1".into()));
        let refusal = other.ready().await.unwrap_err();
        assert!(refusal.contains("not keeping up"), "{refusal}");
        sink.record(refused());
        assert!(audit.flush(Duration::from_secs(5)).await);
        other.ready().await.unwrap();
        drop(other); // an unused place is given back
        sink.ready().await.unwrap();
        let row = audit
            .list(&crate::audit::AuditFilter::default(), 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(row.actor, "script:s1");
        assert_eq!(row.action, "host.http.request");
        assert_eq!(row.outcome, "denied");
        let details: serde_json::Value = serde_json::from_str(&row.details).unwrap();
        assert_eq!(
            details,
            json!({"agent_id": "a1", "duration_ms": 3, "error": "not allowed"})
        );
    }
}
