//! Login throttling. Failures are counted per account (by normalised email, whether or not
//! the account exists, so lockout does not reveal which emails are registered) and per
//! client IP. After `max_failures` failures within the lockout window the key is locked for
//! the lockout duration; the IP key allows four times as many failures. In memory: a
//! restart clears it, which is acceptable for a single-binary server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Entry {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
    max_failures: u32,
    lockout: Duration,
}

/// Whether a failure just locked a key.
#[derive(Debug, PartialEq, Eq)]
pub enum FailureOutcome {
    Counted,
    LockedNow,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_failures: max_failures.max(1),
            lockout,
        }
    }

    fn limit_for(&self, key: &str) -> u32 {
        if key.starts_with("ip:") {
            self.max_failures.saturating_mul(4)
        } else {
            self.max_failures
        }
    }

    /// Seconds until the first locked key unlocks, if any key is locked.
    pub fn locked_for(&self, keys: &[&str], now: Instant) -> Option<u64> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| map.get(*k).and_then(|e| e.locked_until))
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs().max(1))
            .max()
    }

    pub fn record_failure(&self, key: &str, now: Instant) -> FailureOutcome {
        let limit = self.limit_for(key);
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            let lockout = self.lockout;
            map.retain(|_, e| {
                now.duration_since(e.window_start) < lockout
                    || e.locked_until.is_some_and(|u| u > now)
            });
        }
        let e = map.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            window_start: now,
            locked_until: None,
        });
        if now.duration_since(e.window_start) >= self.lockout {
            e.failures = 0;
            e.window_start = now;
        }
        e.failures += 1;
        if e.failures >= limit && e.locked_until.is_none_or(|u| u <= now) {
            e.locked_until = Some(now + self.lockout);
            e.failures = 0;
            e.window_start = now;
            FailureOutcome::LockedNow
        } else {
            FailureOutcome::Counted
        }
    }

    pub fn reset(&self, key: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_unlocks_later() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(t.record_failure("email:a", now), FailureOutcome::Counted);
        assert_eq!(t.record_failure("email:a", now), FailureOutcome::Counted);
        assert_eq!(t.record_failure("email:a", now), FailureOutcome::LockedNow);
        assert!(t.locked_for(&["email:a"], now).is_some());
        assert!(
            t.locked_for(&["email:a"], now + Duration::from_secs(61))
                .is_none()
        );
        assert!(t.locked_for(&["email:b"], now).is_none());
    }
}
