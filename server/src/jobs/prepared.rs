//! What a job queued on this node is run from (its script, version and the owner's
//! quota overrides), kept from the submit that read it until a worker here claims the
//! job: a job claimed at once needs no second read of what its submit just read.
//!
//! Only fresh entries are used: a job that waited in the queue is built from the
//! database as it is when claimed (its script edited or deleted, its owner's quotas
//! lowered meanwhile). The map is small and bounded; a job with no entry (queued on
//! another node, by a schedule, or while the map was full) is read as before. A node
//! that runs no jobs keeps nothing.

use crate::db::run_source::RunSource;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most entries kept: more than the workers can claim at once. A job whose entry no
/// worker here takes (another node's worker claimed it, it was cancelled or waited) leaves
/// it until the next `keep` finds it stale.
const CAPACITY: usize = 64;
/// How long, from the read, an entry stands for the database: about a claim's wait when
/// a worker is free, short against any edit a user could make after submitting.
const FRESH_FOR: Duration = Duration::from_millis(500);

/// Jobs' sources by job id (generic only so the tests keep plain values).
pub(super) struct PreparedRuns<T = RunSource>(Mutex<HashMap<String, (Instant, T)>>);

impl<T> Default for PreparedRuns<T> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<T> PreparedRuns<T> {
    /// Keep what job `id` runs from, read from the database at `read_at`, unless the
    /// map is full of fresh entries; stale ones are dropped first.
    pub(super) fn keep(&self, id: &str, read_at: Instant, source: T) {
        let mut map = self.lock();
        map.retain(|_, (read, _)| read.elapsed() < FRESH_FOR);
        if map.len() < CAPACITY && read_at.elapsed() < FRESH_FOR {
            map.insert(id.to_owned(), (read_at, source));
        }
    }

    /// What job `id` runs from, when kept and still fresh; forgotten either way.
    pub(super) fn take(&self, id: &str) -> Option<T> {
        let (kept, source) = self.lock().remove(id)?;
        (kept.elapsed() < FRESH_FOR).then_some(source)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, T)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn source(id: &str) -> String {
        id.to_owned()
    }

    #[test]
    fn an_entry_is_taken_once() {
        let prepared = PreparedRuns::<String>::default();
        prepared.keep("j1", Instant::now(), source("s1"));
        assert_eq!(prepared.take("j1").unwrap(), "s1");
        assert!(prepared.take("j1").is_none());
        assert!(prepared.take("j2").is_none());
    }

    #[test]
    fn a_stale_entry_is_not_used() {
        let prepared = PreparedRuns::<String>::default();
        prepared.keep("j1", Instant::now(), source("s1"));
        prepared.lock().get_mut("j1").unwrap().0 -= FRESH_FOR;
        assert!(prepared.take("j1").is_none());
    }

    #[test]
    fn the_map_stays_bounded_and_makes_room_from_stale_entries() {
        let prepared = PreparedRuns::<String>::default();
        for n in 0..CAPACITY + 10 {
            prepared.keep(&format!("j{n}"), Instant::now(), source("s"));
        }
        assert_eq!(prepared.lock().len(), CAPACITY);
        assert!(prepared.take(&format!("j{}", CAPACITY + 5)).is_none());
        for (kept, _) in prepared.lock().values_mut() {
            *kept -= FRESH_FOR;
        }
        prepared.keep("new", Instant::now(), source("s"));
        assert_eq!(prepared.lock().len(), 1);
        assert!(prepared.take("new").is_some());
    }

    #[test]
    fn what_was_read_too_long_ago_is_not_kept() {
        let prepared = PreparedRuns::<String>::default();
        prepared.keep("old", Instant::now() - FRESH_FOR, source("s"));
        assert!(prepared.lock().is_empty());
    }
}
