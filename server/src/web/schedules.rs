//! `/schedules`: the list (all, or one script's), the create and edit form with a live
//! preview of the next runs, enable/disable and delete. Every change goes through
//! `services::schedules`.

use super::csrf;
use super::page::{Viewer, html, see_other, when};
use super::schedule_input::{FieldError, ScheduleInput, field_of, in_zone, local_input, zones};
use super::shared::{CsrfOnly, name_in, scripts};
use crate::db::{rfc3339, schedules::ScheduleRow};
use crate::error::{ApiError, PageError};
use crate::services::{self, schedules::UpdateSchedule};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::components::form_fields;
use automa_ui::pages::schedule_form::{ScheduleFormView, preview as preview_fragment};
use automa_ui::pages::schedules::{ScheduleLine, SchedulesView};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono_tz::Tz;
use serde::Deserialize;

/// Schedules the list shows.
const LISTED: i64 = 200;

fn every(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("every {} d", s / 86_400),
        s if s % 3600 == 0 => format!("every {} h", s / 3600),
        s if s % 60 == 0 => format!("every {} min", s / 60),
        s => format!("every {s} s"),
    }
}

/// The schedule's zone (UTC when the stored name is unknown).
fn zone_of(s: &ScheduleRow) -> Tz {
    s.timezone.parse().unwrap_or(Tz::UTC)
}

fn line(s: ScheduleRow, names: &[(String, String)]) -> ScheduleLine {
    let tz = zone_of(&s);
    let spec = match s.kind.as_str() {
        "cron" => s.cron.clone().unwrap_or_default(),
        "interval" => every(s.every_seconds.unwrap_or(0)),
        _ => s.at.map(|at| in_zone(at, tz)).unwrap_or_default(),
    };
    ScheduleLine {
        script_name: name_in(names, &s.script_id),
        spec,
        timezone: tz.name().to_owned(),
        next_run: s.next_run_at.map(|t| in_zone(t, tz)),
        enabled: s.enabled != 0,
        last_run: s.last_run_at.map(when),
        last_job_id: s.last_job_id,
        id: s.id,
        script_id: s.script_id,
        kind: s.kind,
    }
}

#[derive(Deserialize)]
pub struct ScriptFilter {
    #[serde(default)]
    script_id: String,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ScriptFilter>,
) -> Result<Response, PageError> {
    let names = scripts(&state, &viewer).await?;
    let script = if q.script_id.is_empty() {
        None
    } else {
        // Only the viewer's own scripts can be filtered by.
        let name = names
            .iter()
            .find(|(id, _)| *id == q.script_id)
            .ok_or(ApiError::NotFound)?;
        Some(name.clone())
    };
    let only = script.as_ref().map(|(id, _)| id.as_str());
    let rows = services::schedules::list(&state, &viewer.principal, only, None, LISTED).await?;
    let view = SchedulesView {
        script,
        schedules: rows
            .into_iter()
            .take(LISTED as usize)
            .map(|s| line(s, &names))
            .collect(),
        has_scripts: !names.is_empty(),
    };
    Ok(html(automa_ui::pages::schedules::page(
        &viewer.ctx(Nav::Schedules),
        &view,
    )))
}

/// The script's parameters as `name: type = default`, a hint for the arguments.
async fn params_hint(
    state: &AppState,
    viewer: &Viewer,
    script_id: &str,
) -> Result<Vec<String>, PageError> {
    if script_id.is_empty() {
        return Ok(Vec::new());
    }
    let s = services::scripts::get(state, &viewer.principal, script_id).await?;
    let Some(current) = s.current else {
        return Ok(Vec::new());
    };
    Ok(form_fields::fields_from_schema(&current.parameters)
        .into_iter()
        .map(|f| {
            let mut p = f.name;
            if let Some(h) = f.hint {
                p.push_str(&format!(": {h}"));
            }
            if let Some(d) = f.default {
                p.push_str(&format!(" = {d}"));
            }
            p
        })
        .collect())
}

/// What a form render needs besides the values.
#[derive(Default)]
struct Shown {
    guess_timezone: bool,
    error: Option<String>,
    field_errors: Vec<FieldError>,
}

