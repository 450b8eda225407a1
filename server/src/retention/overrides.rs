//! Per-script retention: a script's run settings may keep its finished work shorter or
//! longer than `[retention]` (see `db::script_retention`). The sweep loads the scripts
//! that override a period once, deletes their old rows by script id with their own
//! cutoffs (scripts of the same period share a statement), then the rest with the
//! global cutoff, excluding the overriding scripts. No query per job.

use super::Retention;
use crate::db::Db;
use crate::db::script_retention::{self, ScriptRetention};
use std::collections::{BTreeMap, HashMap};

/// Script ids bound in one `IN (...)` list.
const IN_CHUNK: usize = 500;
/// The most ids one `NOT IN (...)` list binds: below both drivers' limits on bound
/// parameters (SQLite 32766, PostgreSQL 65535).
const MAX_EXCLUDED: usize = 30_000;

/// A kind of finished work with a period of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jobs,
    JobLogs,
    Artifacts,
    AgentHistory,
}

impl Kind {
    fn of(self, r: &ScriptRetention) -> Option<u32> {
        match self {
            Self::Jobs => r.jobs_days,
            Self::JobLogs => r.job_logs_days,
            Self::Artifacts => r.artifacts_days,
            Self::AgentHistory => r.agent_history_days,
        }
    }

    fn global(self, r: &Retention) -> u32 {
        match self {
            Self::Jobs => r.jobs_days,
            Self::JobLogs => r.job_logs_days,
            Self::Artifacts => r.artifacts_days,
            Self::AgentHistory => r.agent_history_days,
        }
    }
}

/// The periods in force at one sweep: the global ones and each overriding script's.
pub struct Periods<'a> {
    global: &'a Retention,
    scripts: HashMap<String, ScriptRetention>,
}

impl<'a> Periods<'a> {
    /// Reads the overriding scripts. One whose settings do not decode keeps everything
    /// (logged, naming the row) rather than losing it to a period it may not have.
    pub async fn load(db: &Db, global: &'a Retention) -> sqlx::Result<Self> {
        let mut scripts = HashMap::new();
        for (id, decoded) in script_retention::overrides(db).await? {
            let retention = decoded.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "retention: keeping this script's data");
                ScriptRetention::FOREVER
            });
            scripts.insert(id, retention);
        }
        Ok(Self { global, scripts })
    }

    /// Days `kind` of `script_id` is kept (0 = forever).
    pub fn days(&self, kind: Kind, script_id: &str) -> u32 {
        self.scripts
            .get(script_id)
            .and_then(|r| kind.of(r))
            .unwrap_or_else(|| kind.global(self.global))
    }

    /// Runs `statement` once per group of scripts sharing a period of `kind` and once
    /// for every other script with the global period; returns the rows it affected.
    /// `statement` has `$1` for the cutoff, and `{scripts}` where the script filter
    /// goes: `script IN (...)` or `script NOT IN (...)`, with `script` the SQL naming
    /// the row's script id (`script_id`, or a subquery for agents' rows).
    pub async fn run(
        &self,
        db: &Db,
        kind: Kind,
        now_ms: i64,
        statement: &str,
        script: &str,
    ) -> anyhow::Result<u64> {
        let mut by_days: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for (id, r) in &self.scripts {
            if let Some(days) = kind.of(r) {
                by_days.entry(days).or_default().push(id);
            }
        }
        let mut affected = 0;
        for (days, ids) in &by_days {
            let Some(cutoff) = Retention::cutoff(*days, now_ms) else {
                continue;
            };
            for chunk in ids.chunks(IN_CHUNK) {
                affected += execute(db, statement, script, "IN", chunk, cutoff).await?;
            }
        }
        if let Some(cutoff) = Retention::cutoff(kind.global(self.global), now_ms) {
            let excluded: Vec<&str> = by_days.values().flatten().copied().collect();
            if excluded.len() > MAX_EXCLUDED {
                tracing::error!(
                    scripts = excluded.len(),
                    ?kind,
                    "retention: too many scripts override this period; the server's period \
                     is not applied to the other scripts this sweep"
                );
            } else {
                affected += execute(db, statement, script, "NOT IN", &excluded, cutoff).await?;
            }
        }
        Ok(affected)
    }
}

async fn execute(
    db: &Db,
    statement: &str,
    script: &str,
    op: &str,
    ids: &[&str],
    cutoff: i64,
) -> anyhow::Result<u64> {
    let filter = if ids.is_empty() {
        // `NOT IN ()` is not SQL: nothing to exclude.
        String::new()
    } else {
        let marks: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
        format!(" AND {script} {op} ({})", marks.join(", "))
    };
    // Only placeholders are spliced in; every value is bound.
    let sql = statement.replace("{scripts}", &filter);
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(cutoff);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.execute(db).await?.rows_affected())
}
