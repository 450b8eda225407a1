//! CPU accounting of a run: the CPU time its polls take on the executor's threads, and
//! the budget per interval that pauses a run (an agent) once it has used its share.

use crate::limits::{CpuRate, fuel_to_cpu_seconds};
use automa_host_api::LogLevel;
use automa_host_api::ports::RunEvents;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

/// The calling thread's CPU time so far, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u64::try_from(now.tv_sec)
        .unwrap_or_default()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(now.tv_nsec).unwrap_or_default())
}

/// Adds up the thread CPU time of every poll of the futures it measures. A run's
/// future runs the interpreter inside its polls (and yields at least every epoch
/// tick), so this is the interpreter's CPU time, whichever worker thread polled it.
#[derive(Debug, Default)]
pub(crate) struct ThreadCpuTimed(Arc<AtomicU64>);

impl ThreadCpuTimed {
    #[cfg(test)]
    pub(crate) fn counter() -> Self {
        Self::default()
    }

    /// Counting into `meter` when there is one.
    pub(crate) fn into_meter(meter: Option<&crate::limits::CpuMeter>) -> Self {
        Self(meter.map(|m| m.0.clone()).unwrap_or_default())
    }

    /// `future`, with the CPU time of its polls added to this counter.
    pub(crate) async fn measure<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        std::future::poll_fn(|cx| {
            let before = thread_cpu_ns();
            let polled = future.as_mut().poll(cx);
            let spent = thread_cpu_ns().saturating_sub(before);
            self.0.fetch_add(spent, Ordering::Relaxed);
            match polled {
                Poll::Ready(out) => Poll::Ready(out),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// The CPU time measured so far, in milliseconds.
    pub(crate) fn millis(&self) -> u64 {
        self.0.load(Ordering::Relaxed) / 1_000_000
    }
}

/// A CPU budget per interval, checked at every epoch tick against the store's fuel.
#[derive(Debug)]
pub(crate) struct Throttle {
    rate: CpuRate,
    /// When the current interval began.
    began: Instant,
    /// The fuel left when it began.
    fuel_at_start: u64,
}

impl Throttle {
    pub(crate) fn new(rate: CpuRate, fuel: u64) -> Self {
        Self {
            rate,
            began: Instant::now(),
            fuel_at_start: fuel,
        }
    }

    /// With `fuel_left` in the store now: `None` to go on, or the pause until the next
    /// interval when this one's budget is used (said once per pause in the run's log).
    pub(crate) fn check(
        &mut self,
        fuel_left: u64,
        events: &dyn RunEvents,
    ) -> Option<tokio::time::Sleep> {
        let now = Instant::now();
        if now.duration_since(self.began) >= self.rate.every {
            self.began = now;
            self.fuel_at_start = fuel_left;
            return None;
        }
        let used = self.fuel_at_start.saturating_sub(fuel_left);
        if used < self.rate.fuel {
            return None;
        }
        let resume = self.began + self.rate.every;
        let wait = resume.saturating_duration_since(now);
        events.log(
            LogLevel::Warning,
            &format!(
                "CPU budget of {:.2} CPU seconds per {} used: paused for {:.1}s until the \
                 next interval",
                fuel_to_cpu_seconds(self.rate.fuel),
                humanize(self.rate.every),
                wait.as_secs_f64()
            ),
            Some(&serde_json::json!({
                "cpu_throttled": true,
                "paused_ms": u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            })),
        );
        // The next interval starts when the pause ends, with what is left then.
        self.began = resume;
        self.fuel_at_start = fuel_left;
        Some(tokio::time::sleep_until(resume.into()))
    }
}

/// The fuel a run has left as of the last time its guest entered the host: its store's
/// call hook sets it on every host call and every fuel yield (wasmtime makes that yield
/// from a call into the host), where the throttle outside the store reads it.
#[derive(Debug, Clone)]
pub(crate) struct FuelGauge(Arc<AtomicU64>);

impl FuelGauge {
    pub(crate) fn new(fuel: u64) -> Self {
        Self(Arc::new(AtomicU64::new(fuel)))
    }

    pub(crate) fn set(&self, fuel_left: u64) {
        self.0.store(fuel_left, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A run's CPU rate when its guest yields every so much fuel instead of at epoch ticks:
/// each time the run's future gives the thread back, the throttle looks at the gauge,
/// and a spent interval holds the future back (without polling it) until the next.
pub(crate) struct Pacer {
    pub(crate) throttle: Throttle,
    pub(crate) gauge: FuelGauge,
    pub(crate) events: Arc<dyn RunEvents>,
}

impl Pacer {
    /// `future`, paused whenever its interval's budget is spent.
    pub(crate) async fn pace<F: Future>(mut self, future: F) -> F::Output {
        let mut future = pin!(future);
        let mut pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        std::future::poll_fn(|cx| {
            if let Some(sleep) = pause.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                pause = None;
            }
            let polled = future.as_mut().poll(cx);
            if polled.is_pending()
                && let Some(sleep) = self.throttle.check(self.gauge.get(), &*self.events)
            {
                let mut sleep = Box::pin(sleep);
                // Polled once so its timer wakes this task; the guest already asked to
                // be polled again, which now waits for the pause.
                if sleep.as_mut().poll(cx).is_pending() {
                    pause = Some(sleep);
                }
            }
            polled
        })
        .await
    }
}

/// `future` under `pacer` when there is one.
pub(crate) async fn paced<F: Future>(pacer: Option<Pacer>, future: F) -> F::Output {
    match pacer {
        Some(pacer) => pacer.pace(future).await,
        None => future.await,
    }
}

fn humanize(every: Duration) -> String {
    let secs = every.as_secs();
    if secs > 0 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{:.0}s", every.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use automa_host_api::ports::Nothing;

    #[tokio::test]
    async fn a_spent_interval_pauses_until_the_next() {
        let rate = CpuRate {
            fuel: 100,
            every: Duration::from_secs(60),
        };
        let mut throttle = Throttle::new(rate, 1_000);
        assert!(throttle.check(950, &Nothing).is_none(), "50 of 100 used");
        let began = throttle.began;
        assert!(throttle.check(900, &Nothing).is_some(), "100 of 100 used");
        assert_eq!(
            throttle.began,
            began + rate.every,
            "next interval after the pause"
        );
        assert!(
            throttle.check(850, &Nothing).is_none(),
            "the new interval's budget"
        );
    }

    #[tokio::test]
    async fn polls_are_timed() {
        let counter = ThreadCpuTimed::counter();
        counter
            .measure(async {
                // 20 ms of this thread's CPU, however busy the machine is.
                let start = thread_cpu_ns();
                let mut x = 0u64;
                while thread_cpu_ns() - start < 20_000_000 {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            })
            .await;
        assert!(counter.millis() >= 20, "{} ms", counter.millis());
    }
}
