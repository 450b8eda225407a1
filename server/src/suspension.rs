//! Rights follow the owner. Disabling (or deleting) a user pauses their enabled
//! schedules, stops their running agents, skips their queued jobs and cancels their
//! running ones; their webhooks are refused at call time (`api::webhooks`) and workers
//! claim no job of a disabled owner. Enabling the user again resumes exactly the
//! schedules and agents the disable paused. Every effect is audited with the actor
//! who changed the account.

use crate::audit::AuditEvent;
use crate::db::{self, owners};
use crate::state::AppState;
use std::time::Duration;

/// Who changed the account, from where, and why (for the audit trail and stored reasons).
pub struct Change<'a> {
    pub actor: &'a str,
    pub ip: Option<String>,
    /// e.g. "the owner's account was disabled".
    pub reason: &'a str,
}

/// Stops everything the user `owner_id` has running or scheduled.
pub async fn suspend(state: &AppState, owner_id: &str, change: &Change<'_>) -> anyhow::Result<()> {
    // First what would start new work, then the work itself.
    for id in owners::pause_schedules(&state.db, owner_id).await? {
        audit(state, change, "schedule.pause", format!("schedule:{id}")).await;
    }
    let error = serde_json::json!({"kind": "Skipped", "message": change.reason, "traceback": ""})
        .to_string();
    let skipped = owners::skip_queued_jobs(&state.db, owner_id, &error).await?;
    if !skipped.is_empty() {
        // One entry for the lot: a user may have queued thousands.
        let shown: Vec<&String> = skipped.iter().take(100).collect();
        state
            .audit
            .record(
                AuditEvent::new(change.actor, "job.skip")
                    .target(format!("user:{owner_id}"))
                    .ip(change.ip.clone())
                    .details(serde_json::json!({
                        "reason": change.reason,
                        "count": skipped.len(),
                        "jobs": shown,
                    })),
            )
            .await;
    }
    for id in owners::running_jobs(&state.db, owner_id).await? {
        state.jobs.cancel(&id).await?;
        audit(state, change, "job.cancel", format!("job:{id}")).await;
    }
    let mut active = Vec::new();
    for (id, grace) in owners::agents_of(&state.db, owner_id).await? {
        if state.agents.is_active(&id).await? {
            active.push((id, grace));
        }
    }
    let stops = active
        .into_iter()
        .map(|(id, grace)| stop_agent(state, id, grace, change));
    for result in futures::future::join_all(stops).await {
        result?;
    }
    Ok(())
}

async fn stop_agent(
    state: &AppState,
    id: String,
    grace_secs: i64,
    change: &Change<'_>,
) -> anyhow::Result<()> {
    owners::mark_agent_paused(&state.db, &id).await?;
    let grace = Duration::from_secs(u64::try_from(grace_secs).unwrap_or(10));
    // Not running any more (it ended by itself meanwhile) is as good as stopped.
    let _ = state.agents.stop(&id, grace).await;
    db::agents::set_state(
        &state.db,
        &id,
        db::agents::AgentState::Stopped,
        Some(change.reason),
        false,
    )
    .await?;
    audit(state, change, "agent.stop", format!("agent:{id}")).await;
    Ok(())
}

/// Resumes what [`suspend`] paused for `owner_id`.
pub async fn resume(state: &AppState, owner_id: &str, change: &Change<'_>) -> anyhow::Result<()> {
    for id in owners::resume_schedules(&state.db, owner_id).await? {
        audit(state, change, "schedule.resume", format!("schedule:{id}")).await;
    }
    for id in owners::take_paused_agents(&state.db, owner_id).await? {
        state.agents.start(&id, change.reason).await?;
        audit(state, change, "agent.start", format!("agent:{id}")).await;
    }
    Ok(())
}

async fn audit(state: &AppState, change: &Change<'_>, action: &str, target: String) {
    state
        .audit
        .record(
            AuditEvent::new(change.actor, action)
                .target(target)
                .ip(change.ip.clone())
                .details(serde_json::json!({"reason": change.reason})),
        )
        .await;
}
