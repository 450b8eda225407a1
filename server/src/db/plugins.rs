//! Installed host plugins, their components and grants.

use super::decode::{self, CorruptRow};
use super::{Db, now_ms};
use crate::plugins::PluginGrants;
use automa_runtime::host::PluginManifest;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PluginRow {
    pub name: String,
    pub version: String,
    pub description: String,
    pub manifest: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub enabled: i64,
    pub grants: String,
    pub memory_mb: i64,
    pub timeout_ms: i64,
    pub source: String,
    pub installed_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PluginRow {
    /// The manifest stored at install (its functions and the capabilities it asks for).
    pub fn manifest(&self) -> Result<PluginManifest, CorruptRow> {
        decode::json("plugins", &self.name, "manifest", &self.manifest)
    }

    /// What an admin granted. A corrupt column is an error, not "nothing granted": the
    /// caller says which row to repair instead of a plugin quietly losing its grants.
    pub fn grant_set(&self) -> Result<PluginGrants, CorruptRow> {
        decode::json("plugins", &self.name, "grants", &self.grants)
    }
}

/// `SELECT <every column> FROM plugins <rest>`, as one literal (sqlx wants static SQL).
macro_rules! select_plugins {
    ($rest:literal) => {
        concat!(
            "SELECT name, version, description, manifest, sha256, size_bytes, enabled, grants, \
             memory_mb, timeout_ms, source, installed_by, created_at, updated_at FROM plugins ",
            $rest
        )
    };
}

/// What an install writes.
pub struct NewPlugin<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub description: &'a str,
    pub manifest: &'a str,
    pub sha256: &'a str,
    pub wasm_base64: &'a str,
    pub size_bytes: i64,
    pub source: &'a str,
    pub installed_by: &'a str,
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<PluginRow>> {
    sqlx::query_as(select_plugins!("ORDER BY name"))
        .fetch_all(db)
        .await
}

pub async fn find(db: &Db, name: &str) -> sqlx::Result<Option<PluginRow>> {
    sqlx::query_as(select_plugins!("WHERE name = $1"))
        .bind(name)
        .fetch_optional(db)
        .await
}

/// The component with this digest, base64.
pub async fn blob(db: &Db, sha256: &str) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT wasm FROM plugin_blobs WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| r.0))
}

/// Insert a new plugin, or (with `replace`) replace the component and manifest of an
/// existing one while keeping its grants, limits and enabled flag. Returns true when it
/// was new; without `replace`, an existing name is a unique violation.
pub async fn upsert(db: &Db, plugin: &NewPlugin<'_>, replace: bool) -> sqlx::Result<bool> {
    let now = now_ms();
    let mut tx = super::begin_write(db).await?;
    sqlx::query(
        "INSERT INTO plugin_blobs (sha256, wasm) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(plugin.sha256)
    .bind(plugin.wasm_base64)
    .execute(&mut *tx)
    .await?;
    let mut created = true;
    if replace {
        let updated = sqlx::query(
            "UPDATE plugins SET version = $2, description = $3, manifest = $4, sha256 = $5, \
         size_bytes = $6, source = $7, installed_by = $8, updated_at = $9 WHERE name = $1",
        )
        .bind(plugin.name)
        .bind(plugin.version)
        .bind(plugin.description)
        .bind(plugin.manifest)
        .bind(plugin.sha256)
        .bind(plugin.size_bytes)
        .bind(plugin.source)
        .bind(plugin.installed_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        created = updated.rows_affected() == 0;
    }
    if created {
        sqlx::query(
            "INSERT INTO plugins (name, version, description, manifest, sha256, size_bytes, \
             source, installed_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(plugin.name)
        .bind(plugin.version)
        .bind(plugin.description)
        .bind(plugin.manifest)
        .bind(plugin.sha256)
        .bind(plugin.size_bytes)
        .bind(plugin.source)
        .bind(plugin.installed_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    remove_unused_blobs(&mut tx).await?;
    tx.commit().await?;
    Ok(created)
}

/// What an admin may change on an installed plugin.
pub struct PluginSettings<'a> {
    pub enabled: bool,
    pub grants: &'a str,
    pub memory_mb: i64,
    pub timeout_ms: i64,
}

pub async fn update_settings(
    db: &Db,
    name: &str,
    settings: &PluginSettings<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE plugins SET enabled = $2, grants = $3, memory_mb = $4, timeout_ms = $5, \
         updated_at = $6 WHERE name = $1",
    )
    .bind(name)
    .bind(i64::from(settings.enabled))
    .bind(settings.grants)
    .bind(settings.memory_mb)
    .bind(settings.timeout_ms)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete(db: &Db, name: &str) -> sqlx::Result<bool> {
    let mut tx = super::begin_write(db).await?;
    let done = sqlx::query("DELETE FROM plugins WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    remove_unused_blobs(&mut tx).await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

async fn remove_unused_blobs(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM plugin_blobs WHERE sha256 NOT IN (SELECT sha256 FROM plugins)")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PluginRow;

    fn row(manifest: &str, grants: &str) -> PluginRow {
        PluginRow {
            name: "chat-notify".into(),
            version: "1.0.0".into(),
            description: String::new(),
            manifest: manifest.into(),
            sha256: String::new(),
            size_bytes: 0,
            enabled: 1,
            grants: grants.into(),
            memory_mb: 64,
            timeout_ms: 1000,
            source: "upload".into(),
            installed_by: "u1".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn corrupt_manifest_and_grants_name_the_plugin_row() {
        let corrupt = row("{not json", "[1]");
        let manifest = corrupt.manifest().expect_err("corrupt manifest");
        assert!(
            manifest
                .to_string()
                .starts_with("plugins row chat-notify: column manifest does not decode:"),
            "{manifest}"
        );
        let grants = corrupt.grant_set().expect_err("corrupt grants");
        assert!(
            grants
                .to_string()
                .starts_with("plugins row chat-notify: column grants does not decode:"),
            "{grants}"
        );
        let fine = row(
            r#"{"name":"chat-notify","version":"1.0.0","description":"","functions":[],"capabilities":[]}"#,
            r#"{"http":["chat.example"],"secrets":[],"state":true}"#,
        );
        assert_eq!(
            fine.manifest().expect("manifest decodes").name,
            "chat-notify"
        );
        let grants = fine.grant_set().expect("grants decode");
        assert_eq!(grants.http, ["chat.example"]);
        assert!(grants.state);
    }
}
