//! `/agents`: the list, and an agent's page with start / stop /
//! restart, a message form and its history live over SSE, over `services::agents`.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html, no_store, see_other};
use super::shared::{CsrfOnly, name_in, scripts, text};
use crate::db::{self, agents::AgentRow, decode::CorruptRow, rfc3339};
use crate::error::{ApiError, PageError};
use crate::services;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::agent::{AgentView, EventLine, MessageForm};
use automa_ui::pages::agents::{AgentLine, AgentsView};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

/// History entries shown when the page opens (the stream brings the rest).
const SHOWN_EVENTS: i64 = 200;

fn duration(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min {s} s"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let names = scripts(&state, &viewer).await?;
    let rows = services::agents::list(&state, &viewer.principal, None, 200).await?;
    let agents = rows
        .into_iter()
        .take(200)
        .map(|a| line(a, &names))
        .collect::<Result<_, CorruptRow>>()
        .map_err(ApiError::from)?;
    let view = AgentsView {
        agents,
        has_scripts: !names.is_empty(),
    };
    Ok(html(automa_ui::pages::agents::page(
        &viewer.ctx(Nav::Agents),
        &view,
    )))
}

/// One agent of the list; a state that does not decode is an error naming the row.
fn line(a: AgentRow, names: &[(String, String)]) -> Result<AgentLine, CorruptRow> {
    let state = a.agent_state()?;
    Ok(AgentLine {
        uptime: services::agents::uptime_seconds(state, &a).map(duration),
        script_name: name_in(names, &a.script_id),
        state: state.as_str().to_owned(),
        id: a.id,
        name: a.name,
        script_id: a.script_id,
        restarts: a.restarts,
        status_text: a.status_text,
    })
}

/// A status number as the agent meant it: whole numbers arrive as floats.
fn metric(v: &Value) -> String {
    match (v.as_str(), v.as_f64()) {
        (Some(s), _) => s.to_owned(),
        (None, Some(n)) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
        _ => v.to_string(),
    }
}

fn event_text(kind: &str, body: &Value) -> String {
    match (kind, body) {
        (_, Value::String(s)) => s.trim_end_matches('\n').to_owned(),
        ("transition", b) => match b["reason"].as_str() {
            Some(r) => format!("{} ({r})", text(&b["state"])),
            None => text(&b["state"]),
        },
        ("log", b) => format!("{} {}", text(&b["level"]), text(&b["message"])),
        (_, b) => b.to_string(),
    }
}

/// The agent's settings and state (no script name, history or form state); a stored
/// state or status that does not decode is an error naming the row.
fn view_of(a: &AgentRow) -> Result<AgentView, CorruptRow> {
    let state = a.agent_state()?;
    // Numbers a script set as something other than an object show as none.
    let metrics = match a.metrics()? {
        Some(Value::Object(metrics)) => metrics,
        _ => serde_json::Map::new(),
    };
    Ok(AgentView {
        id: a.id.clone(),
        name: a.name.clone(),
        script_id: a.script_id.clone(),
        state: state.as_str().to_owned(),
        state_reason: a.state_reason.clone(),
        status_text: a.status_text.clone(),
        metrics: metrics
            .iter()
            .map(|(k, v)| (k.clone(), metric(v)))
            .collect(),
        uptime: services::agents::uptime_seconds(state, a).map(duration),
        restarts: a.restarts,
        last_exit: a.last_exit.clone(),
        restart_policy: a.restart_policy.clone(),
        autostart: a.autostart != 0,
        ..AgentView::default()
    })
}

/// `GET /agents/{id}/status`: the status card alone, which the page polls.
pub async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = services::agents::get(&state, &viewer.principal, &id).await?;
    Ok(html(automa_ui::pages::agent::status(&view_of(&a)?)))
}

