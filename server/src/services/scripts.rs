//! Scripts: create (version 1), list, read, edit (a new source or new requirements make
//! a new immutable version), delete and the versions, each validated, authorized,
//! audited and announced to MCP clients (their tool list) once for the API, the
//! dashboard and MCP. Running a script is `services::jobs::run`.

use super::Actor;
use crate::auth::{Principal, policy};
use crate::db::{self, scripts::ScriptRow, scripts::VersionRow};
use crate::error::{ApiError, ApiResult};
use crate::jobs::settings::RunSettings;
use crate::packages::{Distribution, PackageError};
use crate::state::AppState;
use automa_runtime::host::Capabilities;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

const MAX_SOURCE_BYTES: usize = 512 * 1024;

#[derive(Debug, Default, Deserialize, ToSchema)]
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
#[derive(Debug, Default, Deserialize, ToSchema)]
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

/// A script with its stored columns decoded (a column that does not decode is an
/// error naming the row, never a default) and its current version.
#[derive(Debug)]
pub struct Script {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The current version number.
    pub version: i64,
    pub settings: RunSettings,
    pub max_concurrency: i64,
    pub capabilities: Capabilities,
    pub expose_as_tool: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The current version (absent only when the versions table lacks it).
    pub current: Option<Version>,
}

/// One immutable version of a script.
#[derive(Debug)]
pub struct Version {
    pub version: i64,
    pub source: String,
    /// JSON Schema of `main()`'s arguments.
    pub parameters: Value,
    pub has_main: bool,
    /// Docstring of `main` (or of the module).
    pub doc: Option<String>,
    pub requirements: Vec<String>,
    /// The distributions the requirements resolved to (dependencies included).
    pub resolved: Vec<Distribution>,
    pub created_by: String,
    pub created_at: i64,
}

/// What the list is narrowed to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    /// Matches name or description (case-insensitive); empty: no filter.
    pub q: Option<&'a str>,
    /// Only scripts with this tag; empty: no filter.
    pub tag: Option<&'a str>,
}

impl Version {
    fn of(state: &AppState, v: VersionRow) -> ApiResult<Self> {
        let requirements = v.requirement_list()?;
        let parameters = v.parameter_schema()?;
        Ok(Self {
            resolved: resolved(state, v.env_hash.as_deref()),
            version: v.version,
            source: v.source,
            parameters,
            has_main: v.has_main != 0,
            doc: v.doc,
            requirements,
            created_by: v.created_by,
            created_at: v.created_at,
        })
    }
}

impl Script {
    fn of(row: ScriptRow, current: Option<Version>) -> ApiResult<Self> {
        Ok(Self {
            tags: row.tag_list()?,
            settings: row.run_settings()?,
            capabilities: row.grants()?,
            expose_as_tool: row.expose_as_tool != 0,
            version: row.current_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            id: row.id,
            owner_id: row.owner_id,
            name: row.name,
            description: row.description,
            max_concurrency: row.max_concurrency,
            current,
        })
    }
}

fn resolved(state: &AppState, env_hash: Option<&str>) -> Vec<Distribution> {
    env_hash
        .map(|h| state.jobs.packages().distributions(h))
        .unwrap_or_default()
}

/// The script with its current version.
async fn load(state: &AppState, row: ScriptRow) -> ApiResult<Script> {
    let version = db::scripts::version(&state.db, &row.id, row.current_version)
        .await?
        .map(|v| Version::of(state, v))
        .transpose()?;
    Script::of(row, version)
}

/// The script `id` with its current source when the caller may use it (others are
/// told it does not exist).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<Script> {
    let row = load_owned(state, p, id).await?;
    load(state, row).await
}

/// The caller's scripts (an admin's: everyone's), a page after `cursor`: at most
/// `limit + 1` rows, so a caller learns whether another page follows.
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: &Filter<'_>,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<Script>> {
    let rows = rows(state, p, filter, cursor, limit).await?;
    let mut scripts = Vec::with_capacity(rows.len());
    for row in rows {
        scripts.push(load(state, row).await?);
    }
    Ok(scripts)
}

/// The rows alone of [`list`] (for choices and names, which need no versions).
pub async fn rows(
    state: &AppState,
    p: &Principal,
    filter: &Filter<'_>,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<ScriptRow>> {
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    Ok(db::scripts::list(
        &state.db,
        owner,
        filter.q.filter(|s| !s.is_empty()),
        filter.tag.filter(|s| !s.is_empty()),
        cursor,
        limit,
    )
    .await?)
}

