//! Every run gets a fresh instance: nothing a script changes in the interpreter
//! (module globals, `sys.modules`, builtins, files under `/tmp`) is seen by the next
//! run, with the on-demand allocator and with pooled, reused instance slots.
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

async fn nothing_carries_over(runtime: &Runtime) {
    let clean = json!({
        "global": null, "module": false, "builtin": false,
        "json_patched": null, "path": false, "tmp": false,
    });
    let recorder = Arc::new(Recorder::default());
    // More runs than pooled slots, so slots are reused.
    for i in 0..6 {
        let outcome = runtime
            .run(request(SCRIPT, Capabilities::default(), &recorder))
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert_eq!(outcome.result, Some(clean.clone()), "run {i}");
    }
}

#[tokio::test]
async fn a_run_sees_nothing_of_the_previous_one() {
    nothing_carries_over(common::runtime()).await;
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
