//! `/schedules`: the list (all, or one script's), the create and edit form with a live
//! preview of the next runs, enable/disable and delete. Every change goes through
//! `/api/v1/schedules`.

use super::client::{Failure, encode};
use super::csrf;
use super::page::{Viewer, html, see_other, when_text};
use super::schedule_input::{FieldError, ScheduleInput, field_of, in_zone, local_input, zones};
use super::shared::{CsrfOnly, delete_then, name_in, scripts, text};
use crate::error::{ApiError, PageError};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::components::form_fields;
use automa_ui::pages::schedule_form::{ScheduleFormView, preview as preview_fragment};
use automa_ui::pages::schedules::{ScheduleLine, SchedulesView};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Value, json};

fn every(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("every {} d", s / 86_400),
        s if s % 3600 == 0 => format!("every {} h", s / 3600),
        s if s % 60 == 0 => format!("every {} min", s / 60),
        s => format!("every {s} s"),
    }
}

/// An RFC 3339 time from the API in the schedule's zone.
fn zoned(v: &Value, tz: Tz) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?;
    Some(in_zone(t.timestamp_millis(), tz))
}

fn line(s: &Value, names: &[(String, String)]) -> ScheduleLine {
    let tz: Tz = s["timezone"]
        .as_str()
        .unwrap_or("UTC")
        .parse()
        .unwrap_or(Tz::UTC);
    let script_id = text(&s["script_id"]);
    let kind = text(&s["kind"]);
    let spec = match kind.as_str() {
        "cron" => text(&s["cron"]),
        "interval" => every(s["every_seconds"].as_i64().unwrap_or(0)),
        _ => zoned(&s["at"], tz).unwrap_or_default(),
    };
    ScheduleLine {
        id: text(&s["id"]),
        script_name: name_in(names, &script_id),
        script_id,
        kind,
        spec,
        timezone: tz.name().to_owned(),
        next_run: zoned(&s["next_run_at"], tz),
        enabled: s["enabled"].as_bool().unwrap_or(false),
        last_run: s["last_run_at"].as_str().map(when_text),
        last_job_id: s["last_job_id"].as_str().map(str::to_owned),
    }
}

#[derive(Deserialize)]
pub struct ScriptFilter {
    #[serde(default)]
    script_id: String,
}

pub async fn list(viewer: Viewer, Query(q): Query<ScriptFilter>) -> Result<Response, PageError> {
    let names = scripts(&viewer.api).await?;
    let mut path = "/api/v1/schedules?limit=200".to_owned();
    let script = if q.script_id.is_empty() {
        None
    } else {
        path.push_str(&format!("&script_id={}", encode(&q.script_id)));
        // Only the viewer's own scripts can be filtered by.
        let name = names
            .iter()
            .find(|(id, _)| *id == q.script_id)
            .ok_or(ApiError::NotFound)?;
        Some(name.clone())
    };
    let page = viewer.api.get(&path).await?;
    let view = SchedulesView {
        script,
        schedules: page["items"]
            .as_array()
            .into_iter()
            .flatten()
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
async fn params_hint(viewer: &Viewer, script_id: &str) -> Result<Vec<String>, PageError> {
    if script_id.is_empty() {
        return Ok(Vec::new());
    }
    let s = viewer
        .api
        .get(&format!("/api/v1/scripts/{}", encode(script_id)))
        .await?;
    Ok(form_fields::fields_from_schema(&s["parameters"])
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
            let s = viewer
                .api
                .get(&format!("/api/v1/schedules/{}", encode(id)))
                .await?;
            input.script_id = text(&s["script_id"]);
            let names = scripts(&viewer.api).await?;
            script_name = line(&s, &names).script_name;
        }
        None => {
            choices = scripts(&viewer.api).await?;
            if !choices.iter().any(|(id, _)| *id == input.script_id) {
                input.script_id = choices.first().map(|c| c.0.clone()).unwrap_or_default();
            }
        }
    }
    let view = ScheduleFormView {
        id: id.map(str::to_owned),
        scripts: choices,
        params: params_hint(viewer, &input.script_id).await?,
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
    render_form(&viewer, None, input, shown, StatusCode::OK).await
}

/// The form again with the problems: the form's own, or the API's refusal.
async fn refused(
    viewer: &Viewer,
    id: Option<&str>,
    input: ScheduleInput,
    problems: Result<Vec<FieldError>, Failure>,
) -> Result<Response, PageError> {
    let shown = match problems {
        Ok(field_errors) => Shown {
            error: Some("Some fields need another look; see below.".into()),
            field_errors,
            ..Shown::default()
        },
        Err(f) if matches!(f.status.as_u16(), 400 | 409 | 422) => {
            let field = field_of(&f.message);
            Shown {
                field_errors: if field.is_empty() {
                    Vec::new()
                } else {
                    vec![(field.to_owned(), f.message.clone())]
                },
                error: Some(f.message),
                ..Shown::default()
            }
        }
        Err(f) => return Err(ApiError::from(f).into()),
    };
    render_form(viewer, id, input, shown, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(input): Form<ScheduleInput>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, input.csrf.as_deref(), &viewer.csrf)?;
    let body = match input.body(true) {
        Ok(body) => body,
        Err(problems) => return refused(&viewer, None, input, Ok(problems)).await,
    };
    match viewer
        .api
        .call(Method::POST, "/api/v1/schedules", Some(&body))
        .await?
    {
        Ok(_) => Ok(see_other("/schedules")),
        Err(f) => refused(&viewer, None, input, Err(f)).await,
    }
}

pub async fn edit_form(viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let s = viewer
        .api
        .get(&format!("/api/v1/schedules/{}", encode(&id)))
        .await?;
    let zone = text(&s["timezone"]);
    let input = ScheduleInput {
        kind: text(&s["kind"]),
        cron: text(&s["cron"]),
        every_seconds: s["every_seconds"]
            .as_i64()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        at: s["at"]
            .as_str()
            .map(|at| local_input(at, &zone))
            .unwrap_or_default(),
        args: serde_json::to_string_pretty(&s["args"]).unwrap_or_default(),
        enabled: s["enabled"].as_bool().unwrap_or(false).then(String::new),
        overlap: text(&s["overlap"]),
        catch_up: text(&s["catch_up"]),
        anchor: s["created_at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis()),
        timezone: zone,
        ..ScheduleInput::default()
    };
    render_form(&viewer, Some(&id), input, Shown::default(), StatusCode::OK).await
}

pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(input): Form<ScheduleInput>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, input.csrf.as_deref(), &viewer.csrf)?;
    let body = match input.body(false) {
        Ok(body) => body,
        Err(problems) => return refused(&viewer, Some(&id), input, Ok(problems)).await,
    };
    let path = format!("/api/v1/schedules/{}", encode(&id));
    match viewer.api.call(Method::PATCH, &path, Some(&body)).await? {
        Ok(_) => Ok(see_other("/schedules")),
        Err(f) => refused(&viewer, Some(&id), input, Err(f)).await,
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
    viewer
        .api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{}", encode(&id)),
            Some(&json!({"enabled": f.enabled == "true"})),
        )
        .await??;
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
    let path = format!("/api/v1/schedules/{}", encode(&id));
    delete_then(&state, &viewer, &headers, &f, &path, "/schedules").await
}
