//! Schedules: run a script once at a time, every N seconds, or by cron in a time zone;
//! each operation validated (the pattern, the policies, the arguments against the
//! script's parameters), authorized and audited once for the API and the dashboard.

use super::Actor;
use crate::auth::{Principal, policy};
use crate::db::{self, now_ms, schedules::ScheduleRow};
use crate::error::{ApiError, ApiResult};
use crate::jobs::params;
use crate::schedules::spec::Spec;
use crate::state::AppState;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchedule {
    pub script_id: String,
    /// `once`, `interval` or `cron`.
    pub kind: String,
    /// For `once`: RFC 3339 time.
    pub at: Option<String>,
    /// For `interval`.
    pub every_seconds: Option<i64>,
    /// For `cron`: 5 fields (minute first) or 6 (seconds first).
    pub cron: Option<String>,
    /// IANA time zone of a cron pattern (default UTC).
    pub timezone: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub args: Option<Value>,
    pub enabled: Option<bool>,
    pub overlap: Option<String>,
    pub catch_up: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchedule {
    pub kind: Option<String>,
    pub at: Option<String>,
    pub every_seconds: Option<i64>,
    pub cron: Option<String>,
    pub timezone: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub args: Option<Value>,
    pub enabled: Option<bool>,
    pub overlap: Option<String>,
    pub catch_up: Option<String>,
}

/// The schedule `id` when the caller may use it (others are told it does not exist).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<ScheduleRow> {
    load_owned(state, p, id).await
}

/// The caller's schedules (an admin's: everyone's), of one script or all, a page
/// after `cursor`.
pub async fn list(
    state: &AppState,
    p: &Principal,
    script_id: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<ScheduleRow>> {
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    Ok(db::schedules::list(&state.db, owner, script_id, cursor, limit).await?)
}

/// Create a schedule for one of the caller's scripts.
pub async fn create(
    state: &AppState,
    actor: &Actor<'_>,
    req: CreateSchedule,
) -> ApiResult<ScheduleRow> {
    let p = actor.principal;
    let args_value = args_object(req.args.as_ref())?;
    let args = args_value.to_string();
    let fields = db::schedules::ScheduleFields {
        script_id: &req.script_id,
        kind: &req.kind,
        at: parse_at(req.at.as_deref())?,
        every_seconds: req.every_seconds,
        cron: req.cron.as_deref(),
        timezone: req.timezone.as_deref().unwrap_or("UTC"),
        args: &args,
        enabled: req.enabled.unwrap_or(true),
        overlap: req.overlap.as_deref().unwrap_or("skip"),
        catch_up: req.catch_up.as_deref().unwrap_or("run_once"),
    };
    let (id, created_at) = db::schedules::new_identity();
    let next = check(state, p, &fields, &args_value, created_at).await?;
    let script = db::scripts::find(&state.db, &req.script_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let row = db::schedules::insert(
        &state.db,
        (&id, created_at),
        &script.owner_id,
        &fields,
        next,
    )
    .await?;
    let entry = actor
        .audit("schedule.create", format!("schedule:{}", row.id))
        .details(json!({"script_id": row.script_id, "kind": row.kind}));
    state.audit.append(entry).await?;
    Ok(row)
}

/// Change a schedule (enable/disable, timing, arguments, policies).
pub async fn update(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    req: UpdateSchedule,
) -> ApiResult<ScheduleRow> {
    let p = actor.principal;
    let row = load_owned(state, p, id).await?;
    // Kept arguments that do not decode are an error naming the row, not `{}`.
    let args_value = match &req.args {
        Some(a) => args_object(Some(a))?,
        None => row.arguments()?,
    };
    let args = args_value.to_string();
    let at = match &req.at {
        Some(a) => parse_at(Some(a))?,
        None => row.at,
    };
    let fields = db::schedules::ScheduleFields {
        script_id: &row.script_id,
        kind: req.kind.as_deref().unwrap_or(&row.kind),
        at,
        every_seconds: req.every_seconds.or(row.every_seconds),
        cron: req.cron.as_deref().or(row.cron.as_deref()),
        timezone: req.timezone.as_deref().unwrap_or(&row.timezone),
        args: &args,
        enabled: req.enabled.unwrap_or(row.enabled != 0),
        overlap: req.overlap.as_deref().unwrap_or(&row.overlap),
        catch_up: req.catch_up.as_deref().unwrap_or(&row.catch_up),
    };
    let next = check(state, p, &fields, &args_value, row.created_at).await?;
    let updated = db::schedules::update(&state.db, id, &fields, next)
        .await?
        .ok_or(ApiError::NotFound)?;
    let entry = actor
        .audit("schedule.update", format!("schedule:{id}"))
        .details(json!({"enabled": updated.enabled != 0}));
    state.audit.append(entry).await?;
    Ok(updated)
}

/// Delete a schedule; jobs it started stay in the history.
pub async fn delete(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<()> {
    load_owned(state, actor.principal, id).await?;
    db::schedules::delete(&state.db, id).await?;
    let entry = actor.audit("schedule.delete", format!("schedule:{id}"));
    state.audit.append(entry).await?;
    Ok(())
}

async fn load_owned(state: &AppState, p: &Principal, id: &str) -> ApiResult<ScheduleRow> {
    let row = db::schedules::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(p, &row.owner_id)?;
    Ok(row)
}

/// Everything a schedule's fields must satisfy; returns the first run time.
async fn check(
    state: &AppState,
    p: &Principal,
    f: &db::schedules::ScheduleFields<'_>,
    args: &Value,
    anchor: i64,
) -> ApiResult<Option<i64>> {
    let script = db::scripts::find(&state.db, f.script_id)
        .await?
        .ok_or_else(|| ApiError::Validation("script_id names no script of yours".into()))?;
    if policy::require_owner_or_admin(p, &script.owner_id).is_err() {
        return Err(ApiError::Validation(
            "script_id names no script of yours".into(),
        ));
    }
    if !matches!(f.overlap, "skip" | "queue") {
        return Err(ApiError::Validation("overlap must be skip or queue".into()));
    }
    if !matches!(f.catch_up, "skip" | "run_once") {
        return Err(ApiError::Validation(
            "catch_up must be skip or run_once".into(),
        ));
    }
    let spec = Spec::parse(f.kind, f.at, f.every_seconds, f.cron, f.timezone, anchor)
        .map_err(ApiError::Validation)?;
    let version = db::scripts::version(&state.db, &script.id, script.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    params::validate_for(&version.parameter_schema()?, args)?;
    let next = spec.next_after(now_ms());
    match (next, f.kind) {
        (Some(_), _) => {}
        // A cron pattern that never fires is refused even while disabled.
        (None, "cron") => {
            return Err(ApiError::Validation(format!(
                "invalid cron pattern {:?}: it never fires",
                f.cron.unwrap_or_default()
            )));
        }
        (None, _) if f.enabled => {
            return Err(ApiError::Validation(
                "the schedule would never run (is `at` in the past?)".into(),
            ));
        }
        (None, _) => {}
    }
    Ok(if f.enabled { next } else { None })
}

pub fn parse_at(at: Option<&str>) -> ApiResult<Option<i64>> {
    at.map(|s| {
        db::parse_rfc3339(s)
            .ok_or_else(|| ApiError::Validation("at must be an RFC 3339 time".into()))
    })
    .transpose()
}

/// The arguments a caller gave: an object, or none (`{}`).
fn args_object(args: Option<&Value>) -> ApiResult<Value> {
    match args {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(ApiError::Validation("args must be a JSON object".into())),
    }
}
