//! The lease loop of a node: renew this node's lease, take over nodes whose lease
//! lapsed, and give up this node's runs when its own lease could not be renewed.

use super::Node;
use crate::agents::Agents;
use crate::audit::{AuditEvent, AuditLog, Outcome};
use crate::db;
use crate::jobs::Jobs;
use automa_runtime::CancellationToken;
use serde_json::json;
use std::time::{Duration, Instant};

/// Rows of nodes gone this long are forgotten.
const FORGET_AFTER_MS: i64 = 7 * 24 * 3600 * 1000;

/// What the lease loop acts on.
pub struct LeaseWork {
    pub node: Node,
    pub jobs: Jobs,
    pub agents: Agents,
    pub audit: AuditLog,
}

pub fn spawn(work: LeaseWork, shutdown: CancellationToken) {
    tokio::spawn(run(work, shutdown));
}

async fn run(work: LeaseWork, shutdown: CancellationToken) {
    let lease = work.node.lease();
    // Three renewals per lease: one lost renewal never costs the lease.
    let every = (lease / 3).max(Duration::from_millis(100));
    // Only a cluster fences itself: a lone SQLite node has no one to yield its work to,
    // and a busy database file must not cost its running jobs an attempt.
    let fences = work.node.0.role != super::Role::All || db::is_postgres(&work.node.0.db);
    let mut renewed = Instant::now();
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        // Taken before the call: the lease counts from when the renewal was asked.
        let asked = Instant::now();
        match tokio::time::timeout(every, renew(&work)).await {
            Ok(Ok(true)) => renewed = asked,
            Ok(Ok(false)) if fences => {
                give_up(
                    &work,
                    "this node's lease lapsed or another node took its work over",
                )
                .await;
                renewed = Instant::now();
            }
            Ok(Ok(false)) => {
                let _ = work.node.rejoin().await;
            }
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "the database did not answer in time".to_owned(),
                };
                tracing::warn!(error = %why, "renewing this node's lease");
                // Stop before others may take over (at the lease's end), not after.
                if fences && renewed.elapsed() > lease * 2 / 3 {
                    give_up(&work, "this node could not renew its lease").await;
                    renewed = Instant::now();
                }
                continue;
            }
        }
        if let Err(e) = take_over_lapsed(&work).await {
            tracing::warn!(error = format!("{e:#}"), "checking other nodes' leases");
        }
        ticks += 1;
        if ticks.is_multiple_of(1000) {
            let now = db::now_ms();
            let _ = db::nodes::prune(&work.node.0.db, now, FORGET_AFTER_MS).await;
        }
    }
}

async fn renew(work: &LeaseWork) -> sqlx::Result<bool> {
    let beat = db::nodes::Beat {
        running_jobs: i64::try_from(work.jobs.running_count()).unwrap_or(0),
        running_agents: i64::try_from(work.agents.running_count()).unwrap_or(0),
        load_centi: sysinfo::System::load_average().map_or(0, |load| (load.one * 100.0) as i64),
        memory_used_mb: i64::try_from(work.jobs.runs().memory().used_mb()).unwrap_or(0),
    };
    let node = work.node.id().to_owned();
    metrics::gauge!("node_running_jobs", "node" => node.clone()).set(beat.running_jobs as f64);
    metrics::gauge!("node_running_agents", "node" => node.clone()).set(beat.running_agents as f64);
    metrics::gauge!("node_sandbox_memory_mb", "node" => node).set(beat.memory_used_mb as f64);
    db::nodes::heartbeat(
        &work.node.0.db,
        work.node.id(),
        &work.node.instance(),
        &beat,
    )
    .await
}

