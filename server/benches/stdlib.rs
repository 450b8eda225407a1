//! Standard-library import benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa --bench stdlib` imports, each in a fresh run, the modules
//! that are not in the runner's snapshot (they load from the mounted library's byte
//! code) and prints the ten slowest next to the same import under native python3.

use automa_runtime::host::ports::Nothing;
use automa_runtime::host::{Capabilities, HostContext, ReqwestClient};
use automa_runtime::{CancellationToken, Limits, Mounts, RunRequest, Runtime, RuntimeConfig};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Times one import in milliseconds (the import only, not the run around it).
const IMPORT: &str = r#"
import importlib, sys, time
def main(name: str):
    if name in sys.modules:
        return -1.0
    t = time.perf_counter()
    importlib.import_module(name)
    return (time.perf_counter() - t) * 1000
"#;

/// Modules a script may import that are not pre-imported (checked at run time: a
/// module found in `sys.modules` is reported as pre-imported instead).
const CANDIDATES: &[&str] = &[
    "unittest",
    "unittest.mock",
    "doctest",
    "pdb",
    "pydoc",
    "mailbox",
    "multiprocessing",
    "xmlrpc.client",
    "xmlrpc.server",
    "imaplib",
    "poplib",
    "ftplib",
    "plistlib",
    "shelve",
    "wave",
    "filecmp",
    "fileinput",
    "optparse",
    "pkgutil",
    "pickletools",
    "cProfile",
    "profile",
    "pstats",
    "trace",
    "tracemalloc",
    "modulefinder",
    "pyclbr",
    "netrc",
    "wsgiref.simple_server",
    "http.server",
    "socketserver",
    "email.mime.image",
    "email.mime.audio",
    "dbm",
    "dbm.sqlite3",
    "sqlite3.dump",
    "tomllib",
    "compileall",
    "zipapp",
    "code",
    "codeop",
    "cmd",
    "symtable",
    "tabnanny",
    "getpass",
    "webbrowser",
    "importlib.metadata",
    "configparser",
    "smtplib",
    "http.client",
    "urllib.request",
];

fn main() -> anyhow::Result<()> {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/automa-bench-cache");
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache),
        ..RuntimeConfig::default()
    })?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    let mut pre_imported = Vec::new();
    for module in CANDIDATES {
        let sandbox: Vec<f64> = (0..5)
            .map(|_| tokio.block_on(import_ms(&runtime, module)))
            .collect();
        if sandbox.iter().any(|t| *t < 0.0) {
            pre_imported.push(*module);
            continue;
        }
        let native: Vec<f64> = (0..5).map(|_| native_import_ms(module)).collect();
        rows.push((*module, median(sandbox), median(native)));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("import time of the slowest modules outside the snapshot (median of 5 fresh runs):");
    println!(
        "{:<24} {:>10} {:>10} {:>7}",
        "module", "sandbox", "python3", "ratio"
    );
    for (module, sandbox, native) in rows.iter().take(10) {
        println!(
            "{module:<24} {sandbox:>8.1}ms {native:>8.1}ms {:>7.2}",
            sandbox / native
        );
    }
    println!(
        "pre-imported (0 ms at run time): {}",
        pre_imported.join(", ")
    );
    Ok(())
}

async fn import_ms(runtime: &Runtime, module: &str) -> f64 {
    let host = HostContext::new(
        Arc::new(Capabilities::default()),
        Arc::new(ReqwestClient::new()),
        Arc::new(Nothing),
        Arc::new(Nothing),
    );
    let outcome = runtime
        .run(RunRequest {
            source: IMPORT.to_owned(),
            filename: "bench.py".into(),
            args: json!({ "name": module }),
            limits: Limits::default(),
            mounts: Mounts::default(),
            host,
            cancel: CancellationToken::new(),
            profile: Default::default(),
        })
        .await;
    outcome.result.and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
}

fn native_import_ms(module: &str) -> f64 {
    let code = format!(
        "import importlib, time\nt = time.perf_counter()\nimportlib.import_module({module:?})\nprint((time.perf_counter() - t) * 1000)"
    );
    Command::new("python3")
        .args(["-c", &code])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
