//! One agent's supervision loop: start, watch, restart per policy, or give up.

use super::Agents;
use super::link::AgentLink;
use crate::audit::{AuditEvent, Outcome, RunRef};
use crate::db::{self, agents::AgentState, agents::Claimed, now_ms};
use crate::runs;
use automa_runtime::{CancellationToken, RunStatus};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An instance that ends sooner than this after starting counts as a quick restart.
const QUICK: Duration = Duration::from_secs(60);
const MAX_BACKOFF_SECONDS: u64 = 300;
/// Agents run until stopped; this only bounds a forgotten one.
const INSTANCE_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// What ends a supervision: `control` (stop, no more restarts) and `abandon` (this node
/// lost the agent with its lease: nothing more is recorded from here).
pub(super) struct Tokens {
    pub control: CancellationToken,
    pub abandon: CancellationToken,
}

/// Which supervision of the agent this is: on this node (`generation`) and in the
/// database (`claim`).
pub(super) struct Supervision {
    pub generation: u64,
    pub claim: i64,
}

pub(super) async fn supervise(
    agents: Agents,
    id: String,
    link: Arc<AgentLink>,
    tokens: Tokens,
    reason: String,
    supervision: Supervision,
) {
    let Tokens { control, abandon } = tokens;
    let Supervision { generation, claim } = supervision;
    let link = Held {
        link,
        abandon: abandon.clone(),
        control: control.clone(),
        holder: Claimed {
            id: id.clone(),
            node: agents.0.node_id.clone(),
            claim,
        },
    };
    let mut quick_restarts = 0u32;
    let mut reason = reason;
    loop {
        match run_once(&agents, &id, &link, &control, &reason).await {
            Ok(Next::Stop(state, why)) => {
                transition(&agents, &link, &id, state, &why, false).await;
                break;
            }
            Ok(Next::Restart {
                lived,
                exit,
                backoff_seconds,
                max_quick,
            }) => {
                quick_restarts = if lived < QUICK { quick_restarts + 1 } else { 0 };
                if quick_restarts > max_quick {
                    let why = format!(
                        "{exit}; it failed {quick_restarts} times in a row within a minute of starting"
                    );
                    transition(&agents, &link, &id, AgentState::Fatal, &why, false).await;
                    break;
                }
                let delay = backoff(backoff_seconds, quick_restarts);
                let why = format!("{exit}; restarting in {:.1}s", delay.as_secs_f64());
                transition(&agents, &link, &id, AgentState::Backoff, &why, false).await;
                let _ =
                    db::agents::record_exit(&agents.0.db, &link.holder.held(), &exit, true).await;
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = control.cancelled() => {
                        transition(&agents, &link, &id, AgentState::Stopped, "stopped during backoff", false).await;
                        break;
                    }
                }
                reason = "restart after backoff".into();
            }
            Err(e) => {
                tracing::error!(agent = %id, error = format!("{e:#}"), "agent supervision failed");
                transition(
                    &agents,
                    &link,
                    &id,
                    AgentState::Fatal,
                    "internal error while starting the agent",
                    false,
                )
                .await;
                break;
            }
        }
    }
    link.flush().await;
    agents.forget(&id, generation);
    if !abandon.is_cancelled()
        && let Err(e) = db::agents::release(&agents.0.db, &link.holder.held()).await
    {
        tracing::warn!(agent = %id, error = %e, "releasing an agent");
    }
}

/// The link of a supervision, whether this node still holds the agent, and under
/// which claim its writes are made.
struct Held {
    link: Arc<AgentLink>,
    abandon: CancellationToken,
    control: CancellationToken,
    holder: Claimed,
}

impl std::ops::Deref for Held {
    type Target = Arc<AgentLink>;
    fn deref(&self) -> &Arc<AgentLink> {
        &self.link
    }
}

enum Next {
    Stop(AgentState, String),
    Restart {
        lived: Duration,
        exit: String,
        backoff_seconds: u64,
        max_quick: u32,
    },
}

