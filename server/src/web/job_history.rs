//! `/jobs`: job history through `GET /api/v1/jobs` (the viewer's jobs, everyone's for
//! an admin), filtered by status, script and start time, with cursor paging.

use super::client::encode;
use super::filters::{link, utc_input};
use super::page::{Viewer, html_status, when_text};
use crate::error::{ApiError, PageError};
use automa_ui::Nav;
use automa_ui::pages::dashboard::JobLine;
use automa_ui::pages::jobs::{JobFilters, JobsView, page};
use axum::extract::Query;
use axum::http::{Method, StatusCode};
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

const PAGE_SIZE: u32 = 50;

pub async fn list(viewer: Viewer, Query(q): Query<JobsQuery>) -> Result<Response, PageError> {
    let scripts = viewer.api.get("/api/v1/scripts?limit=200").await?;
    let names: Vec<(String, String)> = scripts["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["id"].as_str()?.to_owned(), s["name"].as_str()?.to_owned())))
        .collect();
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
    let path = link(
        "/api/v1/jobs",
        &[
            ("limit", &PAGE_SIZE.to_string()),
            ("status", &q.status),
            ("script_id", &q.script_id),
            ("since", since.as_deref().unwrap_or_default()),
            ("cursor", &q.cursor),
        ],
    );
    let page_of = match viewer.api.call(Method::GET, &path, None).await? {
        Ok(v) => v,
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            view.scripts = names;
            view.error = Some(e.message);
            return Ok(respond(&viewer, &view, e.status));
        }
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let mut by_id: HashMap<String, String> = names.iter().cloned().collect();
    // The script list above is one page; name the rest of this page's scripts one by one.
    for job in page_of["items"].as_array().into_iter().flatten() {
        let Some(script_id) = job["script_id"].as_str() else {
            continue;
        };
        if by_id.contains_key(script_id) {
            continue;
        }
        let name = match viewer
            .api
            .get(&format!("/api/v1/scripts/{}", encode(script_id)))
            .await
        {
            Ok(script) => script["name"].as_str().unwrap_or("(unnamed)").to_owned(),
            Err(_) => "(deleted script)".to_owned(),
        };
        by_id.insert(script_id.to_owned(), name);
    }
    view.jobs = page_of["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            let script_id = j["script_id"].as_str().unwrap_or_default();
            JobLine {
                id: j["id"].as_str().unwrap_or_default().to_owned(),
                script_id: script_id.to_owned(),
                script_name: by_id
                    .get(script_id)
                    .cloned()
                    .unwrap_or_else(|| "(deleted script)".to_owned()),
                status: j["status"].as_str().unwrap_or_default().to_owned(),
                when: when_text(j["created_at"].as_str().unwrap_or_default()),
            }
        })
        .collect();
    view.older = page_of["next_cursor"].as_str().map(keep);
    view.scripts = names;
    Ok(respond(&viewer, &view, StatusCode::OK))
}

fn respond(viewer: &Viewer, view: &JobsView, status: StatusCode) -> Response {
    html_status(page(&viewer.ctx(Nav::Jobs), view), status)
}
