//! Agent repository: settings, supervised state, and the event history.

use super::{Db, new_id, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub script_id: String,
    pub args: String,
    pub restart_policy: String,
    pub max_quick_restarts: i64,
    pub backoff_seconds: i64,
    pub memory_mb: i64,
    pub autostart: i64,
    pub hang_timeout_seconds: i64,
    pub stop_grace_seconds: i64,
    pub state: String,
    pub state_reason: Option<String>,
    pub status_text: Option<String>,
    pub status_metrics: Option<String>,
    pub restarts: i64,
    pub started_at: Option<i64>,
    pub last_heartbeat_at: Option<i64>,
    pub last_exit: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The node that runs (or last ran) the agent; `None` while it waits for one.
    pub node_id: Option<String>,
    /// CPU seconds per `cpu_interval_seconds`; `None`: the owner's ceiling.
    pub cpu_seconds: Option<i64>,
    pub cpu_interval_seconds: i64,
    /// CPU time all its instances used, in milliseconds (a running one's so far).
    pub cpu_time_ms: i64,
    /// A stop asked of the node that holds it (from another node), not yet carried out.
    pub stop_requested: i64,
    /// Counts up at each claim and each move off a node: the supervision's writes are
    /// for the claim it started under.
    pub claim: i64,
}

/// One supervision's hold on an agent: the node that claimed it, under which claim.
/// Its writes change nothing once the agent was moved off the node or claimed again
/// (even by the same node).
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    pub id: &'a str,
    pub node: &'a str,
    pub claim: i64,
}

/// [`Held`] owned, for the tasks of a supervision.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub node: String,
    pub claim: i64,
}

impl Claimed {
    pub fn held(&self) -> Held<'_> {
        Held {
            id: &self.id,
            node: &self.node,
            claim: self.claim,
        }
    }
}

pub use super::agent_state::AgentState;
use super::nodes::live_nodes;
pub use super::restart_policy::RestartPolicy;

impl AgentRow {
    /// The agent's state; a spelling no version wrote is an error naming the row (an
    /// agent of unknown state is neither started nor reported as stopped on a guess).
    pub fn agent_state(&self) -> Result<AgentState, super::decode::CorruptRow> {
        super::decode::word("agents", &self.id, "state", &self.state, AgentState::parse)
    }

    /// The numbers of the agent's last status (`status_metrics`), when it set any.
    pub fn metrics(&self) -> Result<Option<serde_json::Value>, super::decode::CorruptRow> {
        self.status_metrics
            .as_deref()
            .map(|m| super::decode::json("agents", &self.id, "status_metrics", m))
            .transpose()
    }

    /// The agent's restart policy; a spelling no version wrote is an error naming the row.
    pub fn restart(&self) -> Result<RestartPolicy, super::decode::CorruptRow> {
        super::decode::word(
            "agents",
            &self.id,
            "restart_policy",
            &self.restart_policy,
            RestartPolicy::parse,
        )
    }

    /// The arguments each instance's `main` gets; stored text that is not JSON is an
    /// error naming the row (never an agent started with no arguments).
    pub fn arguments(&self) -> Result<serde_json::Value, super::decode::CorruptRow> {
        super::decode::json("agents", &self.id, "args", &self.args)
    }
}

macro_rules! cols {
    () => {
        "id, owner_id, name, script_id, args, restart_policy, max_quick_restarts, \
         backoff_seconds, memory_mb, autostart, hang_timeout_seconds, stop_grace_seconds, state, \
         state_reason, status_text, status_metrics, restarts, started_at, last_heartbeat_at, \
         last_exit, created_at, updated_at, node_id, cpu_seconds, cpu_interval_seconds, \
         cpu_time_ms, stop_requested, claim"
    };
}

/// The settings a user sets.
pub struct AgentFields<'a> {
    pub name: &'a str,
    pub script_id: &'a str,
    pub args: &'a str,
    pub restart_policy: &'a str,
    pub max_quick_restarts: i64,
    pub backoff_seconds: i64,
    pub memory_mb: i64,
    pub autostart: bool,
    pub hang_timeout_seconds: i64,
    pub stop_grace_seconds: i64,
    pub cpu_seconds: Option<i64>,
    pub cpu_interval_seconds: i64,
}

