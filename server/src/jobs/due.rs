//! When an idle worker looks for the next delayed job. Only job workers delay jobs (a
//! retry's backoff, a job waiting for sandbox memory), so a node alone on its database
//! (SQLite) knows whether it delayed any since the database last held none, and skips
//! the query each time a worker finds the queue empty while it did not; nodes sharing a
//! database (PostgreSQL) ask it every time, as another node may have delayed one.

use crate::db::{self, Db};
use std::sync::atomic::{AtomicU64, Ordering};

pub(super) struct Delays {
    /// Another process may delay jobs in this database.
    shared: bool,
    /// Jobs this node delayed (counted once the delay is stored), from 1: at start the
    /// database may hold some.
    made: AtomicU64,
    /// `made` when the database last held no delayed job.
    cleared: AtomicU64,
}

impl Delays {
    pub(super) fn new(shared: bool) -> Self {
        Self {
            shared,
            made: AtomicU64::new(1),
            cleared: AtomicU64::new(0),
        }
    }

    /// A job was delayed here; call once its delay is stored, so that a worker that
    /// counts it afterwards also finds it in the database.
    pub(super) fn made_one(&self) {
        self.made.fetch_add(1, Ordering::SeqCst);
    }

    /// When the next delayed job comes due, asking the database when there may be one.
    pub(super) async fn next_due(&self, db: &Db) -> sqlx::Result<Option<i64>> {
        let made = self.made.load(Ordering::SeqCst);
        if !self.shared && self.cleared.load(Ordering::SeqCst) == made {
            return Ok(None);
        }
        let due = db::jobs::next_due(db).await?;
        if due.is_none() {
            self.cleared.fetch_max(made, Ordering::SeqCst);
        }
        Ok(due)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("d.db").display());
        (dir, crate::db::connect(&url).await.unwrap())
    }

    async fn delayed_job(db: &Db, due: i64) {
        let now = db::now_ms();
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) \
             VALUES ('u', 'u@example.org', '', 'user', $1, $1)",
        )
        .bind(now)
        .execute(db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO scripts (id, owner_id, name, description, tags, current_version, \
             settings, max_concurrency, capabilities, created_at, updated_at) \
             VALUES ('s', 'u', 's', '', '[]', 1, '{}', 1, '{}', $1, $1)",
        )
        .bind(now)
        .execute(db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO jobs (id, script_id, script_version, owner_id, trigger_kind, args, \
             status, attempt, max_attempts, run_after, created_at) \
             VALUES ('j', 's', 1, 'u', 'manual', '{}', 'queued', 2, 2, $1, $2)",
        )
        .bind(due)
        .bind(now)
        .execute(db)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_lone_node_asks_only_while_a_delayed_job_may_exist() {
        let (_dir, db) = db().await;
        let delays = Delays::new(false);
        // At start the database is asked, and found empty it is not asked again.
        assert_eq!(delays.next_due(&db).await.unwrap(), None);
        let due = db::now_ms() + 60_000;
        delayed_job(&db, due).await;
        assert_eq!(delays.next_due(&db).await.unwrap(), None);
        // Once this node says it delayed one, it is asked (and keeps being asked).
        delays.made_one();
        assert_eq!(delays.next_due(&db).await.unwrap(), Some(due));
        assert_eq!(delays.next_due(&db).await.unwrap(), Some(due));
    }

    #[tokio::test]
    async fn a_node_sharing_its_database_always_asks() {
        let (_dir, db) = db().await;
        let delays = Delays::new(true);
        assert_eq!(delays.next_due(&db).await.unwrap(), None);
        let due = db::now_ms() + 60_000;
        delayed_job(&db, due).await;
        assert_eq!(delays.next_due(&db).await.unwrap(), Some(due));
    }
}