/// Every version of the script, newest first.
pub async fn versions(state: &AppState, p: &Principal, id: &str) -> ApiResult<Vec<Version>> {
    load_owned(state, p, id).await?;
    db::scripts::versions(&state.db, id)
        .await?
        .into_iter()
        .map(|v| Version::of(state, v))
        .collect()
}

/// Create a script (version 1); its parameters are read from `main()`'s signature.
/// Granting capabilities takes an admin.
pub async fn create(state: &AppState, actor: &Actor<'_>, req: CreateScript) -> ApiResult<Script> {
    let p = actor.principal;
    validate_name(&req.name)?;
    let concurrency = req.max_concurrency.unwrap_or(1);
    validate_common(&req.settings, concurrency, &req.tags)?;
    let capabilities = req.capabilities.unwrap_or_default();
    if capabilities != Capabilities::default() {
        policy::require_admin_to_grant(p)?;
    }
    if let Some(refusal) = req.settings.notify_webhook_refusal(&capabilities) {
        return Err(ApiError::Validation(refusal));
    }
    let described = describe(state, &req.name, &req.source, &req.requirements).await?;
    let row = db::scripts::insert(
        &state.db,
        &p.user_id,
        &db::scripts::ScriptFields {
            name: &req.name,
            description: &req.description,
            tags: &text(&req.tags)?,
            settings: &text(&req.settings)?,
            max_concurrency: concurrency,
            capabilities: &text(&capabilities)?,
            expose_as_tool: req.expose_as_tool,
        },
        &described.version(&req.source, &p.user_id),
    )
    .await?;
    let entry = actor
        .audit("script.create", format!("script:{}", row.id))
        .details(json!({"name": row.name, "capabilities": capabilities}));
    state.audit.append(entry).await?;
    if req.expose_as_tool {
        state.mcp.tools_changed(&row.owner_id);
    }
    load(state, row).await
}

/// Edit a script. A changed source or requirement list becomes a new version; kept
/// values come from the row as stored (a corrupt one is an error, not a default
/// written back). Changing the capabilities takes an admin.
pub async fn update(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    req: UpdateScript,
) -> ApiResult<Script> {
    let p = actor.principal;
    let row = load_owned(state, p, id).await?;
    let current = db::scripts::version(&state.db, id, row.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    let name = req.name.unwrap_or(row.name.clone());
    validate_name(&name)?;
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
            policy::require_admin_to_grant(p)?;
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
        Some(describe(state, &name, &source, &requirements).await?)
    } else {
        None
    };
    let new_version = described.as_ref().map(|d| d.version(&source, &p.user_id));
    let updated = db::scripts::update(
        &state.db,
        id,
        &db::scripts::ScriptFields {
            name: &name,
            description: req.description.as_deref().unwrap_or(&row.description),
            tags: &text(&tags)?,
            settings: &text(&settings)?,
            max_concurrency: concurrency,
            capabilities: &text(&capabilities)?,
            expose_as_tool: req.expose_as_tool.unwrap_or(row.expose_as_tool != 0),
        },
        new_version.as_ref(),
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let entry = actor
        .audit("script.update", format!("script:{id}"))
        .details(json!({"version": updated.current_version,
                        "new_version": new_version.is_some(), "capabilities": capabilities}));
    state.audit.append(entry).await?;
    // Any edit of a tool may change its name, description or schema.
    if row.expose_as_tool != 0 || updated.expose_as_tool != 0 {
        state.mcp.tools_changed(&row.owner_id);
    }
    load(state, updated).await
}

/// Delete a script with its versions, jobs and state; packages no script uses any more
/// are swept.
pub async fn delete(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<()> {
    let row = load_owned(state, actor.principal, id).await?;
    db::scripts::delete(&state.db, id).await?;
    crate::packages::sweep_unused(&state.db, state.jobs.packages()).await;
    if row.expose_as_tool != 0 {
        state.mcp.tools_changed(&row.owner_id);
    }
    let entry = actor
        .audit("script.delete", format!("script:{id}"))
        .details(json!({"name": row.name}));
    state.audit.append(entry).await?;
    Ok(())
}

/// The script row `id` when the caller may use it (others are told it does not exist).
pub(crate) async fn load_owned(state: &AppState, p: &Principal, id: &str) -> ApiResult<ScriptRow> {
    let row = db::scripts::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(p, &row.owner_id)?;
    Ok(row)
}

fn text<T: serde::Serialize>(value: &T) -> ApiResult<String> {
    Ok(serde_json::to_string(value).map_err(anyhow::Error::from)?)
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
        requirements: text(&requirements)?,
        env_hash,
    })
}
