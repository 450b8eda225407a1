//! The key-value stores behind `automa.state`: one per script, and one per plugin.

use super::{Db, now_ms};

/// Whose store: a script's (by id) or a plugin's (by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Script(String),
    Plugin(String),
}

/// The statements of one store table (sqlx takes only static SQL).
struct Statements {
    get: &'static str,
    set: &'static str,
    delete: &'static str,
    keys: &'static str,
    usage: &'static str,
}

macro_rules! statements {
    ($table:literal, $owner:literal) => {
        Statements {
            get: concat!(
                "SELECT value FROM ",
                $table,
                " WHERE ",
                $owner,
                " = $1 AND key = $2"
            ),
            set: concat!(
                "INSERT INTO ",
                $table,
                " (",
                $owner,
                ", key, value, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (",
                $owner,
                ", key) \
                 DO UPDATE SET value = $3, updated_at = $4"
            ),
            delete: concat!(
                "DELETE FROM ",
                $table,
                " WHERE ",
                $owner,
                " = $1 AND key = $2"
            ),
            keys: concat!(
                "SELECT key FROM ",
                $table,
                " WHERE ",
                $owner,
                " = $1 ORDER BY key"
            ),
            usage: concat!(
                "SELECT COUNT(*), CAST(COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS BIGINT) \
                 FROM ",
                $table,
                " WHERE ",
                $owner,
                " = $1 AND key <> $2"
            ),
        }
    };
}

const SCRIPT: Statements = statements!("script_state", "script_id");
const PLUGIN: Statements = statements!("plugin_state", "plugin");

impl Scope {
    fn statements(&self) -> (&'static Statements, &str) {
        match self {
            Scope::Script(id) => (&SCRIPT, id),
            Scope::Plugin(name) => (&PLUGIN, name),
        }
    }
}

pub async fn get(db: &Db, scope: &Scope, key: &str) -> sqlx::Result<Option<String>> {
    let (sql, id) = scope.statements();
    let row: Option<(String,)> = sqlx::query_as(sql.get)
        .bind(id)
        .bind(key)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| r.0))
}

pub async fn set(db: &Db, scope: &Scope, key: &str, value: &str) -> sqlx::Result<()> {
    let (sql, id) = scope.statements();
    sqlx::query(sql.set)
        .bind(id)
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &Db, scope: &Scope, key: &str) -> sqlx::Result<bool> {
    let (sql, id) = scope.statements();
    let done = sqlx::query(sql.delete)
        .bind(id)
        .bind(key)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn keys(db: &Db, scope: &Scope) -> sqlx::Result<Vec<String>> {
    let (sql, id) = scope.statements();
    let rows: Vec<(String,)> = sqlx::query_as(sql.keys).bind(id).fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Keys and their length plus their values' (in characters) in the store, leaving out
/// `except`.
pub async fn usage(db: &Db, scope: &Scope, except: &str) -> sqlx::Result<(i64, i64)> {
    let (sql, id) = scope.statements();
    sqlx::query_as(sql.usage)
        .bind(id)
        .bind(except)
        .fetch_one(db)
        .await
}
