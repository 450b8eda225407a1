//! Refused host calls as the audit log sees them: every field cut to a bounded size,
//! and a refusal repeated within a run (same call, target and reason) recorded once,
//! then counted; the count is recorded as one "and N more" entry when the run ends
//! (or every [`FLUSH_EVERY`] repeats, for runs that go on for long).

use crate::ports::{AuditSink, HostCallRecord};
use std::collections::HashMap;
use std::time::Duration;

/// Bytes of a call's target kept in its audit record.
pub const MAX_TARGET_BYTES: usize = 512;
/// Bytes of a refusal's reason kept in its audit record.
pub const MAX_DETAIL_BYTES: usize = 1024;
/// Distinct refusals counted per run; others beyond are recorded one by one.
const MAX_DISTINCT: usize = 256;
/// A repeat count is recorded (and starts over) when it reaches this.
const FLUSH_EVERY: u64 = 10_000;

/// `text` cut to at most `max` bytes on a character boundary, saying how long it was.
pub fn bounded(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let total = text.len();
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({total} bytes)", &text[..end])
}

type Key = (&'static str, String, &'static str, Option<String>);

/// The repeated refusals of one run.
#[derive(Debug, Default)]
pub struct Refusals {
    repeats: HashMap<Key, u64>,
}

impl Refusals {
    /// Whether `call` should be recorded now: the first of its kind is, a repeat is
    /// only counted (and every [`FLUSH_EVERY`] repeats recorded as a count).
    pub(crate) fn admit(&mut self, call: &HostCallRecord, audit: &dyn AuditSink) -> bool {
        let key = (
            call.operation,
            call.target.clone(),
            call.outcome,
            call.detail.clone(),
        );
        if let Some(count) = self.repeats.get_mut(&key) {
            *count += 1;
            if *count >= FLUSH_EVERY {
                audit.record(repeat_record(&key, *count));
                *count = 0;
            }
            return false;
        }
        if self.repeats.len() < MAX_DISTINCT {
            self.repeats.insert(key, 0);
        }
        true
    }

    /// Record the counts not recorded yet; call when the run is over.
    pub(crate) fn flush(&mut self, audit: &dyn AuditSink) {
        for (key, count) in self.repeats.drain() {
            if count > 0 {
                audit.record(repeat_record(&key, count));
            }
        }
    }
}

fn repeat_record(key: &Key, count: u64) -> HostCallRecord {
    let (operation, target, outcome, detail) = key;
    let detail = detail.as_deref().unwrap_or("refused");
    HostCallRecord {
        operation,
        target: target.clone(),
        outcome,
        detail: Some(format!(
            "{detail} (and {count} more identical refusals in this run)"
        )),
        duration: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Sink(Mutex<Vec<HostCallRecord>>);
    impl AuditSink for Sink {
        fn record(&self, call: HostCallRecord) {
            self.0.lock().unwrap().push(call);
        }
    }

    fn refusal(target: &str) -> HostCallRecord {
        HostCallRecord {
            operation: "state.get",
            target: target.into(),
            outcome: "invalid_input",
            detail: Some("state keys must be 1 to 256 bytes".into()),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn long_fields_are_cut_on_a_character_boundary() {
        assert_eq!(bounded("short".into(), 10), "short");
        let cut = bounded("é".repeat(10), 5);
        assert_eq!(cut, "éé… (20 bytes)");
    }

    #[test]
    fn repeats_are_counted_and_recorded_once() {
        let sink = Sink::default();
        let mut refusals = Refusals::default();
        assert!(refusals.admit(&refusal("k"), &sink));
        for _ in 0..1367 {
            assert!(!refusals.admit(&refusal("k"), &sink));
        }
        assert!(refusals.admit(&refusal("other"), &sink), "another target");
        refusals.flush(&sink);
        let records = sink.0.lock().unwrap();
        assert_eq!(records.len(), 1, "only the repeated one has a count");
        assert_eq!(
            records[0].detail.as_deref(),
            Some(
                "state keys must be 1 to 256 bytes (and 1367 more identical refusals in this run)"
            )
        );
    }
}
