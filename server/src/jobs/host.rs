//! The server's host ports for a job: state in the database, host calls to the audit log.

use crate::audit::{AuditEvent, AuditLog, Outcome};
use crate::db::{self, Db};
use automa_runtime::host::HostError;
use automa_runtime::host::ports::{AuditSink, BoxFuture, HostCallRecord, StateStore};
use serde_json::json;
use tokio::sync::mpsc;

/// `automa.state` of one script or plugin, in the database.
pub struct DbState {
    pub db: Db,
    pub scope: db::state::Scope,
}

impl DbState {
    /// The store of the script `script_id`.
    pub fn script(db: Db, script_id: &str) -> Self {
        Self {
            db,
            scope: db::state::Scope::Script(script_id.to_owned()),
        }
    }
}

fn storage(e: sqlx::Error) -> HostError {
    tracing::warn!(error = %e, "state store");
    HostError::Failed("the state store is unavailable".into())
}

impl StateStore for DbState {
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, HostError>> {
        let key = key.to_owned();
        Box::pin(async move {
            db::state::get(&self.db, &self.scope, &key)
                .await
                .map_err(storage)
        })
    }
    fn set(&self, key: &str, value: &str) -> BoxFuture<'_, Result<(), HostError>> {
        let (key, value) = (key.to_owned(), value.to_owned());
        Box::pin(async move {
            db::state::set(&self.db, &self.scope, &key, &value)
                .await
                .map_err(storage)
        })
    }
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<bool, HostError>> {
        let key = key.to_owned();
        Box::pin(async move {
            db::state::delete(&self.db, &self.scope, &key)
                .await
                .map_err(storage)
        })
    }
    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, HostError>> {
        Box::pin(async move {
            db::state::keys(&self.db, &self.scope)
                .await
                .map_err(storage)
        })
    }
}

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

/// Sends every host call of a job or agent to the audit log, off the script's path:
/// `record` must not block, so events go through a channel to one appending task.
#[derive(Clone)]
pub struct JobAudit {
    pub actor: String,
    pub run: RunRef,
    pub sender: mpsc::UnboundedSender<AuditEvent>,
}

impl JobAudit {
    /// The appending task for the whole process.
    pub fn spawn_appender(audit: AuditLog) -> mpsc::UnboundedSender<AuditEvent> {
        let (sender, mut events) = mpsc::unbounded_channel::<AuditEvent>();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                audit.record(event).await;
            }
        });
        sender
    }
}

impl AuditSink for JobAudit {
    fn record(&self, call: HostCallRecord) {
        let outcome = match call.outcome {
            "ok" => Outcome::Success,
            "denied" => Outcome::Denied,
            _ => Outcome::Failure,
        };
        let (run_key, run_id) = self.run.detail();
        let event = AuditEvent::new(self.actor.clone(), format!("host.{}", call.operation))
            .target(call.target)
            .outcome(outcome)
            .details(json!({
                run_key: run_id,
                "duration_ms": u64::try_from(call.duration.as_millis()).unwrap_or(u64::MAX),
                "error": call.detail,
            }));
        let _ = self.sender.send(event);
    }
}
