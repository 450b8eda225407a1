//! Scripts: create, list, read, edit (each source change is a new immutable version),
//! delete, versions, and running a script as a job.

use super::jobs::JobView;
use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::auth::extract::{AuthUser, ClientIp};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::jobs::settings::RunSettings;
use crate::packages::Distribution;
use crate::services::scripts::Script;
pub use crate::services::scripts::{CreateScript, UpdateScript};
use crate::services::{self, Actor};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scripts, create_script))
        .routes(routes!(get_script, update_script, delete_script))
        .routes(routes!(list_versions))
        .routes(routes!(run_script))
}

/// A script as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptView {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The current version number (1, 2, ...).
    pub version: i64,
    pub settings: RunSettings,
    pub max_concurrency: i64,
    #[schema(value_type = Object)]
    pub capabilities: Value,
    pub expose_as_tool: bool,
    /// JSON Schema of `main()`'s arguments.
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub has_main: bool,
    /// Docstring of `main` (or of the module).
    pub doc: Option<String>,
    /// Pure-Python packages the current version uses.
    pub requirements: Vec<String>,
    /// The distributions the requirements resolved to (dependencies included); only in
    /// single-script responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<Distribution>>,
    /// The current version's source; only in single-script responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The view of a script; `detail` (single-script responses) adds the source and the
/// resolved distributions.
fn view(s: Script, detail: bool) -> ApiResult<ScriptView> {
    let (parameters, has_main, doc, source, requirements, resolved) = match s.current {
        Some(v) => (
            v.parameters,
            v.has_main,
            v.doc,
            detail.then_some(v.source),
            v.requirements,
            detail.then_some(v.resolved),
        ),
        None => (
            json!({}),
            false,
            None,
            None,
            Vec::new(),
            detail.then(Vec::new),
        ),
    };
    Ok(ScriptView {
        capabilities: serde_json::to_value(&s.capabilities).map_err(anyhow::Error::from)?,
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(s.updated_at),
        id: s.id,
        owner_id: s.owner_id,
        name: s.name,
        description: s.description,
        tags: s.tags,
        version: s.version,
        settings: s.settings,
        max_concurrency: s.max_concurrency,
        expose_as_tool: s.expose_as_tool,
        parameters,
        has_main,
        doc,
        source,
        requirements,
        resolved,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScriptQuery {
    /// Matches name or description (case-insensitive).
    pub q: Option<String>,
    /// Only scripts with this tag.
    pub tag: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Create a script (version 1). Its parameters are read from `main()`'s signature.
#[utoipa::path(post, path = "/api/v1/scripts", tag = "scripts", request_body = CreateScript,
    responses((status = 201, body = ScriptView), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_script(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateScript>,
) -> ApiResult<(StatusCode, ApiJson<ScriptView>)> {
    let script = services::scripts::create(&state, &Actor::new(&p, ip), req).await?;
    Ok((StatusCode::CREATED, ApiJson(view(script, true)?)))
}

/// List scripts: your own, or every script for an admin.
#[utoipa::path(get, path = "/api/v1/scripts", tag = "scripts", params(ScriptQuery),
    responses((status = 200, body = Page<ScriptView>), (status = 400, body = ErrorBody)))]
async fn list_scripts(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<ScriptQuery>,
) -> ApiResult<ApiJson<Page<ScriptView>>> {
    let limit = page_limit(q.limit)?;
    let filter = services::scripts::Filter {
        q: q.q.as_deref(),
        tag: q.tag.as_deref(),
    };
    let scripts = services::scripts::list(&state, &p, &filter, q.cursor.as_deref(), limit).await?;
    let page = Page::from_rows(scripts, limit, |s| s.id.clone(), |s| view(s, false));
    Ok(ApiJson(Page {
        items: page.items.into_iter().collect::<ApiResult<_>>()?,
        next_cursor: page.next_cursor,
    }))
}

/// One script with its current source.
#[utoipa::path(get, path = "/api/v1/scripts/{id}", tag = "scripts",
    params(("id" = String, Path, description = "script id")),
    responses((status = 200, body = ScriptView), (status = 404, body = ErrorBody)))]
async fn get_script(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ScriptView>> {
    Ok(ApiJson(view(
        services::scripts::get(&state, &p, &id).await?,
        true,
    )?))
}

/// Edit a script. A changed `source` becomes a new version; runs record their version.
#[utoipa::path(patch, path = "/api/v1/scripts/{id}", tag = "scripts", request_body = UpdateScript,
    params(("id" = String, Path, description = "script id")),
    responses((status = 200, body = ScriptView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "another script of the owner has that name", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn update_script(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateScript>,
) -> ApiResult<ApiJson<ScriptView>> {
    let script = services::scripts::update(&state, &Actor::new(&p, ip), &id, req).await?;
    Ok(ApiJson(view(script, true)?))
}

/// Delete a script with its versions, jobs and state.
#[utoipa::path(delete, path = "/api/v1/scripts/{id}", tag = "scripts",
    params(("id" = String, Path, description = "script id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_script(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    services::scripts::delete(&state, &Actor::new(&p, ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    pub source: String,
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// The version's requirement lines.
    pub requirements: Vec<String>,
    /// The distributions they resolved to (dependencies included).
    pub resolved: Vec<Distribution>,
    pub created_by: String,
    pub created_at: String,
}

/// Every version of a script, newest first.
#[utoipa::path(get, path = "/api/v1/scripts/{id}/versions", tag = "scripts",
    params(("id" = String, Path, description = "script id")),
    responses((status = 200, body = Vec<VersionView>), (status = 404, body = ErrorBody)))]
async fn list_versions(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<VersionView>>> {
    let versions = services::scripts::versions(&state, &p, &id).await?;
    Ok(ApiJson(
        versions
            .into_iter()
            .map(|v| VersionView {
                version: v.version,
                parameters: v.parameters,
                requirements: v.requirements,
                resolved: v.resolved,
                source: v.source,
                created_by: v.created_by,
                created_at: rfc3339(v.created_at),
            })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunScript {
    /// Arguments for `main()`, checked against its signature.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub args: Value,
    /// Run this version instead of the current one.
    pub version: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Wait for the job to finish and answer its outcome.
    #[serde(default)]
    pub wait: bool,
}

/// Queue a run of the script. With `?wait=true` the answer comes when the job has
/// finished (200) and carries `status` and `result`; otherwise at once (202).
#[utoipa::path(post, path = "/api/v1/scripts/{id}/run", tag = "scripts", request_body = RunScript,
    params(("id" = String, Path, description = "script id"), RunQuery),
    responses((status = 200, body = JobView), (status = 202, body = JobView),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn run_script(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RunQuery>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, ApiJson<JobView>)> {
    // An empty body runs with no arguments, so `curl -X POST .../run` works.
    let req: RunScript = if body.iter().all(u8::is_ascii_whitespace) {
        RunScript::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let request = services::jobs::RunRequest {
        version: req.version,
        args: req.args,
        wait: q.wait,
    };
    let run = services::jobs::run(&state, &Actor::new(&p, ip), &id, request).await?;
    let status = if !q.wait || !run.finished {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(run.job.try_into()?)))
}
