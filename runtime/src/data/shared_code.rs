//! Cranelift's incremental cache, in memory, for the first load of the data profile.
//!
//! The first load compiles the interpreter twice: instrumented for the snapshot, then as
//! the snapshot itself (and a third time, plain, when the snapshot cannot be made). Their
//! function bodies are the same; only exports, globals and data differ. With this store
//! each function is generated once and reused by the later compiles, which then cost
//! little more than translating and hashing. It is emptied once the profile is loaded,
//! so the compiled code is not held for the process's life.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use wasmtime::CacheStore;

#[derive(Debug, Default)]
pub(super) struct SharedCode {
    code: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    /// Lookups answered from the store, and all lookups: what the reuse bought.
    hits: AtomicU64,
    lookups: AtomicU64,
}

impl SharedCode {
    /// Forget every function compiled so far, logging how many compiles were reused.
    pub(super) fn clear(&self) {
        let lookups = self.lookups.load(Ordering::Relaxed);
        if lookups > 0 {
            tracing::info!(
                reused = self.hits.load(Ordering::Relaxed),
                lookups,
                "the data profile's compiles reused functions compiled before"
            );
        }
        let mut code = self.code.lock().unwrap_or_else(PoisonError::into_inner);
        *code = HashMap::new();
    }
}

impl CacheStore for SharedCode {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let code = self.code.lock().unwrap_or_else(PoisonError::into_inner);
        // Copied out: the lock cannot be held past the call.
        let found = code.get(key).map(|code| Cow::Owned(code.clone()));
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut code = self.code.lock().unwrap_or_else(PoisonError::into_inner);
        code.insert(key.to_vec(), value);
        true
    }
}
