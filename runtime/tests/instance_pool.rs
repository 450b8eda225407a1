//! The pooling allocator's bound: an instance past `pooled_instances` fails with a
//! clear error instead of waiting or crashing, and a slot is usable again as soon as
//! the run holding it has finished.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{RunStatus, RuntimeConfig};
use common::{Recorder, request};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn an_instance_past_the_pool_is_refused_clearly_and_the_slot_comes_back() {
    let runtime = Arc::new(common::runtime_with(RuntimeConfig {
        pooled_instances: 1,
        ..RuntimeConfig::default()
    }));
    let recorder = Arc::new(Recorder::default());
    let holder = {
        let (runtime, recorder) = (runtime.clone(), recorder.clone());
        tokio::spawn(async move {
            let slow = "import time\ndef main():\n    time.sleep(1.5)\n    return 'held'\n";
            runtime
                .run(request(slow, Capabilities::default(), &recorder))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let quick = "def main():\n    return 2\n";
    let refused = runtime
        .run(request(quick, Capabilities::default(), &recorder))
        .await;
    assert_eq!(refused.status, RunStatus::Failed, "{refused:?}");
    let error = refused.error.unwrap();
    assert_eq!(error.kind, "InstanceLimit", "{error:?}");
    assert!(error.message.contains("max_instances"), "{}", error.message);

    let held = holder.await.unwrap();
    assert_eq!(held.status, RunStatus::Succeeded, "{held:?}");
    let again = runtime
        .run(request(quick, Capabilities::default(), &recorder))
        .await;
    assert_eq!(again.status, RunStatus::Succeeded, "{again:?}");
    assert_eq!(again.result, Some(serde_json::json!(2)));
}
