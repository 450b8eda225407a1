//! cron(5) conformance: patterns × zones with the next runs worked out by hand from
//! cron(5) (the day rule, names, steps, 7 = Sunday) and the DST rules in the README,
//! each local time written with the offset the zone has then. Then the patterns that
//! must be refused, with their exact messages.

#![allow(clippy::unwrap_used)]

use super::spec::Spec;
use chrono::{DateTime, TimeZone, Utc};

/// `(pattern, zone, search from (exclusive), the next runs)`.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

// A table reads better one case per block than one string per line.
#[rustfmt::skip]
const CASES: &[Case] = &[
    // The day rule: a `*`-led day field is unrestricted, so both fields must match.
    ("0 0 */2 * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+00:00", "2026-12-21T00:00:00+00:00", "2027-01-11T00:00:00+00:00",
        "2027-01-25T00:00:00+00:00", "2027-02-01T00:00:00+00:00",
    ]),
    // Days 1, 11, 21, 31 that are Mondays (none in April 2027).
    ("0 0 */10 * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-21T00:00:00+00:00", "2027-01-11T00:00:00+00:00", "2027-02-01T00:00:00+00:00",
        "2027-03-01T00:00:00+00:00", "2027-05-31T00:00:00+00:00",
    ]),
    ("0 0 */1 * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+00:00", "2026-12-14T00:00:00+00:00", "2026-12-21T00:00:00+00:00",
        "2026-12-28T00:00:00+00:00", "2027-01-04T00:00:00+00:00",
    ]),
    ("0 0 * * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+00:00", "2026-12-14T00:00:00+00:00", "2026-12-21T00:00:00+00:00",
    ]),
    ("0 0 ? * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+00:00", "2026-12-14T00:00:00+00:00",
    ]),
    ("0 0 13 * ?", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-13T00:00:00+00:00", "2027-01-13T00:00:00+00:00",
    ]),
    // Day-of-week `*/7` is {0, 7}, Sunday, and unrestricted: the first Sunday.
    ("0 0 1-7 * */7", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-06T00:00:00+00:00", "2027-01-03T00:00:00+00:00", "2027-02-07T00:00:00+00:00",
        "2027-03-07T00:00:00+00:00",
    ]),
    // Both restricted: ORed.
    ("0 0 1,15 * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+00:00", "2026-12-14T00:00:00+00:00", "2026-12-15T00:00:00+00:00",
        "2026-12-21T00:00:00+00:00", "2026-12-28T00:00:00+00:00",
    ]),
    ("0 0 13 * 5", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-04T00:00:00+00:00", "2026-12-11T00:00:00+00:00", "2026-12-13T00:00:00+00:00",
        "2026-12-18T00:00:00+00:00", "2026-12-25T00:00:00+00:00",
    ]),
    // 2026-08-01 is a Saturday: it runs by its day of month.
    ("0 0 1 * 1-5", "UTC", "2026-07-31T12:00:00Z", &[
        "2026-08-01T00:00:00+00:00", "2026-08-03T00:00:00+00:00", "2026-08-04T00:00:00+00:00",
    ]),
    // February 30 never comes, but ORed with Monday this runs on February's Mondays.
    ("0 0 30 2 1", "UTC", "2026-12-01T00:00:00Z", &[
        "2027-02-01T00:00:00+00:00", "2027-02-08T00:00:00+00:00", "2027-02-15T00:00:00+00:00",
        "2027-02-22T00:00:00+00:00", "2028-02-07T00:00:00+00:00",
    ]),
    ("0 0 29 2 *", "UTC", "2026-12-01T00:00:00Z", &[
        "2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00",
    ]),
    // The next 29 February that is a Sunday.
    ("0 0 29 2 */7", "UTC", "2026-12-01T00:00:00Z", &["2032-02-29T00:00:00+00:00"]),
    ("0 0 31 * *", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-31T00:00:00+00:00", "2027-01-31T00:00:00+00:00", "2027-03-31T00:00:00+00:00",
        "2027-05-31T00:00:00+00:00", "2027-07-31T00:00:00+00:00",
    ]),
    ("0 0 30 * *", "UTC", "2027-01-31T00:00:00Z", &[
        "2027-03-30T00:00:00+00:00", "2027-04-30T00:00:00+00:00",
    ]),
    // Names in any case, 7 as Sunday, ranges that reach 7.
    ("0 12 * jan,JUL sun", "UTC", "2026-12-01T00:00:00Z", &[
        "2027-01-03T12:00:00+00:00", "2027-01-10T12:00:00+00:00", "2027-01-17T12:00:00+00:00",
        "2027-01-24T12:00:00+00:00", "2027-01-31T12:00:00+00:00", "2027-07-04T12:00:00+00:00",
    ]),
    ("0 0 * * 7", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-06T00:00:00+00:00", "2026-12-13T00:00:00+00:00",
    ]),
    ("0 0 * * 5-7", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-04T00:00:00+00:00", "2026-12-05T00:00:00+00:00", "2026-12-06T00:00:00+00:00",
        "2026-12-11T00:00:00+00:00",
    ]),
    ("0 0 1 */3 *", "UTC", "2026-12-01T00:00:00Z", &[
        "2027-01-01T00:00:00+00:00", "2027-04-01T00:00:00+00:00", "2027-07-01T00:00:00+00:00",
        "2027-10-01T00:00:00+00:00",
    ]),
    ("0 0 1 FEB-APR/2 *", "UTC", "2026-12-01T00:00:00Z", &[
        "2027-02-01T00:00:00+00:00", "2027-04-01T00:00:00+00:00", "2028-02-01T00:00:00+00:00",
    ]),
    // Times: steps, ranges, lists; the start itself is never a run.
    ("0 9 * * *", "UTC", "2026-12-01T09:00:00Z", &[
        "2026-12-02T09:00:00+00:00", "2026-12-03T09:00:00+00:00",
    ]),
    ("*/15 9-10 * * *", "UTC", "2026-12-01T10:40:00Z", &[
        "2026-12-01T10:45:00+00:00", "2026-12-02T09:00:00+00:00", "2026-12-02T09:15:00+00:00",
        "2026-12-02T09:30:00+00:00",
    ]),
    ("0 0-23/6 * * *", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-01T06:00:00+00:00", "2026-12-01T12:00:00+00:00", "2026-12-01T18:00:00+00:00",
        "2026-12-02T00:00:00+00:00",
    ]),
    ("23 0-20/2 * * *", "UTC", "2026-12-01T19:00:00Z", &[
        "2026-12-01T20:23:00+00:00", "2026-12-02T00:23:00+00:00", "2026-12-02T02:23:00+00:00",
    ]),
    ("5,35 */8 * * *", "UTC", "2026-12-01T08:10:00Z", &[
        "2026-12-01T08:35:00+00:00", "2026-12-01T16:05:00+00:00", "2026-12-01T16:35:00+00:00",
        "2026-12-02T00:05:00+00:00",
    ]),
    ("0 22 * * 1-5", "UTC", "2026-12-04T21:00:00Z", &[
        "2026-12-04T22:00:00+00:00", "2026-12-07T22:00:00+00:00",
    ]),
    ("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", &["2027-12-31T23:59:00+00:00"]),
    // Six fields: seconds first.
    ("30 */5 * * * *", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-01T00:00:30+00:00", "2026-12-01T00:05:30+00:00", "2026-12-01T00:10:30+00:00",
    ]),
    ("*/20 * * * * *", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-01T00:00:20+00:00", "2026-12-01T00:00:40+00:00", "2026-12-01T00:01:00+00:00",
    ]),
    ("0 0 12 */2 * MON", "UTC", "2026-12-01T00:00:00Z", &[
        "2026-12-07T12:00:00+00:00", "2026-12-21T12:00:00+00:00",
    ]),
    // Nicknames.
    ("@hourly", "UTC", "2026-12-01T00:30:00Z", &[
        "2026-12-01T01:00:00+00:00", "2026-12-01T02:00:00+00:00",
    ]),
    ("@daily", "Europe/Berlin", "2026-12-01T00:00:00Z", &[
        "2026-12-02T00:00:00+01:00", "2026-12-03T00:00:00+01:00",
    ]),
    ("@midnight", "UTC", "2026-12-01T00:00:00Z", &["2026-12-02T00:00:00+00:00"]),
    ("@weekly", "Asia/Kolkata", "2026-12-01T00:00:00Z", &[
        "2026-12-06T00:00:00+05:30", "2026-12-13T00:00:00+05:30",
    ]),
    ("@monthly", "Australia/Lord_Howe", "2026-12-01T00:00:00Z", &[
        "2027-01-01T00:00:00+11:00", "2027-02-01T00:00:00+11:00",
    ]),
    ("@yearly", "America/New_York", "2026-12-01T00:00:00Z", &[
        "2027-01-01T00:00:00-05:00", "2028-01-01T00:00:00-05:00",
    ]),
    ("@annually", "UTC", "2026-12-01T00:00:00Z", &["2027-01-01T00:00:00+00:00"]),
    // Asia/Kolkata: UTC+05:30 all year.
    ("0 9 * * *", "Asia/Kolkata", "2026-12-01T00:00:00Z", &[
        "2026-12-01T09:00:00+05:30", "2026-12-02T09:00:00+05:30",
    ]),
    ("30 23 31 12 *", "Asia/Kolkata", "2026-12-01T00:00:00Z", &["2026-12-31T23:30:00+05:30"]),
    ("0 0 1 1 *", "Asia/Kolkata", "2026-12-01T00:00:00Z", &["2027-01-01T00:00:00+05:30"]),
    ("0 0 */2 * MON", "Asia/Kolkata", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+05:30", "2026-12-21T00:00:00+05:30", "2027-01-11T00:00:00+05:30",
    ]),
    ("*/30 * * * *", "Asia/Kolkata", "2026-12-01T18:15:00Z", &[
        "2026-12-02T00:00:00+05:30", "2026-12-02T00:30:00+05:30",
    ]),
    // Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    ("0 9 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", &[
        "2026-03-28T09:00:00+01:00", "2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00",
    ]),
    // A fixed time in the gap runs once, at the first valid time after it.
    ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", &[
        "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00",
    ]),
    ("0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", &[
        "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00",
    ]),
    ("0 30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", &[
        "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00",
    ]),
    // Wildcard times that do not exist are skipped.
    ("30 * * * *", "Europe/Berlin", "2026-03-28T23:45:00Z", &[
        "2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00",
    ]),
    ("*/30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", &[
        "2026-03-30T02:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:00:00+02:00",
    ]),
    // A fixed time in the overlap runs once, at the first pass.
    ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", &[
        "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
    ]),
    // Wildcard times run in both passes.
    ("30 * * * *", "Europe/Berlin", "2026-10-24T23:00:00Z", &[
        "2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:30:00+01:00",
    ]),
    ("*/30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", &[
        "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00", "2026-10-26T02:00:00+01:00",
    ]),
    ("0 0 */2 * SUN", "Europe/Berlin", "2026-10-01T00:00:00Z", &[
        "2026-10-11T00:00:00+02:00", "2026-10-25T00:00:00+02:00", "2026-11-01T00:00:00+01:00",
    ]),
    // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    ("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", &[
        "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00",
    ]),
    ("59 1 * * *", "America/New_York", "2026-03-07T12:00:00Z", &[
        "2026-03-08T01:59:00-05:00", "2026-03-09T01:59:00-04:00",
    ]),
    ("0 3 * * *", "America/New_York", "2026-03-07T12:00:00Z", &[
        "2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00",
    ]),
    ("* 2 * * *", "America/New_York", "2026-03-08T06:00:00Z", &[
        "2026-03-09T02:00:00-04:00", "2026-03-09T02:01:00-04:00", "2026-03-09T02:02:00-04:00",
    ]),
    ("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", &[
        "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00",
    ]),
    ("30 * * * *", "America/New_York", "2026-11-01T04:00:00Z", &[
        "2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:30:00-05:00",
    ]),
    ("0 */1 * * *", "America/New_York", "2026-11-01T04:00:00Z", &[
        "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00",
    ]),
    ("0 9 * * 1-5", "America/New_York", "2026-10-30T12:00:00Z", &[
        "2026-10-30T09:00:00-04:00", "2026-11-02T09:00:00-05:00",
    ]),
    // Australia/Lord_Howe moves by 30 minutes: 2026-04-05 02:00 (+11) -> 01:30 (+10:30);
    // 2026-10-04 02:00 (+10:30) -> 02:30 (+11).
    ("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", &[
        "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00",
    ]),
    ("0 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", &[
        "2026-10-04T02:30:00+11:00", "2026-10-05T02:00:00+11:00",
    ]),
    ("30 * * * *", "Australia/Lord_Howe", "2026-10-03T14:00:00Z", &[
        "2026-10-04T01:30:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T03:30:00+11:00",
    ]),
    ("0 * * * *", "Australia/Lord_Howe", "2026-10-03T14:00:00Z", &[
        "2026-10-04T01:00:00+10:30", "2026-10-04T03:00:00+11:00",
    ]),
    ("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", &[
        "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30",
    ]),
    ("*/15 1 * * *", "Australia/Lord_Howe", "2026-04-04T13:50:00Z", &[
        "2026-04-05T01:00:00+11:00", "2026-04-05T01:15:00+11:00", "2026-04-05T01:30:00+11:00",
        "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30",
        "2026-04-06T01:00:00+10:30",
    ]),
    ("0 * * * *", "Australia/Lord_Howe", "2026-04-04T13:50:00Z", &[
        "2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30", "2026-04-05T03:00:00+10:30",
    ]),
    ("0 0 */2 * MON", "Australia/Lord_Howe", "2026-12-01T00:00:00Z", &[
        "2026-12-07T00:00:00+11:00", "2026-12-21T00:00:00+11:00",
    ]),
];

