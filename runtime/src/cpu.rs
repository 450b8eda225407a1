//! CPU accounting of a run: the CPU time its polls take on the executor's threads, and
//! the budget per interval that pauses a run (an agent) once it has used its share.

use crate::limits::{CpuRate, Limits, cpu_seconds_to_fuel};
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

/// A run's CPU time in nanoseconds: every poll of the run's future adds the thread CPU
/// time it took. A run's future runs the interpreter inside its polls (and yields at
/// least every epoch tick), so this is the interpreter's CPU time, whichever worker
/// thread polled it; the epoch callback reads it from inside a poll, with the poll's
/// time so far, so a budget is seen within a tick however long the poll.
#[derive(Debug, Clone, Default)]
pub(crate) struct CpuClock {
    total: Arc<AtomicU64>,
    /// The thread CPU time when the current poll's share was last added.
    mark: Arc<AtomicU64>,
}

impl CpuClock {
    /// Counting into `meter` when there is one.
    pub(crate) fn into_meter(meter: Option<&crate::limits::CpuMeter>) -> Self {
        Self {
            total: meter.map(|m| m.0.clone()).unwrap_or_default(),
            mark: Arc::default(),
        }
    }

    /// `future`, with the CPU time of its polls added to this clock.
    pub(crate) async fn measure<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        std::future::poll_fn(|cx| {
            self.mark.store(thread_cpu_ns(), Ordering::Relaxed);
            let polled = future.as_mut().poll(cx);
            self.read_in_poll();
            match polled {
                Poll::Ready(out) => Poll::Ready(out),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// The CPU time so far, called from inside a measured poll (on its thread): the
    /// poll's share since the last mark is added first.
    pub(crate) fn read_in_poll(&self) -> u64 {
        let now = thread_cpu_ns();
        let share = now.saturating_sub(self.mark.swap(now, Ordering::Relaxed));
        self.total.fetch_add(share, Ordering::Relaxed) + share
    }

    /// The CPU time measured so far, in milliseconds.
    pub(crate) fn millis(&self) -> u64 {
        self.total.load(Ordering::Relaxed) / 1_000_000
    }
}

/// What a run's CPU budgets are counted in.
#[derive(Debug, Clone)]
pub(crate) enum CpuCount {
    /// Fuel burned, from the store's fuel (the runtime counts fuel): deterministic.
    Fuel {
        /// The store's fuel at the start.
        initial: u64,
    },
    /// Thread CPU nanoseconds, from the run's clock.
    Time(CpuClock),
}

impl CpuCount {
    /// The units of `cpu` in this count.
    fn units(&self, cpu: Duration) -> u64 {
        match self {
            CpuCount::Fuel { .. } => cpu_seconds_to_fuel(cpu.as_secs_f64()),
            CpuCount::Time(_) => u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// The units used so far, with `fuel_left` in the store (from inside a poll).
    fn used(&self, fuel_left: u64) -> u64 {
        match self {
            CpuCount::Fuel { initial } => initial.saturating_sub(fuel_left),
            CpuCount::Time(clock) => clock.read_in_poll(),
        }
    }
}

/// The store's fuel at the start of a run with `limits` whose budgets are counted in
/// fuel: its budget, or all there is (so fuel never ends a run without one).
pub(crate) fn initial_fuel(limits: &Limits) -> u64 {
    limits
        .cpu
        .map_or(u64::MAX, |cpu| cpu_seconds_to_fuel(cpu.as_secs_f64()))
}

/// Ends a run whose whole CPU budget is spent (as its epoch callback's error); a budget
/// counted in fuel ends with wasmtime's own out-of-fuel trap instead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CpuBudgetSpent;

impl std::fmt::Display for CpuBudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the run used its CPU budget")
    }
}

impl std::error::Error for CpuBudgetSpent {}

/// A run's CPU budgets, kept in its store and checked at every epoch tick.
#[derive(Debug)]
pub(crate) struct CpuGovernor {
    count: CpuCount,
    /// The whole run's budget when counted in time (one counted in fuel is the store's
    /// fuel, which wasmtime enforces itself).
    budget: Option<u64>,
    /// The budget per interval.
    pub(crate) throttle: Option<Throttle>,
}

impl CpuGovernor {
    /// The budgets of `limits`, counted in fuel when `fuel_counted`, else by `clock`.
    pub(crate) fn new(limits: &Limits, fuel_counted: bool, clock: CpuClock) -> Self {
        let count = if fuel_counted {
            CpuCount::Fuel {
                initial: initial_fuel(limits),
            }
        } else {
            CpuCount::Time(clock)
        };
        let budget = match count {
            CpuCount::Time(_) => limits.cpu.map(|cpu| count.units(cpu)),
            CpuCount::Fuel { .. } => None,
        };
        let throttle = limits
            .cpu_rate
            .map(|rate| Throttle::new(rate, count.units(rate.cpu)));
        Self {
            count,
            budget,
            throttle,
        }
    }

    /// No budget at all (a spare's store before a run takes it).
    pub(crate) fn unlimited() -> Self {
        Self {
            count: CpuCount::Time(CpuClock::default()),
            budget: None,
            throttle: None,
        }
    }

    /// At an epoch tick, with `fuel_left` in the store: an error when the whole budget
    /// is spent, a pause until the next interval when the interval's is, else nothing.
    pub(crate) fn at_tick(
        &mut self,
        fuel_left: u64,
        events: &dyn RunEvents,
    ) -> Result<Option<tokio::time::Sleep>, CpuBudgetSpent> {
        if self.budget.is_none() && self.throttle.is_none() {
            return Ok(None);
        }
        let used = self.count.used(fuel_left);
        if self.budget.is_some_and(|budget| used >= budget) {
            return Err(CpuBudgetSpent);
        }
        Ok(self
            .throttle
            .as_mut()
            .and_then(|throttle| throttle.check(used, events)))
    }
}

/// A CPU budget per interval, checked against the units a run has used.
#[derive(Debug)]
pub(crate) struct Throttle {
    rate: CpuRate,
    /// The budget per interval in the run's units (fuel or nanoseconds).
    per_interval: u64,
    /// When the current interval began.
    began: Instant,
    /// The units used when it began.
    used_at_start: u64,
}

impl Throttle {
    pub(crate) fn new(rate: CpuRate, per_interval: u64) -> Self {
        Self {
            rate,
            per_interval,
            began: Instant::now(),
            used_at_start: 0,
        }
    }

    /// With `used` units used by the run so far: `None` to go on, or the pause until
    /// the next interval when this one's budget is used (said once per pause in the
    /// run's log).
    pub(crate) fn check(
        &mut self,
        used: u64,
        events: &dyn RunEvents,
    ) -> Option<tokio::time::Sleep> {
        let now = Instant::now();
        if now.duration_since(self.began) >= self.rate.every {
            self.began = now;
            self.used_at_start = used;
            return None;
        }
        if used.saturating_sub(self.used_at_start) < self.per_interval {
            return None;
        }
        let resume = self.began + self.rate.every;
        let wait = resume.saturating_duration_since(now);
        events.log(
            LogLevel::Warning,
            &format!(
                "CPU budget of {:.2} CPU seconds per {} used: paused for {:.1}s until the \
                 next interval",
                self.rate.cpu.as_secs_f64(),
                humanize(self.rate.every),
                wait.as_secs_f64()
            ),
            Some(&serde_json::json!({
                "cpu_throttled": true,
                "paused_ms": u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            })),
        );
        // The next interval starts when the pause ends, with what is used then.
        self.began = resume;
        self.used_at_start = used;
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
    /// The store's fuel at the start.
    pub(crate) initial_fuel: u64,
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
                && let Some(sleep) = self.throttle.check(
                    self.initial_fuel.saturating_sub(self.gauge.get()),
                    &*self.events,
                )
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
            cpu: Duration::from_millis(100),
            every: Duration::from_secs(60),
        };
        let mut throttle = Throttle::new(rate, 100);
        assert!(throttle.check(50, &Nothing).is_none(), "50 of 100 used");
        let began = throttle.began;
        assert!(throttle.check(100, &Nothing).is_some(), "100 of 100 used");
        assert_eq!(
            throttle.began,
            began + rate.every,
            "next interval after the pause"
        );
        assert!(
            throttle.check(150, &Nothing).is_none(),
            "the new interval's budget"
        );
    }

    /// Spins this thread for `ns` of its CPU time.
    fn spin(ns: u64) {
        let start = thread_cpu_ns();
        let mut x = 0u64;
        while thread_cpu_ns() - start < ns {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    #[tokio::test]
    async fn polls_are_timed() {
        let clock = CpuClock::default();
        let inside = clock
            .measure(async {
                // 20 ms of this thread's CPU, however busy the machine is.
                spin(20_000_000);
                clock.read_in_poll()
            })
            .await;
        assert!(inside >= 20_000_000, "{inside} ns seen inside the poll");
        assert!(clock.millis() >= 20, "{} ms", clock.millis());
        assert!(
            clock.millis() < 1_000,
            "the poll counted once: {} ms",
            clock.millis()
        );
    }

    #[tokio::test]
    async fn a_time_budget_is_spent_inside_a_long_poll() {
        let limits = Limits {
            cpu: Some(Duration::from_millis(10)),
            ..Limits::default()
        };
        let clock = CpuClock::default();
        let mut governor = CpuGovernor::new(&limits, false, clock.clone());
        let ticks = clock
            .measure(async {
                let first = governor.at_tick(0, &Nothing).map(|p| p.is_none());
                spin(12_000_000);
                (first, governor.at_tick(0, &Nothing).is_err())
            })
            .await;
        assert_eq!(ticks, (Ok(true), true), "in budget, then spent");
    }

    #[tokio::test]
    async fn a_fuel_budget_is_left_to_the_store() {
        let limits = Limits {
            cpu: Some(Duration::from_secs(1)),
            ..Limits::default()
        };
        let mut governor = CpuGovernor::new(&limits, true, CpuClock::default());
        assert!(matches!(
            governor.count,
            CpuCount::Fuel { initial } if initial == crate::FUEL_PER_CPU_SECOND
        ));
        assert!(
            matches!(governor.at_tick(0, &Nothing), Ok(None)),
            "wasmtime traps at zero fuel"
        );
    }
}
