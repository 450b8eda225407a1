//! Agents: their settings (validated against the script's parameters and the
//! server's bounds) and their lifecycle, each operation authorized and audited once
//! for the API, the dashboard and MCP.

use super::Actor;
use super::stream_slots::StreamSlot;
use crate::auth::recheck::{Recheck, still_authorized};
use crate::auth::{Principal, policy};
use crate::db::{self, agents::AgentRow, agents::AgentState, agents::EventRow};
use crate::error::{ApiError, ApiResult};
use crate::jobs::params;
use crate::state::AppState;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use utoipa::ToSchema;

/// An agent's settings as a caller sets them: left out (`None`), a setting keeps its
/// current value (or its default, when creating).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    pub name: Option<String>,
    /// Required when creating.
    pub script_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub args: Option<Value>,
    pub restart_policy: Option<String>,
    pub max_quick_restarts: Option<i64>,
    pub backoff_seconds: Option<i64>,
    pub memory_mb: Option<i64>,
    pub autostart: Option<bool>,
    pub hang_timeout_seconds: Option<i64>,
    pub stop_grace_seconds: Option<i64>,
    /// CPU seconds per interval, 1 to 3600 and at most the interval; `null`: the
    /// owner's ceiling (on an update too, where leaving it out keeps the current one).
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<i64>)]
    pub cpu_seconds: Option<Option<i64>>,
    /// The interval of the CPU budget, 1 to 3600 seconds (default 60).
    pub cpu_interval_seconds: Option<i64>,
}

/// A field given in the body, `null` included (`Some(None)`), unlike one left out
/// (`None`, by `#[serde(default)]`): `null` is how an update goes back to the ceiling.
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// How long the agent (in `state`, decoded from its row) has been running, when it is.
pub fn uptime_seconds(state: AgentState, row: &AgentRow) -> Option<i64> {
    match (state, row.started_at) {
        (AgentState::Running, Some(at)) => Some((db::now_ms() - at) / 1000),
        _ => None,
    }
}

/// The agent `id` when the caller may use it (others are told it does not exist).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<AgentRow> {
    load_owned(state, p, id).await
}

