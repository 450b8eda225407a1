//! argon2id password hashing (argon2 0.6 defaults: m=19456 KiB, t=2, p=1). Hashing is CPU
//! and memory heavy (19 MiB each), so it runs on the blocking pool, at most
//! [`max_concurrent`] at a time: a flood of logins waits for a permit instead of taking
//! gigabytes of memory.

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn validate_new(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!("password must be at most {MAX_PASSWORD_LEN} bytes"));
    }
    Ok(())
}

fn hash_sync(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(hash.to_string())
}

/// How many hashes or verifications run at once: two per core.
pub fn max_concurrent() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .saturating_mul(2)
}

/// Runs `work` on the blocking pool under the process-wide permit count.
async fn bounded<T: Send + 'static>(
    limit: &Semaphore,
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = limit
        .acquire()
        .await
        .context("password check limiter closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("password hashing task")
}

fn limiter() -> &'static Semaphore {
    static LIMIT: OnceLock<Semaphore> = OnceLock::new();
    LIMIT.get_or_init(|| Semaphore::new(max_concurrent()))
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    bounded(limiter(), move || hash_sync(&password)).await?
}

/// A real hash of a random password, so unknown users cost the same time as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let pw = hex::encode(super::keys::random_bytes::<16>().unwrap_or([7u8; 16]));
        hash_sync(&pw).unwrap_or_default()
    })
}

/// Verifies `password` against `stored` or, when there is no user, against a dummy hash.
/// Returns true only for a real match.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    bounded(limiter(), move || {
        let is_real = stored.is_some();
        let hash_text = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = match PasswordHash::new(&hash_text) {
            Ok(p) => p,
            Err(_) => return false,
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && is_real
    })
    .await
}

/// Computes the dummy hash ahead of the first login so that login is not slow once.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn no_more_than_the_permits_run_at_once() {
        let limit = Arc::new(Semaphore::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (limit, running, peak) = (limit.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    bounded(&limit, move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
