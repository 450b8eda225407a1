//! `/jobs/{id}`: the job page with its live log, cancel and re-run (the list is
//! `job_history`).

use super::client::encode;
use super::csrf;
use super::page::{Viewer, html, see_other, when_text};
use crate::db;
use crate::error::PageError;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::job::{JobView, LogLine};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// `?log_after=SEQ`: the page of a finished job's log after that entry.
#[derive(Deserialize)]
pub struct LogPage {
    #[serde(default)]
    log_after: i64,
}

pub async fn show(
    viewer: Viewer,
    Path(id): Path<String>,
    Query(page): Query<LogPage>,
) -> Result<Response, PageError> {
    let j = viewer
        .api
        .get(&format!("/api/v1/jobs/{}", encode(&id)))
        .await?;
    let status = text(&j["status"]);
    let finished = db::jobs::FINAL_STATUSES.contains(&status.as_str());
    let script_id = text(&j["script_id"]);
    let script_name = match viewer
        .api
        .call(
            Method::GET,
            &format!("/api/v1/scripts/{}", encode(&script_id)),
            None,
        )
        .await?
    {
        Ok(s) => text(&s["name"]),
        Err(_) => "(deleted script)".to_owned(),
    };
    // A running job's log arrives over the event stream; a finished one is shown a
    // page at a time (the API's pages), with a link to the next.
    let log_after = page.log_after.max(0);
    let (log, log_next) = if finished {
        let (entries, next) = viewer
            .api
            .history_page(&format!(
                "/api/v1/jobs/{}/logs?after={log_after}",
                encode(&id)
            ))
            .await?;
        let entries = entries.as_array().cloned().unwrap_or_default();
        let last = entries.last().and_then(|l| l["seq"].as_i64());
        let next = next
            .and(last)
            .map(|seq| format!("/jobs/{}?log_after={seq}", encode(&id)));
        let lines = entries
            .iter()
            .map(|l| LogLine {
                seq: l["seq"].as_i64().unwrap_or(0),
                at: text(&l["at"]),
                stream: text(&l["stream"]),
                level: l["level"].as_str().map(str::to_owned),
                message: text(&l["message"]),
                fields: l.get("fields").filter(|f| !f.is_null()).cloned(),
            })
            .collect();
        (lines, next)
    } else {
        (Vec::new(), None)
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let error = &j["error"];
    let view = JobView {
        id: text(&j["id"]),
        script_id,
        script_name,
        script_version: j["script_version"].as_i64().unwrap_or(0),
        finished,
        trigger: text(&j["trigger"]),
        attempt: j["attempt"].as_i64().unwrap_or(0),
        max_attempts: j["max_attempts"].as_i64().unwrap_or(0),
        args: pretty(&j["args"]),
        args_json: j["args"].clone(),
        base_url: viewer.base_url.clone(),
        result: (status == "succeeded").then(|| pretty(&j["result"])),
        error_kind: error["kind"].as_str().map(str::to_owned),
        error_message: error["message"].as_str().map(str::to_owned),
        traceback: error["traceback"].as_str().map(str::to_owned),
        progress: j["progress"]
            .as_f64()
            .or_else(|| (status == "succeeded").then_some(1.0)),
        progress_message: j["progress_message"].as_str().map(str::to_owned),
        duration: j["duration_ms"].as_i64().map(|ms| format!("{ms} ms")),
        cpu: cpu_text(&j),
        created_at: when_text(j["created_at"].as_str().unwrap_or_default()),
        status,
        log,
        log_after,
        log_next,
    };
    Ok(html(automa_ui::pages::job::page(
        &viewer.ctx(Nav::Jobs),
        &view,
    )))
}

/// The CPU a finished job used: the measured time, and the fuel in the CPU seconds its
/// budget is counted in.
fn cpu_text(j: &Value) -> Option<String> {
    let ms = j["cpu_time_ms"].as_i64()?;
    Some(match j["cpu_seconds"].as_f64() {
        Some(s) => format!("CPU {ms} ms ({s:.2} CPU s of fuel)"),
        None => format!("CPU {ms} ms"),
    })
}

/// The job's live log for `EventSource` (which cannot send an `Authorization` header):
/// the API's own event stream, requested as the session's user.
pub async fn events(viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let path = format!("/api/v1/jobs/{}/logs", encode(&id));
    super::shared::event_stream(&viewer.api, &path).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let answer = viewer
        .api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{}/cancel", encode(&id)),
            None,
        )
        .await?;
    match answer {
        // Cancelling a job that has just finished is not an error for the user.
        Ok(_) => {}
        Err(f) if f.status.as_u16() == 409 => {}
        Err(f) => return Err(crate::error::ApiError::from(f).into()),
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
    let j = viewer
        .api
        .get(&format!("/api/v1/jobs/{}", encode(&id)))
        .await?;
    let job = viewer
        .api
        .call(
            Method::POST,
            &format!("/api/v1/scripts/{}/run", encode(&text(&j["script_id"]))),
            Some(&json!({"args": j["args"], "version": j["script_version"]})),
        )
        .await??;
    Ok(see_other(&format!("/jobs/{}", encode(&text(&job["id"])))))
}
