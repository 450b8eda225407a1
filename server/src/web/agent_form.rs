//! `/agents/new` and `/agents/{id}/edit`: create an agent, or change its settings (a
//! running agent uses them from its next start), over `services::agents`.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html, see_other};
use super::shared::{name_in, scripts};
use crate::error::{ApiError, PageError};
use crate::services::{self, agents::AgentBody};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::agent_form::AgentFormView;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

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
    /// The settings to save (without the script, which only creating sets), or the
    /// problems per field.
    fn body(&self) -> Result<AgentBody, Vec<(String, String)>> {
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
        Ok(AgentBody {
            name: Some(self.name.trim().to_owned()),
            args: args.map(Value::Object),
            restart_policy: Some(self.restart_policy.clone()),
            autostart: Some(self.autostart.is_some()),
            memory_mb,
            stop_grace_seconds: grace,
            ..AgentBody::default()
        })
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
    state: &AppState,
    viewer: &Viewer,
    id: Option<&str>,
    mut input: AgentInput,
    shown: (Option<String>, Vec<(String, String)>),
    status: StatusCode,
) -> Result<Response, PageError> {
    let scripts = scripts(state, viewer).await?;
    if scripts.is_empty() {
        // The list's empty state says to create a script first.
        return Ok(see_other("/agents"));
    }
    let mut script_name = String::new();
    let choices = match id {
        Some(id) => {
            let a = services::agents::get(state, &viewer.principal, id).await?;
            input.script_id = a.script_id;
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
    State(state): State<AppState>,
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
    render(
        &state,
        &viewer,
        None,
        input,
        (None, Vec::new()),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = services::agents::get(&state, &viewer.principal, &id).await?;
    // Stored arguments that do not decode are an error naming the row: a form filled
    // with `{}` would save the loss on the next submit.
    let args = a.arguments()?;
    let input = AgentInput {
        name: a.name,
        args: serde_json::to_string_pretty(&args).unwrap_or_default(),
        restart_policy: a.restart_policy,
        autostart: (a.autostart != 0).then(String::new),
        memory_mb: a.memory_mb.to_string(),
        stop_grace_seconds: a.stop_grace_seconds.to_string(),
        ..AgentInput::default()
    };
    render(
        &state,
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
            return render(state, viewer, id, input, (error, problems), status).await;
        }
    };
    let actor = viewer.actor();
    let saved = match id {
        Some(id) => services::agents::update(state, &actor, id, body).await,
        None => {
            body.script_id = Some(input.script_id.clone());
            services::agents::create(state, &actor, body).await
        }
    };
    match saved {
        Ok(a) => Ok(see_other(&format!("/agents/{}", encode(&a.id)))),
        Err(e @ (ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Validation(_))) => {
            let message = e.public_message();
            let fields = agent_field(&message)
                .map(|field| vec![(field.to_owned(), message.clone())])
                .unwrap_or_default();
            render(
                state,
                viewer,
                id,
                input,
                (Some(message), fields),
                e.status(),
            )
            .await
        }
        Err(e) => Err(e.into()),
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
