//! Admin pages: users, audit log and secrets (names only). The API answers 403 to
//! anyone else, which the page shows.

use super::page::{Viewer, html, when_text};
use crate::auth::policy;
use crate::error::PageError;
use automa_ui::Nav;
use automa_ui::pages::admin::{TableView, table_page};
use axum::response::Response;
use serde_json::Value;

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn items(v: &Value) -> Vec<Value> {
    v["items"]
        .as_array()
        .or_else(|| v.as_array())
        .cloned()
        .unwrap_or_default()
}

fn headers(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| (*s).to_owned()).collect()
}

pub async fn users(viewer: Viewer) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let page = viewer.api.get("/api/v1/users?limit=200").await?;
    let view = TableView {
        title: "Users".into(),
        intro: "Create users and reset passwords with the API (POST /api/v1/users) or the CLI."
            .into(),
        headers: headers(&["Email", "Role", "Disabled", "TOTP", "Created"]),
        rows: items(&page)
            .iter()
            .map(|u| {
                vec![
                    cell(&u["email"]),
                    cell(&u["role"]),
                    cell(&u["disabled"]),
                    cell(&u["totp_enabled"]),
                    when_text(u["created_at"].as_str().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "No users.".into(),
    };
    Ok(html(table_page(&viewer.ctx(Nav::Users), &view)))
}

pub async fn audit(viewer: Viewer) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let page = viewer.api.get("/api/v1/audit?limit=100").await?;
    let view = TableView {
        title: "Audit log".into(),
        intro: "Newest first. `automa audit verify` checks the hash chain.".into(),
        headers: headers(&["Time", "Actor", "Action", "Target", "Outcome", "IP"]),
        rows: items(&page)
            .iter()
            .map(|e| {
                vec![
                    when_text(e["at"].as_str().unwrap_or_default()),
                    cell(&e["actor"]),
                    cell(&e["action"]),
                    cell(&e["target"]),
                    cell(&e["outcome"]),
                    cell(&e["ip"]),
                ]
            })
            .collect(),
        empty: "Nothing audited yet.".into(),
    };
    Ok(html(table_page(&viewer.ctx(Nav::Audit), &view)))
}

pub async fn secrets(viewer: Viewer) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let page = viewer.api.get("/api/v1/secrets").await?;
    let view = TableView {
        title: "Secrets".into(),
        intro: "Values are write-only and never shown. Add one with POST /api/v1/secrets and grant it to a script in its capabilities.".into(),
        headers: headers(&["Name", "Updated"]),
        rows: items(&page)
            .iter()
            .map(|s| {
                vec![
                    cell(&s["name"]),
                    when_text(s["updated_at"].as_str().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "No secrets yet.".into(),
    };
    Ok(html(table_page(&viewer.ctx(Nav::Secrets), &view)))
}
