//! Pages of a sequence-numbered history (a job's log, an agent's events): `?after=SEQ`
//! and `?limit=N`, oldest first. A page holds at most the server's `events_per_page`
//! entries (`[quotas]`) and about [`PAGE_BYTES`] of them; when more follow, the
//! response's `Link` header names the next page (`rel="next"`), so no answer is ever
//! unbounded, whatever a job or agent stored.

use crate::error::{ApiError, ApiResult};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::future::Future;
use utoipa::IntoParams;

/// The largest `limit` a client may ask for; the server's `events_per_page` quota
/// lowers it (never raises it).
pub const MAX_LIMIT: u32 = 10_000;

/// Most bytes of entries (messages, event bodies) one page carries; a page always
/// holds at least one entry.
pub const PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Rows read from the database at a time, so a page of large entries never sits in
/// memory twice.
const CHUNK_ROWS: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeqQuery {
    /// Only entries after this sequence number (the `seq` of the last entry read).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Most entries in the page, 1 to 10000; the server's `events_per_page` quota
    /// (default 1000) is the default and the most a page holds.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
}

impl SeqQuery {
    /// `after` and the page size, or a 400 naming the bad value.
    pub fn resolve(&self, per_page: u32) -> ApiResult<(i64, i64)> {
        let after = match self.after {
            None => 0,
            Some(a) if a >= 0 => a,
            Some(a) => {
                return Err(ApiError::BadRequest(format!(
                    "after must be a sequence number (0 or more), got {a}"
                )));
            }
        };
        let per_page = per_page.clamp(1, MAX_LIMIT);
        let limit = match self.limit {
            None => per_page,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n.min(per_page),
            Some(n) => {
                return Err(ApiError::BadRequest(format!(
                    "limit must be between 1 and {MAX_LIMIT}, got {n}"
                )));
            }
        };
        Ok((after, i64::from(limit)))
    }
}

/// One page and whether entries follow it.
pub struct SeqPage<R> {
    pub rows: Vec<R>,
    pub more: bool,
}

/// Reads the page after `after`: `fetch(after, n)` returns at most `n` rows with a
/// larger sequence number, oldest first; `seq` and `size` tell a row's number and bytes.
pub async fn read<R, F, Fut>(
    mut after: i64,
    limit: i64,
    seq: impl Fn(&R) -> i64,
    size: impl Fn(&R) -> usize,
    mut fetch: F,
) -> sqlx::Result<SeqPage<R>>
where
    F: FnMut(i64, i64) -> Fut,
    Fut: Future<Output = sqlx::Result<Vec<R>>>,
{
    let mut rows = Vec::new();
    let mut bytes = 0;
    loop {
        let missing = limit - rows.len() as i64;
        // One row past the page tells whether another page follows.
        let want = (missing + 1).min(CHUNK_ROWS);
        let chunk = fetch(after, want).await?;
        let full = chunk.len() as i64 == want;
        for row in chunk {
            let len = size(&row);
            if rows.len() as i64 == limit || (!rows.is_empty() && bytes + len > PAGE_BYTES) {
                return Ok(SeqPage { rows, more: true });
            }
            bytes += len;
            after = seq(&row);
            rows.push(row);
        }
        if !full {
            return Ok(SeqPage { rows, more: false });
        }
    }
}

/// `items` as a JSON array, with a `Link: <next page>; rel="next"` header when `next`
/// is given (`path` plus the query of the next page).
pub fn respond<T: Serialize>(items: Vec<T>, next: Option<String>) -> Response {
    let mut resp = axum::Json(items).into_response();
    if let Some(next) = next
        && let Ok(value) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\""))
    {
        resp.headers_mut().insert(header::LINK, value);
    }
    resp
}

/// The URL of the page after `last_seq`: `path?after=..&limit=..` plus `extra` query
/// pairs (already encoded).
pub fn next_url(path: &str, last_seq: i64, limit: i64, extra: &[(&str, &str)]) -> String {
    let mut url = format!("{path}?after={last_seq}&limit={limit}");
    for (k, v) in extra {
        url.push('&');
        url.push_str(k);
        url.push('=');
        url.push_str(&url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>());
    }
    url
}

/// The target of a `Link` header's `rel="next"`, if any.
pub fn next_link(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn page_of(stored: &[(i64, usize)], after: i64, limit: i64) -> (Vec<i64>, bool) {
        let page = read(
            after,
            limit,
            |r: &(i64, usize)| r.0,
            |r| r.1,
            |after, n| {
                let rows: Vec<(i64, usize)> = stored
                    .iter()
                    .filter(|r| r.0 > after)
                    .take(n as usize)
                    .copied()
                    .collect();
                async move { Ok(rows) }
            },
        )
        .await
        .unwrap();
        (page.rows.iter().map(|r| r.0).collect(), page.more)
    }

    #[tokio::test]
    async fn pages_stop_at_the_limit_and_at_the_byte_bound() {
        let small: Vec<(i64, usize)> = (1..=250).map(|s| (s, 10)).collect();
        let (seqs, more) = page_of(&small, 0, 100).await;
        assert_eq!((seqs.len(), seqs[99], more), (100, 100, true));
        let (seqs, more) = page_of(&small, 200, 100).await;
        assert_eq!((seqs.len(), seqs[0], more), (50, 201, false));
        // Exactly a page left: no next page.
        let (seqs, more) = page_of(&small, 150, 100).await;
        assert_eq!((seqs.len(), more), (100, false));
        let (seqs, more) = page_of(&small, 250, 100).await;
        assert_eq!((seqs.len(), more), (0, false));
        // 3 MiB entries: two fit in 8 MiB, and one alone is always sent.
        let big: Vec<(i64, usize)> = (1..=5).map(|s| (s, 3 << 20)).collect();
        assert_eq!(page_of(&big, 0, 100).await, (vec![1, 2], true));
        let huge = [(1, 20 << 20), (2, 1)];
        assert_eq!(page_of(&huge, 0, 100).await, (vec![1], true));
    }

    #[test]
    fn limits_are_bounded_by_the_quota() {
        let q = |after, limit| SeqQuery { after, limit };
        assert_eq!(q(None, None).resolve(1000).unwrap(), (0, 1000));
        assert_eq!(q(Some(5), Some(10)).resolve(1000).unwrap(), (5, 10));
        assert_eq!(q(None, Some(10_000)).resolve(1000).unwrap(), (0, 1000));
        assert_eq!(q(None, None).resolve(50_000).unwrap(), (0, 10_000));
        assert!(q(None, Some(0)).resolve(1000).is_err());
        assert!(q(None, Some(10_001)).resolve(1000).is_err());
        assert!(q(Some(-1), None).resolve(1000).is_err());
    }

    #[test]
    fn the_next_link_is_found() {
        let url = next_url("/api/v1/agents/a/events", 7, 100, &[("kind", "a b")]);
        assert_eq!(url, "/api/v1/agents/a/events?after=7&limit=100&kind=a+b");
        let header = format!("<{url}>; rel=\"next\"");
        assert_eq!(next_link(Some(&header)), Some(url));
        assert_eq!(next_link(Some("</x>; rel=\"prev\"")), None);
        assert_eq!(next_link(None), None);
    }
}
