//! `GET /api/v1/audit`: the audit log, newest first (admin).

use super::{ApiJson, ApiQuery, Page, page_limit};
use crate::audit::{AuditFilter, AuditRow};
use crate::auth::extract::AdminUser;
use crate::db::{parse_rfc3339, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
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

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
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
        }
    }
}

fn parse_time(name: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    v.map(|s| {
        parse_rfc3339(s).ok_or_else(|| {
            ApiError::BadRequest(format!("{name} must be an RFC 3339 timestamp, got {s:?}"))
        })
    })
    .transpose()
}

/// Read the audit log, newest first, with optional filters (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    AdminUser(_p): AdminUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<ApiJson<Page<AuditEntry>>> {
    let limit = page_limit(q.limit)?;
    let before_seq = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("invalid cursor".into()))
        })
        .transpose()?;
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
        before_seq,
    };
    let rows = state.audit.list(&filter, limit + 1).await?;
    Ok(ApiJson(Page::from_rows(
        rows,
        limit,
        |r| r.seq.to_string(),
        AuditEntry::from,
    )))
}
