//! Several nodes on one database. Each node registers in `nodes` and renews a lease
//! with a heartbeat ([`lease`]); running jobs and agents are held under the lease of the
//! node that runs them. When a lease lapses, the first node to notice takes the lapsed
//! node over (a compare-and-set) and recovers its jobs and agents by the restart rules.
//! A node that could not renew its own lease in time gives up its runs first, so two
//! nodes never run the same job or agent at once.

mod identity;
mod lease;
mod role;

pub use identity::{ProcessLock, hostname, node_id};
pub use lease::{LeaseWork, spawn as spawn_lease};
pub use role::Role;

use crate::db::{self, Db};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The default lease: a node not heard from for this long is taken over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);

/// This process as a node of the cluster.
#[derive(Clone)]
pub struct Node(Arc<Inner>);

struct Inner {
    db: Db,
    id: String,
    role: Role,
    lease: Duration,
    workers: usize,
    hostname: String,
    /// Changes when the node re-registers after losing its lease.
    instance: Mutex<String>,
}

/// The locks that make this process the only one running as its node (and, on SQLite,
/// the only one on its database); held by the application, released when it is
/// dropped.
pub struct NodeLocks(Vec<ProcessLock>);

impl NodeLocks {
    /// The lock files held.
    pub fn paths(&self) -> impl Iterator<Item = &std::path::Path> {
        self.0.iter().map(|lock| lock.path.as_path())
    }
}

/// How a node joins.
pub struct JoinSettings<'a> {
    pub data_dir: &'a std::path::Path,
    pub database_url: &'a str,
    pub node_id: Option<&'a str>,
    pub role: Role,
    pub lease: Duration,
    pub workers: usize,
}

impl Node {
    /// Register this process as a node. Refused, with the reason, when another live
    /// process already is this node, or when a SQLite database already has a node.
    pub async fn join(db: &Db, settings: &JoinSettings<'_>) -> anyhow::Result<(Self, NodeLocks)> {
        let id = node_id(settings.data_dir, settings.node_id)?;
        let most = Duration::from_millis(db::nodes::MAX_LEASE_MS.unsigned_abs());
        anyhow::ensure!(
            settings.lease <= most,
            "--node-lease {:?}: at most {}s (a longer lease is not live to the other nodes)",
            settings.lease,
            most.as_secs()
        );
        let sqlite = !db::is_postgres(db);
        anyhow::ensure!(
            !sqlite || settings.role == Role::All,
            "--role {} needs PostgreSQL (DATABASE_URL=postgres://…): a SQLite database \
             serves one node, which does everything (automa serve)",
            settings.role.as_str()
        );
        let mut locks = vec![ProcessLock::acquire(
            identity::node_lock_path(settings.data_dir, &id),
            &format!("node id {id:?}"),
        )?];
        if sqlite && let Some(path) = identity::sqlite_lock_path(settings.database_url) {
            locks.push(ProcessLock::acquire(
                path,
                "the SQLite database (SQLite serves one node; use PostgreSQL for several)",
            )?);
        }
        let hostname = hostname();
        let now = db::nodes::db_now(db).await?;
        if sqlite {
            let others = db::nodes::others_alive(db, &id, now).await?;
            if let Some(other) = others.first() {
                // The lock says no process uses the file now: that node died, and this
                // one is its successor (e.g. the data dir was copied to a new id).
                tracing::warn!(node = %other.id, "a SQLite database's previous node is gone; taking over");
            }
        } else if let Some(old) = db::nodes::find(db, &id).await?
            && old.is_live(now)
        {
            // Its lease is live: either a process that just died (kill -9, then this
            // restart) or another one still running as this id (another host, or
            // another data dir here). A live one renews within a third of its lease.
            let wait = Duration::from_millis(u64::try_from(old.lease_ms / 3).unwrap_or(5000))
                + Duration::from_millis(500);
            tracing::info!(node = %id, "this node id's lease is live; checking that no other process renews it");
            tokio::time::sleep(wait).await;
            if let Some(again) = db::nodes::find(db, &id).await?
                && again.instance == old.instance
                && again.heartbeat_at != old.heartbeat_at
            {
                anyhow::bail!(
                    "node id {id:?} is in use by a live node on host {:?}: give each node its \
                     own id (--node-id / AUTOMA_NODE_ID)",
                    again.hostname
                );
            }
        }
        let node = Self(Arc::new(Inner {
            db: db.clone(),
            id,
            role: settings.role,
            lease: settings.lease,
            workers: settings.workers,
            hostname,
            instance: Mutex::new(String::new()),
        }));
        node.rejoin().await?;
        tracing::info!(node = %node.id(), role = settings.role.as_str(), "node registered");
        Ok((node, NodeLocks(locks)))
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }

    pub fn role(&self) -> Role {
        self.0.role
    }

    pub fn lease(&self) -> Duration {
        self.0.lease
    }

    fn instance(&self) -> String {
        self.0
            .instance
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Register as a new instance (at start, and again after losing the lease).
    async fn rejoin(&self) -> sqlx::Result<()> {
        let instance = db::new_id();
        db::nodes::register(
            &self.0.db,
            &db::nodes::NewNode {
                id: &self.0.id,
                instance: &instance,
                role: self.0.role.as_str(),
                version: env!("CARGO_PKG_VERSION"),
                hostname: &self.0.hostname,
                lease_ms: i64::try_from(self.0.lease.as_millis()).unwrap_or(i64::MAX),
                workers: i64::try_from(self.0.workers).unwrap_or(0),
            },
        )
        .await?;
        *self.0.instance.lock().unwrap_or_else(|e| e.into_inner()) = instance;
        Ok(())
    }

    /// The host of another process that now holds this node's row under a live lease
    /// (another instance than this one's); `None` when the row is free to take again.
    async fn taken_by_another(&self) -> sqlx::Result<Option<String>> {
        let now = db::nodes::db_now(&self.0.db).await?;
        let row = db::nodes::find(&self.0.db, &self.0.id).await?;
        Ok(row
            .filter(|row| row.instance != self.instance() && row.is_live(now))
            .map(|row| row.hostname))
    }

    /// A clean shutdown: others need not wait for the lease to lapse.
    pub async fn leave(&self) {
        if let Err(e) = db::nodes::leave(&self.0.db, &self.0.id, &self.instance()).await {
            tracing::warn!(error = %e, "marking this node as left");
        }
    }
}