/// The create form (`id` None) or the edit form, showing `input`.
async fn render_form(
    state: &AppState,
    viewer: &Viewer,
    id: Option<&str>,
    mut input: ScheduleInput,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut choices = Vec::new();
    let mut script_name = String::new();
    match id {
        Some(id) => {
            let s = services::schedules::get(state, &viewer.principal, id).await?;
            let names = scripts(state, viewer).await?;
            script_name = name_in(&names, &s.script_id);
            input.script_id = s.script_id;
        }
        None => {
            choices = scripts(state, viewer).await?;
            if !choices.iter().any(|(id, _)| *id == input.script_id) {
                input.script_id = choices.first().map(|c| c.0.clone()).unwrap_or_default();
            }
        }
    }
    let view = ScheduleFormView {
        id: id.map(str::to_owned),
        scripts: choices,
        params: params_hint(state, viewer, &input.script_id).await?,
        preview: input.preview(),
        timezone: input.zone().to_owned(),
        enabled: input.enabled.is_some(),
        anchor: input.anchor,
        zones: zones(),
        guess_timezone: shown.guess_timezone,
        error: shown.error,
        field_errors: shown.field_errors,
        script_id: input.script_id,
        script_name,
        kind: input.kind,
        cron: input.cron,
        every_seconds: input.every_seconds,
        at: input.at,
        args: input.args,
        overlap: input.overlap,
        catch_up: input.catch_up,
    };
    let mut resp = html(automa_ui::pages::schedule_form::page(
        &viewer.ctx(Nav::Schedules),
        &view,
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ScriptFilter>,
) -> Result<Response, PageError> {
    let input = ScheduleInput {
        script_id: q.script_id,
        kind: "cron".into(),
        cron: "0 9 * * *".into(),
        every_seconds: "3600".into(),
        timezone: "UTC".into(),
        args: "{}".into(),
        enabled: Some("true".into()),
        overlap: "skip".into(),
        catch_up: "run_once".into(),
        ..ScheduleInput::default()
    };
    let shown = Shown {
        guess_timezone: true,
        ..Shown::default()
    };
    render_form(&state, &viewer, None, input, shown, StatusCode::OK).await
}

/// The form again with the problems: the form's own, or the service's refusal.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    id: Option<&str>,
    input: ScheduleInput,
    problems: Result<Vec<FieldError>, ApiError>,
) -> Result<Response, PageError> {
    let shown = match problems {
        Ok(field_errors) => Shown {
            error: Some("Some fields need another look; see below.".into()),
            field_errors,
            ..Shown::default()
        },
        Err(e @ (ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Validation(_))) => {
            let message = e.public_message();
            let field = field_of(&message);
            Shown {
                field_errors: if field.is_empty() {
                    Vec::new()
                } else {
                    vec![(field.to_owned(), message.clone())]
                },
                error: Some(message),
                ..Shown::default()
            }
        }
        Err(e) => return Err(e.into()),
    };
    render_form(
        state,
        viewer,
        id,
        input,
        shown,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(input): Form<ScheduleInput>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, input.csrf.as_deref(), &viewer.csrf)?;
    let request = match input.create() {
        Ok(request) => request,
        Err(problems) => return refused(&state, &viewer, None, input, Ok(problems)).await,
    };
    match services::schedules::create(&state, &viewer.actor(), request).await {
        Ok(_) => Ok(see_other("/schedules")),
        Err(e) => refused(&state, &viewer, None, input, Err(e)).await,
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let s = services::schedules::get(&state, &viewer.principal, &id).await?;
    let input = ScheduleInput {
        every_seconds: s.every_seconds.map(|n| n.to_string()).unwrap_or_default(),
        at: s
            .at
            .map(|at| local_input(&rfc3339(at), &s.timezone))
            .unwrap_or_default(),
        args: serde_json::to_string_pretty(&s.arguments()?).unwrap_or_default(),
        enabled: (s.enabled != 0).then(String::new),
        anchor: Some(s.created_at),
        timezone: s.timezone,
        kind: s.kind,
        cron: s.cron.unwrap_or_default(),
        overlap: s.overlap,
        catch_up: s.catch_up,
        ..ScheduleInput::default()
    };
    render_form(
        &state,
        &viewer,
        Some(&id),
        input,
        Shown::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(input): Form<ScheduleInput>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, input.csrf.as_deref(), &viewer.csrf)?;
    let change = match input.update() {
        Ok(change) => change,
        Err(problems) => return refused(&state, &viewer, Some(&id), input, Ok(problems)).await,
    };
    match services::schedules::update(&state, &viewer.actor(), &id, change).await {
        Ok(_) => Ok(see_other("/schedules")),
        Err(e) => refused(&state, &viewer, Some(&id), input, Err(e)).await,
    }
}

/// `GET /schedules/preview`: the preview fragment for the form's current values.
pub async fn preview(_viewer: Viewer, Query(input): Query<ScheduleInput>) -> Response {
    html(preview_fragment(&input.preview()))
}

#[derive(Deserialize)]
pub struct EnabledForm {
    csrf: Option<String>,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    back: String,
}

pub async fn set_enabled(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<EnabledForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let change = UpdateSchedule {
        enabled: Some(f.enabled == "true"),
        ..UpdateSchedule::default()
    };
    services::schedules::update(&state, &viewer.actor(), &id, change).await?;
    // Back to the list the button was on (local paths only: no open redirect).
    let back = if f.back.starts_with("/schedules") {
        f.back.as_str()
    } else {
        "/schedules"
    };
    Ok(see_other(back))
}

pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    services::schedules::delete(&state, &viewer.actor(), &id).await?;
    Ok(see_other("/schedules"))
}
