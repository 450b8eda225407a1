//! `/scripts/{id}/versions`: a script's versions (`services::scripts::versions`) and
//! the diff between two of them (default: the newest against the one before).

use super::page::{Viewer, html, when};
use crate::error::{ApiError, PageError};
use crate::services;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::versions::{Side, VersionItem, VersionsView, page};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;

/// Users named as authors (admins see everyone's versions).
const NAMED_USERS: i64 = 200;

#[derive(Deserialize)]
pub struct Compare {
    from: Option<i64>,
    to: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<Compare>,
) -> Result<Response, PageError> {
    let p = &viewer.principal;
    let script = services::scripts::get(&state, p, &id).await?;
    let versions = services::scripts::versions(&state, p, &id).await?;
    let authors = authors(&state, &viewer).await;
    let side = |n: i64| {
        versions.iter().find(|v| v.version == n).map(|v| Side {
            version: n,
            source: v.source.clone(),
        })
    };
    // Newest first: the default compares the first two.
    let newest = versions.first().map(|v| v.version);
    let to = q.to.or(newest);
    let from = q.from.or_else(|| {
        let to = to?;
        versions.iter().map(|v| v.version).find(|n| *n < to)
    });
    let compare = match (from.and_then(side), to.and_then(side)) {
        (Some(old), Some(new)) if versions.len() > 1 => Some((old, new)),
        _ if versions.len() > 1 => return Err(ApiError::NotFound.into()),
        _ => None,
    };
    let view = VersionsView {
        script_id: id.clone(),
        script_name: script.name,
        versions: versions
            .iter()
            .map(|v| VersionItem {
                version: v.version,
                created: when(v.created_at),
                author: authors
                    .get(&v.created_by)
                    .cloned()
                    .unwrap_or_else(|| v.created_by.clone()),
            })
            .collect(),
        compare,
    };
    Ok(html(page(&viewer.ctx(Nav::Scripts), &view)))
}

/// User ids to emails, as far as the viewer may see users (admins all, others self).
async fn authors(state: &AppState, viewer: &Viewer) -> HashMap<String, String> {
    let p = &viewer.principal;
    let mut map = HashMap::from([(p.user_id.clone(), p.email.clone())]);
    if p.is_admin()
        && let Ok(users) = services::users::list(state, p, None, NAMED_USERS).await
    {
        map.extend(users.into_iter().map(|u| (u.id, u.email)));
    }
    map
}
