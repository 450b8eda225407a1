//! `/audit` (admin): the audit log over `services::audit`, filtered by actor (an
//! email is looked up to the user id the log records), action and time, with
//! cursor paging.

use super::filters::{link, utc_input};
use super::page::{Viewer, html_status, when};
use crate::audit::AuditRow;
use crate::db::decode::CorruptRow;
use crate::error::{ApiError, PageError};
use crate::services;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::audit::{AuditFilters, AuditLine, AuditView, page};
use axum::extract::{Query, State};
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

const PAGE_SIZE: usize = 50;

/// A filter typed into the form; empty is none.
fn given(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let p = &viewer.principal;
    // User ids to emails, both ways: the log records ids, people type emails.
    let users = services::users::list(&state, p, None, 200).await?;
    let emails: HashMap<String, String> = users.into_iter().map(|u| (u.id, u.email)).collect();
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
    let query = services::audit::Query {
        actor: given(actor_id).map(str::to_owned),
        action: given(&q.action).map(str::to_owned),
        since: since.as_deref(),
        until: until.as_deref(),
        cursor: given(&q.cursor),
    };
    let limit = PAGE_SIZE + 1;
    let mut rows = match services::audit::list(&state, p, query, limit as i64).await {
        Ok(rows) => rows,
        Err(e @ ApiError::BadRequest(_)) => {
            view.error = Some(e.to_string());
            return Ok(respond(&viewer, &view, e.status()));
        }
        Err(e) => return Err(e.into()),
    };
    // One more than shown tells whether older entries exist.
    let more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    let older = rows.last().filter(|_| more).map(|e| e.seq.to_string());
    view.entries = rows
        .into_iter()
        .map(|e| line(e, &emails))
        .collect::<Result<_, CorruptRow>>()
        .map_err(ApiError::from)?;
    let mut actions: Vec<String> = view.entries.iter().map(|e| e.action.clone()).collect();
    actions.sort();
    actions.dedup();
    view.actions = actions;
    view.older = older.as_deref().map(keep);
    Ok(respond(&viewer, &view, StatusCode::OK))
}

fn respond(viewer: &Viewer, view: &AuditView, status: StatusCode) -> Response {
    html_status(page(&viewer.ctx(Nav::Audit), view), status)
}

fn line(e: AuditRow, emails: &HashMap<String, String>) -> Result<AuditLine, CorruptRow> {
    let details = match e.details_value()? {
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => String::new(),
        d => d.to_string(),
    };
    Ok(AuditLine {
        at: when(e.at),
        actor: emails.get(&e.actor).cloned().unwrap_or(e.actor),
        action: e.action,
        target: e.target.unwrap_or_default(),
        outcome: e.outcome,
        ip: e.source_ip.unwrap_or_default(),
        details,
    })
}
