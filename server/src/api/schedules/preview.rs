//! `POST /api/v1/schedules/preview`: when a timing would run, without creating a
//! schedule. The timing goes through the scheduler's own `Spec::parse`, so a pattern
//! is refused here with the same message as on create.

use super::parse_at;
use crate::api::ApiJson;
use crate::auth::extract::AuthUser;
use crate::db::{now_ms, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::schedules::spec::{Spec, zone};
use chrono::{SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const DEFAULT_COUNT: u32 = 5;
const MAX_COUNT: u32 = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// `cron` (the default), `interval` or `once`, as when creating a schedule.
    pub kind: Option<String>,
    /// For `cron`: 5 fields (minute first) or 6 (seconds first).
    pub cron: Option<String>,
    /// For `interval`; the runs count from `from`.
    pub every_seconds: Option<i64>,
    /// For `once`: RFC 3339 time.
    pub at: Option<String>,
    /// IANA time zone (default UTC).
    pub timezone: Option<String>,
    /// The runs strictly after this RFC 3339 time (default now).
    pub from: Option<String>,
    /// How many runs, 1 to 100 (default 5).
    pub count: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub kind: String,
    pub timezone: String,
    pub from: String,
    /// The next runs in UTC; fewer than `count` when the timing ends (a `once` time).
    pub runs: Vec<String>,
    /// The same runs on the zone's wall clock, with its UTC offset then.
    pub local: Vec<String>,
}

/// The next run times of a timing, or why it is invalid (422).
#[utoipa::path(post, path = "/api/v1/schedules/preview", tag = "schedules",
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewView), (status = 422, body = ErrorBody)))]
pub(super) async fn preview_schedule(
    AuthUser(_viewer): AuthUser,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> ApiResult<ApiJson<PreviewView>> {
    let count = req.count.unwrap_or(DEFAULT_COUNT);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(ApiError::Validation(format!(
            "count must be between 1 and {MAX_COUNT}, not {count}"
        )));
    }
    let from = match req.from.as_deref() {
        Some(s) => crate::db::parse_rfc3339(s)
            .ok_or_else(|| ApiError::Validation("from must be an RFC 3339 time".into()))?,
        None => now_ms(),
    };
    let kind = req.kind.as_deref().unwrap_or("cron");
    let timezone = req.timezone.as_deref().unwrap_or("UTC");
    let tz = zone(timezone).map_err(ApiError::Validation)?;
    let at = parse_at(req.at.as_deref())?;
    let spec = Spec::parse(
        kind,
        at,
        req.every_seconds,
        req.cron.as_deref(),
        timezone,
        from,
    )
    .map_err(ApiError::Validation)?;
    let runs = spec.preview(from, count as usize);
    let local = runs
        .iter()
        .filter_map(|ms| Utc.timestamp_millis_opt(*ms).single())
        .map(|t| {
            t.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
        })
        .collect();
    Ok(ApiJson(PreviewView {
        kind: kind.to_owned(),
        timezone: timezone.to_owned(),
        from: rfc3339(from),
        runs: runs.into_iter().map(rfc3339).collect(),
        local,
    }))
}
