//! Agents: create, list, read, edit, delete; start, stop, restart; send messages;
//! read events (JSON, or live over SSE).

use super::seq_page::{self, SeqQuery};
use super::stream_slots::StreamSlot;
use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::agents::AgentError;
use crate::audit::AuditEvent;
use crate::auth::extract::{AuthUser, ClientIp};
use crate::auth::recheck::{Recheck, still_authorized};
use crate::auth::{Principal, policy};
use crate::db::{self, agents::AgentRow, agents::EventRow, now_ms, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::jobs::params;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(get_agent, update_agent, delete_agent))
        .routes(routes!(start_agent))
        .routes(routes!(stop_agent))
        .routes(routes!(restart_agent))
        .routes(routes!(send_message))
        .routes(routes!(agent_events))
}

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        match e {
            AgentError::NotRunning => {
                ApiError::Conflict("the agent is not running; start it first".into())
            }
            AgentError::OverQuota(m) => ApiError::Conflict(m),
            AgentError::MailboxFull => ApiError::TooManyRequests {
                message: AgentError::MailboxFull.to_string(),
                retry_after: 1,
            },
            AgentError::MessageTooLarge => {
                ApiError::Validation(AgentError::MessageTooLarge.to_string())
            }
            AgentError::Db(e) => e.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub script_id: String,
    #[schema(value_type = Object)]
    pub args: Value,
    /// `never`, `on-failure` or `always`.
    pub restart_policy: String,
    pub max_quick_restarts: i64,
    pub backoff_seconds: i64,
    pub memory_mb: i64,
    pub autostart: bool,
    pub hang_timeout_seconds: i64,
    pub stop_grace_seconds: i64,
    /// The CPU budget per interval: at most `cpu_seconds` CPU seconds (counted in
    /// fuel) every `cpu_interval_seconds`; an instance that used them is paused until
    /// the next interval (a warning in its history says so). `null`: the owner's
    /// ceiling, `agent_cpu_seconds_per_minute`.
    pub cpu_seconds: Option<i64>,
    pub cpu_interval_seconds: i64,
    /// CPU time the agent's instances used, in milliseconds (a running one's so far).
    pub cpu_time_ms: i64,
    /// `stopped`, `starting`, `running`, `backoff`, `stopping`, `exited` or `fatal`.
    pub state: String,
    pub state_reason: Option<String>,
    pub status_text: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub status_metrics: Option<Value>,
    pub restarts: i64,
    pub uptime_seconds: Option<i64>,
    pub started_at: Option<String>,
    pub last_heartbeat_at: Option<String>,
    pub last_exit: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<AgentRow> for AgentView {
    fn from(a: AgentRow) -> Self {
        let uptime_seconds = match (a.state.as_str(), a.started_at) {
            ("running", Some(at)) => Some((now_ms() - at) / 1000),
            _ => None,
        };
        Self {
            args: serde_json::from_str(&a.args).unwrap_or_else(|_| json!({})),
            autostart: a.autostart != 0,
            status_metrics: a
                .status_metrics
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
            started_at: a.started_at.map(rfc3339),
            last_heartbeat_at: a.last_heartbeat_at.map(rfc3339),
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
            uptime_seconds,
            id: a.id,
            name: a.name,
            script_id: a.script_id,
            restart_policy: a.restart_policy,
            max_quick_restarts: a.max_quick_restarts,
            backoff_seconds: a.backoff_seconds,
            memory_mb: a.memory_mb,
            hang_timeout_seconds: a.hang_timeout_seconds,
            stop_grace_seconds: a.stop_grace_seconds,
            cpu_seconds: a.cpu_seconds,
            cpu_interval_seconds: a.cpu_interval_seconds,
            cpu_time_ms: a.cpu_time_ms,
            state: a.state,
            state_reason: a.state_reason,
            status_text: a.status_text,
            restarts: a.restarts,
            last_exit: a.last_exit,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
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
    /// CPU seconds per interval, 1 to 3600 and at most the interval (`null`: the
    /// owner's ceiling).
    pub cpu_seconds: Option<i64>,
    /// The interval of the CPU budget, 1 to 3600 seconds (default 60).
    pub cpu_interval_seconds: Option<i64>,
}

async fn load_owned(state: &AppState, p: &Principal, id: &str) -> ApiResult<AgentRow> {
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
            .map(|c| serde_json::from_str(&c.args).unwrap_or_else(|_| json!({})))
            .unwrap_or_else(|| json!({})),
        Some(_) => return Err(ApiError::Validation("args must be a JSON object".into())),
    };
    let version = db::scripts::version(&state.db, &script.id, script.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    params::validate_for(&version, &args)?;
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
        cpu_seconds: body.cpu_seconds.or(current.and_then(|c| c.cpu_seconds)),
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

/// Create an agent (stopped; start it, or set `autostart`).
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = AgentBody,
    responses((status = 201, body = AgentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<AgentBody>,
) -> ApiResult<(StatusCode, ApiJson<AgentView>)> {
    let (name, script_id, args, numbers) = settle(&state, &p, body, None).await?;
    let row = db::agents::insert(
        &state.db,
        &p.user_id,
        &numbers.fields(&name, &script_id, &args),
    )
    .await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "agent.create")
                .target(format!("agent:{}", row.id))
                .ip(ip)
                .details(json!({"name": row.name})),
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(row.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Your agents with their state, status, restarts and uptime.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", params(AgentQuery),
    responses((status = 200, body = Page<AgentView>)))]
async fn list_agents(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<AgentQuery>,
) -> ApiResult<ApiJson<Page<AgentView>>> {
    let limit = page_limit(q.limit)?;
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    let rows = db::agents::list(&state.db, owner, q.cursor.as_deref(), limit).await?;
    Ok(ApiJson(Page::from_rows(
        rows,
        limit,
        |r| r.id.clone(),
        AgentView::from,
    )))
}

/// One agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path, description = "agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)))]
async fn get_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AgentView>> {
    Ok(ApiJson(load_owned(&state, &p, &id).await?.into()))
}

/// Change an agent's settings; a running agent uses them from its next start.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", request_body = AgentBody, params(("id" = String, Path, description = "agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AgentBody>,
) -> ApiResult<ApiJson<AgentView>> {
    let current = load_owned(&state, &p, &id).await?;
    let (name, script_id, args, numbers) = settle(&state, &p, body, Some(&current)).await?;
    let row = db::agents::update(&state.db, &id, &numbers.fields(&name, &script_id, &args))
        .await?
        .ok_or(ApiError::NotFound)?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "agent.update")
                .target(format!("agent:{id}"))
                .ip(ip),
        )
        .await?;
    Ok(ApiJson(row.into()))
}

/// Stop (if running) and delete an agent with its history.
#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path, description = "agent id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let row = load_owned(&state, &p, &id).await?;
    let _ = state.agents.stop(&id, grace(&row)).await;
    db::agents::delete(&state.db, &id).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "agent.delete")
                .target(format!("agent:{id}"))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit a lifecycle action and answer the agent as it is now.