/// `(pattern, the message after "invalid cron pattern {pattern:?}: ")`.
#[rustfmt::skip]
const REFUSED: &[(&str, &str)] = &[
    ("61 * * * *", "minute 61 is out of range 0–59"),
    ("1-60 * * * *", "minute 60 is out of range 0–59"),
    ("99999999999 * * * *", "minute 99999999999 is out of range 0–59"),
    ("* 24 * * *", "hour 24 is out of range 0–23"),
    ("* * 0 * *", "day-of-month 0 is out of range 1–31"),
    ("* * 32 * *", "day-of-month 32 is out of range 1–31"),
    ("* * * 13 *", "month 13 is out of range 1–12"),
    ("* * * * 8", "day-of-week 8 is out of range 0–7"),
    ("60 * * * * *", "second 60 is out of range 0–59"),
    ("* * * * * * *", "a cron pattern has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; this one has 7"),
    ("0 0 0 1 1 * 2030", "a cron pattern has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; this one has 7"),
    ("* * * *", "a cron pattern has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; this one has 4"),
    ("1,,2 * * * *", "minute \"1,,2\" has an empty item in its list"),
    ("0 0 1, * *", "day-of-month \"1,\" has an empty item in its list"),
    ("*/0 * * * *", "minute step 0 is out of range 1–59"),
    ("*/60 * * * *", "minute step 60 is out of range 1–59"),
    ("*/x * * * *", "minute step \"x\" is not a number 1–59"),
    ("5/15 * * * *", "minute 5/15: a step needs `*` or a range before it, e.g. */15 or 5-59/15"),
    ("30-10 * * * *", "minute range 30-10 runs backwards; write the smaller value first"),
    ("-5 * * * *", "minute range \"-5\" needs a value on each side of the -"),
    ("* * * * FRI-MON", "day-of-week range FRI-MON runs backwards; write the smaller value first"),
    ("* * * FOO *", "month \"FOO\" is not a number 1–12 or a name JAN–DEC"),
    ("MON * * * *", "minute \"MON\" is not a number 0–59"),
    ("? * * * *", "minute \"?\" is not a number 0–59"),
    ("0 0 * * 5#2", "day-of-week \"5#2\" is not a number 0–7 or a name SUN–SAT (L, W and # are not cron(5) syntax)"),
    ("0 0 L * *", "day-of-month \"L\" is not a number 1–31 (L, W and # are not cron(5) syntax)"),
    ("0 0 15W * *", "day-of-month \"15W\" is not a number 1–31 (L, W and # are not cron(5) syntax)"),
    ("0 0 1 * +MON", "day-of-week \"+MON\" is not a number 0–7 or a name SUN–SAT"),
    ("@reboot", "unknown nickname \"@reboot\"; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"),
    // Restricted day-of-month with an unrestricted day-of-week: no real date matches.
    ("0 0 30 2 *", "it never fires: no month in \"2\" has a day in \"30\""),
    ("0 0 31 4,6,9,11 *", "it never fires: no month in \"4,6,9,11\" has a day in \"31\""),
    ("0 0 30,31 FEB ?", "it never fires: no month in \"FEB\" has a day in \"30,31\""),
    ("0 0 31 2 */2", "it never fires: no month in \"2\" has a day in \"31\""),
];

