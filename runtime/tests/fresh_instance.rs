//! Every run gets a fresh instance: nothing a script changes in the interpreter
//! (module globals, `sys.modules`, builtins, files under `/tmp`) is seen by the next
//! run, with the on-demand allocator (and its spare instance made ahead of the next
//! run) and with pooled, reused instance slots.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{RunStatus, Runtime, RuntimeConfig};
use common::{Recorder, request};
use serde_json::json;
use std::sync::Arc;

/// Sets state everywhere a later run could see it, after reporting what it found.
const SCRIPT: &str = r#"
import sys, builtins, json, os
def main():
    seen = {
        "global": globals().get("LEFT_BEHIND"),
        "module": "automa_left_behind" in sys.modules,
        "builtin": hasattr(builtins, "automa_left_behind"),
        "json_patched": getattr(json, "automa_left_behind", None),
        "path": "/left/behind" in sys.path,
        "tmp": os.path.exists("/tmp/left-behind"),
    }
    global LEFT_BEHIND
    LEFT_BEHIND = "set by an earlier run"
    sys.modules["automa_left_behind"] = type(sys)("automa_left_behind")
    builtins.automa_left_behind = True
    json.automa_left_behind = "patched"
    sys.path.append("/left/behind")
    with open("/tmp/left-behind", "w") as f:
        f.write("x")
    return seen
"#;

/// Runs `SCRIPT` again and again; how many of the runs took a spare instance.
async fn nothing_carries_over(runtime: &Runtime) -> usize {
    let clean = json!({
        "global": null, "module": false, "builtin": false,
        "json_patched": null, "path": false, "tmp": false,
    });
    let recorder = Arc::new(Recorder::default());
    let mut spares = 0;
    // More runs than pooled slots, so slots are reused.
    for i in 0..6 {
        let (outcome, phases) = runtime
            .run_timed(request(SCRIPT, Capabilities::default(), &recorder))
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert_eq!(outcome.result, Some(clean.clone()), "run {i}");
        spares += usize::from(phases.spare);
        // Time for the next spare to be made, as between jobs.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    spares
}

#[tokio::test]
async fn a_run_sees_nothing_of_the_previous_one() {
    nothing_carries_over(common::runtime()).await;
}

#[tokio::test]
async fn a_spare_instance_made_ahead_is_fresh_too() {
    // The shared runtime makes the next run's instance while a run goes on.
    let spares = nothing_carries_over(common::runtime()).await;
    assert!(spares >= 4, "{spares} of 6 runs took a spare");
}

#[tokio::test]
async fn a_spare_instance_keeps_a_memory_limit_below_its_start() {
    let recorder = Arc::new(Recorder::default());
    let warm = runtime_run(SCRIPT, &recorder, None).await;
    assert_eq!(warm.status, RunStatus::Succeeded, "{warm:?}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // Less than the interpreter's memory at its start: refused as without a spare.
    let small = runtime_run("print(1)\n", &recorder, Some(1 << 20)).await;
    assert_eq!(small.status, RunStatus::MemoryExceeded, "{small:?}");
}

async fn runtime_run(
    source: &str,
    recorder: &Arc<Recorder>,
    memory_bytes: Option<u64>,
) -> automa_runtime::RunOutcome {
    let mut req = request(source, Capabilities::default(), recorder);
    if let Some(bytes) = memory_bytes {
        req.limits.memory_bytes = bytes;
    }
    common::runtime().run(req).await
}

#[tokio::test]
async fn a_run_sees_nothing_of_the_previous_one_in_a_reused_pool_slot() {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache");
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache),
        pooled_instances: 2,
        ..RuntimeConfig::default()
    })
    .unwrap();
    nothing_carries_over(&runtime).await;
}
