//! The schedule form's values: checked field by field (with the scheduler's own
//! `Spec::parse`, so the form explains a bad cron pattern or zone next to its field),
//! turned into the schedule service's request, and previewed as the next five run times.

use crate::db::now_ms;
use crate::schedules::spec::Spec;
use crate::services::schedules::{CreateSchedule, UpdateSchedule};
use automa_ui::pages::schedule_form::Preview;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::OnceLock;

const PREVIEW_RUNS: usize = 5;

/// Every IANA zone name chrono-tz knows, sorted.
pub fn zones() -> Vec<&'static str> {
    static ZONES: OnceLock<Vec<&'static str>> = OnceLock::new();
    ZONES
        .get_or_init(|| {
            let mut names: Vec<&'static str> =
                chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
            names.sort_unstable();
            names
        })
        .clone()
}

/// The form as submitted (also the preview's query). Missing fields are empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScheduleInput {
    pub csrf: Option<String>,
    pub script_id: String,
    pub kind: String,
    pub cron: String,
    pub every_seconds: String,
    /// `datetime-local`: a wall-clock time in `timezone`.
    pub at: String,
    pub timezone: String,
    pub args: String,
    /// A checkbox: present means on.
    pub enabled: Option<String>,
    pub overlap: String,
    pub catch_up: String,
    /// The interval anchor of an existing schedule (unix ms).
    pub anchor: Option<i64>,
}

/// A problem with one field: `(field name, message)`.
pub type FieldError = (String, String);

fn problem(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![(field.to_owned(), message.into())]
}

/// `datetime-local` (minutes, or seconds) as an instant in `tz`.
fn wall_clock(at: &str, tz: Tz) -> Option<DateTime<Tz>> {
    let naive = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    // A time skipped by a DST change does not exist; an ambiguous one takes the first.
    tz.from_local_datetime(&naive).earliest()
}