fn ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp_millis()
}

#[test]
fn cron_patterns_run_when_cron5_says() {
    assert!(CASES.len() >= 60, "{} cases", CASES.len());
    let mut wrong = Vec::new();
    for (pattern, zone, from, expected) in CASES {
        let spec = Spec::parse("cron", None, None, Some(pattern), zone, 0)
            .unwrap_or_else(|e| panic!("{pattern} in {zone}: {e}"));
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let got: Vec<String> = spec
            .preview(ms(from), expected.len())
            .into_iter()
            .map(|t| {
                Utc.timestamp_millis_opt(t)
                    .unwrap()
                    .with_timezone(&tz)
                    .to_rfc3339()
            })
            .collect();
        let want: Vec<i64> = expected.iter().map(|t| ms(t)).collect();
        let got_ms: Vec<i64> = got.iter().map(|t| ms(t)).collect();
        if got_ms != want {
            wrong.push(format!(
                "{pattern:?} in {zone} after {from}:\n  want {expected:?}\n  got  {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn malformed_patterns_are_refused_with_the_field_and_the_range() {
    let mut wrong = Vec::new();
    for (pattern, message) in REFUSED {
        let want = format!("invalid cron pattern {pattern:?}: {message}");
        match Spec::parse("cron", None, None, Some(pattern), "UTC", 0) {
            Err(got) if got == want => {}
            Err(got) => wrong.push(format!("{pattern:?}:\n  want {want}\n  got  {got}")),
            Ok(_) => wrong.push(format!("{pattern:?}: accepted")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
