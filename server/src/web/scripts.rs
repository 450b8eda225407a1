//! `/scripts` and `/scripts/{id}`: list, source editor, versions, and the run form
//! generated from the script's parameters, over `services::scripts` and
//! `services::jobs`.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html, see_other, when};
use crate::error::{ApiError, PageError};
use crate::services::{self, scripts::Script};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::components::form_fields;
use automa_ui::pages::new_script::NewScriptView;
use automa_ui::pages::script::{ScriptView, VersionLine};
use automa_ui::pages::scripts::{ScriptLine, ScriptsView};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Scripts the list shows.
const LISTED: i64 = 200;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let filter = services::scripts::Filter {
        q: Some(q.q.trim()),
        tag: None,
    };
    let found = services::scripts::list(&state, &viewer.principal, &filter, None, LISTED).await?;
    let scripts = found
        .into_iter()
        .take(LISTED as usize)
        .map(|s| ScriptLine {
            updated: when(s.updated_at),
            id: s.id,
            name: s.name,
            description: s.description,
            version: s.version,
            tags: s.tags,
        })
        .collect();
    let view = ScriptsView { q: q.q, scripts };
    Ok(html(automa_ui::pages::scripts::page(
        &viewer.ctx(Nav::Scripts),
        &view,
    )))
}

/// What a re-rendered script page keeps from a refused form.
#[derive(Default)]
struct Kept {
    values: HashMap<String, String>,
    field_errors: Vec<(String, String)>,
    run_error: Option<String>,
    source: Option<String>,
    source_error: Option<String>,
}

/// The JSON Schema of the script's current `main()` arguments.
fn parameters(s: &Script) -> Value {
    s.current
        .as_ref()
        .map_or_else(|| json!({}), |v| v.parameters.clone())
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    kept: Kept,
    status: StatusCode,
) -> Result<Response, PageError> {
    let p = &viewer.principal;
    let s = services::scripts::get(state, p, id).await?;
    let versions = services::scripts::versions(state, p, id).await?;
    let fields = form_fields::fields_from_schema(&parameters(&s));
    let current = s.current;
    let view = ScriptView {
        id: s.id,
        name: s.name,
        description: s.description,
        doc: current.as_ref().and_then(|v| v.doc.clone()),
        version: s.version,
        source: kept
            .source
            .or_else(|| current.as_ref().map(|v| v.source.clone()))
            .unwrap_or_default(),
        source_error: kept.source_error,
        versions: versions
            .iter()
            .map(|v| VersionLine {
                version: v.version,
                created_at: when(v.created_at),
            })
            .collect(),
        fields,
        values: kept.values,
        field_errors: kept.field_errors,
        run_error: kept.run_error,
        runtime: super::script_runtime::profile_name(s.settings.runtime).to_owned(),
        requirements: current
            .as_ref()
            .map(|v| v.requirements.clone())
            .unwrap_or_default(),
        resolved: current
            .map(|v| v.resolved)
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.name, d.version))
            .collect(),
        base_url: viewer.base_url.clone(),
    };
    let mut resp = html(automa_ui::pages::script::page(
        &viewer.ctx(Nav::Scripts),
        &view,
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    render(&state, &viewer, &id, Kept::default(), StatusCode::OK).await
}

/// Refusals a form shows next to its input (anything else is the error page).
fn shown_refusal(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Validation(_)
    )
}

pub async fn run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(mut values): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    csrf::verify(
        &headers,
        &state,
        values.get("csrf").map(String::as_str),
        &viewer.csrf,
    )?;
    values.remove("csrf");
    let script = services::scripts::get(&state, &viewer.principal, &id).await?;
    let fields = form_fields::fields_from_schema(&parameters(&script));
    let args = match form_fields::args_from_form(&fields, &values) {
        Ok(args) => args,
        Err(field_errors) => {
            let kept = Kept {
                values,
                field_errors,
                run_error: Some("Some arguments are not valid; see below.".into()),
                ..Kept::default()
            };
            return render(&state, &viewer, &id, kept, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let request = services::jobs::RunRequest {
        version: None,
        args: Value::Object(args),
        wait: false,
    };
    match services::jobs::run(&state, &viewer.actor(), &id, request).await {
        Ok(run) => Ok(see_other(&format!("/jobs/{}", encode(&run.job.id)))),
        Err(e @ ApiError::Validation(_)) => {
            let kept = Kept {
                values,
                run_error: Some(e.public_message()),
                ..Kept::default()
            };
            render(&state, &viewer, &id, kept, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SourceForm {
    csrf: Option<String>,
    #[serde(default)]
    source: String,
}

pub async fn save_source(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<SourceForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    // Browsers submit textarea line breaks as CRLF.
    let source = f.source.replace("\r\n", "\n");
    let change = services::scripts::UpdateScript {
        source: Some(source.clone()),
        ..Default::default()
    };
    match services::scripts::update(&state, &viewer.actor(), &id, change).await {
        Ok(_) => Ok(see_other(&format!("/scripts/{}", encode(&id)))),
        Err(e) if shown_refusal(&e) => {
            let kept = Kept {
                source: Some(source),
                source_error: Some(e.public_message()),
                ..Kept::default()
            };
            render(&state, &viewer, &id, kept, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

fn render_new(viewer: &Viewer, view: &NewScriptView, status: StatusCode) -> Response {
    let mut resp = html(automa_ui::pages::new_script::page(
        &viewer.ctx(Nav::Scripts),
        view,
    ));
    *resp.status_mut() = status;
    resp
}

pub async fn new_form(viewer: Viewer) -> Response {
    let view = NewScriptView {
        source: automa_ui::pages::new_script::EXAMPLE.to_owned(),
        ..NewScriptView::default()
    };
    render_new(&viewer, &view, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct NewScriptForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<NewScriptForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let source = f.source.replace("\r\n", "\n");
    let new = services::scripts::CreateScript {
        name: f.name.clone(),
        description: f.description.clone(),
        source: source.clone(),
        ..Default::default()
    };
    match services::scripts::create(&state, &viewer.actor(), new).await {
        Ok(s) => Ok(see_other(&format!("/scripts/{}", encode(&s.id)))),
        Err(e) if shown_refusal(&e) => {
            let view = NewScriptView {
                name: f.name,
                description: f.description,
                source,
                error: Some(e.public_message()),
            };
            Ok(render_new(&viewer, &view, e.status()))
        }
        Err(e) => Err(e.into()),
    }
}
