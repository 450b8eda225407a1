//! Short-lived cache of verified bearer credentials, so the hot path (a GET with a bearer
//! token) does not hit the database on every request. Entries live `ttl` (default 5 s);
//! any change to users or tokens clears the whole cache, so revocation, disable and role
//! changes take effect immediately within this process.

use super::Principal;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

struct Entry {
    principal: Principal,
    valid_until: Instant,
}

pub struct AuthCache {
    map: RwLock<HashMap<String, Entry>>,
    ttl: Duration,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            ttl,
        }
    }

    pub fn get(&self, key: &str, now: Instant) -> Option<Principal> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|e| e.valid_until > now)
            .map(|e| e.principal.clone())
    }

    /// Caches until `now + ttl`, or earlier if the credential itself expires earlier.
    pub fn put(
        &self,
        key: String,
        principal: Principal,
        now: Instant,
        hard_limit: Option<Instant>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut valid_until = now + self.ttl;
        if let Some(limit) = hard_limit {
            valid_until = valid_until.min(limit);
        }
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, e| e.valid_until > now);
        }
        map.insert(
            key,
            Entry {
                principal,
                valid_until,
            },
        );
    }

    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
