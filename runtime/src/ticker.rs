//! The epoch ticker: advances an engine's epoch every tick so running guests reach
//! their deadline, cancellation and CPU checks, and sleeps while no guest can run.
//!
//! A ticker that never parks woke an idle server a thousand times a second and, on
//! two cores, took its share of every trivial run's thread. So it ticks only while a
//! [`Ticking`] is held. Every store that runs guest code holds one for as long as it
//! can: [`govern`](crate::run::govern), the one place a store is armed with epoch
//! yields, moves one into the store's epoch callback, so a store that can be
//! interrupted keeps the ticker going until it is dropped or disarmed.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::Engine;

/// The engine's ticker; it stops when dropped.
pub(crate) struct EpochTicker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    woken: Condvar,
}

#[derive(Default)]
struct State {
    /// The [`Ticking`]s alive.
    holders: usize,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps the ticker ticking while it lives.
pub(crate) struct Ticking(Arc<Shared>);

impl Drop for Ticking {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.holders = state.holders.saturating_sub(1);
    }
}

impl EpochTicker {
    /// Start the ticker's thread, parked until something ticks.
    pub(crate) fn start(engine: Engine, tick: Duration) -> Self {
        let shared = Arc::new(Shared::default());
        let ours = shared.clone();
        let thread = std::thread::Builder::new()
            .name("automa-epoch".into())
            .spawn(move || {
                loop {
                    {
                        let mut state = ours.lock();
                        while state.holders == 0 && !state.stop {
                            state = ours.woken.wait(state).unwrap_or_else(|e| e.into_inner());
                        }
                        if state.stop {
                            return;
                        }
                    }
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|error| tracing::error!(%error, "cannot start the epoch ticker"))
            .ok();
        Self { shared, thread }
    }

    /// Tick from now until the returned guard is dropped.
    pub(crate) fn ticking(&self) -> Ticking {
        let mut state = self.shared.lock();
        state.holders += 1;
        if state.holders == 1 {
            self.shared.woken.notify_one();
        }
        drop(state);
        Ticking(self.shared.clone())
    }

    /// Whether the ticker is ticking now.
    pub(crate) fn is_ticking(&self) -> bool {
        self.shared.lock().holders > 0
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.woken.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        Engine::new(&config).expect("engine")
    }

    /// `(module (func (export "spin") (loop br 0)))`: a loop that checks the epoch at
    /// its back edge and traps once the engine's epoch passes the store's deadline.
    const SPIN: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
        0x03, 0x02, 0x01, 0x00, // one function of that type
        0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
        0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop br 0
    ];

    /// Whether a spinning guest was stopped by an epoch tick `within` the time given
    /// (a watchdog ends the spin otherwise).
    fn passed(engine: &Engine, store: &mut wasmtime::Store<()>, within: Duration) -> bool {
        let module = wasmtime::Module::new(engine, SPIN).expect("module");
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
        let instance = wasmtime::Instance::new(&mut *store, &module, &[]).expect("instance");
        let spin = instance
            .get_typed_func::<(), ()>(&mut *store, "spin")
            .expect("spin");
        let started = std::time::Instant::now();
        let (done, waited) = std::sync::mpsc::channel();
        let watchdog_engine = engine.clone();
        std::thread::spawn(move || {
            // Ends the spin should the ticker not: a parked ticker must not hang the test.
            if waited.recv_timeout(within).is_err() {
                for _ in 0..3 {
                    watchdog_engine.increment_epoch();
                }
            }
        });
        let trapped = spin.call(&mut *store, ()).is_err();
        let _ = done.send(());
        trapped && started.elapsed() < within
    }

    #[test]
    fn it_ticks_only_while_held() {
        let engine = engine();
        let ticker = EpochTicker::start(engine.clone(), Duration::from_millis(1));
        assert!(!ticker.is_ticking());
        let held = ticker.ticking();
        let second = ticker.ticking();
        let mut store = wasmtime::Store::new(&engine, ());
        assert!(
            passed(&engine, &mut store, Duration::from_secs(2)),
            "the held ticker interrupts a spinning guest within a tick or so"
        );
        drop(held);
        assert!(ticker.is_ticking(), "one holder is left");
        drop(second);
        assert!(!ticker.is_ticking());
    }

    #[test]
    fn a_parked_ticker_leaves_the_epoch_alone() {
        let engine = engine();
        let ticker = EpochTicker::start(engine.clone(), Duration::from_millis(1));
        let mut store = wasmtime::Store::new(&engine, ());
        assert!(
            !passed(&engine, &mut store, Duration::from_millis(200)),
            "no holder, no tick: only the watchdog ended the spin"
        );
        drop(ticker);
    }
}
