//! Writes that must not be lost to a busy database: a job's final state. Each is tried
//! again with a growing pause (about 30 s in all) before the error is given up to the
//! caller, so a flood of other writers cannot leave a job `running`.

use std::future::Future;
use std::time::Duration;

/// Attempts of a final-state write.
const ATTEMPTS: u32 = 8;

/// Run `write` until it succeeds or [`ATTEMPTS`] have failed; `what` names it in logs.
pub(super) async fn with_retries<T, F, Fut>(what: &str, job_id: &str, write: F) -> sqlx::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = sqlx::Result<T>>,
{
    retry(ATTEMPTS, Duration::from_millis(100), what, job_id, write).await
}

async fn retry<T, F, Fut>(
    attempts: u32,
    mut pause: Duration,
    what: &str,
    job_id: &str,
    mut write: F,
) -> sqlx::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = sqlx::Result<T>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Ok(done) => return Ok(done),
            Err(e) if attempt >= attempts => return Err(e),
            Err(e) => {
                tracing::warn!(job = %job_id, error = %e, attempt, "{what}; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(8));
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const PAUSE: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn a_write_is_tried_again_until_it_succeeds() {
        let tries = AtomicU32::new(0);
        retry(ATTEMPTS, PAUSE, "test", "j", || async {
            if tries.fetch_add(1, Ordering::Relaxed) < 3 {
                Err(sqlx::Error::PoolTimedOut)
            } else {
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(tries.load(Ordering::Relaxed), 4);
    }

    #[tokio::test]
    async fn it_gives_up_after_the_last_attempt() {
        let tries = AtomicU32::new(0);
        let result = retry(ATTEMPTS, PAUSE, "test", "j", || async {
            tries.fetch_add(1, Ordering::Relaxed);
            Err::<(), _>(sqlx::Error::PoolTimedOut)
        })
        .await;
        assert!(result.is_err());
        assert_eq!(tries.load(Ordering::Relaxed), ATTEMPTS);
    }
}
