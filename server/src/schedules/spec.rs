//! When a schedule fires: once at a time, every N seconds, or by a cron pattern in a
//! time zone (evaluated on the zone's wall clock, so DST changes are honoured).
//!
//! A cron pattern is checked against cron(5) by `cron_syntax` first; croner then does
//! the search. Its DST handling is the one documented in the README: a fixed-time job
//! (one value each for second, minute and hour) runs once, at the first valid time
//! after a spring-forward gap and on the first pass of a fall-back overlap; any other
//! job runs at every wall-clock time that exists, so in both passes of an overlap.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A validated schedule timing.
#[derive(Debug, Clone)]
pub enum Spec {
    /// At one instant (unix ms).
    Once(i64),
    /// Every `n` seconds from the anchor (unix ms).
    Interval { every_ms: i64, anchor: i64 },
    /// A cron pattern (5 fields, or 6 with seconds first) in a time zone.
    Cron { cron: Box<Cron>, tz: Tz },
}

/// The shortest interval allowed.
pub const MIN_INTERVAL_SECONDS: i64 = 1;

/// An IANA time zone by name; the error says what to use instead.
pub fn zone(name: &str) -> Result<Tz, String> {
    name.parse()
        .map_err(|_| format!("unknown time zone {name:?}; use an IANA name like Europe/Berlin"))
}

impl Spec {
    /// Build from the stored/requested fields; the error says what is wrong.
    pub fn parse(
        kind: &str,
        at: Option<i64>,
        every_seconds: Option<i64>,
        cron: Option<&str>,
        timezone: &str,
        anchor: i64,
    ) -> Result<Self, String> {
        match kind {
            "once" => at
                .map(Spec::Once)
                .ok_or_else(|| "a `once` schedule needs `at` (RFC 3339)".into()),
            "interval" => match every_seconds {
                Some(n) if (MIN_INTERVAL_SECONDS..=366 * 86_400).contains(&n) => {
                    Ok(Spec::Interval {
                        every_ms: n * 1000,
                        anchor,
                    })
                }
                Some(_) => Err("every_seconds must be between 1 and 31622400".into()),
                None => Err("an `interval` schedule needs `every_seconds`".into()),
            },
            "cron" => {
                let pattern =
                    cron.ok_or("a `cron` schedule needs `cron`, e.g. \"0 9 * * MON-FRI\"")?;
                let tz = zone(timezone)?;
                let invalid =
                    |e: &dyn std::fmt::Display| format!("invalid cron pattern {pattern:?}: {e}");
                let checked = super::cron_syntax::check(pattern).map_err(|e| invalid(&e))?;
                // croner ORs the day fields unless one is exactly `*`; cron(5) ANDs them
                // whenever one starts with `*`, so say which per pattern.
                let cron = CronParser::builder()
                    .seconds(Seconds::Optional)
                    .year(Year::Disallowed)
                    .dom_and_dow(checked.days_and)
                    .build()
                    .parse(&checked.pattern)
                    .map_err(|e| invalid(&e))?;
                Ok(Spec::Cron {
                    cron: Box::new(cron),
                    tz,
                })
            }
            other => Err(format!(
                "kind must be once, interval or cron, not {other:?}"
            )),
        }
    }

    /// The first firing strictly after `after` (unix ms), if any.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match self {
            Spec::Once(at) => (*at > after).then_some(*at),
            Spec::Interval { every_ms, anchor } => {
                if after < *anchor {
                    return Some(*anchor);
                }
                let steps = (after - anchor) / every_ms + 1;
                Some(anchor + steps * every_ms)
            }
            Spec::Cron { cron, tz } => {
                let start = Utc.timestamp_millis_opt(after).single()?.with_timezone(tz);
                cron.find_next_occurrence(&start, false)
                    .ok()
                    .map(|t| t.timestamp_millis())
            }
        }
    }

    /// The next `n` firings after `after`.
    pub fn preview(&self, after: i64, n: usize) -> Vec<i64> {
        let mut times = Vec::with_capacity(n);
        let mut cursor = after;
        while times.len() < n {
            match self.next_after(cursor) {
                Some(t) => {
                    times.push(t);
                    cursor = t;
                }
                None => break,
            }
        }
        times
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn utc(ms: i64) -> String {
        Utc.timestamp_millis_opt(ms).unwrap().to_rfc3339()
    }

    #[test]
    fn cron_follows_the_zone_across_dst() {
        let spec = Spec::parse("cron", None, None, Some("0 9 * * *"), "Europe/Berlin", 0).unwrap();
        // Berlin moves to summer time on 2026-03-29: 09:00 local is 08:00 UTC before
        // and 07:00 UTC after.
        let runs: Vec<String> = spec
            .preview(ms("2026-03-27T12:00:00Z"), 3)
            .into_iter()
            .map(utc)
            .collect();
        assert_eq!(
            runs,
            [
                "2026-03-28T08:00:00+00:00",
                "2026-03-29T07:00:00+00:00",
                "2026-03-30T07:00:00+00:00"
            ]
        );
    }

    #[test]
    fn cron_in_new_york_fall_back_fires_once() {
        // 2026-11-01 01:30 happens twice in New York; the job runs once that day.
        let spec = Spec::parse(
            "cron",
            None,
            None,
            Some("30 1 * * *"),
            "America/New_York",
            0,
        )
        .unwrap();
        let runs = spec.preview(ms("2026-10-31T12:00:00Z"), 3);
        let days: Vec<String> = runs.iter().map(|t| utc(*t)[..10].to_owned()).collect();
        assert_eq!(days, ["2026-11-01", "2026-11-02", "2026-11-03"]);
        // The first 01:30 of the day (still EDT, UTC-4), not a second one an hour later.
        assert_eq!(utc(runs[0]), "2026-11-01T05:30:00+00:00");
        assert_eq!(utc(runs[1]), "2026-11-02T06:30:00+00:00");
    }

    #[test]
    fn interval_and_once() {
        let spec = Spec::parse("interval", None, Some(60), None, "UTC", 1_000).unwrap();
        assert_eq!(spec.next_after(0), Some(1_000));
        assert_eq!(spec.next_after(1_000), Some(61_000));
        assert_eq!(spec.next_after(61_500), Some(121_000));
        let once = Spec::parse("once", Some(5_000), None, None, "UTC", 0).unwrap();
        assert_eq!(once.next_after(0), Some(5_000));
        assert_eq!(once.next_after(5_000), None);
    }

    #[test]
    fn bad_input_is_explained() {
        assert_eq!(
            Spec::parse("cron", None, None, Some("61 * * * *"), "UTC", 0).unwrap_err(),
            "invalid cron pattern \"61 * * * *\": minute 61 is out of range 0–59"
        );
        assert!(
            Spec::parse("cron", None, None, Some("* * * * *"), "Mars/Base", 0)
                .unwrap_err()
                .contains("unknown time zone")
        );
        assert!(Spec::parse("interval", None, Some(0), None, "UTC", 0).is_err());
        assert!(Spec::parse("weekly", None, None, None, "UTC", 0).is_err());
    }
}