async fn audited_view(
    state: &AppState,
    p: &Principal,
    ip: Option<String>,
    id: &str,
    action: &str,
) -> ApiResult<ApiJson<AgentView>> {
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, action)
                .target(format!("agent:{id}"))
                .ip(ip),
        )
        .await?;
    let row = db::agents::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ApiJson(row.into()))
}

fn grace(row: &AgentRow) -> Duration {
    Duration::from_secs(u64::try_from(row.stop_grace_seconds).unwrap_or(10))
}

/// Start the agent (no-op when it runs).
#[utoipa::path(post, path = "/api/v1/agents/{id}/start", tag = "agents", params(("id" = String, Path, description = "agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)))]
async fn start_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AgentView>> {
    load_owned(&state, &p, &id).await?;
    state.agents.start(&id, "started on request").await?;
    audited_view(&state, &p, ip, &id, "agent.start").await
}

/// Stop the agent: it sees a stop request it can handle, and is ended after its grace
/// period (`stop_grace_seconds`).
#[utoipa::path(post, path = "/api/v1/agents/{id}/stop", tag = "agents", params(("id" = String, Path, description = "agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn stop_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AgentView>> {
    let row = load_owned(&state, &p, &id).await?;
    state.agents.stop(&id, grace(&row)).await?;
    audited_view(&state, &p, ip, &id, "agent.stop").await
}

