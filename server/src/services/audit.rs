//! Reading the audit log (admin), newest first, filtered by actor, action and time:
//! one reader for the API and the dashboard, with the same checks of its input.

use crate::audit::{AuditFilter, AuditRow};
use crate::auth::{Principal, policy};
use crate::db::parse_rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A reader's filters as given: times as RFC 3339, the cursor as the previous page's.
#[derive(Debug, Default)]
pub struct Query<'a> {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub cursor: Option<&'a str>,
}

fn parse_time(name: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    v.map(|s| {
        parse_rfc3339(s).ok_or_else(|| {
            ApiError::BadRequest(format!("{name} must be an RFC 3339 timestamp, got {s:?}"))
        })
    })
    .transpose()
}

/// The entries matching `q`, newest first, at most `limit`; the cursor of the next
/// page is the last one's `seq`.
pub async fn list(
    state: &AppState,
    p: &Principal,
    q: Query<'_>,
    limit: i64,
) -> ApiResult<Vec<AuditRow>> {
    policy::require_admin(p)?;
    let before_seq = q
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("invalid cursor".into()))
        })
        .transpose()?;
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        since: parse_time("since", q.since)?,
        until: parse_time("until", q.until)?,
        before_seq,
    };
    Ok(state.audit.list(&filter, limit).await?)
}