/// This node's lease is gone (or going): its jobs and agents may already run elsewhere.
/// Stop them here without storing anything, register again, and hand back what is
/// still this node's by the recovery rules.
async fn give_up(work: &LeaseWork, why: &str) {
    // No new claims until what this node held is handed back.
    work.jobs.pause_claims(true);
    work.agents.pause_claims(true);
    let jobs = work.jobs.abandon_all();
    let agents = work.agents.abandon_all().await;
    tracing::error!(
        jobs,
        agents,
        reason = why,
        "this node lost its lease; its runs were stopped here"
    );
    // Another live process took this node's id (a twin started while this one was
    // frozen): registering again would take the row back, and the two would trade it
    // at every renewal, each dropping its runs. This one yields, for good.
    match work.node.taken_by_another().await {
        Ok(Some(holder)) => {
            let why = format!(
                "node id {:?} is now run by another live process (on host {holder:?}); this \
                 process stops: give each node its own id (--node-id / AUTOMA_NODE_ID)",
                work.node.id()
            );
            tracing::error!(reason = %why, "this node's id is in use elsewhere");
            eprintln!("error: {why}");
            std::process::exit(3);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "reading this node's row"),
    }
    // Until this node is registered again it claims nothing (and the lease loop tries
    // again at its next tick, whose heartbeat of the old instance fails).
    if let Err(e) = work.node.rejoin().await {
        tracing::warn!(error = %e, "registering this node again");
        return;
    }
    let note = format!(
        "node {} lost its lease while this job was running",
        work.node.id()
    );
    if let Err(e) = work.jobs.recover_node(work.node.id(), &note).await {
        tracing::warn!(error = format!("{e:#}"), "recovering this node's jobs");
    }
    if let Err(e) = work.agents.fail_over(work.node.id(), &note).await {
        tracing::warn!(error = %e, "handing this node's agents over");
    }
    work.jobs.pause_claims(false);
    work.agents.pause_claims(false);
    work.audit
        .record(
            AuditEvent::new(format!("node:{}", work.node.id()), "node.lease_lost")
                .target(format!("node:{}", work.node.id()))
                .outcome(Outcome::Failure)
                .details(json!({"reason": why, "jobs": jobs, "agents": agents})),
        )
        .await;
}

/// Take over every other node whose lease lapsed; of several nodes trying, the
/// compare-and-set lets exactly one recover each.
async fn take_over_lapsed(work: &LeaseWork) -> anyhow::Result<()> {
    let db = &work.node.0.db;
    let now = db::nodes::db_now(db).await?;
    let nodes = db::nodes::list(db).await?;
    let alive = nodes.iter().filter(|node| node.is_live(now)).count();
    metrics::gauge!("nodes_alive").set(alive as f64);
    for lapsed in nodes
        .into_iter()
        .filter(|node| node.state == "alive" && !node.is_live(now))
    {
        if lapsed.id == work.node.id() {
            continue;
        }
        if !db::nodes::take_over(db, &lapsed.id, &lapsed.instance, now).await? {
            continue;
        }
        let silent_ms = now.saturating_sub(lapsed.heartbeat_at);
        let note = format!(
            "node {} stopped answering (no heartbeat for {:.1}s)",
            lapsed.id,
            silent_ms as f64 / 1000.0
        );
        let jobs = work.jobs.recover_node(&lapsed.id, &note).await?;
        let agents = work.agents.fail_over(&lapsed.id, &note).await?;
        tracing::warn!(node = %lapsed.id, jobs, agents, by = %work.node.id(), "took over a node whose lease lapsed");
        metrics::counter!("node_takeovers_total").increment(1);
        work.audit
            .record(
                AuditEvent::new(format!("node:{}", work.node.id()), "node.lost")
                    .target(format!("node:{}", lapsed.id))
                    .details(json!({
                        "silent_ms": silent_ms,
                        "jobs_recovered": jobs,
                        "agents_moved": agents,
                    })),
            )
            .await;
    }
    // Work still held by a node that is not live (a take-over that failed half-way, a
    // node that left while a claim was in flight) is recovered by the same rules.
    for orphaned in db::nodes::holding_work_not_live(db, now).await? {
        if orphaned == work.node.id() {
            continue;
        }
        let note = format!("node {orphaned} is gone");
        let jobs = work.jobs.recover_node(&orphaned, &note).await?;
        let agents = work.agents.fail_over(&orphaned, &note).await?;
        if jobs + agents > 0 {
            tracing::warn!(node = %orphaned, jobs, agents, "recovered work a gone node still held");
        }
    }
    Ok(())
}