async fn run_once(
    agents: &Agents,
    id: &str,
    link: &Held,
    control: &CancellationToken,
    reason: &str,
) -> anyhow::Result<Next> {
    let db = &agents.0.db;
    let Some(agent) = db::agents::find(db, id).await? else {
        return Ok(Next::Stop(
            AgentState::Stopped,
            "the agent was deleted".into(),
        ));
    };
    transition(agents, link, id, AgentState::Starting, reason, false).await;
    let script = db::scripts::find(db, &agent.script_id).await?;
    let version = match &script {
        Some(s) => db::scripts::version(db, &s.id, s.current_version).await?,
        None => None,
    };
    let (Some(script), Some(version)) = (script, version) else {
        return Ok(Next::Stop(
            AgentState::Fatal,
            "the agent's script does not exist".into(),
        ));
    };
    let args = match agent.arguments() {
        Ok(args) => args,
        Err(corrupt) => return Ok(Next::Stop(AgentState::Fatal, corrupt.to_string())),
    };
    // The agent's own memory setting; its instance runs until stopped.
    let memory_mb = u64::try_from(agent.memory_mb).unwrap_or(128);
    let ceilings = agents.0.runs.ceilings(&agent.owner_id).await?;
    if let Some(refusal) = ceilings.refusal(memory_mb, None) {
        return Ok(Next::Stop(AgentState::Fatal, refusal));
    }
    // Its CPU budget per interval: an instance that used it is paused until the next.
    let cpu_rate = ceilings.agent_cpu(
        agent.cpu_seconds.and_then(|s| u64::try_from(s).ok()),
        u64::try_from(agent.cpu_interval_seconds).unwrap_or(60),
    );
    let cpu_rate = match cpu_rate {
        Ok(rate) => rate,
        Err(refusal) => return Ok(Next::Stop(AgentState::Fatal, refusal)),
    };
    let _memory = match agents.0.runs.memory().reserve(memory_mb) {
        Ok(held) => held,
        Err(full) => return Ok(Next::Stop(AgentState::Fatal, full.to_string())),
    };
    let mut limits = runs::limits(memory_mb, INSTANCE_TIMEOUT);
    limits.cpu_rate = Some(cpu_rate);
    limits.disk = ceilings.disk_quotas();
    let cpu_meter = automa_runtime::CpuMeter::default();
    limits.cpu_meter = Some(cpu_meter.clone());
    let inputs = match agents.0.runs.inputs(&script, &version, args, limits).await {
        Ok(inputs) => inputs,
        Err(problem) => return Ok(Next::Stop(AgentState::Fatal, problem.to_string())),
    };
    let kill = link.reset_for_instance(inputs.redaction());
    let mut ports =
        agents
            .0
            .runs
            .ports(&script.id, RunRef::Agent(id.to_owned()), link.link.clone());
    ports.agent = Some(link.link.clone());
    transition(
        agents,
        link,
        id,
        AgentState::Running,
        "instance started",
        true,
    )
    .await;
    let watchdog = spawn_watchdog(
        agents.clone(),
        link.holder.clone(),
        link.link.clone(),
        agent.hang_timeout_seconds,
        kill.clone(),
    );
    let started = Instant::now();
    let cpu =
        crate::quotas::agent_cpu::CpuRecorder::start(db.clone(), link.holder.clone(), cpu_meter);
    let outcome = agents
        .0
        .runtime
        .run(agents.0.runs.request(inputs, ports, kill))
        .await;
    cpu.finish().await;
    link.end_instance();
    watchdog.abort();
    let hung = watchdog.await.ok().flatten();
    let exit = match (&hung, &outcome.error) {
        (Some(hang), _) => hang.clone(),
        (None, Some(error)) => format!(
            "exited {}: {}: {}",
            outcome.status.as_str(),
            error.kind,
            error.message
        ),
        (None, None) => format!("exited {}", outcome.status.as_str()),
    };
    if control.is_cancelled() {
        let _ = db::agents::record_exit(db, &link.holder.held(), &exit, false).await;
        return Ok(Next::Stop(AgentState::Stopped, "stopped on request".into()));
    }
    let failed = hung.is_some() || outcome.status != RunStatus::Succeeded;
    let restart = match agent.restart() {
        Ok(policy) => policy.restarts_after(failed),
        // Not restarted on a guess; the log names the row.
        Err(corrupt) => {
            tracing::error!(agent = %id, error = %corrupt, "agent not restarted");
            false
        }
    };
    if !restart {
        let _ = db::agents::record_exit(db, &link.holder.held(), &exit, false).await;
        return Ok(Next::Stop(AgentState::Exited, exit));
    }
    Ok(Next::Restart {
        lived: started.elapsed(),
        exit,
        backoff_seconds: u64::try_from(agent.backoff_seconds).unwrap_or(1),
        max_quick: u32::try_from(agent.max_quick_restarts).unwrap_or(5),
    })
}

/// Persists heartbeats and ends a hung instance; returns the reason when it did.
fn spawn_watchdog(
    agents: Agents,
    holder: Claimed,
    link: Arc<AgentLink>,
    hang_timeout_seconds: i64,
    kill: CancellationToken,
) -> tokio::task::JoinHandle<Option<String>> {
    tokio::spawn(async move {
        let mut stored = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let beat = link.last_beat();
            if beat != stored {
                stored = beat;
                let _ = db::agents::set_heartbeat(&agents.0.db, &holder.held(), beat).await;
            }
            if hang_timeout_seconds > 0 && now_ms() - beat > hang_timeout_seconds * 1000 {
                kill.cancel();
                return Some(format!("hung: no agent call for {hang_timeout_seconds}s"));
            }
            if kill.is_cancelled() {
                return None;
            }
        }
    })
}

fn backoff(base_seconds: u64, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    let seconds = base_seconds
        .max(1)
        .saturating_mul(1 << exponent)
        .min(MAX_BACKOFF_SECONDS);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let jitter = 0.75 + f64::from(byte[0]) / 255.0 * 0.5;
    Duration::from_secs_f64(seconds as f64 * jitter)
}

/// Store the new state, add it to the history and the audit log; nothing once this
/// node no longer holds the agent.
async fn transition(
    agents: &Agents,
    link: &Held,
    id: &str,
    state: AgentState,
    reason: &str,
    started: bool,
) {
    if link.abandon.is_cancelled() {
        return;
    }
    match db::agents::set_state_held(&agents.0.db, &link.holder.held(), state, reason, started)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            // Another node (or a newer claim of this one) holds the agent now: this
            // instance must not run beside its.
            tracing::warn!(agent = %id, "this supervision's claim of the agent is gone; ending the instance here");
            link.abandon.cancel();
            link.control.cancel();
            link.kill_instance();
            return;
        }
        Err(e) => tracing::warn!(agent = %id, error = %e, "storing agent state"),
    }
    link.record("transition", json!({"state": state, "reason": reason}));
    metrics::counter!("agent_transitions_total", "state" => state.as_str()).increment(1);
    let outcome = if state == AgentState::Fatal {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    agents
        .0
        .audit
        .record(
            AuditEvent::new(format!("agent:{id}"), format!("agent.{state}"))
                .target(format!("agent:{id}"))
                .outcome(outcome)
                .details(json!({"reason": reason})),
        )
        .await;
}
