//! Runtime benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa --bench runtime` measures, on this machine:
//! - a trivial script's run time with a warm engine (median, p99);
//! - the whole process `automa run hello.py` against `python3 hello.py`;
//! - the round trip of one host call;
//! - a CPU-bound mixed workload against native python3.

use automa_runtime::host::ports::{MemoryState, Nothing};
use automa_runtime::host::{Capabilities, HostContext, ReqwestClient};
use automa_runtime::{
    CancellationToken, Limits, Mounts, RunOutcome, RunRequest, RunStatus, Runtime, RuntimeConfig,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORKLOAD: &str = r#"
import json, time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
start = time.perf_counter()
total = fib(24)
index = {}
for i in range(60000):
    index[f"key{i}"] = {"n": i, "sq": i * i, "tags": [str(i % 7), str(i % 11)]}
blob = json.dumps(index)
back = json.loads(blob)
words = " ".join(k for k in back if k.endswith("7")).split()
total += sum(len(w) for w in words) + sum(v["n"] for v in back.values()) % 1000
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;

const HOST_CALLS: &str = r#"
import time
from wit_world.imports import state
def local(key):
    return None
N = 20000
t0 = time.perf_counter()
for _ in range(N):
    state.get("k")
t1 = time.perf_counter()
for _ in range(N):
    local("k")
t2 = time.perf_counter()
print(f"{((t1 - t0) - (t2 - t1)) / N * 1e6:.3f}")
"#;

fn main() -> anyhow::Result<()> {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/automa-bench-cache");
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let pooled = std::env::var("POOL")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.clone()),
        pooled_instances: pooled,
        ..RuntimeConfig::default()
    })?;
    println!("pooled instance slots: {pooled}");
    println!(
        "runtime start (engine + cached runner): {:.1} ms",
        ms(started.elapsed())
    );

    tokio.block_on(async {
        for _ in 0..20 {
            run(&runtime, "print(1)").await;
        }
        let mut times = Vec::new();
        for _ in 0..300 {
            let t = Instant::now();
            let outcome = run(&runtime, "print(1)").await;
            times.push(t.elapsed());
            assert_eq!(outcome.status, RunStatus::Succeeded);
        }
        times.sort();
        println!(
            "trivial run, warm engine: median {:.2} ms, p99 {:.2} ms (n=300; target median <= 3 ms)",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100])
        );

        let outcome = run(&runtime, HOST_CALLS).await;
        println!(
            "host call round trip: {} us (target <= 10 us)",
            outcome.stdout.trim()
        );

        let sandbox: Vec<f64> = {
            let mut v = Vec::new();
            for _ in 0..5 {
                let outcome = run(&runtime, WORKLOAD).await;
                v.push(outcome.stdout.trim().parse::<f64>().unwrap_or(f64::NAN));
            }
            v
        };
        let native: Vec<f64> = (0..5)
            .map(|_| {
                let out = Command::new("python3").args(["-c", WORKLOAD]).output();
                out.ok()
                    .and_then(|o| String::from_utf8(o.stdout).ok())
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        let (s, n) = (median(sandbox), median(native));
        println!(
            "CPU-bound mixed workload: sandbox {s:.1} ms, native python3 {n:.1} ms, ratio {:.2} (target <= 2.0)",
            s / n
        );
    });

    let dir = tempfile::tempdir()?;
    let hello = dir.path().join("hello.py");
    std::fs::write(&hello, "print('hello')\n")?;
    let automa = env!("CARGO_BIN_EXE_automa");
    let whole = |program: &str, args: &[&str]| -> Duration {
        let mut times: Vec<Duration> = (0..30)
            .map(|_| {
                let t = Instant::now();
                let status = Command::new(program)
                    .args(args)
                    .env("AUTOMA_CACHE_DIR", &cache)
                    .stdout(std::process::Stdio::null())
                    .status();
                assert!(status.is_ok_and(|s| s.success()), "{program} failed");
                t.elapsed()
            })
            .collect();
        times.sort();
        times[times.len() / 2]
    };
    let hello = hello.to_string_lossy().into_owned();
    let ours = whole(automa, &["run", &hello]);
    // The real interpreter, not a version-manager shim in front of it.
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()?;
    let python = String::from_utf8(python.stdout)?.trim().to_owned();
    let theirs = whole(&python, &[&hello]);
    println!(
        "whole process: automa run hello.py {:.1} ms, python3 hello.py {:.1} ms, ratio {:.2} (target <= 1.0)",
        ms(ours),
        ms(theirs),
        ms(ours) / ms(theirs)
    );
    Ok(())
}

async fn run(runtime: &Runtime, source: &str) -> RunOutcome {
    let mut host = HostContext::new(
        Arc::new(Capabilities::default()),
        Arc::new(ReqwestClient::new()),
        Arc::new(Nothing),
        Arc::new(Nothing),
    );
    host.state = Some(Arc::new(MemoryState::default()));
    runtime
        .run(RunRequest {
            source: source.to_owned(),
            filename: "bench.py".into(),
            args: Value::Null,
            limits: Limits::default(),
            mounts: Mounts::default(),
            host,
            cancel: CancellationToken::new(),
            profile: Default::default(),
        })
        .await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
