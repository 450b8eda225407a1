//! An agent instance's CPU time, added to the agent's total while it runs: the
//! runtime counts it into a meter, this stores what is new every second and the rest
//! when the instance ends.

use crate::db::{self, Db, agents::Claimed};
use automa_runtime::CpuMeter;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Stores one instance's CPU time as it grows.
pub struct CpuRecorder {
    db: Db,
    holder: Claimed,
    meter: CpuMeter,
    stored: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

async fn store(db: &Db, holder: &Claimed, meter: &CpuMeter, stored: &AtomicU64) {
    let now = meter.millis();
    let before = stored.load(Ordering::Relaxed);
    let ms = i64::try_from(now - before).unwrap_or(i64::MAX);
    if now > before
        && db::agents::add_cpu_time(db, &holder.held(), ms)
            .await
            .is_ok()
    {
        stored.store(now, Ordering::Relaxed);
    }
}

impl CpuRecorder {
    /// Start storing what `meter` counts for the agent (under its holder's claim).
    pub fn start(db: Db, holder: Claimed, meter: CpuMeter) -> Self {
        let stored = Arc::new(AtomicU64::new(0));
        let task = {
            let (db, holder, meter, stored) =
                (db.clone(), holder.clone(), meter.clone(), stored.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    store(&db, &holder, &meter, &stored).await;
                }
            })
        };
        Self {
            db,
            holder,
            meter,
            stored,
            task,
        }
    }

    /// The instance ended: store the rest.
    pub async fn finish(self) {
        self.task.abort();
        let _ = self.task.await;
        store(&self.db, &self.holder, &self.meter, &self.stored).await;
    }
}
