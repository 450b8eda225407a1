//! MCP resources: a script's current source (`automa://scripts/{id}`) and a job's
//! stored log (`automa://jobs/{id}/log`), for what the caller may see.

use super::{Caller, internal};
use crate::auth::policy;
use crate::db;
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
    let p = &caller.principal;
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    let rows = db::scripts::list(&state.db, owner, None, None, None, LISTED)
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
            let row = db::scripts::find(&state.db, id)
                .await
                .map_err(internal)?
                .ok_or_else(|| not_found(uri))?;
            policy::require_owner_or_admin(p, &row.owner_id).map_err(|_| not_found(uri))?;
            let version = db::scripts::version(&state.db, id, row.current_version)
                .await
                .map_err(internal)?
                .ok_or_else(|| not_found(uri))?;
            return Ok(ReadResourceResult::new(vec![
                ResourceContents::text(version.source, uri).with_mime_type("text/x-python"),
            ]));
        }
        ["jobs", id, "log"] => {
            let job = db::jobs::find(&state.db, id)
                .await
                .map_err(internal)?
                .ok_or_else(|| not_found(uri))?;
            policy::require_owner_or_admin(p, &job.owner_id).map_err(|_| not_found(uri))?;
            // One bounded page of the log, like the API's, saying where the rest is.
            let limit = i64::from(state.config.quotas.events_per_page.clamp(1, 10_000));
            let page = crate::api::seq_page::read(
                0,
                limit,
                |l: &db::jobs::LogRow| l.seq,
                |l| l.message.len(),
                |after, n| db::jobs::logs_after(&state.db, id, after, n),
            )
            .await
            .map_err(internal)?;
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
