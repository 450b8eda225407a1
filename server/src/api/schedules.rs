//! Schedules: run a script once at a time, every N seconds, or by cron in a time
//! zone, with arguments, an overlap policy and a catch-up policy after downtime.

mod preview;

use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::auth::extract::{AuthUser, ClientIp};
use crate::db::{decode::CorruptRow, now_ms, rfc3339, schedules::ScheduleRow};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, Actor};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use services::schedules::parse_at;
pub use services::schedules::{CreateSchedule, UpdateSchedule};
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

/// Stored arguments that do not decode are an error naming the row.
fn view(row: ScheduleRow) -> Result<ScheduleView, CorruptRow> {
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
    Ok(ScheduleView {
        args: row.arguments()?,
        at: row.at.map(rfc3339),
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
    })
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

/// Create a schedule for one of your scripts.
#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = CreateSchedule,
    responses((status = 201, body = ScheduleView), (status = 422, body = ErrorBody)))]
async fn create_schedule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateSchedule>,
) -> ApiResult<(StatusCode, ApiJson<ScheduleView>)> {
    let row = services::schedules::create(&state, &Actor::new(&p, ip), req).await?;
    Ok((StatusCode::CREATED, ApiJson(view(row)?)))
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
    let rows = services::schedules::list(
        &state,
        &p,
        q.script_id.as_deref(),
        q.cursor.as_deref(),
        limit,
    )
    .await?;
    let views = rows.into_iter().map(view).collect::<Result<Vec<_>, _>>()?;
    Ok(ApiJson(Page::from_rows(
        views,
        limit,
        |s| s.id.clone(),
        |s| s,
    )))
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
    let row = services::schedules::get(&state, &p, &id).await?;
    Ok(ApiJson(view(row)?))
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
    let row = services::schedules::update(&state, &Actor::new(&p, ip), &id, req).await?;
    Ok(ApiJson(view(row)?))
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
    services::schedules::delete(&state, &Actor::new(&p, ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