pub async fn insert(db: &Db, owner_id: &str, f: &AgentFields<'_>) -> sqlx::Result<AgentRow> {
    sqlx::query_as(concat!(
        "INSERT INTO agents (id, owner_id, name, script_id, args, restart_policy, \
         max_quick_restarts, backoff_seconds, memory_mb, autostart, hang_timeout_seconds, \
         stop_grace_seconds, created_at, updated_at, cpu_seconds, cpu_interval_seconds) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15) \
         RETURNING ",
        cols!()
    ))
    .bind(new_id())
    .bind(owner_id)
    .bind(f.name)
    .bind(f.script_id)
    .bind(f.args)
    .bind(f.restart_policy)
    .bind(f.max_quick_restarts)
    .bind(f.backoff_seconds)
    .bind(f.memory_mb)
    .bind(i64::from(f.autostart))
    .bind(f.hang_timeout_seconds)
    .bind(f.stop_grace_seconds)
    .bind(now_ms())
    .bind(f.cpu_seconds)
    .bind(f.cpu_interval_seconds)
    .fetch_one(db)
    .await
}

pub async fn update(db: &Db, id: &str, f: &AgentFields<'_>) -> sqlx::Result<Option<AgentRow>> {
    sqlx::query_as(concat!(
        "UPDATE agents SET name = $2, args = $3, restart_policy = $4, max_quick_restarts = $5, \
         backoff_seconds = $6, memory_mb = $7, autostart = $8, hang_timeout_seconds = $9, \
         stop_grace_seconds = $10, updated_at = $11, cpu_seconds = $12, \
         cpu_interval_seconds = $13 WHERE id = $1 RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(f.name)
    .bind(f.args)
    .bind(f.restart_policy)
    .bind(f.max_quick_restarts)
    .bind(f.backoff_seconds)
    .bind(f.memory_mb)
    .bind(i64::from(f.autostart))
    .bind(f.hang_timeout_seconds)
    .bind(f.stop_grace_seconds)
    .bind(now_ms())
    .bind(f.cpu_seconds)
    .bind(f.cpu_interval_seconds)
    .fetch_optional(db)
    .await
}

/// The rows a supervision's write may change: its agent, still under its claim.
macro_rules! held {
    // `$node`, `$claim`: the placeholders of the node and the claim.
    ($node:literal, $claim:literal) => {
        concat!("id = $1 AND node_id = ", $node, " AND claim = ", $claim)
    };
}

/// A query that binds each agent state's spelling, in order, to the next placeholders
/// (the SQL names no state itself: `AgentState` is the one list of spellings).
trait BindStates: Sized {
    fn bind_state(self, state: AgentState) -> Self;
}

impl<'q> BindStates for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    fn bind_state(self, state: AgentState) -> Self {
        self.bind(state.as_str())
    }
}

impl<'q, O> BindStates for sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    fn bind_state(self, state: AgentState) -> Self {
        self.bind(state.as_str())
    }
}

fn bind_states<Q: BindStates>(query: Q, states: &[AgentState]) -> Q {
    states.iter().fold(query, |q, &s| q.bind_state(s))
}

/// Add `ms` of CPU time to the agent's total.
pub async fn add_cpu_time(db: &Db, held: &Held<'_>, ms: i64) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "UPDATE agents SET cpu_time_ms = cpu_time_ms + $2 WHERE ",
        held!("$3", "$4")
    ))
    .bind(held.id)
    .bind(ms)
    .bind(held.node)
    .bind(held.claim)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<AgentRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM agents WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list(
    db: &Db,
    owner: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<AgentRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM agents WHERE ($1 IS NULL OR owner_id = $1) AND ($2 IS NULL OR id > $2) \
         ORDER BY id LIMIT $3"
    ))
    .bind(owner)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM agents WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Record a state change; `started` sets `started_at` to now.
pub async fn set_state(
    db: &Db,
    id: &str,
    state: AgentState,
    reason: Option<&str>,
    started: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE agents SET state = $2, state_reason = $3, updated_at = $4, \
         started_at = CASE WHEN $5 = 1 THEN $4 ELSE started_at END WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(reason)
    .bind(now_ms())
    .bind(i64::from(started))
    .execute(db)
    .await?;
    Ok(())
}

