//! `/scripts/{id}/runtime`: shows and saves the runtime profile of a script, part of its
//! run settings: the save is a settings update of `services::scripts` with `runtime`
//! changed, validated and audited like any other.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html_status, see_other};
use crate::error::{ApiError, PageError};
use crate::jobs::settings::{RunSettings, RuntimeProfile};
use crate::services::scripts::{self, UpdateScript};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::script_runtime::RuntimeView;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    saved: bool,
}

/// The name of `profile` as the setting spells it.
pub fn profile_name(profile: RuntimeProfile) -> &'static str {
    automa_runtime::Profile::from(profile).as_str()
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let s = scripts::get(&state, &viewer.principal, &id).await?;
    let view = RuntimeView {
        script_id: s.id.clone(),
        script_name: s.name.clone(),
        runtime: profile_name(s.settings.runtime).to_owned(),
        data_offered: state.config.data_profile,
        error: None,
        saved: q.saved,
    };
    let page = automa_ui::pages::script_runtime::page(&viewer.ctx(Nav::Scripts), &view);
    Ok(html_status(page, StatusCode::OK))
}

#[derive(Deserialize)]
pub struct RuntimeForm {
    csrf: Option<String>,
    #[serde(default)]
    runtime: String,
}

pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RuntimeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, form.csrf.as_deref(), &viewer.csrf)?;
    let s = scripts::get(&state, &viewer.principal, &id).await?;
    let chosen = match form.runtime.as_str() {
        "default" => Ok(RuntimeProfile::Default),
        "data" => Ok(RuntimeProfile::Data),
        other => Err(format!("runtime must be default or data, not {other:?}")),
    };
    let refusal = match chosen {
        Ok(runtime) => {
            let req = UpdateScript {
                settings: Some(RunSettings {
                    runtime,
                    ..s.settings.clone()
                }),
                ..UpdateScript::default()
            };
            match scripts::update(&state, &viewer.actor(), &id, req).await {
                Ok(_) => {
                    return Ok(see_other(&format!(
                        "/scripts/{}/runtime?saved=true",
                        encode(&id)
                    )));
                }
                Err(ApiError::Validation(message)) => message,
                Err(other) => return Err(other.into()),
            }
        }
        Err(message) => message,
    };
    let view = RuntimeView {
        script_id: s.id.clone(),
        script_name: s.name.clone(),
        runtime: form.runtime,
        data_offered: state.config.data_profile,
        error: Some(refusal),
        saved: false,
    };
    let page = automa_ui::pages::script_runtime::page(&viewer.ctx(Nav::Scripts), &view);
    Ok(html_status(page, StatusCode::UNPROCESSABLE_ENTITY))
}
