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

/// What a run reads of its instance's start: set by componentize-py on an instance's
/// first call, which for a spare is its warm-up, before any run.
const STARTUP_SEEN: &str = r#"
import sys, os, random
def main():
    print("to stdout")
    print("to stderr", file=sys.stderr)
    return {"argv": sys.argv, "environ": dict(os.environ), "random": random.random(),
            "tmp": os.listdir("/tmp")}
"#;

#[tokio::test]
async fn a_warmed_up_spare_gives_each_run_its_own_output_arguments_and_seed() {
    let recorder = Arc::new(Recorder::default());
    let (mut spares, mut seeds) = (0, Vec::new());
    for _ in 0..5 {
        let (outcome, phases) = common::runtime()
            .run_timed(request(STARTUP_SEEN, Capabilities::default(), &recorder))
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert_eq!(outcome.stdout, "to stdout\n");
        assert_eq!(outcome.stderr, "to stderr\n");
        let result = outcome.result.unwrap();
        assert_eq!(result["argv"], json!(["script.py"]));
        assert_eq!(result["environ"], json!({}));
        assert_eq!(result["tmp"], json!([]));
        seeds.push(result["random"].as_f64().unwrap().to_bits());
        spares += usize::from(phases.spare);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(spares >= 3, "{spares} of 5 runs took a spare");
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), 5, "every run has its own random seed");
}

/// A pool of `slots` instance slots, with the spare made ahead.
fn pooled_runtime(slots: u32) -> Runtime {
    common::runtime_with(RuntimeConfig {
        pooled_instances: slots,
        ..RuntimeConfig::default()
    })
}

#[tokio::test]
async fn a_pool_makes_a_spare_ahead_too() {
    let runtime = pooled_runtime(4);
    let spares = nothing_carries_over(&runtime).await;
    assert!(spares >= 4, "{spares} of 6 runs took a spare");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_never_takes_the_last_slot_of_a_pool_from_a_run() {
    // One slot: when a run ends, the spare for the next is made on the other thread and
    // holds the slot from the start of its instantiation; a run started a millisecond
    // later finds the pool full and the spare not ready yet, and must get the slot back.
    let runtime = pooled_runtime(1);
    let recorder = Arc::new(Recorder::default());
    for n in 0..8 {
        let outcome = runtime
            .run(request(
                &format!("print({n})\n"),
                Capabilities::default(),
                &recorder,
            ))
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "run {n}: {outcome:?}");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_streams_of_runs_share_a_two_slot_pool_with_the_spare() {
    // Two slots and two runs at a time: whenever one run ends, the spare made for the
    // next holds a slot from the start of its instantiation, while the other stream's
    // run holds the other. Every run must still get an instance: by taking the spare,
    // or, refused a slot in the moment before the spare appeared, by giving its slot
    // back and trying again.
    let runtime = Arc::new(pooled_runtime(2));
    let streams = (0..2).map(|stream| {
        let runtime = runtime.clone();
        tokio::spawn(async move {
            let recorder = Arc::new(Recorder::default());
            for n in 0..12 {
                let source = format!("print({stream}, {n})\n");
                let outcome = runtime
                    .run(request(&source, Capabilities::default(), &recorder))
                    .await;
                assert_eq!(
                    outcome.status,
                    RunStatus::Succeeded,
                    "run {stream}.{n}: {outcome:?}"
                );
            }
        })
    });
    for stream in streams.collect::<Vec<_>>() {
        stream.await.unwrap();
    }
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
    nothing_carries_over(&pooled_runtime(2)).await;
}

/// Leaves `/tmp` empty, so the runtime may keep the directory for a later run, but
/// grown by many long names and with times a later run could read back; reports what it
/// found and when it ended.
const EMPTY_TMP_SCRIPT: &str = r#"
import os, time
def main():
    st = os.stat("/tmp")
    seen = {"entries": os.listdir("/tmp"), "size": st.st_size,
            "mtime": st.st_mtime, "atime": st.st_atime}
    names = ["/tmp/" + "y" * 200 + str(i) for i in range(NAMES)]
    for name in names:
        open(name, "w").close()
    for name in names:
        os.remove(name)
    os.utime("/tmp", (1000, 1000))
    seen["ended"] = time.time()
    return seen
"#;

/// Between the runs of the test below.
const PAUSE_SECS: f64 = 0.3;

#[tokio::test]
async fn a_kept_empty_tmp_directory_carries_nothing_over() {
    let recorder = Arc::new(Recorder::default());
    let mut seen: Vec<serde_json::Value> = Vec::new();
    // Runs that leave the directory as made (so it is kept) and runs that grow it.
    for (i, names) in [0, 0, 600, 0, 0].into_iter().enumerate() {
        let source = EMPTY_TMP_SCRIPT.replace("NAMES", &names.to_string());
        let outcome = common::runtime()
            .run(request(&source, Capabilities::default(), &recorder))
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        let found = outcome.result.unwrap();
        assert_eq!(found["entries"], json!([]), "run {i}");
        if let Some(first) = seen.first() {
            assert_eq!(found["size"], first["size"], "run {i} sees a grown /tmp");
            // Its times are from when it got the directory (after the pause below), not
            // from when the previous run ended.
            let previous_end = seen[i - 1]["ended"].as_f64().unwrap() + PAUSE_SECS / 2.0;
            for time in ["mtime", "atime"] {
                assert!(
                    found[time].as_f64().unwrap() > previous_end,
                    "run {i}: {time} {} is not after the previous run ended ({previous_end})",
                    found[time]
                );
            }
        }
        seen.push(found);
        tokio::time::sleep(std::time::Duration::from_secs_f64(PAUSE_SECS)).await;
    }
}
