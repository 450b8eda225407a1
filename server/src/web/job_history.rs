//! `/jobs`: job history through `services::jobs::list` (the viewer's jobs, everyone's
//! for an admin), filtered by status, script and start time, with cursor paging.

use super::filters::{link, utc_input};
use super::page::{Viewer, html_status, when};
use super::shared::scripts;
use crate::error::{ApiError, PageError};
use crate::services;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::dashboard::JobLine;
use automa_ui::pages::jobs::{JobFilters, JobsView, page};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize, Default)]
pub struct JobsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    script_id: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

const PAGE_SIZE: i64 = 50;

fn set(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<JobsQuery>,
) -> Result<Response, PageError> {
    let names = scripts(&state, &viewer).await?;
    let keep = |cursor: &str| {
        link(
            "/jobs",
            &[
                ("status", q.status.as_str()),
                ("script_id", q.script_id.as_str()),
                ("since", q.since.trim()),
                ("cursor", cursor),
            ],
        )
    };
    let mut view = JobsView {
        filters: JobFilters {
            status: q.status.clone(),
            script_id: q.script_id.clone(),
            since: q.since.clone(),
        },
        newest: (!q.cursor.is_empty()).then(|| keep("")),
        ..JobsView::default()
    };
    let since = match utc_input("Created from", &q.since) {
        Ok(s) => s,
        Err(message) => {
            view.scripts = names;
            view.error = Some(message);
            return Ok(respond(&viewer, &view, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let filter = services::jobs::Filter {
        status: set(&q.status),
        script_id: set(&q.script_id),
        since: since.as_deref(),
    };
    let p = &viewer.principal;
    let mut rows = match services::jobs::list(&state, p, &filter, set(&q.cursor), PAGE_SIZE).await {
        Ok(rows) => rows,
        Err(e @ ApiError::BadRequest(_)) => {
            view.scripts = names;
            view.error = Some(e.public_message());
            return Ok(respond(&viewer, &view, e.status()));
        }
        Err(e) => return Err(e.into()),
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let mut by_id: HashMap<String, String> = names.iter().cloned().collect();
    // The script choices are one page; name the rest of this page's scripts one by one.
    for job in &rows {
        if by_id.contains_key(&job.script_id) {
            continue;
        }
        let name = match services::scripts::load_owned(&state, p, &job.script_id).await {
            Ok(script) => script.name,
            Err(_) => "(deleted script)".to_owned(),
        };
        by_id.insert(job.script_id.clone(), name);
    }
    view.older = more.then(|| rows.last().map(|j| keep(&j.id))).flatten();
    view.jobs = rows
        .into_iter()
        .map(|j| JobLine {
            script_name: by_id
                .get(&j.script_id)
                .cloned()
                .unwrap_or_else(|| "(deleted script)".to_owned()),
            when: when(j.created_at),
            id: j.id,
            script_id: j.script_id,
            status: j.status,
        })
        .collect();
    view.scripts = names;
    Ok(respond(&viewer, &view, StatusCode::OK))
}

fn respond(viewer: &Viewer, view: &JobsView, status: StatusCode) -> Response {
    html_status(page(&viewer.ctx(Nav::Jobs), view), status)
}
