//! MCP resources: a script's current source (`automa://scripts/{id}`) and a job's
//! stored log (`automa://jobs/{id}/log`), for what the caller may see.

use super::{Caller, internal};
use crate::error::ApiError;
use crate::services;
use rmcp::ErrorData as McpError;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::json;

/// At most this many scripts are listed as resources (the templates cover the rest).
const LISTED: i64 = 200;

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("automa://scripts/{id}", "script source")
            .with_description("The current version's Python source of a script")
            .with_mime_type("text/x-python"),
        ResourceTemplate::new("automa://jobs/{id}/log", "job log")
            .with_description("A job's stored log lines (stdout, stderr, log)")
            .with_mime_type("text/plain"),
    ]
}

pub async fn list(
    state: &crate::state::AppState,
    caller: &Caller,
) -> Result<Vec<Resource>, McpError> {
    let filter = services::scripts::Filter::default();
    let rows = services::scripts::rows(state, &caller.principal, &filter, None, LISTED)
        .await
        .map_err(internal)?;
    Ok(rows
        .into_iter()
        .take(LISTED as usize)
        .map(|row| {
            Resource::new(format!("automa://scripts/{}", row.id), row.name)
                .with_description(row.description)
                .with_mime_type("text/x-python")
        })
        .collect())
}

/// Unknown and other users' resources answer the same "not found".
fn not_found(uri: &str) -> McpError {
    McpError::resource_not_found(
        format!("no such resource: {uri}"),
        Some(json!({"uri": uri})),
    )
}

/// A service's refusal: an internal failure is a protocol error, anything else (not
/// found, not the caller's) the same "not found".
fn refused(e: ApiError, uri: &str) -> McpError {
    match e {
        ApiError::Internal(e) => internal(e),
        _ => not_found(uri),
    }
}

pub async fn read(
    state: &crate::state::AppState,
    caller: &Caller,
    uri: &str,
) -> Result<ReadResourceResult, McpError> {
    let p = &caller.principal;
    let rest = uri
        .strip_prefix("automa://")
        .ok_or_else(|| not_found(uri))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let text = match parts.as_slice() {
        ["scripts", id] => {
            let script = services::scripts::get(state, p, id)
                .await
                .map_err(|e| refused(e, uri))?;
            let version = script.current.ok_or_else(|| not_found(uri))?;
            return Ok(ReadResourceResult::new(vec![
                ResourceContents::text(version.source, uri).with_mime_type("text/x-python"),
            ]));
        }
        ["jobs", id, "log"] => {
            // One bounded page of the log, like the API's, saying where the rest is.
            let limit = i64::from(state.config.quotas.events_per_page.clamp(1, 10_000));
            let page = services::jobs::log_page(state, p, id, 0, limit)
                .await
                .map_err(|e| refused(e, uri))?;
            let last = page.rows.last().map_or(0, |l| l.seq);
            let mut text = page
                .rows
                .into_iter()
                .map(|l| format!("[{}] {}", l.stream, l.message))
                .collect::<Vec<_>>()
                .join("\n");
            if page.more {
                text.push_str(&format!(
                    "\n[the log goes on after entry {last}: GET /api/v1/jobs/{id}/logs?after={last}]"
                ));
            }
            text
        }
        _ => return Err(not_found(uri)),
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("text/plain"),
    ]))
}
