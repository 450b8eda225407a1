//! Real-package benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa-runtime --bench packages` times, in fresh runs with the
//! compatibility suite's pinned packages mounted at `/packages`, the import of the
//! heaviest of them and a whole run of `import requests` plus a GET to a loopback
//! server, next to the same under native python3 (median of 5).
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/compat/packages.rs"]
mod packages;

use automa_runtime::RunStatus;
use automa_runtime::host::{Capabilities, NetRule};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RUNS: usize = 5;

/// Heavy imports among the pinned packages.
const MODULES: &[&str] = &[
    "boto3",
    "sqlalchemy.orm",
    "faker",
    "aiohttp",
    "httpx",
    "rich.console",
    "requests",
    "openpyxl",
    "babel.dates",
    "pygments.lexers.python",
];

/// Prints the import's own time in milliseconds, measured inside the interpreter.
fn import_script(module: &str) -> String {
    format!(
        "import importlib, time\nt = time.perf_counter()\nimportlib.import_module({module:?})\nprint((time.perf_counter() - t) * 1000)"
    )
}

async fn sandbox_run(source: &str, caps: Capabilities) -> (String, f64) {
    let recorder = Arc::new(common::Recorder::default());
    let mut request = common::request(source, caps, &recorder);
    request.mounts.packages = Some(packages::site_dir().to_path_buf());
    request.limits.memory_bytes = 512 * 1024 * 1024;
    let started = Instant::now();
    let outcome = common::runtime().run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    (outcome.stdout, ms)
}

fn native_run(source: &str) -> (String, f64) {
    let prelude = format!(
        "import sys\nsys.path.insert(0, {:?})\n",
        packages::site_dir().to_string_lossy()
    );
    let started = Instant::now();
    let output = std::process::Command::new("python3")
        .args(["-S", "-E", "-c", &format!("{prelude}{source}")])
        .output()
        .unwrap();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(output.status.success(), "{output:?}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), ms)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Answers every request with a short 200 and closes.
async fn http_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    port
}

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    packages::site_dir();
    // The first run compiles the component (or loads the cache): not measured.
    tokio.block_on(sandbox_run("print(1)", Capabilities::default()));

    println!("import of pinned packages, in-interpreter time (median of {RUNS} fresh runs):");
    println!(
        "{:<24} {:>10} {:>10} {:>7}",
        "module", "sandbox", "python3", "ratio"
    );
    for module in MODULES {
        let script = import_script(module);
        let parse = |out: String| out.trim().parse::<f64>().unwrap();
        let sandbox: Vec<f64> = (0..RUNS)
            .map(|_| {
                parse(
                    tokio
                        .block_on(sandbox_run(&script, Capabilities::default()))
                        .0,
                )
            })
            .collect();
        let native: Vec<f64> = (0..RUNS).map(|_| parse(native_run(&script).0)).collect();
        let (s, n) = (median(sandbox), median(native));
        println!("{module:<24} {s:>8.1}ms {n:>8.1}ms {:>7.2}", s / n);
    }

    let port = tokio.block_on(http_server());
    let script =
        format!("import requests\nprint(requests.get('http://127.0.0.1:{port}/', timeout=5).text)");
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule::parse(&format!("127.0.0.1:{port}")).unwrap()];
    // The real package from the mount, not the runner's built-in `requests` shim.
    let (which, _) = tokio.block_on(sandbox_run(
        "import requests\nprint(requests.__version__, requests.__file__)",
        Capabilities::default(),
    ));
    println!("the sandbox imports requests {}", which.trim());
    let sandbox: Vec<f64> = (0..RUNS)
        .map(|_| tokio.block_on(sandbox_run(&script, caps.clone())).1)
        .collect();
    let native: Vec<f64> = (0..RUNS).map(|_| native_run(&script).1).collect();
    let (s, n) = (median(sandbox), median(native));
    println!(
        "whole run of `import requests` + GET to loopback: sandbox {s:.1} ms, python3 {n:.1} ms (process start included), ratio {:.2}",
        s / n
    );
}
