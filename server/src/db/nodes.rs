//! Node registry: each server process sharing the database registers here and renews
//! its lease with a heartbeat; the first node to see a lease lapse takes the node over.

use super::Db;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct NodeRow {
    pub id: String,
    pub instance: String,
    pub role: String,
    pub version: String,
    pub hostname: String,
    pub state: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub lease_ms: i64,
    pub workers: i64,
    pub running_jobs: i64,
    pub running_agents: i64,
    pub load_centi: i64,
    pub memory_used_mb: i64,
}

/// The longest lease a node may hold (`lease_live!` spells it out too). A row that
/// says more, or a heartbeat further ahead of the database's clock than its lease (a
/// clock stepped back, a hand), is not live: a dead node's row cannot keep its work
/// from being taken over, and no sum of a heartbeat and a lease overflows.
pub const MAX_LEASE_MS: i64 = 3_600_000;

impl NodeRow {
    /// Alive and its lease not lapsed at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.state == "alive"
            && (0..=MAX_LEASE_MS).contains(&self.lease_ms)
            && (now - self.lease_ms..=now + self.lease_ms).contains(&self.heartbeat_at)
    }
}

/// [`NodeRow::is_live`] in SQL, for the row whose columns start with `$p` (`""` or
/// `"n."`), the database's clock in placeholder `$n`. The `CASE` keeps the sums from
/// being computed for a lease out of bounds.
macro_rules! lease_live {
    ($p:literal, $n:literal) => {
        concat!(
            "(",
            $p,
            "state = 'alive' AND CASE WHEN ",
            $p,
            "lease_ms BETWEEN 0 AND 3600000 THEN ",
            $p,
            "heartbeat_at BETWEEN ",
            $n,
            " - ",
            $p,
            "lease_ms AND ",
            $n,
            " + ",
            $p,
            "lease_ms ELSE 1 = 0 END)"
        )
    };
}

/// The ids of nodes holding a live lease, as a subquery.
macro_rules! live_nodes {
    // `$n`: the placeholder holding the database's clock.
    ($n:literal) => {
        concat!(
            "(SELECT n.id FROM nodes n WHERE ",
            $crate::db::nodes::lease_live!("n.", $n),
            ")"
        )
    };
}
pub(crate) use {lease_live, live_nodes};

macro_rules! cols {
    () => {
        "id, instance, role, version, hostname, state, started_at, heartbeat_at, lease_ms, \
         workers, running_jobs, running_agents, load_centi, memory_used_mb"
    };
}

/// What a node says of itself when it registers.
pub struct NewNode<'a> {
    pub id: &'a str,
    pub instance: &'a str,
    pub role: &'a str,
    pub version: &'a str,
    pub hostname: &'a str,
    pub lease_ms: i64,
    pub workers: i64,
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<NodeRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM nodes WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<NodeRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM nodes ORDER BY role, id"))
        .fetch_all(db)
        .await
}

/// Insert or take over the row of `node.id` as a new instance, alive from now.
pub async fn register(db: &Db, node: &NewNode<'_>) -> sqlx::Result<()> {
    let now = db_now(db).await?;
    sqlx::query(
        "INSERT INTO nodes (id, instance, role, version, hostname, state, started_at, \
         heartbeat_at, lease_ms, workers) VALUES ($1, $2, $3, $4, $5, 'alive', $6, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET instance = $2, role = $3, version = $4, hostname = $5, \
         state = 'alive', started_at = $6, heartbeat_at = $6, lease_ms = $7, workers = $8, \
         running_jobs = 0, running_agents = 0",
    )
    .bind(node.id)
    .bind(node.instance)
    .bind(node.role)
    .bind(node.version)
    .bind(node.hostname)
    .bind(now)
    .bind(node.lease_ms)
    .bind(node.workers)
    .execute(db)
    .await?;
    Ok(())
}

/// A node's figures at a heartbeat.
pub struct Beat {
    pub running_jobs: i64,
    pub running_agents: i64,
    pub load_centi: i64,
    pub memory_used_mb: i64,
}

/// Renew the lease of this instance. `false`: the row is no longer this instance's,
/// another node declared it lost, or the lease lapsed before this renewal (others may
/// act on it already); the node must drop what it runs.
pub async fn heartbeat(db: &Db, id: &str, instance: &str, beat: &Beat) -> sqlx::Result<bool> {
    let done = sqlx::query(concat!(
        "UPDATE nodes SET heartbeat_at = $3, running_jobs = $4, running_agents = $5, \
         load_centi = $6, memory_used_mb = $7 WHERE id = $1 AND instance = $2 AND ",
        lease_live!("", "$3")
    ))
    .bind(id)
    .bind(instance)
    .bind(db_now(db).await?)
    .bind(beat.running_jobs)
    .bind(beat.running_agents)
    .bind(beat.load_centi)
    .bind(beat.memory_used_mb)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Compare-and-set: mark `id` lost when it is still the lapsed instance seen. Exactly
/// one caller wins and recovers the node's work.
pub async fn take_over(db: &Db, id: &str, instance: &str, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(concat!(
        "UPDATE nodes SET state = 'lost' WHERE id = $1 AND instance = $2 AND state = 'alive' \
         AND NOT ",
        lease_live!("", "$3")
    ))
    .bind(id)
    .bind(instance)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A clean shutdown: the node's work was handed back before this.
pub async fn leave(db: &Db, id: &str, instance: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE nodes SET state = 'left' WHERE id = $1 AND instance = $2")
        .bind(id)
        .bind(instance)
        .execute(db)
        .await?;
    Ok(())
}

/// Other nodes alive at `now` (a SQLite database refuses a second one).
pub async fn others_alive(db: &Db, id: &str, now: i64) -> sqlx::Result<Vec<NodeRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM nodes WHERE id <> $1 AND ",
        lease_live!("", "$2")
    ))
    .bind(id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Ids of nodes that are not live but still hold running jobs or active agents.
pub async fn holding_work_not_live(db: &Db, now: i64) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(concat!(
        "SELECT worker_id FROM jobs WHERE status = 'running' AND worker_id IS NOT NULL \
         AND worker_id NOT IN ",
        live_nodes!("$1"),
        " UNION SELECT node_id FROM agents WHERE node_id IS NOT NULL \
         AND state IN ('starting', 'running', 'backoff', 'stopping') AND node_id NOT IN ",
        live_nodes!("$1"),
    ))
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Forget nodes that left or were lost more than `older_than_ms` ago.
pub async fn prune(db: &Db, now: i64, older_than_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM nodes WHERE state <> 'alive' AND heartbeat_at < $1")
        .bind(now - older_than_ms)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The database's clock in unix milliseconds: leases are compared on one clock, so
/// nodes whose own clocks drift apart still agree on whose lease lapsed.
pub async fn db_now(db: &Db) -> sqlx::Result<i64> {
    let sql = if super::is_postgres(db) {
        "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    } else {
        "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    };
    let (now,): (i64,) = sqlx::query_as(sql).fetch_one(db).await?;
    Ok(now)
}

/// Whether node `id` holds a live lease now (by the database's clock).
pub async fn is_live(db: &Db, id: &str) -> sqlx::Result<bool> {
    let now = db_now(db).await?;
    Ok(find(db, id).await?.is_some_and(|node| node.is_live(now)))
}