/// The agent page; `message` is the message form's state, `error` a refused action.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    message: MessageForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let p = &viewer.principal;
    let a = services::agents::get(state, p, id).await?;
    let script_name = name_in(&scripts(state, viewer).await?, &a.script_id);
    // The newest entries (the history reads oldest first from a sequence number on).
    let after = (db::agents::next_event_seq(&state.db, id).await? - 1 - SHOWN_EVENTS).max(0);
    let stored = services::agents::events(state, p, id, after, None, SHOWN_EVENTS).await?;
    let events: Vec<EventLine> = stored
        .into_iter()
        .map(|e| {
            let body = serde_json::from_str(&e.body).unwrap_or(Value::String(e.body));
            EventLine {
                seq: e.seq,
                at: rfc3339(e.at).get(11..19).unwrap_or_default().to_owned(),
                text: event_text(&e.kind, &body),
                kind: e.kind,
            }
        })
        .collect();
    let view = AgentView {
        script_name,
        last_seq: events.last().map_or(after, |e| e.seq),
        events,
        message,
        error,
        ..view_of(&a)?
    };
    let mut resp = html(automa_ui::pages::agent::page(
        &viewer.ctx(Nav::Agents),
        &view,
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

fn empty_message(id: &str) -> MessageForm {
    MessageForm {
        agent_id: id.to_owned(),
        ..MessageForm::default()
    }
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    render(
        &state,
        &viewer,
        &id,
        empty_message(&id),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /agents/{id}/{start|stop|restart}`; a refusal (stopping a stopped agent) is
/// shown on the page.
pub async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    if !matches!(action.as_str(), "start" | "stop" | "restart") {
        return Err(ApiError::NotFound.into());
    }
    let actor = viewer.actor();
    let done = match action.as_str() {
        "start" => services::agents::start(&state, &actor, &id).await,
        "stop" => services::agents::stop(&state, &actor, &id).await,
        _ => services::agents::restart(&state, &actor, &id).await,
    };
    match done {
        Ok(_) => Ok(see_other(&format!("/agents/{}", encode(&id)))),
        Err(ApiError::Conflict(why)) => {
            let message = empty_message(&id);
            render(
                &state,
                &viewer,
                &id,
                message,
                Some(why),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct MessageInput {
    csrf: Option<String>,
    #[serde(default)]
    body: String,
}

/// Sends a message: JSON when it parses, otherwise the text as a string (like
/// `automa run --arg`). An htmx submit gets the message form back; a plain one the page.
pub async fn message(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(m): Form<MessageInput>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, m.csrf.as_deref(), &viewer.csrf)?;
    let raw = m.body.trim();
    let problem = if raw.is_empty() {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "type a message first".to_owned(),
        ))
    } else {
        let body = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        match services::agents::send(&state, &viewer.actor(), &id, &body).await {
            Ok(()) => None,
            Err(
                e @ (ApiError::BadRequest(_)
                | ApiError::Conflict(_)
                | ApiError::Validation(_)
                | ApiError::TooManyRequests { .. }),
            ) => Some((e.status(), e.public_message())),
            Err(e) => return Err(e.into()),
        }
    };
    let htmx = headers.contains_key("hx-request");
    let form = MessageForm {
        agent_id: id.clone(),
        body: if problem.is_some() {
            m.body
        } else {
            String::new()
        },
        sent: problem.is_none(),
        error: problem.as_ref().map(|(_, msg)| msg.clone()),
    };
    match (problem, htmx) {
        // htmx swaps only successful answers in, so a refusal is a 200 fragment too.
        (_, true) => Ok(html(automa_ui::pages::agent::message_form(
            &viewer.ctx(Nav::Agents),
            &form,
        ))),
        (None, false) => Ok(see_other(&format!("/agents/{}", encode(&id)))),
        (Some((status, _)), false) => render(&state, &viewer, &id, form, None, status).await,
    }
}

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: i64,
}

/// The agent's history as server-sent events for `EventSource` (which cannot send an
/// `Authorization` header: the session's user). A reconnecting browser sends
/// `Last-Event-ID`.
pub async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<After>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let after = q.after.max(resumed);
    let rows = services::agents::follow(state, viewer.principal, id, after, None).await?;
    Ok(no_store(crate::api::agents::event_stream(rows)))
}

pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    services::agents::delete(&state, &viewer.actor(), &id).await?;
    Ok(see_other("/agents"))
}
