//! Database access. One `sqlx::AnyPool` so `DATABASE_URL` can name SQLite (default, a WAL
//! file in the data directory) or PostgreSQL without reshaping callers. All SQL uses `$n`
//! placeholders, which both drivers accept. Repositories live in submodules.

pub mod agent_state;
pub mod agents;
pub mod audit_checkpoints;
pub mod dashboard;
pub mod decode;
pub mod job_status;
pub mod jobs;
pub mod nodes;
pub mod owners;
pub mod plugins;
pub mod restart_policy;
pub mod run_source;
pub mod schedules;
pub mod script_retention;
pub mod scripts;
pub mod secrets;
pub mod sessions;
pub mod state;
pub mod state_store;
pub mod tokens;
pub mod usage;
pub mod user_quotas;
pub mod users;

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use std::time::Duration;

pub type Db = sqlx::AnyPool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connects, enables WAL for SQLite and runs pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let is_sqlite = url.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        .max_connections(if is_sqlite { 8 } else { 16 })
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if is_sqlite {
                    // WAL lets readers proceed during writes; NORMAL sync is safe with WAL.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("connecting to database {}", redact_url(url)))?;
    MIGRATOR
        .run(&pool)
        .await
        .context("running database migrations")?;
    Ok(pool)
}

/// Hides a password in `scheme://user:password@host` for log and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether `db` is PostgreSQL (several nodes, row locks) rather than SQLite.
pub fn is_postgres(db: &Db) -> bool {
    db.connect_options()
        .database_url
        .scheme()
        .starts_with("postgres")
}

/// A transaction that will write. SQLite's default (deferred) transaction takes the
/// write lock only at its first write, and a transaction that read first then fails at
/// once (`SQLITE_BUSY_SNAPSHOT`, no waiting helps) when another connection wrote in
/// between, so every concurrent job write made the audit writer retry after a pause;
/// `BEGIN IMMEDIATE` takes the lock first and waits its turn instead.
pub async fn begin_write(db: &Db) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
    if is_postgres(db) {
        db.begin().await
    } else {
        db.begin_with("BEGIN IMMEDIATE").await
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Formats unix milliseconds as RFC 3339 for API responses.
pub fn rfc3339(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// Parses an RFC 3339 timestamp from a query parameter into unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as i64)
}
