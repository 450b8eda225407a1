//! `/scripts/{id}/versions`: a script's versions from `GET /api/v1/scripts/{id}/versions`
//! and the diff between two of them (default: the newest against the one before).

use super::client::encode;
use super::page::{Viewer, html, when_text};
use crate::error::PageError;
use automa_ui::Nav;
use automa_ui::pages::versions::{Side, VersionItem, VersionsView, page};
use axum::extract::{Path, Query};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Deserialize)]
pub struct Compare {
    from: Option<i64>,
    to: Option<i64>,
}

pub async fn show(
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<Compare>,
) -> Result<Response, PageError> {
    let script = viewer
        .api
        .get(&format!("/api/v1/scripts/{}", encode(&id)))
        .await?;
    let list = viewer
        .api
        .get(&format!("/api/v1/scripts/{}/versions", encode(&id)))
        .await?;
    let versions: Vec<&Value> = list.as_array().into_iter().flatten().collect();
    let authors = authors(&viewer).await;
    let side = |n: i64| {
        versions
            .iter()
            .find(|v| v["version"].as_i64() == Some(n))
            .map(|v| Side {
                version: n,
                source: v["source"].as_str().unwrap_or_default().to_owned(),
            })
    };
    // Newest first: the default compares the first two.
    let newest = versions.first().and_then(|v| v["version"].as_i64());
    let to = q.to.or(newest);
    let from = q.from.or_else(|| {
        let to = to?;
        versions
            .iter()
            .filter_map(|v| v["version"].as_i64())
            .find(|n| *n < to)
    });
    let compare = match (from.and_then(side), to.and_then(side)) {
        (Some(old), Some(new)) if versions.len() > 1 => Some((old, new)),
        _ if versions.len() > 1 => return Err(crate::error::ApiError::NotFound.into()),
        _ => None,
    };
    let view = VersionsView {
        script_id: id.clone(),
        script_name: script["name"].as_str().unwrap_or_default().to_owned(),
        versions: versions
            .iter()
            .map(|v| {
                let by = v["created_by"].as_str().unwrap_or_default();
                VersionItem {
                    version: v["version"].as_i64().unwrap_or(0),
                    created: when_text(v["created_at"].as_str().unwrap_or_default()),
                    author: authors.get(by).cloned().unwrap_or_else(|| by.to_owned()),
                }
            })
            .collect(),
        compare,
    };
    Ok(html(page(&viewer.ctx(Nav::Scripts), &view)))
}

/// User ids to emails, as far as the viewer may see users (admins all, others self).
async fn authors(viewer: &Viewer) -> HashMap<String, String> {
    let p = &viewer.principal;
    let mut map = HashMap::from([(p.user_id.clone(), p.email.clone())]);
    if p.is_admin()
        && let Ok(users) = viewer.api.get("/api/v1/users?limit=200").await
    {
        for u in users["items"].as_array().into_iter().flatten() {
            if let (Some(id), Some(email)) = (u["id"].as_str(), u["email"].as_str()) {
                map.insert(id.to_owned(), email.to_owned());
            }
        }
    }
    map
}