/// A state change by a supervision: nothing (`false`) when its claim is not the
/// agent's any more (this node lost it with its lease, or holds it under a newer one).
pub async fn set_state_held(
    db: &Db,
    held: &Held<'_>,
    state: AgentState,
    reason: &str,
    started: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query(concat!(
        "UPDATE agents SET state = $2, state_reason = $3, updated_at = $4, \
         started_at = CASE WHEN $5 = 1 THEN $4 ELSE started_at END WHERE ",
        held!("$6", "$7")
    ))
    .bind(held.id)
    .bind(state.as_str())
    .bind(reason)
    .bind(now_ms())
    .bind(i64::from(started))
    .bind(held.node)
    .bind(held.claim)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `node` takes the agent to run it: when no live node holds it (`only_waiting`: and
/// it still waits for a node, not stopped meanwhile). `now` is the database's clock.
/// Of several nodes claiming, one wins; it gets its claim (`None`: not taken).
pub async fn claim(
    db: &Db,
    id: &str,
    node: &str,
    reason: &str,
    now: i64,
    only_waiting: bool,
) -> sqlx::Result<Option<i64>> {
    let claimed = sqlx::query_as(concat!(
        "UPDATE agents SET node_id = $2, state = $7, state_reason = $3, stop_requested = 0, \
         updated_at = $4, claim = claim + 1 WHERE id = $1 AND (node_id IS NULL OR node_id = $2 \
         OR node_id NOT IN ",
        live_nodes!("$5"),
        ") AND ($6 = 0 OR (node_id IS NULL AND state IN ($8, $9, $10))) RETURNING claim"
    ))
    .bind(id)
    .bind(node)
    .bind(reason)
    .bind(now_ms())
    .bind(now)
    .bind(i64::from(only_waiting))
    .bind(AgentState::Starting.as_str());
    let claimed: Option<(i64,)> = bind_states(claimed, &AgentState::WAITING)
        .fetch_optional(db)
        .await?;
    Ok(claimed.map(|(claim,)| claim))
}

/// Ask for the agent to be run by some node (asked on a node that runs no agents):
/// it waits, `starting` with no node, unless a live node runs it already.
pub async fn request_placement(db: &Db, id: &str, reason: &str, now: i64) -> sqlx::Result<bool> {
    let query = sqlx::query(concat!(
        "UPDATE agents SET node_id = NULL, state = $5, state_reason = $2, \
         stop_requested = 0, updated_at = $3, claim = claim + 1 WHERE id = $1 AND (node_id IS NULL OR \
         state NOT IN ($6, $7, $8, $9) OR node_id NOT IN ",
        live_nodes!("$4"),
        ")"
    ))
    .bind(id)
    .bind(reason)
    .bind(now_ms())
    .bind(now)
    .bind(AgentState::Starting.as_str());
    let done = bind_states(query, &AgentState::ACTIVE).execute(db).await?;
    Ok(done.rows_affected() > 0)
}

/// Agents waiting for a node, oldest request first.
pub async fn pending(db: &Db) -> sqlx::Result<Vec<String>> {
    let query = sqlx::query_as(
        "SELECT a.id FROM agents a JOIN users u ON u.id = a.owner_id WHERE a.node_id IS NULL \
         AND a.state IN ($1, $2, $3) AND u.disabled = 0 ORDER BY a.updated_at",
    );
    let rows: Vec<(String,)> = bind_states(query, &AgentState::WAITING)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Agents `node` holds (or last held).
pub async fn held_by(db: &Db, node: &str) -> sqlx::Result<Vec<AgentRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM agents WHERE node_id = $1"
    ))
    .bind(node)
    .fetch_all(db)
    .await
}

/// The supervision ended by itself (the agent exited, stopped or turned fatal): its
/// node no longer holds the agent.
pub async fn release(db: &Db, held: &Held<'_>) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "UPDATE agents SET node_id = NULL, stop_requested = 0, claim = claim + 1 WHERE ",
        held!("$2", "$3")
    ))
    .bind(held.id)
    .bind(held.node)
    .bind(held.claim)
    .execute(db)
    .await?;
    Ok(())
}

/// `node` still names an agent that is not active (it ended there): let go of it.
pub async fn let_go(db: &Db, id: &str, node: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE agents SET node_id = NULL, stop_requested = 0, claim = claim + 1 \
         WHERE id = $1 AND node_id = $2",
    )
    .bind(id)
    .bind(node)
    .execute(db)
    .await?;
    Ok(())
}

