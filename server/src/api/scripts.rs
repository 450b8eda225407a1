//! Scripts: create, list, read, edit (each source change is a new immutable version),
//! delete, versions, and running a script as a job.

use super::jobs::JobView;
use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::audit::AuditEvent;
use crate::auth::extract::{AuthUser, ClientIp};
use crate::auth::{Principal, policy};
use crate::db::{self, rfc3339, scripts::ScriptRow, scripts::VersionRow};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::jobs::settings::RunSettings;
use crate::packages::{Distribution, PackageError};
use crate::services::{self, Actor};
use crate::state::AppState;
use automa_runtime::host::Capabilities;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

const MAX_SOURCE_BYTES: usize = 512 * 1024;

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

fn view(row: ScriptRow, version: Option<VersionRow>, with_source: bool) -> ScriptView {
    let (parameters, has_main, doc, source, requirements) = match version {
        Some(v) => (
            serde_json::from_str(&v.parameters).unwrap_or_else(|_| json!({})),
            v.has_main != 0,
            v.doc,
            with_source.then_some(v.source),
            serde_json::from_str(&v.requirements).unwrap_or_default(),
        ),
        None => (json!({}), false, None, None, Vec::new()),
    };
    ScriptView {
        tags: serde_json::from_str(&row.tags).unwrap_or_default(),
        settings: serde_json::from_str(&row.settings).unwrap_or_default(),
        capabilities: serde_json::from_str(&row.capabilities).unwrap_or_else(|_| json!({})),
        expose_as_tool: row.expose_as_tool != 0,
        version: row.current_version,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        id: row.id,
        owner_id: row.owner_id,
        name: row.name,
        description: row.description,
        max_concurrency: row.max_concurrency,
        parameters,
        has_main,
        doc,
        source,
        requirements,
        resolved: None,
    }
}

/// A single-script response: the view with the resolved distributions.
fn detail(state: &AppState, row: ScriptRow, version: Option<VersionRow>) -> ScriptView {
    let resolved = resolved(state, version.as_ref().and_then(|v| v.env_hash.as_deref()));
    ScriptView {
        resolved: Some(resolved),
        ..view(row, version, true)
    }
}

fn resolved(state: &AppState, env_hash: Option<&str>) -> Vec<Distribution> {
    env_hash
        .map(|h| state.jobs.packages().distributions(h))
        .unwrap_or_default()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScript {
    /// Letters, digits, `-`, `_` and `.`; unique per owner.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub name: String,
    /// The Python source.
    pub source: String,
    #[serde(default)]
    pub description: String,
    /// At most 20 tags of 1 to 40 characters.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub settings: RunSettings,
    /// Most jobs of this script at once (1 to 100; default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub max_concurrency: Option<i64>,
    /// Admins only: HTTP/email allowlists and granted secrets.
    #[schema(value_type = Option<Object>)]
    pub capabilities: Option<Capabilities>,
    #[serde(default)]
    pub expose_as_tool: bool,
    /// Pure-Python packages, one requirement per entry (`humanize==4.9.0`), at most 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub requirements: Vec<String>,
}

/// Every field optional; a new `source` makes a new version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateScript {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub name: Option<String>,
    pub source: Option<String>,
    pub description: Option<String>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    pub settings: Option<RunSettings>,
    #[schema(minimum = 1, maximum = 100)]
    pub max_concurrency: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub capabilities: Option<Capabilities>,
    pub expose_as_tool: Option<bool>,
    /// New requirements make a new version, like a new source.
    #[schema(max_items = 50)]
    pub requirements: Option<Vec<String>>,
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

fn validate_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Validation(
            "name must be 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit".into(),
        ))
    }
}

fn validate_common(settings: &RunSettings, concurrency: i64, tags: &[String]) -> ApiResult<()> {
    if let Some(problems) = settings.problems() {
        return Err(ApiError::Validation(problems));
    }
    if !(1..=100).contains(&concurrency) {
        return Err(ApiError::Validation(
            "max_concurrency must be between 1 and 100".into(),
        ));
    }
    if tags.len() > 20 || tags.iter().any(|t| t.is_empty() || t.len() > 40) {
        return Err(ApiError::Validation(
            "at most 20 tags of 1 to 40 characters".into(),
        ));
    }
    Ok(())
}

