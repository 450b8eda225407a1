//! Scripts' byte code, kept between runs.
//!
//! In a fresh instance, compiling even a three-line script took 2.3 ms of a 4.4 ms
//! trivial run: the parser and compiler touch pages of the interpreter's heap that
//! nothing else in the run does, and each first touch is a page fault. Loading the
//! same code with `marshal` took 0.19 ms. So the first run of a script asks its
//! instance to compile it (the runner's `compile` export) and keeps the bytes; later
//! runs of the same source and file name hand them to `run`. The runner stays the
//! only author of what is kept, so a script cannot smuggle in byte code of its own.
//! The cache lives with the runtime, and so with the one runner version whose
//! `marshal` format it holds.

use hashlink::LruCache;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// A script's identity: the SHA-256 of its file name and source.
pub(crate) type CodeKey = [u8; 32];

/// The byte code of recently run scripts, least recently used out first, within a
/// bound of bytes.
pub(crate) struct CodeCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

struct Inner {
    entries: LruCache<CodeKey, Arc<[u8]>>,
    bytes: usize,
}

impl CodeCache {
    /// A cache holding at most `max_bytes` of byte code (`0` keeps nothing).
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::new_unbounded(),
                bytes: 0,
            }),
            max_bytes,
        }
    }

    /// Whether it keeps anything: when not, runs compile their scripts themselves.
    pub(crate) fn is_on(&self) -> bool {
        self.max_bytes > 0
    }

    /// The key of `source` named `filename` (the name is part of the code: tracebacks
    /// and `__file__` show it).
    pub(crate) fn key(filename: &str, source: &str) -> CodeKey {
        let mut hash = Sha256::new();
        hash.update((filename.len() as u64).to_le_bytes());
        hash.update(filename.as_bytes());
        hash.update(source.as_bytes());
        hash.finalize().into()
    }

    /// The byte code kept for `key`, now the most recently used.
    pub(crate) fn get(&self, key: &CodeKey) -> Option<Arc<[u8]>> {
        self.lock().entries.get(key).cloned()
    }

    /// Keep `code` for `key`, dropping the least recently used until it fits. Code
    /// larger than an eighth of the bound is not kept: one big script would push out
    /// many small ones.
    pub(crate) fn put(&self, key: CodeKey, code: Arc<[u8]>) {
        if code.len() > self.max_bytes / 8 {
            return;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.entries.insert(key, code.clone()) {
            inner.bytes -= old.len();
        }
        inner.bytes += code.len();
        while inner.bytes > self.max_bytes {
            match inner.entries.remove_lru() {
                Some((_, evicted)) => inner.bytes -= evicted.len(),
                None => break,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The data stays consistent at every await-free step; a panic elsewhere while
        // holding the lock leaves nothing half-done worth refusing.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(len: usize) -> Arc<[u8]> {
        vec![7u8; len].into()
    }

    #[test]
    fn keys_differ_by_file_name_and_source() {
        let a = CodeCache::key("a.py", "print(1)");
        assert_ne!(a, CodeCache::key("b.py", "print(1)"));
        assert_ne!(a, CodeCache::key("a.py", "print(2)"));
        // The name's length is hashed too: moving a byte between name and source
        // gives another key.
        assert_ne!(CodeCache::key("ab", "c"), CodeCache::key("a", "bc"));
        assert_eq!(a, CodeCache::key("a.py", "print(1)"));
    }

    #[test]
    fn keeps_within_its_bound_least_recently_used_out_first() {
        let cache = CodeCache::new(800);
        let keys: Vec<CodeKey> = (0..9)
            .map(|i| CodeCache::key("s.py", &i.to_string()))
            .collect();
        for key in &keys[..8] {
            cache.put(*key, code(100));
        }
        // Touch the oldest, so the second is now the least recently used.
        assert!(cache.get(&keys[0]).is_some());
        cache.put(keys[8], code(100));
        assert!(cache.get(&keys[1]).is_none());
        for key in keys.iter().filter(|k| **k != keys[1]) {
            assert!(cache.get(key).is_some());
        }
        assert_eq!(cache.lock().bytes, 800);
    }

    #[test]
    fn replacing_an_entry_counts_its_bytes_once() {
        let cache = CodeCache::new(800);
        let key = CodeCache::key("s.py", "x");
        cache.put(key, code(100));
        cache.put(key, code(50));
        assert_eq!(cache.lock().bytes, 50);
        assert_eq!(cache.get(&key).map(|c| c.len()), Some(50));
    }

    #[test]
    fn code_over_an_eighth_of_the_bound_is_not_kept() {
        let cache = CodeCache::new(800);
        let key = CodeCache::key("s.py", "x");
        cache.put(key, code(101));
        assert!(cache.get(&key).is_none());
        let off = CodeCache::new(0);
        off.put(key, code(1));
        assert!(off.get(&key).is_none());
    }
}
