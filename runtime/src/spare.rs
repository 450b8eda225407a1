//! One runner instance made ahead of the run that will use it.
//!
//! Instantiating the runner costs more than any other step of a trivial run (about
//! 5,800 function references of the interpreter's table are filled in and some 2,000
//! imports wired, per instance), and none of it depends on the run. Neither does
//! componentize-py's set-up on an instance's first call (it reads the environment and
//! arguments and calls `random.seed()`). So once a run has ended, the next run's
//! instance is made on an executor thread, into a store of its own with placeholder
//! data, and is warmed up: the runner compiles an empty script, which is any call's
//! set-up and little more. (It once compiled a small script, to touch the compiler's
//! pages off the next run's path; but most runs load byte code kept from an earlier run
//! and never compile, and those pages were copy-on-write faults every spare paid for:
//! about a ninth of a trivial job's page faults.) The next run
//! takes it, puts its own data (WASI context, host, limits, fuel) into the store before
//! its script's first instruction, and starts another when it ends.
//!
//! Each run still gets an instance no other run has touched: no run's code or data has
//! been in a spare. The warm-up makes no WASI resource (no file, stream or socket: the
//! store's resource table is replaced when a run takes the spare), and what it reads of
//! the placeholder context is what every run gets anyway: no environment variables (the
//! runner sets `sys.argv` itself) and a fresh random seed from the host. One spare at
//! most. A run that starts while it is still being made waits for it: what is left of
//! making it is never more than making another, and a run that instantiated its own
//! meanwhile (as runs once did) had the two instances slow each other down on a busy
//! machine. In a full instance pool a run gives the spare's slot back and tries once
//! more.

use crate::engine::Pacing;
use crate::run::RunState;
use crate::ticker::EpochTicker;
use automa_host_api::bindings::{Runner, RunnerPre};
use std::sync::Mutex;
use tokio::task::JoinHandle;
use wasmtime::{Engine, Store};

/// What the runner compiles to warm a spare up: nothing (no warning to print either,
/// which would open the placeholder's stderr in the instance).
const WARM_UP_SOURCE: &str = "";
const WARM_UP_FILENAME: &str = "<warm-up>";

/// A runner instantiated into its own store and warmed up, never called by a run.
pub(crate) struct Spare {
    pub(crate) store: Store<RunState>,
    pub(crate) runner: Runner,
}

/// The spare being made, or made; empty when off.
#[derive(Default)]
pub(crate) struct SpareSlot(Mutex<Option<JoinHandle<Option<Spare>>>>);

impl SpareSlot {
    /// The spare, waiting for one still being made; `None` when there is none or
    /// making it failed (a full instance pool). Only one run takes it: others
    /// instantiate their own.
    pub(crate) async fn take(&self) -> Option<Spare> {
        let task = self.lock().take()?;
        // A task of a runtime that has shut down since (one per test) ends cancelled,
        // and there is no spare.
        task.await.ok().flatten()
    }

    /// Give the spare's instance slot back to the pool; whether there was one.
    pub(crate) async fn give_back(&self) -> bool {
        self.take().await.is_some()
    }

    /// Start making a spare unless one is ready or on its way; its store yields by
    /// `pacing` like a run's (the run arms it with its own limits when it takes it).
    pub(crate) fn refill(
        &self,
        engine: &Engine,
        pre: &RunnerPre<RunState>,
        pacing: Pacing,
        ticker: &EpochTicker,
    ) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut slot = self.lock();
        if slot.is_some() {
            return;
        }
        let (engine, pre, ticking) = (engine.clone(), pre.clone(), ticker.ticking());
        *slot = Some(handle.spawn(async move {
            let mut store = Store::new(&engine, RunState::placeholder());
            crate::run::pace_spare(&mut store, pacing, ticking);
            let runner = pre.instantiate_async(&mut store).await.ok()?;
            // A failed warm-up (it never fails but by a bug) leaves no spare, not a
            // half-set-up one.
            runner
                .call_compile(&mut store, WARM_UP_SOURCE, WARM_UP_FILENAME)
                .await
                .ok()?
                .ok()?;
            crate::run::rest_spare(&mut store);
            Some(Spare { store, runner })
        }));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<JoinHandle<Option<Spare>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
