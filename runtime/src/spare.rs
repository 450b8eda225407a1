//! One runner instance made ahead of the run that will use it.
//!
//! Instantiating the runner costs more than any other step of a trivial run (about
//! 5,800 function references of the interpreter's table are filled in and some 2,000
//! imports wired, per instance), and none of it depends on the run. So once a run has
//! ended, the next run's instance is made on an executor thread, into a store of its
//! own with placeholder data; the next run takes it, puts its own data (WASI context,
//! host, limits, fuel) into the store before the guest's first instruction, and starts
//! another when it ends. Each run still gets an instance no other run has touched: a
//! spare is never called before the run that takes it. One spare at most, and only a
//! finished one is taken: a run never waits for it.

use crate::run::RunState;
use automa_host_api::bindings::{Runner, RunnerPre};
use std::sync::Mutex;
use tokio::task::JoinHandle;
use wasmtime::{Engine, Store};

/// A runner instantiated into its own store and never called.
pub(crate) struct Spare {
    pub(crate) store: Store<RunState>,
    pub(crate) runner: Runner,
}

/// The spare being made, or made; empty when off.
#[derive(Default)]
pub(crate) struct SpareSlot(Mutex<Option<JoinHandle<Option<Spare>>>>);

impl SpareSlot {
    /// The spare when it is ready; `None` while it is still being made (it is then
    /// left for a later run), when making it failed (a full instance pool) or when
    /// there is none.
    pub(crate) async fn take_ready(&self) -> Option<Spare> {
        let made = {
            let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(task) if task.is_finished() => slot.take(),
                _ => None,
            }
        }?;
        // Finished, so this does not wait; a task of a runtime that has shut down
        // since (one per test) ends cancelled, and there is no spare.
        made.await.ok().flatten()
    }

    /// Start making a spare unless one is ready or on its way; its store yields every
    /// `yield_fuel` like a run's (the run sets its own fuel when it takes it).
    pub(crate) fn refill(&self, engine: &Engine, pre: &RunnerPre<RunState>, yield_fuel: u64) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return;
        }
        let (engine, pre) = (engine.clone(), pre.clone());
        *slot = Some(handle.spawn(async move {
            let mut store = Store::new(&engine, RunState::placeholder());
            crate::run::pace_by_fuel(&mut store, u64::MAX, yield_fuel);
            let runner = pre.instantiate_async(&mut store).await.ok()?;
            Some(Spare { store, runner })
        }));
    }
}
