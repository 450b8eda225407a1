//! Shared pieces of the filtered, paged list pages (jobs, audit): `datetime-local`
//! inputs read as UTC, links that keep the filters, and the percent-encoding of the
//! values and ids the pages put into links.

/// Percent-encodes a query value or a path segment.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A `datetime-local` value (`2026-01-31T14:05`, seconds optional) as RFC 3339 UTC for
/// the API; empty is no filter. The error names the field for the page.
pub fn utc_input(label: &str, value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| {
            Some(
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
        })
        .ok_or_else(|| format!("{label}: enter a date and time like 2026-01-31T14:05 (UTC)"))
}

/// `path?k=v&...` with the non-empty pairs, values percent-encoded.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn datetime_local_values_are_utc() {
        assert_eq!(utc_input("From", "").unwrap(), None);
        assert_eq!(
            utc_input("From", "2026-01-31T14:05").unwrap().as_deref(),
            Some("2026-01-31T14:05:00Z")
        );
        assert_eq!(
            utc_input("From", "2026-01-31T14:05:09").unwrap().as_deref(),
            Some("2026-01-31T14:05:09Z")
        );
        assert!(
            utc_input("From", "yesterday")
                .expect_err("not a time")
                .starts_with("From:")
        );
    }

    #[test]
    fn links_keep_only_set_filters() {
        assert_eq!(link("/jobs", &[("status", ""), ("since", "")]), "/jobs");
        assert_eq!(
            link(
                "/audit",
                &[("action", "auth.login"), ("actor", "a b"), ("cursor", "")]
            ),
            "/audit?action=auth.login&actor=a+b"
        );
    }
}
