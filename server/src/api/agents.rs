//! Agents: create, list, read, edit, delete; start, stop, restart; send messages;
//! read events (JSON, or live over SSE).

use super::seq_page::{self, SeqQuery};
use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::agents::AgentError;
use crate::auth::extract::{AuthUser, ClientIp};
use crate::db::decode::CorruptRow;
use crate::db::{self, agents::AgentRow, agents::AgentState, agents::EventRow, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::{self, Actor};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
pub use services::agents::AgentBody;
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
            AgentError::Corrupt(e) => e.into(),
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
    /// The CPU budget per interval: at most `cpu_seconds` CPU seconds every `cpu_interval_seconds`; an instance that used them is paused until
    /// the next interval (a warning in its history says so). `null`: the owner's
    /// ceiling, `agent_cpu_seconds_per_minute`.
    pub cpu_seconds: Option<i64>,
    pub cpu_interval_seconds: i64,
    /// CPU time the agent's instances used, in milliseconds (a running one's so far).
    pub cpu_time_ms: i64,
    /// `stopped`, `starting`, `running`, `backoff`, `stopping`, `exited` or `fatal`.
    pub state: AgentState,
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

/// A stored state or status that does not decode is an error naming the row, not an
/// agent shown with defaults.
impl TryFrom<AgentRow> for AgentView {
    type Error = CorruptRow;
    fn try_from(a: AgentRow) -> Result<Self, CorruptRow> {
        let state = a.agent_state()?;
        Ok(Self {
            uptime_seconds: services::agents::uptime_seconds(state, &a),
            // Arguments that do not decode show as `{}`: the agent ends `fatal` with a
            // reason naming the row (`agents::supervise`), and it must stay readable.
            args: a.arguments().unwrap_or_else(|_| serde_json::json!({})),
            status_metrics: a.metrics()?,
            state,
            autostart: a.autostart != 0,
            started_at: a.started_at.map(rfc3339),
            last_heartbeat_at: a.last_heartbeat_at.map(rfc3339),
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
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
            state_reason: a.state_reason,
            status_text: a.status_text,
            restarts: a.restarts,
            last_exit: a.last_exit,
        })
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
    let row = services::agents::create(&state, &Actor::new(&p, ip), body).await?;
    Ok((StatusCode::CREATED, ApiJson(row.try_into()?)))
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
    let rows = services::agents::list(&state, &p, q.cursor.as_deref(), limit).await?;
    let views = rows
        .into_iter()
        .map(AgentView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiJson(Page::from_rows(
        views,
        limit,
        |a| a.id.clone(),
        |a| a,
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
    let row = services::agents::get(&state, &p, &id).await?;
    Ok(ApiJson(row.try_into()?))
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
    let row = services::agents::update(&state, &Actor::new(&p, ip), &id, body).await?;
    Ok(ApiJson(row.try_into()?))
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
    services::agents::delete(&state, &Actor::new(&p, ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
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
    let row = services::agents::start(&state, &Actor::new(&p, ip), &id).await?;
    Ok(ApiJson(row.try_into()?))
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
    let row = services::agents::stop(&state, &Actor::new(&p, ip), &id).await?;
    Ok(ApiJson(row.try_into()?))
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
    let row = services::agents::restart(&state, &Actor::new(&p, ip), &id).await?;
    Ok(ApiJson(row.try_into()?))
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
    services::agents::send(&state, &Actor::new(&p, ip), &id, &message.body).await?;
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
    services::agents::get(&state, &p, &id).await?;
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
    let rows = services::agents::follow(state, p, id, after, q.kind).await?;
    Ok(event_stream(rows))
}

/// Agent history entries as server-sent events (`event: agent`, the `seq` as the id a
/// reconnecting `EventSource` sends back), for the API and the dashboard.
pub fn event_stream(rows: impl Stream<Item = EventRow> + Send + 'static) -> Response {
    let events = rows.map(|row| {
        let event = AgentEvent::from(row);
        Ok::<_, std::convert::Infallible>(
            Event::default()
                .event("agent")
                .id(event.seq.to_string())
                .json_data(&event)
                .unwrap_or_default(),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
