//! `/agents/new` and `/agents/{id}/edit`: create an agent, or change its settings (a
//! running agent uses them from its next start), through `/api/v1/agents`.

use super::client::encode;
use super::csrf;
use super::page::{Viewer, html, see_other};
use super::shared::{name_in, scripts, text};
use crate::error::{ApiError, PageError};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::agent_form::AgentFormView;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The form as submitted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AgentInput {
    csrf: Option<String>,
    name: String,
    script_id: String,
    args: String,
    restart_policy: String,
    autostart: Option<String>,
    memory_mb: String,
    stop_grace_seconds: String,
}

impl AgentInput {
    /// The API's request body (without the script, which only creating sets), or the
    /// problems per field.
    fn body(&self) -> Result<Value, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let args = match self.args.trim() {
            "" => Some(Map::new()),
            raw => match serde_json::from_str(raw) {
                Ok(Value::Object(map)) => Some(map),
                _ => {
                    problems.push(("args".into(), "enter a JSON object, like {}".into()));
                    None
                }
            },
        };
        let mut number = |field: &str, raw: &str| match raw.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push((field.to_owned(), "enter a whole number".to_owned()));
                None
            }
        };
        let memory_mb = number("memory_mb", &self.memory_mb);
        let grace = number("stop_grace_seconds", &self.stop_grace_seconds);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(json!({
            "name": self.name.trim(),
            "args": args,
            "restart_policy": self.restart_policy,
            "autostart": self.autostart.is_some(),
            "memory_mb": memory_mb,
            "stop_grace_seconds": grace,
        }))
    }
}

/// Which field an API validation message is about.
fn agent_field(message: &str) -> Option<&'static str> {
    [
        ("name", "name"),
        ("script_id", "script_id"),
        ("argument", "args"),
        ("args", "args"),
        ("memory_mb", "memory_mb"),
        ("stop_grace_seconds", "stop_grace_seconds"),
    ]
    .into_iter()
    .find(|(needle, _)| message.starts_with(needle) || message.contains(&format!(" {needle}")))
    .map(|(_, field)| field)
}

/// The form for a new agent (`id` None) or an existing one's settings.
async fn render(
    viewer: &Viewer,
    id: Option<&str>,
    mut input: AgentInput,
    shown: (Option<String>, Vec<(String, String)>),
    status: StatusCode,
) -> Result<Response, PageError> {
    let scripts = scripts(&viewer.api).await?;
    if scripts.is_empty() {
        // The list's empty state says to create a script first.
        return Ok(see_other("/agents"));
    }
    let mut script_name = String::new();
    let choices = match id {
        Some(id) => {
            let a = viewer
                .api
                .get(&format!("/api/v1/agents/{}", encode(id)))
                .await?;
            input.script_id = text(&a["script_id"]);
            script_name = name_in(&scripts, &input.script_id);
            Vec::new()
        }
        None => {
            if !scripts.iter().any(|(s, _)| *s == input.script_id) {
                input.script_id = scripts.first().map(|s| s.0.clone()).unwrap_or_default();
            }
            scripts
        }
    };
    let (error, field_errors) = shown;
    let view = AgentFormView {
        id: id.map(str::to_owned),
        scripts: choices,
        script_name,
        name: input.name,
        script_id: input.script_id,
        args: input.args,
        restart_policy: input.restart_policy,
        autostart: input.autostart.is_some(),
        memory_mb: input.memory_mb,
        stop_grace_seconds: input.stop_grace_seconds,
        error,
        field_errors,
    };
    let mut resp = html(automa_ui::pages::agent_form::page(
        &viewer.ctx(Nav::Agents),
        &view,
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct ScriptChoice {
    #[serde(default)]
    script_id: String,
}

pub async fn new_form(
    viewer: Viewer,
    Query(q): Query<ScriptChoice>,
) -> Result<Response, PageError> {
    let input = AgentInput {
        script_id: q.script_id,
        args: "{}".into(),
        restart_policy: "on-failure".into(),
        memory_mb: "128".into(),
        stop_grace_seconds: "10".into(),
        ..AgentInput::default()
    };
    render(&viewer, None, input, (None, Vec::new()), StatusCode::OK).await
}

pub async fn edit_form(viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let a = viewer
        .api
        .get(&format!("/api/v1/agents/{}", encode(&id)))
        .await?;
    let number = |k: &str| a[k].as_i64().map(|n| n.to_string()).unwrap_or_default();
    let input = AgentInput {
        name: text(&a["name"]),
        args: serde_json::to_string_pretty(&a["args"]).unwrap_or_default(),
        restart_policy: text(&a["restart_policy"]),
        autostart: a["autostart"].as_bool().unwrap_or(false).then(String::new),
        memory_mb: number("memory_mb"),
        stop_grace_seconds: number("stop_grace_seconds"),
        ..AgentInput::default()
    };
    render(
        &viewer,
        Some(&id),
        input,
        (None, Vec::new()),
        StatusCode::OK,
    )
    .await
}

/// Creates (`id` None) or changes an agent through the API; a refusal shows the form
/// again with the input and the problem at its field.
async fn submit(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    id: Option<&str>,
    input: AgentInput,
) -> Result<Response, PageError> {
    csrf::verify(headers, state, input.csrf.as_deref(), &viewer.csrf)?;
    let mut body = match input.body() {
        Ok(body) => body,
        Err(problems) => {
            let error = Some("Some fields need another look; see below.".to_owned());
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(viewer, id, input, (error, problems), status).await;
        }
    };
    let answer = match id {
        Some(id) => {
            let path = format!("/api/v1/agents/{}", encode(id));
            viewer.api.call(Method::PATCH, &path, Some(&body)).await?
        }
        None => {
            body["script_id"] = json!(input.script_id);
            viewer
                .api
                .call(Method::POST, "/api/v1/agents", Some(&body))
                .await?
        }
    };
    match answer {
        Ok(a) => Ok(see_other(&format!("/agents/{}", encode(&text(&a["id"]))))),
        Err(f) if matches!(f.status.as_u16(), 400 | 409 | 422) => {
            let fields = agent_field(&f.message)
                .map(|field| vec![(field.to_owned(), f.message.clone())])
                .unwrap_or_default();
            render(viewer, id, input, (Some(f.message), fields), f.status).await
        }
        Err(f) => Err(ApiError::from(f).into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(input): Form<AgentInput>,
) -> Result<Response, PageError> {
    submit(&state, &viewer, &headers, None, input).await
}

pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(input): Form<AgentInput>,
) -> Result<Response, PageError> {
    submit(&state, &viewer, &headers, Some(&id), input).await
}