/// The new version's fields, read from the source in the sandbox.
struct Described {
    parameters: String,
    has_main: bool,
    doc: Option<String>,
    requirements: String,
    env_hash: Option<String>,
}

impl Described {
    fn version<'a>(&'a self, source: &'a str, by: &'a str) -> db::scripts::NewVersion<'a> {
        db::scripts::NewVersion {
            source,
            parameters: &self.parameters,
            has_main: self.has_main,
            doc: self.doc.as_deref(),
            created_by: by,
            requirements: &self.requirements,
            env_hash: self.env_hash.as_deref(),
        }
    }
}

/// Read the parameters from the source (in the sandbox) and install the requirements.
async fn describe(
    state: &AppState,
    name: &str,
    source: &str,
    requirements: &[String],
) -> ApiResult<Described> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ApiError::Validation(format!(
            "source is larger than {MAX_SOURCE_BYTES} bytes"
        )));
    }
    let description = state
        .jobs
        .runtime()
        .describe(source, &format!("{name}.py"))
        .await
        .map_err(|f| {
            ApiError::Validation(format!(
                "the script does not parse: {}: {}",
                f.kind, f.message
            ))
        })?;
    if requirements.len() > 50 {
        return Err(ApiError::Validation("at most 50 requirements".into()));
    }
    let env_hash = state
        .jobs
        .packages()
        .resolve(requirements)
        .await
        .map_err(|e| match e {
            PackageError::Invalid(m) => ApiError::Validation(m),
            PackageError::Busy(m) => ApiError::Unavailable(m),
            PackageError::Internal(e) => ApiError::Internal(e),
        })?;
    Ok(Described {
        parameters: description.parameters.to_string(),
        has_main: description.has_main,
        doc: description.description,
        requirements: serde_json::to_string(requirements).map_err(anyhow::Error::from)?,
        env_hash,
    })
}