/// Move an agent off `node`: waiting for another node (`state` `starting`), or ended
/// (`exited` / `stopped`) when its restart policy says so. Returns whether it did.
pub async fn move_off(
    db: &Db,
    id: &str,
    node: &str,
    state: AgentState,
    reason: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE agents SET node_id = NULL, state = $3, state_reason = $4, stop_requested = 0, \
         updated_at = $5, claim = claim + 1 WHERE id = $1 AND node_id = $2",
    )
    .bind(id)
    .bind(node)
    .bind(state.as_str())
    .bind(reason)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Flag a stop for `node`, which runs the agent; `false` when it does not any more.
pub async fn request_stop(db: &Db, id: &str, node: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE agents SET stop_requested = 1 WHERE id = $1 AND node_id = $2")
        .bind(id)
        .bind(node)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Stop an agent that no live node runs (waiting for one, or its node is gone).
pub async fn stop_unheld(db: &Db, id: &str, reason: &str, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(concat!(
        "UPDATE agents SET state = $5, state_reason = $2, node_id = NULL, stop_requested = 0, \
         updated_at = $3, claim = claim + 1 WHERE id = $1 AND (node_id IS NULL OR node_id NOT IN ",
        live_nodes!("$4"),
        ")"
    ))
    .bind(id)
    .bind(reason)
    .bind(now_ms())
    .bind(now)
    .bind(AgentState::Stopped.as_str())
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Agents on `node` whose stop was asked elsewhere.
pub async fn stops_requested_on(db: &Db, node: &str) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM agents WHERE node_id = $1 AND stop_requested = 1")
            .bind(node)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// How many of `owner_id`'s agents other than `except` are wanted running.
pub async fn count_active_of(db: &Db, owner_id: &str, except: &str) -> sqlx::Result<i64> {
    let query = sqlx::query_as(
        "SELECT COUNT(*) FROM agents WHERE owner_id = $1 AND id <> $2 \
         AND state IN ($3, $4, $5, $6)",
    )
    .bind(owner_id)
    .bind(except);
    let (n,): (i64,) = bind_states(query, &AgentState::ACTIVE)
        .fetch_one(db)
        .await?;
    Ok(n)
}

/// How much an agent's queued messages may hold.
#[derive(Debug, Clone, Copy)]
pub struct MailboxBounds {
    pub messages: i64,
    pub bytes: i64,
}

/// Queue a message for an agent that runs on another node; `false` when its queued
/// messages would pass `bounds`.
pub async fn push_message(
    db: &Db,
    agent_id: &str,
    body: &str,
    bounds: MailboxBounds,
) -> sqlx::Result<bool> {
    // It reads, then writes: on SQLite the write lock is taken first (`begin_write`).
    let mut tx = super::begin_write(db).await?;
    if super::is_postgres(db) {
        // Senders on several nodes take turns per agent: each counts what the ones
        // before it queued, so together they cannot pass the bounds.
        sqlx::query("SELECT id FROM agents WHERE id = $1 FOR UPDATE")
            .bind(agent_id)
            .fetch_optional(&mut *tx)
            .await?;
    }
    let (queued, bytes): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(LENGTH(body)), 0) AS BIGINT) FROM agent_messages \
         WHERE agent_id = $1",
    )
    .bind(agent_id)
    .fetch_one(&mut *tx)
    .await?;
    let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
    if queued >= bounds.messages || bytes.saturating_add(size) > bounds.bytes {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO agent_messages (id, agent_id, body, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new_id())
    .bind(agent_id)
    .bind(body)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The oldest queued messages of an agent that fit in `limit` messages and `bytes`
/// bytes, taken out of the table (the rest stay queued).
pub async fn take_messages(
    db: &Db,
    agent_id: &str,
    limit: i64,
    bytes: usize,
) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, body FROM agent_messages WHERE agent_id = $1 ORDER BY id LIMIT $2",
    )
    .bind(agent_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut room = bytes;
    let rows = rows.into_iter().take_while(|(_, body)| {
        let fits = body.len() <= room;
        room = room.saturating_sub(body.len());
        fits
    });
    let mut bodies = Vec::new();
    for (id, body) in rows {
        let taken = sqlx::query("DELETE FROM agent_messages WHERE id = $1")
            .bind(&id)
            .execute(db)
            .await?;
        // Another taker (a node that just lost the agent) got it first.
        if taken.rows_affected() > 0 {
            bodies.push(body);
        }
    }
    Ok(bodies)
}