/// The caller's agents (an admin's: everyone's), a page after `cursor`.
pub async fn list(
    state: &AppState,
    p: &Principal,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<AgentRow>> {
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    Ok(db::agents::list(&state.db, owner, cursor, limit).await?)
}

/// Create an agent (stopped; start it, or set `autostart`).
pub async fn create(state: &AppState, actor: &Actor<'_>, body: AgentBody) -> ApiResult<AgentRow> {
    let p = actor.principal;
    let (name, script_id, args, numbers) = settle(state, p, body, None).await?;
    let row = db::agents::insert(
        &state.db,
        &p.user_id,
        &numbers.fields(&name, &script_id, &args),
    )
    .await?;
    let entry = actor
        .audit("agent.create", format!("agent:{}", row.id))
        .details(json!({"name": row.name}));
    state.audit.append(entry).await?;
    Ok(row)
}

/// Change an agent's settings; a running agent uses them from its next start.
pub async fn update(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    body: AgentBody,
) -> ApiResult<AgentRow> {
    let current = load_owned(state, actor.principal, id).await?;
    let (name, script_id, args, numbers) =
        settle(state, actor.principal, body, Some(&current)).await?;
    let row = db::agents::update(&state.db, id, &numbers.fields(&name, &script_id, &args))
        .await?
        .ok_or(ApiError::NotFound)?;
    audited(state, actor, id, "agent.update").await?;
    Ok(row)
}

/// Stop (if running) and delete an agent with its history.
pub async fn delete(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<()> {
    let row = load_owned(state, actor.principal, id).await?;
    let _ = state.agents.stop(id, grace(&row)).await;
    db::agents::delete(&state.db, id).await?;
    audited(state, actor, id, "agent.delete").await
}

/// Start the agent (nothing happens when it runs); the agent as it is now.
pub async fn start(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<AgentRow> {
    load_owned(state, actor.principal, id).await?;
    state.agents.start(id, "started on request").await?;
    audited(state, actor, id, "agent.start").await?;
    reread(state, id).await
}

/// Stop the agent: it sees a stop request it can handle, and is ended after its grace
/// period (`stop_grace_seconds`). An agent that does not run is an error, not a stop.
pub async fn stop(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<AgentRow> {
    let row = load_owned(state, actor.principal, id).await?;
    state.agents.stop(id, grace(&row)).await?;
    audited(state, actor, id, "agent.stop").await?;
    reread(state, id).await
}

/// Stop (politely, when it runs) and start again.
pub async fn restart(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<AgentRow> {
    let row = load_owned(state, actor.principal, id).await?;
    let _ = state.agents.stop(id, grace(&row)).await;
    state.agents.start(id, "restarted on request").await?;
    audited(state, actor, id, "agent.restart").await?;
    reread(state, id).await
}

/// Deliver a message (any JSON) to the running agent.
pub async fn send(state: &AppState, actor: &Actor<'_>, id: &str, body: &Value) -> ApiResult<()> {
    load_owned(state, actor.principal, id).await?;
    state.agents.send(id, body.to_string()).await?;
    audited(state, actor, id, "agent.message").await
}

/// The agent's history after `after`, at most `limit` entries, of one `kind` or all.
pub async fn events(
    state: &AppState,
    p: &Principal,
    id: &str,
    after: i64,
    kind: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<EventRow>> {
    load_owned(state, p, id).await?;
    Ok(db::agents::events(&state.db, id, after, kind, limit).await?)
}

/// The agent's new history entries after `after` as they are stored (read from the
/// database, so it works whichever node runs the agent). It ends when the caller's
/// rights lapse (token revoked, user disabled) or the agent is deleted, and holds one
/// of the caller's stream slots while it lives.
pub async fn follow(
    state: AppState,
    principal: Principal,
    id: String,
    after: i64,
    kind: Option<String>,
) -> ApiResult<impl Stream<Item = EventRow> + Send + 'static> {
    load_owned(&state, &principal, &id).await?;
    let slot = StreamSlot::take(&principal.user_id)?;
    let rows = futures::stream::unfold(
        (state, id, after, kind, Recheck::new(principal), slot),
        |(state, id, after, kind, mut recheck, slot)| async move {
            loop {
                if recheck.due()
                    && !(still_authorized(&state, recheck.principal()).await
                        && load_owned(&state, recheck.principal(), &id).await.is_ok())
                {
                    return None;
                }
                match db::agents::events(&state.db, &id, after, kind.as_deref(), 100).await {
                    Ok(rows) if !rows.is_empty() => {
                        let last = rows.last().map_or(after, |r| r.seq);
                        let next = (state, id, last, kind, recheck, slot);
                        return Some((futures::stream::iter(rows), next));
                    }
                    Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(_) => return None,
                }
            }
        },
    );
    Ok(rows.flatten())
}

async fn audited(state: &AppState, actor: &Actor<'_>, id: &str, action: &str) -> ApiResult<()> {
    let entry = actor.audit(action, format!("agent:{id}"));
    state.audit.append(entry).await?;
    Ok(())
}

async fn reread(state: &AppState, id: &str) -> ApiResult<AgentRow> {
    db::agents::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)
}

pub(crate) async fn load_owned(state: &AppState, p: &Principal, id: &str) -> ApiResult<AgentRow> {
    let row = db::agents::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(p, &row.owner_id)?;
    Ok(row)
}

/// Merge a request over the current (or default) settings and check everything.
async fn settle(
    state: &AppState,
    p: &Principal,
    body: AgentBody,
    current: Option<&AgentRow>,
) -> ApiResult<(String, String, String, AgentNumbers)> {
    let name = body
        .name
        .or_else(|| current.map(|c| c.name.clone()))
        .ok_or_else(|| ApiError::Validation("name is required".into()))?;
    let valid_name = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid_name {
        return Err(ApiError::Validation(
            "name must be 1 to 100 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    let script_id = match (body.script_id, current) {
        (_, Some(c)) => c.script_id.clone(),
        (Some(s), None) => s,
        (None, None) => return Err(ApiError::Validation("script_id is required".into())),
    };
    let script = db::scripts::find(&state.db, &script_id).await?;
    let script = match script {
        Some(s) if policy::require_owner_or_admin(p, &s.owner_id).is_ok() => s,
        _ => {
            return Err(ApiError::Validation(
                "script_id names no script of yours".into(),
            ));
        }
    };
    let args = match body.args {
        Some(Value::Object(map)) => Value::Object(map),
        Some(Value::Null) | None => current
            .map(AgentRow::arguments)
            .transpose()?
            .unwrap_or_else(|| json!({})),
        Some(_) => return Err(ApiError::Validation("args must be a JSON object".into())),
    };
    let version = db::scripts::version(&state.db, &script.id, script.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    params::validate_for(&version.parameter_schema()?, &args)?;
    let numbers = AgentNumbers {
        restart_policy: body
            .restart_policy
            .or_else(|| current.map(|c| c.restart_policy.clone()))
            .unwrap_or_else(|| "on-failure".into()),
        max_quick_restarts: body
            .max_quick_restarts
            .or(current.map(|c| c.max_quick_restarts))
            .unwrap_or(5),
        backoff_seconds: body
            .backoff_seconds
            .or(current.map(|c| c.backoff_seconds))
            .unwrap_or(1),
        memory_mb: body
            .memory_mb
            .or(current.map(|c| c.memory_mb))
            .unwrap_or(128),
        autostart: body
            .autostart
            .or(current.map(|c| c.autostart != 0))
            .unwrap_or(false),
        hang_timeout_seconds: body
            .hang_timeout_seconds
            .or(current.map(|c| c.hang_timeout_seconds))
            .unwrap_or(0),
        stop_grace_seconds: body
            .stop_grace_seconds
            .or(current.map(|c| c.stop_grace_seconds))
            .unwrap_or(10),
        cpu_seconds: match body.cpu_seconds {
            Some(given) => given,
            None => current.and_then(|c| c.cpu_seconds),
        },
        cpu_interval_seconds: body
            .cpu_interval_seconds
            .or(current.map(|c| c.cpu_interval_seconds))
            .unwrap_or(60),
    };
    numbers.check()?;
    Ok((name, script_id, args.to_string(), numbers))
}

struct AgentNumbers {
    restart_policy: String,
    max_quick_restarts: i64,
    backoff_seconds: i64,
    memory_mb: i64,
    autostart: bool,
    hang_timeout_seconds: i64,
    stop_grace_seconds: i64,
    cpu_seconds: Option<i64>,
    cpu_interval_seconds: i64,
}

impl AgentNumbers {
    fn check(&self) -> ApiResult<()> {
        let problems: Vec<&str> = [
            (
                !matches!(
                    self.restart_policy.as_str(),
                    "never" | "on-failure" | "always"
                ),
                "restart_policy must be never, on-failure or always",
            ),
            (
                !(0..=100).contains(&self.max_quick_restarts),
                "max_quick_restarts must be 0 to 100",
            ),
            (
                !(1..=300).contains(&self.backoff_seconds),
                "backoff_seconds must be 1 to 300",
            ),
            (
                !(32..=4096).contains(&self.memory_mb),
                "memory_mb must be 32 to 4096",
            ),
            (
                !(0..=86_400).contains(&self.hang_timeout_seconds),
                "hang_timeout_seconds must be 0 to 86400",
            ),
            (
                !(0..=600).contains(&self.stop_grace_seconds),
                "stop_grace_seconds must be 0 to 600",
            ),
            (
                !(1..=3600).contains(&self.cpu_interval_seconds),
                "cpu_interval_seconds must be 1 to 3600",
            ),
            (
                self.cpu_seconds
                    .is_some_and(|s| s < 1 || s > self.cpu_interval_seconds),
                "cpu_seconds must be 1 to cpu_interval_seconds (or null)",
            ),
        ]
        .into_iter()
        .filter_map(|(bad, message)| bad.then_some(message))
        .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(problems.join("; ")))
        }
    }

    fn fields<'a>(
        &'a self,
        name: &'a str,
        script_id: &'a str,
        args: &'a str,
    ) -> db::agents::AgentFields<'a> {
        db::agents::AgentFields {
            name,
            script_id,
            args,
            restart_policy: &self.restart_policy,
            max_quick_restarts: self.max_quick_restarts,
            backoff_seconds: self.backoff_seconds,
            memory_mb: self.memory_mb,
            autostart: self.autostart,
            hang_timeout_seconds: self.hang_timeout_seconds,
            stop_grace_seconds: self.stop_grace_seconds,
            cpu_seconds: self.cpu_seconds,
            cpu_interval_seconds: self.cpu_interval_seconds,
        }
    }
}

fn grace(row: &AgentRow) -> Duration {
    Duration::from_secs(u64::try_from(row.stop_grace_seconds).unwrap_or(10))
}
