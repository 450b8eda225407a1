//! What a run of a stored script is built from, read in one query: the script, one of
//! its versions and the quota overrides of the user it runs for. Queueing a run and
//! starting it each need all three; three reads were three round trips per job.

use super::Db;
use super::scripts::{ScriptRow, VersionRow};
use super::user_quotas::UserQuotaRow;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A script, the version asked for (`None`: the script has no such version) and the
/// quota overrides of the user whose ceilings apply.
#[derive(Debug)]
pub struct RunSource {
    pub script: ScriptRow,
    pub version: Option<VersionRow>,
    pub quotas: UserQuotaRow,
}

/// `script_id` with its version `version` (`None`: its current one) and the overrides
/// of `user` (`None`: the script's owner); `None` when the script does not exist.
pub async fn find(
    db: &Db,
    script_id: &str,
    version: Option<i64>,
    user: Option<&str>,
) -> sqlx::Result<Option<RunSource>> {
    sqlx::query_as(
        "SELECT s.id, s.owner_id, s.name, s.description, s.tags, s.current_version, \
         s.settings, s.max_concurrency, s.capabilities, s.expose_as_tool, s.created_at, \
         s.updated_at, v.version AS v_version, v.source AS v_source, \
         v.parameters AS v_parameters, v.has_main AS v_has_main, v.doc AS v_doc, \
         v.created_by AS v_created_by, v.created_at AS v_created_at, \
         v.requirements AS v_requirements, v.env_hash AS v_env_hash, q.memory_mb, \
         q.timeout_seconds, q.agents, q.running_jobs, q.cpu_seconds, q.data_mb, \
         q.artifacts_mb, q.tmp_mb, q.agent_cpu_seconds_per_minute \
         FROM scripts s \
         LEFT JOIN script_versions v ON v.script_id = s.id \
         AND v.version = COALESCE($2, s.current_version) \
         LEFT JOIN user_quotas q ON q.user_id = COALESCE($3, s.owner_id) \
         WHERE s.id = $1",
    )
    .bind(script_id)
    .bind(version)
    .bind(user)
    .fetch_optional(db)
    .await
}

impl<'r> sqlx::FromRow<'r, AnyRow> for RunSource {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        let script = ScriptRow::from_row(row)?;
        // The quota columns are NULL both for an override left unset and for no row.
        let quotas = UserQuotaRow::from_row(row)?;
        let version = match row.try_get::<Option<i64>, _>("v_version")? {
            None => None,
            Some(number) => Some(VersionRow {
                script_id: script.id.clone(),
                version: number,
                source: row.try_get("v_source")?,
                parameters: row.try_get("v_parameters")?,
                has_main: row.try_get("v_has_main")?,
                doc: row.try_get("v_doc")?,
                created_by: row.try_get("v_created_by")?,
                created_at: row.try_get("v_created_at")?,
                requirements: row.try_get("v_requirements")?,
                env_hash: row.try_get("v_env_hash")?,
            }),
        };
        Ok(Self {
            script,
            version,
            quotas,
        })
    }
}
