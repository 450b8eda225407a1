//! `/audit` (admin): the audit log through `GET /api/v1/audit`, filtered by actor (an
//! email is looked up to the user id the log records), action and time, with
//! cursor paging.

use super::filters::{link, utc_input};
use super::page::{Viewer, html_status, when_text};
use crate::auth::policy;
use crate::error::PageError;
use automa_ui::Nav;
use automa_ui::pages::audit::{AuditFilters, AuditLine, AuditView, page};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

const PAGE_SIZE: u32 = 50;

pub async fn list(viewer: Viewer, Query(q): Query<AuditQuery>) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    // User ids to emails, both ways: the log records ids, people type emails.
    let users = viewer.api.get("/api/v1/users?limit=200").await?;
    let emails: HashMap<String, String> = users["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| {
            Some((
                u["id"].as_str()?.to_owned(),
                u["email"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let actor = q.actor.trim();
    let actor_id = emails
        .iter()
        .find(|(_, email)| email.eq_ignore_ascii_case(actor))
        .map_or(actor, |(id, _)| id.as_str());
    let filters = AuditFilters {
        actor: q.actor.clone(),
        action: q.action.clone(),
        since: q.since.clone(),
        until: q.until.clone(),
    };
    let keep = |cursor: &str| {
        link(
            "/audit",
            &[
                ("actor", q.actor.trim()),
                ("action", q.action.trim()),
                ("since", q.since.trim()),
                ("until", q.until.trim()),
                ("cursor", cursor),
            ],
        )
    };
    let mut view = AuditView {
        newest: keep(""),
        paged: !q.cursor.is_empty(),
        filters,
        ..AuditView::default()
    };
    let times = utc_input("From", &q.since).and_then(|s| Ok((s, utc_input("Until", &q.until)?)));
    let (since, until) = match times {
        Ok(t) => t,
        Err(message) => {
            view.error = Some(message);
            return Ok(respond(&viewer, &view, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let path = link(
        "/api/v1/audit",
        &[
            ("limit", &PAGE_SIZE.to_string()),
            ("actor", actor_id),
            ("action", q.action.trim()),
            ("since", since.as_deref().unwrap_or_default()),
            ("until", until.as_deref().unwrap_or_default()),
            ("cursor", &q.cursor),
        ],
    );
    let answer = viewer
        .api
        .call(axum::http::Method::GET, &path, None)
        .await?;
    let page_of = match answer {
        Ok(v) => v,
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            view.error = Some(e.message);
            return Ok(respond(&viewer, &view, e.status));
        }
        Err(e) => return Err(crate::error::ApiError::from(e).into()),
    };
    let items = page_of["items"].as_array().cloned().unwrap_or_default();
    view.entries = items.iter().map(|e| line(e, &emails)).collect();
    let mut actions: Vec<String> = view.entries.iter().map(|e| e.action.clone()).collect();
    actions.sort();
    actions.dedup();
    view.actions = actions;
    view.older = page_of["next_cursor"].as_str().map(keep);
    Ok(respond(&viewer, &view, StatusCode::OK))
}

fn respond(viewer: &Viewer, view: &AuditView, status: StatusCode) -> Response {
    html_status(page(&viewer.ctx(Nav::Audit), view), status)
}

fn line(e: &Value, emails: &HashMap<String, String>) -> AuditLine {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let actor = s(&e["actor"]);
    let details = match &e["details"] {
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => String::new(),
        d => d.to_string(),
    };
    AuditLine {
        at: when_text(e["at"].as_str().unwrap_or_default()),
        actor: emails.get(&actor).cloned().unwrap_or(actor),
        action: s(&e["action"]),
        target: s(&e["target"]),
        outcome: s(&e["outcome"]),
        ip: s(&e["source_ip"]),
        details,
    }
}
