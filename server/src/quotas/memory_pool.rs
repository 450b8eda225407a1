//! The sandbox memory the server commits: every running job and agent instance holds
//! its memory limit from this pool while it runs; a run that does not fit waits (jobs)
//! or is refused (agents) instead of overcommitting the host.

use std::sync::{Arc, Mutex};

/// The pool of `capacity_mb` MiB. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MemoryPool(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    capacity_mb: u64,
    used_mb: Mutex<u64>,
}

/// Memory held by one run; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    pool: MemoryPool,
    mb: u64,
}

/// Why a reservation was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error(
        "the run's {wanted} MiB are more than the server commits to all runs together \
         ({capacity} MiB, the total_sandbox_memory_mb quota)"
    )]
    NeverFits { wanted: u64, capacity: u64 },
    #[error(
        "the server's sandbox memory is fully committed ({used} of {capacity} MiB held by \
         running jobs and agents; this run needs {wanted} MiB)"
    )]
    Full {
        wanted: u64,
        used: u64,
        capacity: u64,
    },
}

impl MemoryPool {
    pub fn new(capacity_mb: u64) -> Self {
        Self(Arc::new(Inner {
            capacity_mb,
            used_mb: Mutex::new(0),
        }))
    }

    fn used(&self) -> std::sync::MutexGuard<'_, u64> {
        self.0.used_mb.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hold `mb` MiB, or say why not.
    pub fn reserve(&self, mb: u64) -> Result<Reservation, PoolError> {
        let capacity = self.0.capacity_mb;
        if mb > capacity {
            return Err(PoolError::NeverFits {
                wanted: mb,
                capacity,
            });
        }
        let mut used = self.used();
        if *used + mb > capacity {
            return Err(PoolError::Full {
                wanted: mb,
                used: *used,
                capacity,
            });
        }
        *used += mb;
        metrics::gauge!("sandbox_memory_committed_bytes").set((*used * 1024 * 1024) as f64);
        Ok(Reservation {
            pool: self.clone(),
            mb,
        })
    }

    /// MiB held now.
    pub fn used_mb(&self) -> u64 {
        *self.used()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut used = self.pool.used();
        *used = used.saturating_sub(self.mb);
        metrics::gauge!("sandbox_memory_committed_bytes").set((*used * 1024 * 1024) as f64);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn runs_hold_memory_until_they_end() {
        let pool = MemoryPool::new(1000);
        let a = pool.reserve(600).unwrap();
        assert!(matches!(
            pool.reserve(500),
            Err(PoolError::Full { used: 600, .. })
        ));
        assert!(matches!(
            pool.reserve(2000),
            Err(PoolError::NeverFits { .. })
        ));
        drop(a);
        assert_eq!(pool.used_mb(), 0);
        let _b = pool.reserve(1000).unwrap();
    }
}
