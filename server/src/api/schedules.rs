//! Schedules: run a script once at a time, every N seconds, or by cron in a time
//! zone, with arguments, an overlap policy and a catch-up policy after downtime.

mod preview;

use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::audit::AuditEvent;
use crate::auth::extract::{AuthUser, ClientIp};
use crate::auth::{Principal, policy};
use crate::db::{self, now_ms, rfc3339, schedules::ScheduleRow};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::jobs::params;
use crate::schedules::spec::Spec;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

const PREVIEW_RUNS: usize = 5;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, update_schedule, delete_schedule))
        .routes(routes!(preview::preview_schedule))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub id: String,
    pub script_id: String,
    /// `once`, `interval` or `cron`.
    pub kind: String,
    pub at: Option<String>,
    pub every_seconds: Option<i64>,
    pub cron: Option<String>,
    pub timezone: String,
    #[schema(value_type = Object)]
    pub args: Value,
    pub enabled: bool,
    /// `skip` (no new run while the previous one is queued or running) or `queue`.
    pub overlap: String,
    /// After downtime: `skip` the missed runs, or `run_once`.
    pub catch_up: String,
    pub next_run_at: Option<String>,
    /// The next five run times; for a disabled schedule, when it would run if enabled.
    pub next_runs: Vec<String>,
    /// Whether `next_runs` will happen: the schedule is enabled and has a next run.
    pub active: bool,
    pub last_run_at: Option<String>,
    pub last_job_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn view(row: ScheduleRow) -> ScheduleView {
    // Disabled schedules get their runs too, so a pattern can be checked before it
    // is switched on; `active` tells the two apart.
    let next_runs = match crate::schedules::spec_of(&row) {
        Ok(spec) => spec
            .preview(now_ms(), PREVIEW_RUNS)
            .into_iter()
            .map(rfc3339)
            .collect(),
        Err(_) => Vec::new(),
    };
    let active = row.enabled != 0 && row.next_run_at.is_some();
    ScheduleView {
        at: row.at.map(rfc3339),
        args: serde_json::from_str(&row.args).unwrap_or_else(|_| json!({})),
        enabled: row.enabled != 0,
        next_run_at: row.next_run_at.map(rfc3339),
        last_run_at: row.last_run_at.map(rfc3339),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        id: row.id,
        script_id: row.script_id,
        kind: row.kind,
        every_seconds: row.every_seconds,
        cron: row.cron,
        timezone: row.timezone,
        overlap: row.overlap,
        catch_up: row.catch_up,
        next_runs,
        active,
        last_job_id: row.last_job_id,
    }
}

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

#[derive(Debug, Deserialize, ToSchema)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    pub script_id: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Everything a schedule's fields must satisfy; returns the first run time.
async fn check(
    state: &AppState,
    p: &Principal,
    f: &db::schedules::ScheduleFields<'_>,
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
    let args: Value = serde_json::from_str(f.args).unwrap_or_else(|_| json!({}));
    params::validate_for(&version, &args)?;
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

fn parse_at(at: Option<&str>) -> ApiResult<Option<i64>> {
    at.map(|s| {
        db::parse_rfc3339(s)
            .ok_or_else(|| ApiError::Validation("at must be an RFC 3339 time".into()))
    })
    .transpose()
}

fn args_text(args: Option<&Value>) -> ApiResult<String> {
    match args {
        None | Some(Value::Null) => Ok("{}".into()),
        Some(v @ Value::Object(_)) => Ok(v.to_string()),
        Some(_) => Err(ApiError::Validation("args must be a JSON object".into())),
    }
}

/// Create a schedule for one of your scripts.
#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = CreateSchedule,
    responses((status = 201, body = ScheduleView), (status = 422, body = ErrorBody)))]
async fn create_schedule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateSchedule>,
) -> ApiResult<(StatusCode, ApiJson<ScheduleView>)> {
    let args = args_text(req.args.as_ref())?;
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
    let next = check(&state, &p, &fields, created_at).await?;
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
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "schedule.create")
                .target(format!("schedule:{}", row.id))
                .ip(ip)
                .details(json!({"script_id": row.script_id, "kind": row.kind})),
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(view(row))))
}

/// Your schedules (everyone's for an admin).
#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules", params(ScheduleQuery),
    responses((status = 200, body = Page<ScheduleView>), (status = 400, body = ErrorBody)))]
async fn list_schedules(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<ScheduleQuery>,
) -> ApiResult<ApiJson<Page<ScheduleView>>> {
    let limit = page_limit(q.limit)?;
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    let rows = db::schedules::list(
        &state.db,
        owner,
        q.script_id.as_deref(),
        q.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(ApiJson(Page::from_rows(
        rows,
        limit,
        |r| r.id.clone(),
        view,
    )))
}

async fn load_owned(state: &AppState, p: &Principal, id: &str) -> ApiResult<ScheduleRow> {
    let row = db::schedules::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(p, &row.owner_id)?;
    Ok(row)
}

/// One schedule with its next run times.
#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "schedule id")),
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody)))]
async fn get_schedule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ScheduleView>> {
    Ok(ApiJson(view(load_owned(&state, &p, &id).await?)))
}

/// Change a schedule (enable/disable, timing, arguments, policies).
#[utoipa::path(patch, path = "/api/v1/schedules/{id}", tag = "schedules", request_body = UpdateSchedule,
    params(("id" = String, Path, description = "schedule id")),
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn update_schedule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateSchedule>,
) -> ApiResult<ApiJson<ScheduleView>> {
    let row = load_owned(&state, &p, &id).await?;
    let args = match &req.args {
        Some(a) => args_text(Some(a))?,
        None => row.args.clone(),
    };
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
    let next = check(&state, &p, &fields, row.created_at).await?;
    let updated = db::schedules::update(&state.db, &id, &fields, next)
        .await?
        .ok_or(ApiError::NotFound)?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "schedule.update")
                .target(format!("schedule:{id}"))
                .ip(ip)
                .details(json!({"enabled": updated.enabled != 0})),
        )
        .await?;
    Ok(ApiJson(view(updated)))
}

/// Delete a schedule; jobs it started stay in the history.
#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "schedule id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_schedule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    load_owned(&state, &p, &id).await?;
    db::schedules::delete(&state.db, &id).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "schedule.delete")
                .target(format!("schedule:{id}"))
                .ip(ip),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
