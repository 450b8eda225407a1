//! Password-attempt throttling for login, password change and TOTP disable. Attempts are
//! counted per account (by normalised email, whether or not the account exists, so
//! lockout does not reveal which emails are registered) and per client IP. After
//! `max_failures` attempts within the lockout window the key is locked for the lockout
//! duration; the IP key allows four times as many. In memory: a restart clears it, which
//! is acceptable for a single-binary server.
//!
//! An attempt is counted *before* the password is checked ([`LoginThrottle::begin`]), under
//! the same lock that checks the limit, so concurrent attempts cannot all pass the check
//! before the first failure is recorded. A success gives the reservation back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Entry {
    /// Attempts in this window that did not succeed, including those still in flight.
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
    max_failures: u32,
    lockout: Duration,
}

/// A counted password attempt. Settle it with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropping it unsettled (an error, or "TOTP code required")
/// gives the reservation back, as for a success that proves nothing.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    keys: Vec<String>,
    locked: Vec<String>,
    settled: bool,
}

impl Attempt<'_> {
    /// The attempt failed: it stays counted. Returns the keys it locked (to audit).
    pub fn failed(mut self) -> Vec<String> {
        self.settled = true;
        std::mem::take(&mut self.locked)
    }

    /// The password was right: account keys are cleared, IP keys get the attempt back.
    pub fn succeeded(mut self) {
        self.settled = true;
        for key in &self.keys {
            if key.starts_with("ip:") {
                self.throttle.refund(key);
            } else {
                self.throttle.reset(key);
            }
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            for key in &self.keys {
                self.throttle.refund(key);
            }
        }
    }
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

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts an attempt against every key, or refuses it with the seconds until the
    /// latest lock among `keys` ends. The attempt that reaches a key's limit locks it at
    /// once (later concurrent attempts are refused) and may still check its password; if
    /// that succeeds, the lock is lifted again.
    pub fn begin(&self, keys: &[&str], now: Instant) -> Result<Attempt<'_>, u64> {
        let mut map = self.map();
        if map.len() > 50_000 {
            let lockout = self.lockout;
            map.retain(|_, e| {
                now.duration_since(e.window_start) < lockout
                    || e.locked_until.is_some_and(|u| u > now)
            });
        }
        let refused = keys
            .iter()
            .filter_map(|k| map.get(*k).and_then(|e| e.locked_until))
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs().max(1))
            .max();
        if let Some(secs) = refused {
            return Err(secs);
        }
        let mut locked = Vec::new();
        for key in keys {
            let limit = self.limit_for(key);
            let e = map.entry((*key).to_owned()).or_insert(Entry {
                failures: 0,
                window_start: now,
                locked_until: None,
            });
            let lock_ended = e.locked_until.is_some_and(|u| u <= now);
            if lock_ended || now.duration_since(e.window_start) >= self.lockout {
                e.failures = 0;
                e.window_start = now;
                e.locked_until = None;
            }
            e.failures += 1;
            if e.failures >= limit {
                e.locked_until = Some(now + self.lockout);
                locked.push((*key).to_owned());
            }
        }
        Ok(Attempt {
            throttle: self,
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            locked,
            settled: false,
        })
    }

    /// Gives one attempt back; a lock its reservation set is lifted.
    fn refund(&self, key: &str) {
        let mut map = self.map();
        if let Some(e) = map.get_mut(key) {
            e.failures = e.failures.saturating_sub(1);
            if e.failures < self.limit_for(key) {
                e.locked_until = None;
            }
        }
    }

    pub fn reset(&self, key: &str) {
        self.map().remove(key);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn locks_after_max_failures_and_unlocks_later() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..2 {
            assert!(t.begin(&["email:a"], now).unwrap().failed().is_empty());
        }
        assert_eq!(t.begin(&["email:a"], now).unwrap().failed(), ["email:a"]);
        assert!(t.begin(&["email:a"], now).is_err());
        assert!(t.begin(&["email:b"], now).is_ok());
        assert!(t.begin(&["email:a"], now + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn concurrent_attempts_are_refused_once_the_limit_is_reserved() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        // Three attempts in flight hold every allowed attempt; a fourth is refused
        // before any of them has finished.
        let held: Vec<_> = (0..3)
            .map(|_| t.begin(&["email:a"], now).unwrap())
            .collect();
        assert_eq!(t.begin(&["email:a"], now).err(), Some(60));
        drop(held);
        // Unsettled attempts (errors) are given back.
        assert!(t.begin(&["email:a"], now).is_ok());
    }

    #[test]
    fn success_clears_the_account_and_refunds_the_ip() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        let keys = ["email:a", "ip:1"];
        t.begin(&keys, now).unwrap().failed();
        let last = t.begin(&keys, now).unwrap();
        assert!(t.begin(&keys, now).is_err(), "the limit is reserved");
        last.succeeded();
        // The account starts afresh; the IP keeps its one real failure.
        for _ in 0..7 {
            t.begin(&["ip:1"], now).unwrap().failed();
        }
        assert!(t.begin(&["ip:1"], now).is_err());
        assert!(t.begin(&["email:a"], now).is_ok());
    }
}
