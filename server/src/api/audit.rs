//! `GET /api/v1/audit`: the audit log, newest first (admin), over `services::audit`.

use super::{ApiJson, ApiQuery, Page, page_limit};
use crate::audit::AuditRow;
use crate::auth::extract::AdminUser;
use crate::db::{decode::CorruptRow, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::services;
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Actor (user id, `anonymous`, `cli`, ...).
    pub actor: Option<String>,
    /// Action, e.g. `auth.login`, `token.create`.
    pub action: Option<String>,
    /// RFC 3339 timestamp, inclusive.
    pub since: Option<String>,
    /// RFC 3339 timestamp, exclusive.
    pub until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = CorruptRow;
    fn try_from(r: AuditRow) -> Result<Self, CorruptRow> {
        Ok(Self {
            details: r.details_value()?,
            seq: r.seq,
            id: r.id,
            at: rfc3339(r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            source_ip: r.source_ip,
            outcome: r.outcome,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
    }
}

/// Read the audit log, newest first, with optional filters (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<ApiJson<Page<AuditEntry>>> {
    let limit = page_limit(q.limit)?;
    let query = services::audit::Query {
        actor: q.actor,
        action: q.action,
        since: q.since.as_deref(),
        until: q.until.as_deref(),
        cursor: q.cursor.as_deref(),
    };
    let rows = services::audit::list(&state, &p, query, limit + 1).await?;
    let entries = rows
        .into_iter()
        .map(AuditEntry::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiJson(Page::from_rows(
        entries,
        limit,
        |e| e.seq.to_string(),
        |e| e,
    )))
}
