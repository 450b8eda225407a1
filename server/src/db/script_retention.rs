//! Scripts' retention overrides, read from the `settings` column as typed values for the
//! retention sweep (the fields `jobs_days`, `job_logs_days`, `artifacts_days` and
//! `agent_history_days` of `RunSettings`, written and validated there).

use super::Db;
use super::decode::{CorruptRow, json};
use serde::Deserialize;

/// One script's overrides; per kind `None` is the server's period, `Some(0)` keeps
/// forever, `Some(days)` keeps that many days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ScriptRetention {
    pub jobs_days: Option<u32>,
    pub job_logs_days: Option<u32>,
    pub artifacts_days: Option<u32>,
    pub agent_history_days: Option<u32>,
}

impl ScriptRetention {
    /// Every period kept forever: what the sweep assumes of a script whose settings do
    /// not decode (its data is not deleted on a guess).
    pub const FOREVER: Self = Self {
        jobs_days: Some(0),
        job_logs_days: Some(0),
        artifacts_days: Some(0),
        agent_history_days: Some(0),
    };

    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The scripts that override a period, by id, plus those whose settings do not decode
/// (as errors naming the row). One query over the scripts table; no job is read.
pub async fn overrides(
    db: &Db,
) -> sqlx::Result<Vec<(String, Result<ScriptRetention, CorruptRow>)>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, settings FROM scripts")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, settings)| {
            let decoded: Result<ScriptRetention, _> = json("scripts", &id, "settings", &settings);
            (!decoded.as_ref().is_ok_and(ScriptRetention::is_default)).then_some((id, decoded))
        })
        .collect())
}
