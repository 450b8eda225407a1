//! The cap on what a run stores of its log: so many entries and bytes, then one marker
//! entry, and from there on only a count of what was dropped.

use std::sync::Mutex;

/// What to do with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// Store it.
    Store,
    /// The cap was reached just now: store this marker instead of the entry.
    Marker(String),
    /// Over the cap: drop it (it is counted).
    Drop,
}

#[derive(Debug, Default)]
struct Used {
    lines: u64,
    bytes: u64,
    dropped_lines: u64,
    dropped_bytes: u64,
}

/// A log budget of `max_lines` entries and `max_bytes` bytes.
#[derive(Debug)]
pub struct LogBudget {
    max_lines: u64,
    max_bytes: u64,
    used: Mutex<Used>,
}

impl LogBudget {
    pub fn new(max_lines: u64, max_bytes: u64) -> Self {
        Self {
            max_lines,
            max_bytes,
            used: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Used> {
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count an entry of `bytes` bytes and say whether it is stored.
    pub fn admit(&self, bytes: usize) -> Admit {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        let mut used = self.lock();
        if used.dropped_lines > 0 {
            used.dropped_lines += 1;
            used.dropped_bytes = used.dropped_bytes.saturating_add(bytes);
            return Admit::Drop;
        }
        if used.lines < self.max_lines && used.bytes.saturating_add(bytes) <= self.max_bytes {
            used.lines += 1;
            used.bytes += bytes;
            return Admit::Store;
        }
        used.dropped_lines = 1;
        used.dropped_bytes = bytes;
        Admit::Marker(format!(
            "log limit reached ({} entries or {} bytes): further entries are dropped; \
             the count follows when the run ends",
            self.max_lines, self.max_bytes
        ))
    }

    /// Entries and bytes dropped so far.
    pub fn dropped(&self) -> (u64, u64) {
        let used = self.lock();
        (used.dropped_lines, used.dropped_bytes)
    }

    /// The closing line saying how much was dropped, once; `None` when nothing was.
    /// The budget starts over afterwards (an agent's next interval).
    pub fn close(&self) -> Option<String> {
        let mut used = self.lock();
        let (lines, bytes) = (used.dropped_lines, used.dropped_bytes);
        *used = Used::default();
        (lines > 0)
            .then(|| format!("{lines} log entries ({bytes} bytes) were dropped over the limit"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stores_up_to_the_cap_then_one_marker_then_counts() {
        let budget = LogBudget::new(2, 100);
        assert_eq!(budget.admit(10), Admit::Store);
        assert_eq!(budget.admit(10), Admit::Store);
        assert!(matches!(budget.admit(10), Admit::Marker(m) if m.contains("2 entries")));
        assert_eq!(budget.admit(5), Admit::Drop);
        assert_eq!(budget.dropped(), (2, 15));
        assert_eq!(
            budget.close().as_deref(),
            Some("2 log entries (15 bytes) were dropped over the limit")
        );
        assert_eq!(budget.close(), None);
        assert_eq!(budget.admit(10), Admit::Store, "starts over after close");
    }

    #[test]
    fn the_byte_cap_counts_too() {
        let budget = LogBudget::new(100, 25);
        assert_eq!(budget.admit(20), Admit::Store);
        assert!(matches!(budget.admit(10), Admit::Marker(_)));
        assert_eq!(budget.admit(1), Admit::Drop, "nothing more once over");
    }
}