async fn load_owned(state: &AppState, p: &Principal, id: &str) -> ApiResult<ScriptRow> {
    let row = db::scripts::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(p, &row.owner_id)?;
    Ok(row)
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
    validate_name(&req.name)?;
    let concurrency = req.max_concurrency.unwrap_or(1);
    validate_common(&req.settings, concurrency, &req.tags)?;
    let capabilities = req.capabilities.unwrap_or_default();
    if capabilities != Capabilities::default() {
        policy::require_admin_to_grant(&p)?;
    }
    if let Some(refusal) = req.settings.notify_webhook_refusal(&capabilities) {
        return Err(ApiError::Validation(refusal));
    }
    let described = describe(&state, &req.name, &req.source, &req.requirements).await?;
    let tags = serde_json::to_string(&req.tags).map_err(anyhow::Error::from)?;
    let settings = serde_json::to_string(&req.settings).map_err(anyhow::Error::from)?;
    let caps = serde_json::to_string(&capabilities).map_err(anyhow::Error::from)?;
    let row = db::scripts::insert(
        &state.db,
        &p.user_id,
        &db::scripts::ScriptFields {
            name: &req.name,
            description: &req.description,
            tags: &tags,
            settings: &settings,
            max_concurrency: concurrency,
            capabilities: &caps,
            expose_as_tool: req.expose_as_tool,
        },
        &described.version(&req.source, &p.user_id),
    )
    .await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "script.create")
                .target(format!("script:{}", row.id))
                .ip(ip)
                .details(json!({"name": row.name, "capabilities": capabilities})),
        )
        .await?;
    if req.expose_as_tool {
        state.mcp.tools_changed(&row.owner_id);
    }
    let version = db::scripts::version(&state.db, &row.id, 1).await?;
    Ok((StatusCode::CREATED, ApiJson(detail(&state, row, version))))
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
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    let rows = db::scripts::list(
        &state.db,
        owner,
        q.q.as_deref().filter(|s| !s.is_empty()),
        q.tag.as_deref().filter(|s| !s.is_empty()),
        q.cursor.as_deref(),
        limit,
    )
    .await?;
    let mut page = Page::from_rows(
        rows,
        limit,
        |r| r.id.clone(),
        |r| (r.id.clone(), r.current_version, r),
    );
    let mut items = Vec::with_capacity(page.items.len());
    for (id, version, row) in page.items.drain(..) {
        let version = db::scripts::version(&state.db, &id, version).await?;
        items.push(view(row, version, false));
    }
    Ok(ApiJson(Page {
        items,
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
    let row = load_owned(&state, &p, &id).await?;
    let version = db::scripts::version(&state.db, &id, row.current_version).await?;
    Ok(ApiJson(detail(&state, row, version)))
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
    let row = load_owned(&state, &p, &id).await?;
    let current = db::scripts::version(&state.db, &id, row.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    let name = req.name.unwrap_or(row.name.clone());
    validate_name(&name)?;
    // Kept values come from the row as stored: a corrupt one is an error, not a default
    // written back.
    let tags = match req.tags {
        Some(tags) => tags,
        None => row.tag_list()?,
    };
    let settings = match req.settings {
        Some(settings) => settings,
        None => row.run_settings()?,
    };
    let concurrency = req.max_concurrency.unwrap_or(row.max_concurrency);
    validate_common(&settings, concurrency, &tags)?;
    let old_caps: Capabilities = row.grants()?;
    let capabilities = match req.capabilities {
        Some(caps) if caps != old_caps => {
            policy::require_admin_to_grant(&p)?;
            caps
        }
        _ => old_caps,
    };
    if let Some(refusal) = settings.notify_webhook_refusal(&capabilities) {
        return Err(ApiError::Validation(refusal));
    }
    let current_requirements: Vec<String> = current.requirement_list()?;
    let requirements = req
        .requirements
        .unwrap_or_else(|| current_requirements.clone());
    let source = req.source.unwrap_or_else(|| current.source.clone());
    let changed = source != current.source || requirements != current_requirements;
    let described = if changed {
        Some(describe(&state, &name, &source, &requirements).await?)
    } else {
        None
    };
    let new_version = described.as_ref().map(|d| d.version(&source, &p.user_id));
    let tags_text = serde_json::to_string(&tags).map_err(anyhow::Error::from)?;
    let settings_text = serde_json::to_string(&settings).map_err(anyhow::Error::from)?;
    let caps_text = serde_json::to_string(&capabilities).map_err(anyhow::Error::from)?;
    let updated = db::scripts::update(
        &state.db,
        &id,
        &db::scripts::ScriptFields {
            name: &name,
            description: req.description.as_deref().unwrap_or(&row.description),
            tags: &tags_text,
            settings: &settings_text,
            max_concurrency: concurrency,
            capabilities: &caps_text,
            expose_as_tool: req.expose_as_tool.unwrap_or(row.expose_as_tool != 0),
        },
        new_version.as_ref(),
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "script.update")
                .target(format!("script:{id}"))
                .ip(ip)
                .details(
                    json!({"version": updated.current_version, "new_version": new_version.is_some(),
                                "capabilities": capabilities}),
                ),
        )
        .await?;
    // Any edit of a tool may change its name, description or schema.
    if row.expose_as_tool != 0 || updated.expose_as_tool != 0 {
        state.mcp.tools_changed(&row.owner_id);
    }
    let version = db::scripts::version(&state.db, &id, updated.current_version).await?;
    Ok(ApiJson(detail(&state, updated, version)))
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
    let row = load_owned(&state, &p, &id).await?;
    db::scripts::delete(&state.db, &id).await?;
    crate::packages::sweep_unused(&state.db, state.jobs.packages()).await;
    if row.expose_as_tool != 0 {
        state.mcp.tools_changed(&row.owner_id);
    }
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "script.delete")
                .target(format!("script:{id}"))
                .ip(ip)
                .details(json!({"name": row.name})),
        )
        .await?;
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
    load_owned(&state, &p, &id).await?;
    let versions = db::scripts::versions(&state.db, &id).await?;
    Ok(ApiJson(
        versions
            .into_iter()
            .map(|v| VersionView {
                version: v.version,
                parameters: serde_json::from_str(&v.parameters).unwrap_or_else(|_| json!({})),
                requirements: serde_json::from_str(&v.requirements).unwrap_or_default(),
                resolved: resolved(&state, v.env_hash.as_deref()),
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
    Ok((status, ApiJson(run.job.into())))
}
