//! Jobs: history with filters, one job's outcome, its logs (JSON or a live SSE
//! stream), cancellation and artifacts.

use super::seq_page::{self, SeqQuery};
use super::{ApiJson, ApiPath, ApiQuery, Page, page_limit};
use crate::auth::extract::{AuthUser, ClientIp};
use crate::db::{decode::CorruptRow, jobs::JobRow, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::jobs::events::LogEntry;
use crate::services::job_log::LogItem;
use crate::services::{self, Actor};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::convert::Infallible;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(job_logs))
        .routes(routes!(cancel_job))
        .routes(routes!(list_artifacts))
        .routes(routes!(download_artifact))
}

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub script_id: String,
    pub script_version: i64,
    /// `queued`, `running`, `succeeded`, `failed`, `timed_out`, `memory_exceeded`,
    /// `cpu_exceeded` (its CPU budget, `settings.cpu_seconds`, ran out), `cancelled` or
    /// `interrupted`.
    pub status: String,
    /// `manual`, `schedule` or `webhook`.
    pub trigger: String,
    #[schema(value_type = Object)]
    pub args: Value,
    pub attempt: i64,
    pub max_attempts: i64,
    /// `main()`'s return value, once succeeded: any JSON value.
    pub result: Option<Value>,
    /// `kind`, `message` and `traceback` of a failure.
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub progress: Option<f64>,
    pub progress_message: Option<String>,
    pub duration_ms: Option<i64>,
    pub peak_memory_bytes: Option<i64>,
    pub host_calls: Option<i64>,
    /// CPU time the interpreter used, measured by the runtime, in milliseconds.
    pub cpu_time_ms: Option<i64>,
    /// Fuel the run used (about one unit per WebAssembly instruction), when the
    /// server counts fuel (`deterministic_cpu`): the count its CPU budget is then held to.
    pub fuel_consumed: Option<i64>,
    /// The CPU seconds the run used as `settings.cpu_seconds` counts them
    /// (`fuel_consumed` in CPU seconds when there is one, else `cpu_time_ms`).
    pub cpu_seconds: Option<f64>,
    /// The node that runs (or ran) the latest attempt (`automa serve --node-id`).
    pub node: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// A result that does not decode is an error naming the row. Arguments that do not
/// decode show as `{}`: the job ended `interrupted` with an error naming that row
/// (`jobs::worker`), and it must stay readable to tell why.
impl TryFrom<JobRow> for JobView {
    type Error = CorruptRow;
    fn try_from(j: JobRow) -> Result<Self, CorruptRow> {
        let error = j.failure();
        let cpu_seconds = j.cpu_seconds();
        Ok(Self {
            args: j.arguments().unwrap_or_else(|_| json!({})),
            result: j.returned()?,
            error,
            created_at: rfc3339(j.created_at),
            started_at: j.started_at.map(rfc3339),
            finished_at: j.finished_at.map(rfc3339),
            id: j.id,
            script_id: j.script_id,
            script_version: j.script_version,
            status: j.status,
            trigger: j.trigger_kind,
            attempt: j.attempt,
            max_attempts: j.max_attempts,
            stdout: j.stdout,
            stderr: j.stderr,
            progress: j.progress,
            progress_message: j.progress_message,
            duration_ms: j.duration_ms,
            peak_memory_bytes: j.peak_memory_bytes,
            host_calls: j.host_calls,
            cpu_time_ms: j.cpu_time_ms,
            node: j.worker_id,
            fuel_consumed: j.fuel_consumed,
            cpu_seconds,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    pub status: Option<String>,
    pub script_id: Option<String>,
    /// Only jobs created at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Job history, newest first: your jobs, or everyone's for an admin.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = Page<JobView>), (status = 400, body = ErrorBody)))]
async fn list_jobs(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> ApiResult<ApiJson<Page<JobView>>> {
    let limit = page_limit(q.limit)?;
    let filter = services::jobs::Filter {
        status: q.status.as_deref(),
        script_id: q.script_id.as_deref(),
        since: q.since.as_deref(),
    };
    let rows = services::jobs::list(&state, &p, &filter, q.cursor.as_deref(), limit).await?;
    let views = rows
        .into_iter()
        .map(JobView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiJson(Page::from_rows(
        views,
        limit,
        |j| j.id.clone(),
        |j| j,
    )))
}

/// One job: status, result, error with traceback, output, progress and resources used.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
async fn get_job(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<JobView>> {
    let row = services::jobs::get(&state, &p, &id).await?;
    Ok(ApiJson(row.try_into()?))
}

/// The job's log, oldest first, a page at a time: `?after=` the last `seq` read and
/// `?limit=`; a page holds at most the server's `events_per_page` entries and about
/// 8 MiB, and when more follow the `Link` header names the next page (`rel="next"`).
/// With `Accept: text/event-stream` it is a live SSE stream: stored entries after
/// `after` first, then new ones as they come (event `log`), and a final `end` event
/// with the job's status.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/logs", tag = "jobs",
    params(("id" = String, Path, description = "job id"), SeqQuery),
    responses(
        (status = 200, body = Vec<LogEntry>, headers(
            ("link" = String, description = "`<next page>; rel=\"next\"` when more entries follow"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "too many live streams open", body = ErrorBody)))]
async fn job_logs(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SeqQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (after, limit) = q.resolve(state.config.quotas.events_per_page)?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !wants_stream {
        let page = services::jobs::log_page(&state, &p, &id, after, limit).await?;
        let next = page.more.then(|| {
            let last = page.rows.last().map_or(after, |r| r.seq);
            seq_page::next_url(&format!("/api/v1/jobs/{id}/logs"), last, limit, &[])
        });
        let entries: Vec<LogEntry> = page.rows.into_iter().map(LogEntry::from).collect();
        return Ok(seq_page::respond(entries, next));
    }
    let items = services::job_log::follow(state, p, id, after).await?;
    Ok(log_events(items))
}

/// A followed job log as server-sent events (`log` with the entry, its `seq` as the
/// id; a final `end` with the job's status), for the API and the dashboard.
pub fn log_events(items: impl Stream<Item = LogItem> + Send + 'static) -> Response {
    let events = items.map(|item| {
        Ok::<_, Infallible>(match item {
            LogItem::Entry(entry) => Event::default()
                .event("log")
                .id(entry.seq.to_string())
                .json_data(&entry)
                .unwrap_or_else(|_| Event::default().event("log")),
            LogItem::End(status) => Event::default()
                .event("end")
                .data(json!({ "status": status }).to_string()),
        })
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Cancel a queued or running job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn cancel_job(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<JobView>> {
    let row = services::jobs::cancel(&state, &Actor::new(&p, ip), &id).await?;
    Ok(ApiJson(row.try_into()?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactView {
    pub name: String,
    pub size: u64,
}

/// Files the job kept in `/artifacts` or published with `automa.files.publish`.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/artifacts", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = Vec<ArtifactView>), (status = 404, body = ErrorBody)))]
async fn list_artifacts(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<ArtifactView>>> {
    let items = services::jobs::artifacts(&state, &p, &id).await?;
    Ok(ApiJson(
        items
            .into_iter()
            .map(|a| ArtifactView {
                name: a.name,
                size: a.size,
            })
            .collect(),
    ))
}

/// Download one artifact.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/artifacts/{name}", tag = "jobs",
    params(("id" = String, Path, description = "job id"), ("name" = String, Path, description = "artifact name")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn download_artifact(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath((id, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let (file, size) = services::jobs::artifact(&state, &p, &id, &name).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        super::artifact_stream::body(file),
    )
        .into_response())
}
