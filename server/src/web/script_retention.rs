//! `/scripts/{id}/retention`: shows and saves a script's retention overrides, which are
//! part of its run settings: the save is a settings update of `services::scripts` with
//! the four periods changed, validated and audited like any other.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html_status, see_other};
use crate::error::{ApiError, PageError};
use crate::jobs::settings::RunSettings;
use crate::services::scripts::{self, Script, UpdateScript};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::script_retention::{FIELDS, RetentionView};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    saved: bool,
}

/// The server's periods, in the order of [`FIELDS`].
fn defaults(state: &AppState) -> [u32; 4] {
    let r = &state.config.retention;
    [
        r.jobs_days,
        r.job_logs_days,
        r.artifacts_days,
        r.agent_history_days,
    ]
}

/// The four periods of `settings`, in the order of [`FIELDS`].
fn periods(settings: &RunSettings) -> [Option<u32>; 4] {
    [
        settings.jobs_days,
        settings.job_logs_days,
        settings.artifacts_days,
        settings.agent_history_days,
    ]
}

fn view(state: &AppState, s: &Script, values: [String; 4]) -> RetentionView {
    RetentionView {
        script_id: s.id.clone(),
        script_name: s.name.clone(),
        values,
        defaults: defaults(state),
        error: None,
        saved: false,
    }
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let s = scripts::get(&state, &viewer.principal, &id).await?;
    let values = periods(&s.settings).map(|d| d.map(|d| d.to_string()).unwrap_or_default());
    let view = RetentionView {
        saved: q.saved,
        ..view(&state, &s, values)
    };
    let page = automa_ui::pages::script_retention::page(&viewer.ctx(Nav::Scripts), &view);
    Ok(html_status(page, StatusCode::OK))
}

/// A field as the settings hold it: empty is `None`; anything but a whole number of
/// days is refused here, naming the field (the settings check the range).
fn parse(name: &str, text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>()
        .map(Some)
        .map_err(|_| format!("{name} must be a whole number of days (0 keeps forever), or empty"))
}

pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    csrf::verify(
        &headers,
        &state,
        form.get("csrf").map(String::as_str),
        &viewer.csrf,
    )?;
    let s = scripts::get(&state, &viewer.principal, &id).await?;
    let typed = FIELDS.map(|(name, _)| form.get(name).cloned().unwrap_or_default());
    let mut problems = Vec::new();
    let mut parsed = [None; 4];
    for (i, (name, _)) in FIELDS.iter().enumerate() {
        match parse(name, &typed[i]) {
            Ok(days) => parsed[i] = days,
            Err(p) => problems.push(p),
        }
    }
    let refusal = if problems.is_empty() {
        let [jobs_days, job_logs_days, artifacts_days, agent_history_days] = parsed;
        let settings = RunSettings {
            jobs_days,
            job_logs_days,
            artifacts_days,
            agent_history_days,
            ..s.settings.clone()
        };
        let req = UpdateScript {
            settings: Some(settings),
            ..UpdateScript::default()
        };
        match scripts::update(&state, &viewer.actor(), &id, req).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/scripts/{}/retention?saved=true",
                    encode(&id)
                )));
            }
            Err(ApiError::Validation(message)) => message,
            Err(e) => return Err(e.into()),
        }
    } else {
        problems.join("; ")
    };
    let view = RetentionView {
        error: Some(refusal),
        ..view(&state, &s, typed)
    };
    let page = automa_ui::pages::script_retention::page(&viewer.ctx(Nav::Scripts), &view);
    Ok(html_status(page, StatusCode::UNPROCESSABLE_ENTITY))
}