/// Agents on `node` with queued messages.
pub async fn with_messages_on(db: &Db, node: &str) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT a.id FROM agents a JOIN agent_messages m ON m.agent_id = a.id \
         WHERE a.node_id = $1",
    )
    .bind(node)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn record_exit(
    db: &Db,
    held: &Held<'_>,
    exit: &str,
    restarted: bool,
) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "UPDATE agents SET last_exit = $2, restarts = restarts + $3 WHERE ",
        held!("$4", "$5")
    ))
    .bind(held.id)
    .bind(exit)
    .bind(i64::from(restarted))
    .bind(held.node)
    .bind(held.claim)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_status(
    db: &Db,
    held: &Held<'_>,
    text: &str,
    metrics: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "UPDATE agents SET status_text = $2, status_metrics = $3 WHERE ",
        held!("$4", "$5")
    ))
    .bind(held.id)
    .bind(text)
    .bind(metrics)
    .bind(held.node)
    .bind(held.claim)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_heartbeat(db: &Db, held: &Held<'_>, at: i64) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "UPDATE agents SET last_heartbeat_at = $2 WHERE ",
        held!("$3", "$4")
    ))
    .bind(held.id)
    .bind(at)
    .bind(held.node)
    .bind(held.claim)
    .execute(db)
    .await?;
    Ok(())
}

/// After a restart of the only node (SQLite) no instance is running: any state that
/// says otherwise is corrected, with the reason.
pub async fn reset_after_restart(db: &Db) -> sqlx::Result<u64> {
    let query = sqlx::query(
        "UPDATE agents SET state = $2, state_reason = 'the server restarted', updated_at = $1, \
         node_id = NULL, stop_requested = 0, claim = claim + 1 \
         WHERE state IN ($3, $4, $5, $6)",
    )
    .bind(now_ms())
    .bind(AgentState::Stopped.as_str());
    let done = bind_states(query, &AgentState::ACTIVE).execute(db).await?;
    Ok(done.rows_affected())
}

/// Agents to start with the server: those with `autostart` whose owner is enabled.
pub async fn autostart_ids(db: &Db) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT a.id FROM agents a JOIN users u ON u.id = a.owner_id \
         WHERE a.autostart = 1 AND u.disabled = 0 ORDER BY a.id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub body: String,
}

/// Store a supervision's history entries: none once its claim is not the agent's.
pub async fn append_events(db: &Db, held: &Held<'_>, rows: &[EventRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for row in rows {
        let done = sqlx::query(concat!(
            "INSERT INTO agent_events (agent_id, seq, at, kind, body) \
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM agents WHERE ",
            held!("$6", "$7"),
            ")"
        ))
        .bind(held.id)
        .bind(row.seq)
        .bind(row.at)
        .bind(&row.kind)
        .bind(&row.body)
        .bind(held.node)
        .bind(held.claim)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Its sequence numbers may be the new holder's: write none of the batch.
            return tx.rollback().await;
        }
    }
    tx.commit().await
}

/// Events after `after`, oldest first; `kinds` limits to some kinds (None: all).
pub async fn events(
    db: &Db,
    agent_id: &str,
    after: i64,
    kind: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT seq, at, kind, body FROM agent_events WHERE agent_id = $1 AND seq > $2 \
         AND ($3 IS NULL OR kind = $3) ORDER BY seq LIMIT $4",
    )
    .bind(agent_id)
    .bind(after)
    .bind(kind)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn next_event_seq(db: &Db, agent_id: &str) -> sqlx::Result<i64> {
    let row: (Option<i64>,) =
        sqlx::query_as("SELECT MAX(seq) FROM agent_events WHERE agent_id = $1")
            .bind(agent_id)
            .fetch_one(db)
            .await?;
    Ok(row.0.unwrap_or(0) + 1)
}

/// Keep the newest `keep` events of an agent.
pub async fn trim_events(db: &Db, agent_id: &str, keep: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM agent_events WHERE agent_id = $1 AND seq <= (SELECT MAX(seq) FROM agent_events WHERE agent_id = $1) - $2")
        .bind(agent_id)
        .bind(keep)
        .execute(db)
        .await?;
    Ok(())
}

/// The ids of `owner_id`'s agents.
pub async fn list_ids_of(db: &Db, owner_id: &str) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM agents WHERE owner_id = $1")
        .bind(owner_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
