//! `/jobs/{id}`: the job page with its live log, cancel and re-run (the list is
//! `job_history`), over `services::jobs` and `services::job_log`.

use super::csrf;
use super::filters::encode;
use super::page::{Viewer, html, no_store, see_other, when};
use super::shared::CsrfOnly;
use crate::api::seq_page::SeqQuery;
use crate::db::{self, jobs::JobRow};
use crate::error::{ApiError, PageError};
use crate::jobs::events::LogEntry;
use crate::services;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::job::{JobView, LogLine};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

/// `?log_after=SEQ`: the page of a finished job's log after that entry.
#[derive(Deserialize)]
pub struct LogPage {
    #[serde(default)]
    log_after: i64,
}

/// How a job failed, as `JobRow::failure` tells it.
#[derive(Deserialize, Default)]
struct Failure {
    kind: Option<String>,
    message: Option<String>,
    traceback: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(page): Query<LogPage>,
) -> Result<Response, PageError> {
    let p = &viewer.principal;
    let j = services::jobs::get(&state, p, &id).await?;
    let finished = db::jobs::FINAL_STATUSES.contains(&j.status.as_str());
    let script_name = match services::scripts::load_owned(&state, p, &j.script_id).await {
        Ok(s) => s.name,
        Err(_) => "(deleted script)".to_owned(),
    };
    // A running job's log arrives over the event stream; a finished one is shown a
    // page at a time (the API's pages), with a link to the next.
    let log_after = page.log_after.max(0);
    let (log, log_next) = if finished {
        let query = SeqQuery {
            after: Some(log_after),
            limit: None,
        };
        let (after, limit) = query.resolve(state.config.quotas.events_per_page)?;
        let page = services::jobs::log_page(&state, p, &id, after, limit).await?;
        let next = page
            .more
            .then(|| page.rows.last().map(|l| l.seq))
            .flatten()
            .map(|seq| format!("/jobs/{}?log_after={seq}", encode(&id)));
        let lines = page
            .rows
            .into_iter()
            .map(|row| {
                let l = LogEntry::from(row);
                LogLine {
                    seq: l.seq,
                    at: l.at,
                    stream: l.stream,
                    level: l.level,
                    message: l.message,
                    fields: l.fields.filter(|f| !f.is_null()),
                }
            })
            .collect();
        (lines, next)
    } else {
        (Vec::new(), None)
    };
    // Shown as the API shows them: a job whose arguments do not decode ended naming
    // its row, and its page still opens.
    let args = j.arguments().unwrap_or_else(|_| json!({}));
    let result = j.returned()?;
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let error: Failure = j
        .failure()
        .and_then(|e| serde_json::from_value(e).ok())
        .unwrap_or_default();
    let succeeded = j.status == "succeeded";
    let view = JobView {
        script_name,
        script_version: j.script_version,
        finished,
        attempt: j.attempt,
        max_attempts: j.max_attempts,
        args: pretty(&args),
        args_json: args,
        base_url: viewer.base_url.clone(),
        result: succeeded.then(|| pretty(result.as_ref().unwrap_or(&Value::Null))),
        error_kind: error.kind,
        error_message: error.message,
        traceback: error.traceback,
        progress: j.progress.or_else(|| succeeded.then_some(1.0)),
        progress_message: j.progress_message.clone(),
        duration: j.duration_ms.map(|ms| format!("{ms} ms")),
        cpu: cpu_text(&j),
        created_at: when(j.created_at),
        log,
        log_after,
        log_next,
        trigger: j.trigger_kind,
        script_id: j.script_id,
        status: j.status,
        id: j.id,
    };
    Ok(html(automa_ui::pages::job::page(
        &viewer.ctx(Nav::Jobs),
        &view,
    )))
}

/// The CPU a finished job used: the measured time, and the fuel in the CPU seconds its
/// budget is counted in when the server counts fuel.
fn cpu_text(j: &JobRow) -> Option<String> {
    let ms = j.cpu_time_ms?;
    Some(match (j.fuel_consumed, j.cpu_seconds()) {
        (Some(_), Some(s)) => format!("CPU {ms} ms ({s:.2} CPU s of fuel)"),
        _ => format!("CPU {ms} ms"),
    })
}

/// The job's live log for `EventSource` (which cannot send an `Authorization` header):
/// the session's user follows it, as the API's SSE stream does.
pub async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let items = services::job_log::follow(state, viewer.principal, id, 0).await?;
    Ok(no_store(crate::api::jobs::log_events(items)))
}

pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    match services::jobs::cancel(&state, &viewer.actor(), &id).await {
        // Cancelling a job that has just finished is not an error for the user.
        Ok(_) | Err(ApiError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&format!("/jobs/{}", encode(&id))))
}

/// Runs the job's script again with the same arguments and version.
pub async fn rerun(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let j = services::jobs::get(&state, &viewer.principal, &id).await?;
    let request = services::jobs::RunRequest {
        version: Some(j.script_version),
        args: j.arguments()?,
        wait: false,
    };
    let run = services::jobs::run(&state, &viewer.actor(), &j.script_id, request).await?;
    Ok(see_other(&format!("/jobs/{}", encode(&run.job.id))))
}
