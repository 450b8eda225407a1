//! `/scripts` and `/scripts/{id}`: list, source editor, versions, and the run form
//! generated from the script's parameters.

use super::client::encode;
use super::csrf;
use super::page::{Viewer, html, see_other, when_text};
use crate::error::PageError;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::components::form_fields;
use automa_ui::pages::new_script::NewScriptView;
use automa_ui::pages::script::{ScriptView, VersionLine};
use automa_ui::pages::scripts::{ScriptLine, ScriptsView};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

pub async fn list(viewer: Viewer, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    let mut path = "/api/v1/scripts?limit=200".to_owned();
    if !q.q.trim().is_empty() {
        path.push_str(&format!("&q={}", encode(q.q.trim())));
    }
    let page = viewer.api.get(&path).await?;
    let scripts = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| ScriptLine {
            id: text(&s["id"]),
            name: text(&s["name"]),
            description: text(&s["description"]),
            version: s["version"].as_i64().unwrap_or(0),
            tags: s["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            updated: when_text(s["updated_at"].as_str().unwrap_or_default()),
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

async fn render(
    viewer: &Viewer,
    id: &str,
    kept: Kept,
    status: StatusCode,
) -> Result<Response, PageError> {
    let s = viewer
        .api
        .get(&format!("/api/v1/scripts/{}", encode(id)))
        .await?;
    let versions = viewer
        .api
        .get(&format!("/api/v1/scripts/{}/versions", encode(id)))
        .await?;
    let view = ScriptView {
        id: text(&s["id"]),
        name: text(&s["name"]),
        description: text(&s["description"]),
        doc: s["doc"].as_str().map(str::to_owned),
        version: s["version"].as_i64().unwrap_or(0),
        source: kept.source.unwrap_or_else(|| text(&s["source"])),
        source_error: kept.source_error,
        versions: versions
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| VersionLine {
                version: v["version"].as_i64().unwrap_or(0),
                created_at: when_text(v["created_at"].as_str().unwrap_or_default()),
            })
            .collect(),
        fields: form_fields::fields_from_schema(&s["parameters"]),
        values: kept.values,
        field_errors: kept.field_errors,
        run_error: kept.run_error,
        requirements: s["requirements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect(),
        resolved: s["resolved"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| (text(&d["name"]), text(&d["version"])))
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

pub async fn show(viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    render(&viewer, &id, Kept::default(), StatusCode::OK).await
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
    let script = viewer
        .api
        .get(&format!("/api/v1/scripts/{}", encode(&id)))
        .await?;
    let fields = form_fields::fields_from_schema(&script["parameters"]);
    let args = match form_fields::args_from_form(&fields, &values) {
        Ok(args) => args,
        Err(field_errors) => {
            let kept = Kept {
                values,
                field_errors,
                run_error: Some("Some arguments are not valid; see below.".into()),
                ..Kept::default()
            };
            return render(&viewer, &id, kept, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let answer = viewer
        .api
        .call(
            Method::POST,
            &format!("/api/v1/scripts/{}/run", encode(&id)),
            Some(&json!({ "args": args })),
        )
        .await?;
    match answer {
        Ok(job) => Ok(see_other(&format!("/jobs/{}", encode(&text(&job["id"]))))),
        Err(f) if f.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let kept = Kept {
                values,
                run_error: Some(f.message),
                ..Kept::default()
            };
            render(&viewer, &id, kept, f.status).await
        }
        Err(f) => Err(crate::error::ApiError::from(f).into()),
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
    let answer = viewer
        .api
        .call(
            Method::PATCH,
            &format!("/api/v1/scripts/{}", encode(&id)),
            Some(&json!({ "source": source })),
        )
        .await?;
    match answer {
        Ok(_) => Ok(see_other(&format!("/scripts/{}", encode(&id)))),
        Err(e) if matches!(e.status.as_u16(), 400 | 409 | 422) => {
            let kept = Kept {
                source: Some(source),
                source_error: Some(e.message),
                ..Kept::default()
            };
            render(&viewer, &id, kept, e.status).await
        }
        Err(e) => Err(crate::error::ApiError::from(e).into()),
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
    let answer = viewer
        .api
        .call(
            Method::POST,
            "/api/v1/scripts",
            Some(&json!({"name": f.name, "description": f.description, "source": source})),
        )
        .await?;
    match answer {
        Ok(s) => Ok(see_other(&format!("/scripts/{}", encode(&text(&s["id"]))))),
        Err(e) if matches!(e.status.as_u16(), 400 | 409 | 422) => {
            let view = NewScriptView {
                name: f.name,
                description: f.description,
                source,
                error: Some(e.message),
            };
            Ok(render_new(&viewer, &view, e.status))
        }
        Err(e) => Err(crate::error::ApiError::from(e).into()),
    }
}
