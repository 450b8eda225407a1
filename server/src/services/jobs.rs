//! Jobs: running a script (queued as a job, optionally waited for), reading a job and
//! cancelling it, each authorized and audited once for the API, the dashboard and MCP.

use super::Actor;
use crate::api::seq_page::{self, SeqPage};
use crate::auth::{Principal, policy};
use crate::db::{self, job_status::JobStatus, jobs::JobRow, jobs::LogRow, scripts::ScriptRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};
use std::time::Duration;

/// A run as a caller asks for it.
pub struct RunRequest {
    /// `None`: the script's current version.
    pub version: Option<i64>,
    /// The arguments of `main()` (`null`: none).
    pub args: Value,
    /// Wait for the job to end (within its own time budget) before answering.
    pub wait: bool,
}

/// A queued job, and whether it has ended (only ever with `wait`).
pub struct Run {
    pub job: JobRow,
    pub finished: bool,
}

/// What the history is narrowed to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    /// A status's stored spelling (`db::job_status::JobStatus`).
    pub status: Option<&'a str>,
    pub script_id: Option<&'a str>,
    /// Only jobs created at or after this RFC 3339 time.
    pub since: Option<&'a str>,
}

/// Job history, newest first: the caller's jobs (an admin's: everyone's), a page
/// before `cursor` of at most `limit + 1` rows (a caller learns whether more follow).
/// A status or time the history cannot be filtered by is a bad request.
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: &Filter<'_>,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<JobRow>> {
    if let Some(status) = filter.status
        && JobStatus::parse(status).is_none()
    {
        let all: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::BadRequest(format!(
            "status must be one of {}",
            all.join(", ")
        )));
    }
    let since = filter
        .since
        .map(|s| {
            db::parse_rfc3339(s)
                .ok_or_else(|| ApiError::BadRequest("since must be an RFC 3339 time".into()))
        })
        .transpose()?;
    let filter = db::jobs::JobFilter {
        owner: (!p.is_admin()).then_some(p.user_id.as_str()),
        script_id: filter.script_id,
        status: filter.status,
        since,
        before: cursor,
    };
    Ok(db::jobs::list(&state.db, &filter, limit).await?)
}

/// A page of the job's stored log after `after`: at most `limit` entries and about
/// `seq_page::PAGE_BYTES` of them, and whether more follow.
pub async fn log_page(
    state: &AppState,
    p: &Principal,
    id: &str,
    after: i64,
    limit: i64,
) -> ApiResult<SeqPage<LogRow>> {
    get(state, p, id).await?;
    Ok(seq_page::read(
        after,
        limit,
        |r: &LogRow| r.seq,
        |r| r.message.len(),
        |after, n| db::jobs::logs_after(&state.db, id, after, n),
    )
    .await?)
}

/// The job `id` when the caller may see it (others are told it does not exist).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<JobRow> {
    let row = db::jobs::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(p, &row.owner_id)?;
    Ok(row)
}

/// Queue a run of `script` (the caller's, checked here) with arguments checked
/// against the version's parameters; audited as `script.run`.
pub async fn run(
    state: &AppState,
    actor: &Actor<'_>,
    script_id: &str,
    request: RunRequest,
) -> ApiResult<Run> {
    // The script, its version and its owner's ceilings in one read.
    let mut source = db::run_source::find(&state.db, script_id, request.version, None)
        .await?
        .ok_or(ApiError::NotFound)?;
    let read_at = std::time::Instant::now();
    let script = &source.script;
    policy::require_owner_or_admin(actor.principal, &script.owner_id)?;
    let number = request.version.unwrap_or(script.current_version);
    let version = source
        .version
        .take()
        .ok_or_else(|| ApiError::Validation(format!("the script has no version {number}")))?;
    let args = if request.args.is_null() {
        json!({})
    } else {
        request.args
    };
    // Listening from before the job exists, the wait need not read it first.
    let waiting = match request.wait {
        true => Some((state.jobs.finished(), wait_budget(script)?)),
        false => None,
    };
    let job = state
        .jobs
        .submit_source(source, read_at, version, &args, "manual")
        .await?;
    let entry = actor
        .audit("script.run", format!("job:{}", job.id))
        .details(json!({"script_id": script_id, "version": number}));
    let audited = state.audit.append(entry);
    let Some((finished, budget)) = waiting else {
        audited.await?;
        return Ok(Run {
            job,
            finished: false,
        });
    };
    // The job is queued either way; its audit entry is written while it runs, and the
    // answer waits for both (a failed audit write still fails the request).
    let (audited, waited) =
        tokio::join!(audited, state.jobs.wait_queued(finished, &job.id, budget));
    audited?;
    let job = waited?.ok_or(ApiError::NotFound)?;
    let finished = db::jobs::FINAL_STATUSES.contains(&job.status.as_str());
    Ok(Run { job, finished })
}

/// How long a caller waits for a run of `script`: every attempt's timeout and backoff,
/// and a margin for queueing.
fn wait_budget(script: &ScriptRow) -> ApiResult<Duration> {
    let settings = script.run_settings()?;
    let attempts = settings.retries + 1;
    Ok(
        Duration::from_secs(settings.timeout_seconds + settings.retry_backoff_seconds) * attempts
            + Duration::from_secs(30),
    )
}

/// Cancel a queued or running job; the job as it is once it ended (or after 5 s).
pub async fn cancel(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<JobRow> {
    let job = get(state, actor.principal, id).await?;
    if db::jobs::FINAL_STATUSES.contains(&job.status.as_str()) {
        return Err(ApiError::Conflict(format!(
            "the job already ended ({})",
            job.status
        )));
    }
    state.jobs.cancel(id).await?;
    state
        .audit
        .append(actor.audit("job.cancel", format!("job:{id}")))
        .await?;
    state
        .jobs
        .wait(id, Duration::from_secs(5))
        .await?
        .ok_or(ApiError::NotFound)
}

/// A file a job kept in `/artifacts` or published with `automa.files.publish`.
pub struct Artifact {
    pub name: String,
    pub size: u64,
}

/// The job's artifacts by name.
pub async fn artifacts(state: &AppState, p: &Principal, id: &str) -> ApiResult<Vec<Artifact>> {
    get(state, p, id).await?;
    let mut items = Vec::new();
    if let Ok(entries) = std::fs::read_dir(state.jobs.artifacts_dir(id)) {
        for entry in entries.flatten() {
            let meta = entry.metadata().map_err(anyhow::Error::from)?;
            if meta.is_file() {
                items.push(Artifact {
                    name: entry.file_name().to_string_lossy().into_owned(),
                    size: meta.len(),
                });
            }
        }
    }
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(items)
}

/// One artifact of the job, opened, with its size; a name that leaves the job's
/// directory (`..`, an absolute path, a symlink out) is not found.
pub async fn artifact(
    state: &AppState,
    p: &Principal,
    id: &str,
    name: &str,
) -> ApiResult<(std::fs::File, u64)> {
    get(state, p, id).await?;
    let dir = cap_std::fs::Dir::open_ambient_dir(
        state.jobs.artifacts_dir(id),
        cap_std::ambient_authority(),
    )
    .map_err(|_| ApiError::NotFound)?;
    let file = dir.open(name).map_err(|_| ApiError::NotFound)?.into_std();
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok((file, meta.len())),
        _ => Err(ApiError::NotFound),
    }
}
