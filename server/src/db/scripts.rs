//! Script repository: scripts and their immutable versions.

use super::decode::{CorruptRow, json};
use super::{Db, new_id, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScriptRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub tags: String,
    pub current_version: i64,
    pub settings: String,
    pub max_concurrency: i64,
    pub capabilities: String,
    pub expose_as_tool: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ScriptRow {
    /// How the script's jobs run (`settings`); a value that does not decode is an error.
    pub fn run_settings(&self) -> Result<crate::jobs::settings::RunSettings, CorruptRow> {
        json("scripts", &self.id, "settings", &self.settings)
    }

    /// What an admin granted the script (`capabilities`).
    pub fn grants(&self) -> Result<automa_runtime::host::Capabilities, CorruptRow> {
        json("scripts", &self.id, "capabilities", &self.capabilities)
    }

    /// The script's tags.
    pub fn tag_list(&self) -> Result<Vec<String>, CorruptRow> {
        json("scripts", &self.id, "tags", &self.tags)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub script_id: String,
    pub version: i64,
    pub source: String,
    pub parameters: String,
    pub has_main: i64,
    pub doc: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub requirements: String,
    pub env_hash: Option<String>,
}

impl VersionRow {
    /// The version's requirements (`requirements`).
    pub fn requirement_list(&self) -> Result<Vec<String>, CorruptRow> {
        let id = format!("{}@{}", self.script_id, self.version);
        json("script_versions", &id, "requirements", &self.requirements)
    }

    /// The JSON Schema of `main()`'s arguments (`parameters`).
    pub fn parameter_schema(&self) -> Result<serde_json::Value, CorruptRow> {
        let id = format!("{}@{}", self.script_id, self.version);
        json("script_versions", &id, "parameters", &self.parameters)
    }
}

macro_rules! cols {
    () => {
        "id, owner_id, name, description, tags, current_version, settings, max_concurrency, \
         capabilities, expose_as_tool, created_at, updated_at"
    };
}

macro_rules! version_cols {
    () => {
        "script_id, version, source, parameters, has_main, doc, created_by, created_at, \
         requirements, env_hash"
    };
}

/// The fields of a script that its owner edits; `tags`, `settings` and
/// `capabilities` are JSON text.
pub struct ScriptFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub tags: &'a str,
    pub settings: &'a str,
    pub max_concurrency: i64,
    pub capabilities: &'a str,
    pub expose_as_tool: bool,
}

/// One version's content.
pub struct NewVersion<'a> {
    pub source: &'a str,
    pub parameters: &'a str,
    pub has_main: bool,
    pub doc: Option<&'a str>,
    pub created_by: &'a str,
    /// JSON array of requirement lines.
    pub requirements: &'a str,
    pub env_hash: Option<&'a str>,
}

pub async fn insert(
    db: &Db,
    owner_id: &str,
    fields: &ScriptFields<'_>,
    version: &NewVersion<'_>,
) -> sqlx::Result<ScriptRow> {
    let mut tx = super::begin_write(db).await?;
    let now = now_ms();
    let row: ScriptRow = sqlx::query_as(concat!(
        "INSERT INTO scripts (id, owner_id, name, description, tags, current_version, settings, \
         max_concurrency, capabilities, expose_as_tool, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $10) RETURNING ",
        cols!()
    ))
    .bind(new_id())
    .bind(owner_id)
    .bind(fields.name)
    .bind(fields.description)
    .bind(fields.tags)
    .bind(fields.settings)
    .bind(fields.max_concurrency)
    .bind(fields.capabilities)
    .bind(i64::from(fields.expose_as_tool))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    insert_version(&mut tx, &row.id, 1, version, now).await?;
    tx.commit().await?;
    Ok(row)
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    script_id: &str,
    number: i64,
    version: &NewVersion<'_>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO script_versions (script_id, version, source, parameters, has_main, doc, \
         created_by, created_at, requirements, env_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(script_id)
    .bind(number)
    .bind(version.source)
    .bind(version.parameters)
    .bind(i64::from(version.has_main))
    .bind(version.doc)
    .bind(version.created_by)
    .bind(now)
    .bind(version.requirements)
    .bind(version.env_hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replace the editable fields, and add a version when `version` is given.
pub async fn update(
    db: &Db,
    id: &str,
    fields: &ScriptFields<'_>,
    version: Option<&NewVersion<'_>>,
) -> sqlx::Result<Option<ScriptRow>> {
    let mut tx = super::begin_write(db).await?;
    let now = now_ms();
    let bump = i64::from(version.is_some());
    let row: Option<ScriptRow> = sqlx::query_as(concat!(
        "UPDATE scripts SET name = $2, description = $3, tags = $4, settings = $5, \
         max_concurrency = $6, capabilities = $7, expose_as_tool = $8, updated_at = $9, \
         current_version = current_version + $10 WHERE id = $1 RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(fields.name)
    .bind(fields.description)
    .bind(fields.tags)
    .bind(fields.settings)
    .bind(fields.max_concurrency)
    .bind(fields.capabilities)
    .bind(i64::from(fields.expose_as_tool))
    .bind(now)
    .bind(bump)
    .fetch_optional(&mut *tx)
    .await?;
    if let (Some(row), Some(version)) = (&row, version) {
        insert_version(&mut tx, id, row.current_version, version, now).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<ScriptRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM scripts WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Scripts ordered by id; `owner` limits to one user's, `search` matches name or
/// description, `tag` one tag.
pub async fn list(
    db: &Db,
    owner: Option<&str>,
    search: Option<&str>,
    tag: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ScriptRow>> {
    let pattern = search.map(|s| format!("%{}%", s.to_lowercase()));
    let tag = tag.map(|t| format!("%{}%", serde_json::Value::from(t)));
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM scripts WHERE ($1 IS NULL OR owner_id = $1) \
         AND ($2 IS NULL OR LOWER(name) LIKE $2 OR LOWER(description) LIKE $2) \
         AND ($3 IS NULL OR tags LIKE $3) AND ($4 IS NULL OR id > $4) \
         ORDER BY id LIMIT $5"
    ))
    .bind(owner)
    .bind(pattern)
    .bind(tag)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM scripts WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every package environment some script version still uses.
pub async fn env_hashes(db: &Db) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT env_hash FROM script_versions WHERE env_hash IS NOT NULL")
        .fetch_all(db)
        .await
}

pub async fn version(db: &Db, script_id: &str, version: i64) -> sqlx::Result<Option<VersionRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        version_cols!(),
        " FROM script_versions WHERE script_id = $1 AND version = $2"
    ))
    .bind(script_id)
    .bind(version)
    .fetch_optional(db)
    .await
}

pub async fn versions(db: &Db, script_id: &str) -> sqlx::Result<Vec<VersionRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        version_cols!(),
        " FROM script_versions WHERE script_id = $1 ORDER BY version DESC"
    ))
    .bind(script_id)
    .fetch_all(db)
    .await
}

/// Set (or clear) the hash of the script's webhook token.
pub async fn set_webhook(db: &Db, id: &str, token_hash: Option<&str>) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE scripts SET webhook_token_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(token_hash)
            .bind(now_ms())
            .execute(db)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The script whose webhook token hashes to `token_hash`.
pub async fn find_by_webhook(db: &Db, token_hash: &str) -> sqlx::Result<Option<ScriptRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM scripts WHERE webhook_token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}