/// A stored RFC 3339 time as the `datetime-local` value in `zone`.
pub fn local_input(rfc3339: &str, zone: &str) -> String {
    let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A run time in the zone, e.g. `Mon 2026-11-30 09:00 CET`.
pub fn in_zone(ms: i64, tz: Tz) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| {
            t.with_timezone(&tz)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// The validated timing, and `at` as RFC 3339 for a `once` schedule.
pub struct Timing {
    pub spec: Spec,
    pub tz: Tz,
    pub at: Option<String>,
    pub every_seconds: Option<i64>,
}

impl ScheduleInput {
    pub fn zone(&self) -> &str {
        match self.timezone.trim() {
            "" => "UTC",
            z => z,
        }
    }

    pub fn timing(&self) -> Result<Timing, Vec<FieldError>> {
        let tz: Tz = self.zone().parse().map_err(|_| {
            problem(
                "timezone",
                format!(
                    "unknown time zone {:?}; pick one from the list",
                    self.zone()
                ),
            )
        })?;
        let (mut at, mut at_ms, mut every) = (None, None, None);
        match self.kind.as_str() {
            "cron" if self.cron.trim().is_empty() => {
                return Err(problem(
                    "cron",
                    "enter a cron pattern, e.g. 0 9 * * MON-FRI",
                ));
            }
            "interval" => {
                every =
                    Some(self.every_seconds.trim().parse::<i64>().map_err(|_| {
                        problem("every_seconds", "enter a whole number of seconds")
                    })?);
            }
            "once" => {
                let t = wall_clock(self.at.trim(), tz).ok_or_else(|| {
                    problem("at", "enter a date and time that exists in this time zone")
                })?;
                at_ms = Some(t.timestamp_millis());
                at = Some(t.to_rfc3339());
            }
            "cron" => {}
            _ => return Err(problem("kind", "choose cron, interval or once")),
        }
        let field = match self.kind.as_str() {
            "interval" => "every_seconds",
            "once" => "at",
            _ => "cron",
        };
        let spec = Spec::parse(
            &self.kind,
            at_ms,
            every,
            Some(self.cron.trim()),
            self.zone(),
            self.anchor.unwrap_or_else(now_ms),
        )
        .map_err(|m| problem(field, m))?;
        Ok(Timing {
            spec,
            tz,
            at,
            every_seconds: every,
        })
    }

    fn args(&self) -> Result<Map<String, Value>, Vec<FieldError>> {
        if self.args.trim().is_empty() {
            return Ok(Map::new());
        }
        match serde_json::from_str(&self.args) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(problem(
                "args",
                "enter a JSON object, like {\"name\": \"Ada\"}",
            )),
            Err(e) => Err(problem("args", format!("enter valid JSON ({e})"))),
        }
    }

    /// The change these values make to a schedule.
    pub fn update(&self) -> Result<UpdateSchedule, Vec<FieldError>> {
        self.checked(false)
    }

    /// A new schedule of these values for `script_id`.
    pub fn create(&self) -> Result<CreateSchedule, Vec<FieldError>> {
        let u = self.checked(true)?;
        Ok(CreateSchedule {
            script_id: self.script_id.clone(),
            kind: u.kind.unwrap_or_default(),
            at: u.at,
            every_seconds: u.every_seconds,
            cron: u.cron,
            timezone: u.timezone,
            args: u.args,
            enabled: u.enabled,
            overlap: u.overlap,
            catch_up: u.catch_up,
        })
    }

    /// Every field checked (`script_id` too when creating); the timing's own field
    /// of the kind only.
    fn checked(&self, creating: bool) -> Result<UpdateSchedule, Vec<FieldError>> {
        let mut errors = Vec::new();
        let timing = self.timing().map_err(|e| errors.extend(e)).ok();
        let args = self.args().map_err(|e| errors.extend(e)).ok();
        if creating && self.script_id.is_empty() {
            errors.extend(problem("script_id", "choose a script"));
        }
        let (Some(timing), Some(args), true) = (timing, args, errors.is_empty()) else {
            return Err(errors);
        };
        let mut change = UpdateSchedule {
            kind: Some(self.kind.clone()),
            at: None,
            every_seconds: None,
            cron: None,
            timezone: Some(self.zone().to_owned()),
            args: Some(Value::Object(args)),
            enabled: Some(self.enabled.is_some()),
            overlap: Some(self.overlap.clone()),
            catch_up: Some(self.catch_up.clone()),
        };
        match self.kind.as_str() {
            "cron" => change.cron = Some(self.cron.trim().to_owned()),
            "interval" => change.every_seconds = timing.every_seconds,
            _ => change.at = timing.at,
        }
        Ok(change)
    }

    /// The next runs of the timing, or the problem with it.
    pub fn preview(&self) -> Preview {
        match self.timing() {
            Ok(t) => Preview::Runs(
                t.spec
                    .preview(now_ms(), PREVIEW_RUNS)
                    .into_iter()
                    .map(|ms| (in_zone(ms, t.tz), in_zone(ms, Tz::UTC)))
                    .collect(),
            ),
            Err(problems) => Preview::Problem(
                problems
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        }
    }
}

/// Which field an API validation message is about, to show it there.
pub fn field_of(message: &str) -> &'static str {
    if message.contains("argument") || message.contains("args") {
        "args"
    } else if message.contains("script") {
        "script_id"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cron(pattern: &str, zone: &str) -> ScheduleInput {
        ScheduleInput {
            kind: "cron".into(),
            cron: pattern.into(),
            timezone: zone.into(),
            enabled: Some("true".into()),
            overlap: "skip".into(),
            catch_up: "run_once".into(),
            ..ScheduleInput::default()
        }
    }

    #[test]
    fn cron_preview_is_five_runs_in_the_zone() {
        let Preview::Runs(runs) = cron("0 9 * * *", "Asia/Tokyo").preview() else {
            panic!("a preview");
        };
        assert_eq!(runs.len(), 5);
        assert!(
            runs.iter()
                .all(|(local, utc)| local.contains("09:00 JST") && utc.contains("00:00 UTC"))
        );
    }

    #[test]
    fn preview_follows_cron5() {
        let Preview::Problem(m) = cron("0 0 30 2 *", "UTC").preview() else {
            panic!("a problem");
        };
        assert!(
            m.ends_with("it never fires: no month in \"2\" has a day in \"30\""),
            "{m}"
        );
        // The day rule: Mondays that are odd days of the month, e.g. "Mon 2026-12-07 ...".
        let Preview::Runs(runs) = cron("0 0 */2 * MON", "UTC").preview() else {
            panic!("a preview");
        };
        assert_eq!(runs.len(), 5);
        for (local, _) in &runs {
            let day: u32 = local[12..14].parse().unwrap();
            assert!(local.starts_with("Mon ") && day % 2 == 1, "{local}");
        }
    }

    #[test]
    fn problems_name_their_field() {
        let e = cron("61 * * * *", "UTC").update().unwrap_err();
        assert_eq!(e[0].0, "cron");
        assert!(e[0].1.ends_with("minute 61 is out of range 0–59"), "{e:?}");
        let e = cron("* * * * *", "Mars/Base").timing().err().unwrap();
        assert_eq!(e[0].0, "timezone");
        let mut bad = cron("* * * * *", "UTC");
        bad.args = "[1]".into();
        assert_eq!(bad.create().unwrap_err().len(), 2, "args and script");
        let once = ScheduleInput {
            kind: "once".into(),
            at: "tomorrow".into(),
            ..cron("", "UTC")
        };
        assert_eq!(once.timing().err().unwrap()[0].0, "at");
    }

    #[test]
    fn once_is_read_on_the_zones_wall_clock() {
        let once = ScheduleInput {
            kind: "once".into(),
            at: "2030-07-01T09:30".into(),
            ..cron("", "Europe/Berlin")
        };
        let change = once.update().unwrap();
        assert_eq!(change.at.as_deref(), Some("2030-07-01T09:30:00+02:00"));
        assert_eq!(change.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            local_input("2030-07-01T07:30:00Z", "Europe/Berlin"),
            "2030-07-01T09:30"
        );
    }
}