/// Stop (politely) and start again.
#[utoipa::path(post, path = "/api/v1/agents/{id}/restart", tag = "agents", params(("id" = String, Path, description = "agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)))]
async fn restart_agent(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AgentView>> {
    let row = load_owned(&state, &p, &id).await?;
    let _ = state.agents.stop(&id, grace(&row)).await;
    state.agents.start(&id, "restarted on request").await?;
    audited_view(&state, &p, ip, &id, "agent.restart").await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Any JSON; the agent reads it with `automa.agent.receive()`.
    pub body: Value,
}

/// Deliver a message to the running agent.
#[utoipa::path(post, path = "/api/v1/agents/{id}/messages", tag = "agents", request_body = Message, params(("id" = String, Path, description = "agent id")),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn send_message(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(message): ApiJson<Message>,
) -> ApiResult<StatusCode> {
    load_owned(&state, &p, &id).await?;
    state.agents.send(&id, message.body.to_string()).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "agent.message")
                .target(format!("agent:{id}"))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentEvent {
    pub seq: i64,
    pub at: String,
    /// `event` (from `automa.agent.emit`), `transition`, `stdout`, `stderr` or `log`.
    pub kind: String,
    /// Any JSON value (an entry stored as other text comes as a string).
    pub body: Value,
}

impl From<EventRow> for AgentEvent {
    fn from(e: EventRow) -> Self {
        Self {
            seq: e.seq,
            at: rfc3339(e.at),
            body: serde_json::from_str(&e.body).unwrap_or(Value::String(e.body)),
            kind: e.kind,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventKind {
    /// Only this kind (e.g. `event` for what the agent emitted).
    pub kind: Option<String>,
}

/// The agent's history: emitted events, state transitions and log lines, oldest
/// first, a page at a time: `?after=` the last `seq` read and `?limit=`; a page holds
/// at most the server's `events_per_page` entries and about 8 MiB of bodies, and when
/// more follow the `Link` header names the next page (`rel="next"`). With
/// `Accept: text/event-stream` new entries stream live.
#[utoipa::path(get, path = "/api/v1/agents/{id}/events", tag = "agents",
    params(("id" = String, Path, description = "agent id"), SeqQuery, EventKind),
    responses(
        (status = 200, body = Vec<AgentEvent>, headers(
            ("link" = String, description = "`<next page>; rel=\"next\"` when more entries follow"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "too many live streams open", body = ErrorBody)))]
async fn agent_events(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(page): ApiQuery<SeqQuery>,
    ApiQuery(q): ApiQuery<EventKind>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (after, limit) = page.resolve(state.config.quotas.events_per_page)?;
    load_owned(&state, &p, &id).await?;
    let live = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !live {
        let kind = q.kind.as_deref();
        let page = seq_page::read(
            after,
            limit,
            |r: &EventRow| r.seq,
            |r| r.body.len(),
            |after, n| db::agents::events(&state.db, &id, after, kind, n),
        )
        .await?;
        let next = page.more.then(|| {
            let last = page.rows.last().map_or(after, |r| r.seq);
            let extra: Vec<(&str, &str)> = kind.map(|k| ("kind", k)).into_iter().collect();
            seq_page::next_url(&format!("/api/v1/agents/{id}/events"), last, limit, &extra)
        });
        let events: Vec<AgentEvent> = page.rows.into_iter().map(AgentEvent::from).collect();
        return Ok(seq_page::respond(events, next));
    }
    // Live: poll the stored history; works whichever server process runs the agent.
    // The caller's rights and the agent are checked again now and then: the stream ends
    // when the token is revoked, the user disabled or the agent deleted.
    let slot = StreamSlot::take(&p.user_id)?;
    let stream = futures::stream::unfold(
        (state, id, after, q.kind, Recheck::new(p), slot),
        |(state, id, mut after, kind, mut recheck, slot)| async move {
            loop {
                if recheck.due()
                    && !(still_authorized(&state, recheck.principal()).await
                        && load_owned(&state, recheck.principal(), &id).await.is_ok())
                {
                    return None;
                }
                match db::agents::events(&state.db, &id, after, kind.as_deref(), 100).await {
                    Ok(rows) if !rows.is_empty() => {
                        let events: Vec<Result<Event, std::convert::Infallible>> = rows
                            .into_iter()
                            .map(|row| {
                                after = row.seq;
                                let event = AgentEvent::from(row);
                                Ok(Event::default()
                                    .event("agent")
                                    .id(event.seq.to_string())
                                    .json_data(&event)
                                    .unwrap_or_default())
                            })
                            .collect();
                        let next = (state, id, after, kind, recheck, slot);
                        return Some((futures::stream::iter(events), next));
                    }
                    Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(_) => return None,
                }
            }
        },
    );
    use futures::StreamExt;
    Ok(Sse::new(stream.flatten())
        .keep_alive(KeepAlive::default())
        .into_response())
}
