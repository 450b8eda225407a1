//! The epoch ticker runs only while a guest may run: it parks once a run has ended and
//! its spare instance is made, and a run that takes the spare is still stopped at its
//! deadline (the spare's store is armed again before its script starts).
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{RunStatus, Runtime, RuntimeConfig};
use common::Recorder;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits up to ten seconds for the ticker to park; whether it did.
async fn parks(runtime: &Runtime) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !runtime.epoch_ticking() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticker_parks_between_runs_and_still_stops_a_spinning_script() {
    let runtime = Arc::new(common::runtime_with(RuntimeConfig::default()));
    assert!(
        !runtime.epoch_ticking(),
        "a runtime that ran nothing does not tick"
    );
    let recorder = Arc::new(Recorder::default());
    let trivial = common::request(
        "def main():\n    return 1\n",
        Capabilities::default(),
        &recorder,
    );
    let outcome = runtime.run(trivial).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    assert!(
        parks(&runtime).await,
        "the ticker kept ticking after the run and its spare"
    );

    // This run takes the spare made after the first one.
    let mut spin = common::request(
        "while True:\n    pass\n",
        Capabilities::default(),
        &recorder,
    );
    spin.limits.timeout = Duration::from_millis(300);
    let running = {
        let runtime = runtime.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            (runtime.run(spin).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        runtime.epoch_ticking(),
        "the ticker is on while a script spins"
    );
    let (outcome, took) = running.await.unwrap();
    assert_eq!(outcome.status, RunStatus::TimedOut, "{:?}", outcome.error);
    assert!(took < Duration::from_secs(3), "the deadline held: {took:?}");
    assert!(
        parks(&runtime).await,
        "the ticker parks again after the spinning run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_sleeping_in_the_host_keeps_the_ticker_on_and_its_deadline() {
    let runtime = Arc::new(common::runtime_with(RuntimeConfig {
        spare_instance: false,
        ..RuntimeConfig::default()
    }));
    let recorder = Arc::new(Recorder::default());
    // Sleeps in the host, then spins: the spin must still be interrupted.
    let source = "import time\n\ndef main():\n    time.sleep(0.2)\n    while True:\n        pass\n";
    let mut request = common::request(source, Capabilities::default(), &recorder);
    request.limits.timeout = Duration::from_millis(600);
    let started = Instant::now();
    let outcome = runtime.run(request).await;
    assert_eq!(outcome.status, RunStatus::TimedOut, "{:?}", outcome.error);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(parks(&runtime).await, "no spare, no run: the ticker parks");
}
