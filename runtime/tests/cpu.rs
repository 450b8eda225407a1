//! The CPU budget of a run, counted in thread CPU time (the default) or in fuel: a run
//! that uses it ends `cpu_exceeded`; CPU time (and fuel, when counted) are reported; a
//! budget per interval pauses the run instead of ending it.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{
    CpuRate, Limits, RunStatus, Runtime, RuntimeConfig, cpu_seconds_to_fuel, fuel_to_cpu_seconds,
};
use common::Recorder;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A runtime that counts fuel, whatever the default is.
fn fueled() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        common::runtime_with(RuntimeConfig {
            fuel: true,
            ..RuntimeConfig::default()
        })
    })
}

/// A run of an endless loop that tries to catch its end, under a 0.3 CPU second budget.
async fn spin_over_budget(runtime: &Runtime) -> (automa_runtime::RunOutcome, Duration) {
    let recorder = Arc::new(Recorder::default());
    let source = "\
def main():
    try:
        while True:
            pass
    except BaseException:
        return 'caught'
";
    let mut request = common::request(source, Capabilities::default(), &recorder);
    request.limits = Limits {
        cpu: Some(Duration::from_millis(300)),
        timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let started = Instant::now();
    let outcome = runtime.run(request).await;
    assert_eq!(
        outcome.status,
        RunStatus::CpuExceeded,
        "{:?}",
        outcome.error
    );
    let error = outcome.error.as_ref().unwrap();
    assert_eq!(error.kind, "CpuExceeded");
    assert!(
        error.message.contains("budget of 0.30 CPU seconds"),
        "{}",
        error.message
    );
    assert!(outcome.result.is_none());
    (outcome, started.elapsed())
}

#[tokio::test]
async fn a_run_over_its_cpu_time_ends_cpu_exceeded_and_cannot_catch_it() {
    assert!(
        !RuntimeConfig::default().fuel,
        "thread CPU time is the default"
    );
    let (outcome, took) = spin_over_budget(common::runtime()).await;
    assert_eq!(outcome.fuel_consumed, None, "no fuel is counted");
    // Ended within a few epoch ticks of its budget of thread CPU time, however busy the
    // machine (a delayed tick lets it run on a little).
    assert!(
        (300..3_000).contains(&outcome.cpu_time_ms),
        "{} ms CPU in {took:?}",
        outcome.cpu_time_ms
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[tokio::test]
async fn a_run_over_its_fuel_ends_cpu_exceeded_and_cannot_catch_it() {
    let (outcome, took) = spin_over_budget(fueled()).await;
    let budget = cpu_seconds_to_fuel(0.3);
    assert!(
        outcome
            .error
            .unwrap()
            .message
            .contains(&format!("({budget} fuel units)")),
        "the budget in fuel is named"
    );
    assert_eq!(
        outcome.fuel_consumed,
        Some(budget),
        "the whole budget was spent"
    );
    // Before the wall-clock limit; the measured CPU time is of the order of the budget
    // (the conversion was measured on the reference machine).
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(
        (50..30_000).contains(&outcome.cpu_time_ms),
        "{} ms CPU in {took:?}",
        outcome.cpu_time_ms
    );
}

#[tokio::test]
async fn cpu_time_and_fuel_are_reported_and_sleeping_costs_neither() {
    let busy = "\
def main():
    n = 0
    for i in range(2_000_000):
        n += i
    return n
";
    let outcome = fueled()
        .run(common::request(
            busy,
            Capabilities::default(),
            &Arc::default(),
        ))
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    assert!(outcome.cpu_time_ms >= 100, "{} ms", outcome.cpu_time_ms);
    let busy_fuel = outcome.fuel_consumed.unwrap();
    // The fuel per CPU second is of the order the conversion assumes.
    let ratio = fuel_to_cpu_seconds(busy_fuel) / (outcome.cpu_time_ms as f64 / 1000.0);
    assert!(
        (0.1..10.0).contains(&ratio),
        "{busy_fuel} fuel in {} ms",
        outcome.cpu_time_ms
    );

    let sleepy = "import time\ndef main():\n    time.sleep(0.5)\n";
    for runtime in [fueled(), common::runtime()] {
        let outcome = runtime
            .run(common::request(
                sleepy,
                Capabilities::default(),
                &Arc::default(),
            ))
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
        assert!(outcome.duration_ms >= 500);
        assert!(outcome.cpu_time_ms < 200, "{} ms", outcome.cpu_time_ms);
        if let Some(fuel) = outcome.fuel_consumed {
            assert!(fuel < busy_fuel / 2);
        }
    }
}

/// Work of a fixed amount of CPU at a fifth of it per interval (an interval twice as
/// long as a fifth of the work takes): it needs five intervals, so at least three
/// pauses (four but for the measurement's slack), and it still finishes.
async fn throttled_work_pauses(runtime: &Runtime) {
    let recorder = Arc::new(Recorder::default());
    let source = "\
def main():
    n = 0
    for i in range(1_500_000):
        n += i
    return n
";
    let unthrottled = runtime
        .run(common::request(
            source,
            Capabilities::default(),
            &Arc::default(),
        ))
        .await;
    assert_eq!(unthrottled.status, RunStatus::Succeeded);
    let work = match unthrottled.fuel_consumed {
        Some(fuel) => Duration::from_secs_f64(fuel_to_cpu_seconds(fuel)),
        None => Duration::from_millis(unthrottled.cpu_time_ms),
    };
    let mut request = common::request(source, Capabilities::default(), &recorder);
    let every = Duration::from_millis(unthrottled.duration_ms * 2 / 5 + 100);
    request.limits.cpu_rate = Some(CpuRate {
        cpu: work / 5,
        every,
    });
    let started = Instant::now();
    let outcome = runtime.run(request).await;
    let took = started.elapsed();
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    assert_eq!(outcome.result, unthrottled.result);
    let logs = recorder.logs.lock().unwrap();
    let pauses: Vec<_> = logs
        .iter()
        .filter(|(level, message, _)| level == "warning" && message.contains("paused for"))
        .collect();
    assert!(pauses.len() >= 3, "{work:?} of work: {logs:?}");
    assert!(pauses[0].1.contains("CPU budget of"), "{}", pauses[0].1);
    assert!(took >= every * 3 - Duration::from_millis(50), "{took:?}");
}

#[tokio::test]
async fn a_cpu_time_budget_per_interval_pauses_the_run_until_the_next_interval() {
    throttled_work_pauses(common::runtime()).await;
}

#[tokio::test]
async fn a_fuel_budget_per_interval_pauses_the_run_until_the_next_interval() {
    throttled_work_pauses(fueled()).await;
}
