//! Ordinary and hostile scripts in the sandbox: results, errors and limits.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{Mounts, RunStatus, SharedMount};
use common::{Recorder, request, run, run_with_args, runtime};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn prints_and_returns_main_result() {
    let outcome = run_with_args(
        "def main(name, times=2):\n    print('hi', name)\n    return {'greeting': 'hello ' + name, 'n': times}\n",
        json!({"name": "Ada", "times": 3}),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "hi Ada\n");
    assert_eq!(
        outcome.result,
        Some(json!({"greeting": "hello Ada", "n": 3}))
    );
    assert!(outcome.peak_memory_bytes > 1024 * 1024);
}

#[tokio::test]
async fn script_without_main_runs_its_top_level_as_main_module() {
    let outcome =
        run("import sys\nif __name__ == '__main__':\n    print('top', sys.argv[0])\n").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "top script.py\n");
    assert_eq!(outcome.result, Some(json!(null)));
}

#[tokio::test]
async fn main_guard_does_not_run_main_twice() {
    let source = "calls = []\ndef main(x=1):\n    print('main', x)\n    return x\nif __name__ == '__main__':\n    main()\n";
    let outcome = run_with_args(source, json!({"x": 5})).await;
    assert_eq!(outcome.stdout, "main 5\n", "{outcome:?}");
    assert_eq!(outcome.result, Some(json!(5)));
}

/// A script written for python3 that calls its own `main()` at the top level (also
/// through `asyncio.run`) runs it once, as python3 does.
#[tokio::test]
async fn a_script_calling_its_own_main_runs_it_once() {
    for source in [
        "def main():\n    print('main ran')\nmain()\n",
        "import asyncio\nasync def main():\n    print('main ran')\nasyncio.run(main())\n",
    ] {
        let outcome = run(source).await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert_eq!(outcome.stdout, "main ran\n", "{source}");
        assert_eq!(outcome.result, Some(json!(null)));
    }
}

#[tokio::test]
async fn syntax_error_names_the_line() {
    let outcome = run("x = 1\ndef broken(:\n    pass\n").await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, "SyntaxError");
    assert!(error.message.contains("line 2"), "{error:?}");
}

#[tokio::test]
async fn exception_has_a_traceback_of_the_script_only() {
    let outcome =
        run("def inner():\n    raise ValueError('bad value')\n\ndef main():\n    inner()\n").await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, "ValueError");
    assert_eq!(error.message, "bad value");
    assert!(
        error.traceback.contains("script.py\", line 2, in inner"),
        "{}",
        error.traceback
    );
    assert!(
        error.traceback.contains("line 5, in main"),
        "{}",
        error.traceback
    );
    assert!(
        !error.traceback.contains("automa_runner"),
        "{}",
        error.traceback
    );
}

#[tokio::test]
async fn sys_exit_zero_succeeds_and_nonzero_fails() {
    assert_eq!(
        run("import sys\nsys.exit(0)\n").await.status,
        RunStatus::Succeeded
    );
    let outcome = run("import sys\nsys.exit(3)\n").await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(outcome.error.unwrap().message.contains("status 3"));
}

#[tokio::test]
async fn infinite_loop_times_out_at_the_deadline() {
    let recorder = Arc::new(Recorder::default());
    let mut req = request(
        "while True:\n    pass\n",
        Capabilities::default(),
        &recorder,
    );
    req.limits.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let outcome = runtime().run(req).await;
    let elapsed = started.elapsed();
    assert_eq!(outcome.status, RunStatus::TimedOut, "{outcome:?}");
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(outcome.error.unwrap().kind, "Timeout");
}

#[tokio::test]
async fn sleeping_past_the_deadline_times_out() {
    let recorder = Arc::new(Recorder::default());
    let mut req = request(
        "import time\ntime.sleep(30)\n",
        Capabilities::default(),
        &recorder,
    );
    req.limits.timeout = Duration::from_millis(300);
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::TimedOut, "{outcome:?}");
    assert!(outcome.duration_ms < 3000);
}

#[tokio::test]
async fn memory_bomb_is_a_catchable_memory_error() {
    let recorder = Arc::new(Recorder::default());
    let source = "try:\n    x = bytearray(10**9)\nexcept MemoryError:\n    print('caught')\n";
    let mut req = request(source, Capabilities::default(), &recorder);
    req.limits.memory_bytes = 128 * 1024 * 1024;
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "caught\n");
    assert!(outcome.peak_memory_bytes <= 128 * 1024 * 1024);
}

#[tokio::test]
async fn uncaught_memory_bomb_is_memory_exceeded() {
    let recorder = Arc::new(Recorder::default());
    let source = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 * 1024 * 1024))\n";
    let mut req = request(source, Capabilities::default(), &recorder);
    req.limits.memory_bytes = 96 * 1024 * 1024;
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::MemoryExceeded, "{outcome:?}");
    // The host is unaffected: the next run works.
    assert_eq!(run("print(1)").await.stdout, "1\n");
}

#[tokio::test]
async fn output_flood_is_truncated_and_the_run_completes() {
    let recorder = Arc::new(Recorder::default());
    // 200 MB of output in 1 MB writes.
    let source = "import sys\nline = 'x' * (1024 * 1024 - 1) + '\\n'\nfor _ in range(200):\n    sys.stdout.write(line)\nprint('done')\n";
    let mut req = request(source, Capabilities::default(), &recorder);
    req.limits.max_output_bytes = 64 * 1024;
    req.limits.timeout = Duration::from_secs(120);
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    assert!(outcome.stdout.len() < 64 * 1024 + 200);
    assert!(
        outcome.stdout.contains("[automa: output truncated"),
        "{}",
        &outcome.stdout[outcome.stdout.len() - 200..]
    );
    let streamed: usize = recorder
        .output
        .lock()
        .unwrap()
        .iter()
        .map(|(_, c)| c.len())
        .sum();
    assert_eq!(streamed, 64 * 1024);
}

#[tokio::test]
async fn no_environment_no_sockets_no_subprocesses() {
    // SAFETY of the test: setting a variable in this process must not reach the guest.
    let outcome = run(
        "import os\nprint(sorted(os.environ.items()))\n\
import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n    print('connected')\nexcept Exception as e:\n    print('socket refused', type(e).__name__)\n\
import subprocess\ntry:\n    subprocess.run(['ls'])\n    print('spawned')\nexcept Exception as e:\n    print('subprocess refused', type(e).__name__)\n",
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(lines[0], "[]");
    assert!(lines[1].starts_with("socket refused"), "{lines:?}");
    assert!(lines[2].starts_with("subprocess refused"), "{lines:?}");
}

#[tokio::test]
async fn files_stay_inside_the_mounts() {
    let data = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "host secret").unwrap();
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("readme.txt"), "shared text").unwrap();
    let recorder = Arc::new(Recorder::default());
    let escape = outside.path().join("secret.txt");
    let source = format!(
        "import os\n\
with open('/data/out.txt', 'w') as f:\n    f.write('kept')\n\
with open('/tmp/scratch.txt', 'w') as f:\n    f.write('scratch')\n\
print(open('/shared/docs/readme.txt').read())\n\
for path in ['/data/../../etc/passwd', '/etc/passwd', {escape:?}, '/data/../{name}/secret.txt']:\n    \
try:\n        open(path).read()\n        print('READ', path)\n    except OSError as e:\n        print('refused', type(e).__name__)\n\
try:\n    open('/shared/docs/new.txt', 'w')\n    print('WROTE')\nexcept OSError as e:\n    print('read-only', type(e).__name__)\n",
        name = outside.path().file_name().unwrap().to_string_lossy()
    );
    let mut req = request(&source, Capabilities::default(), &recorder);
    req.mounts = Mounts {
        data: Some(data.path().to_owned()),
        scratch: None,
        artifacts: None,
        shared: vec![SharedMount {
            name: "docs".into(),
            path: shared.path().to_owned(),
            writable: false,
        }],
        packages: None,
    };
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(!outcome.stdout.contains("READ"), "{}", outcome.stdout);
    assert!(!outcome.stdout.contains("WROTE"), "{}", outcome.stdout);
    assert_eq!(
        outcome.stdout.matches("refused").count(),
        4,
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.starts_with("shared text\n"));
    assert_eq!(
        std::fs::read_to_string(data.path().join("out.txt")).unwrap(),
        "kept"
    );
    assert!(!shared.path().join("new.txt").exists());
}

#[tokio::test]
async fn cancellation_stops_a_running_script() {
    let recorder = Arc::new(Recorder::default());
    let req = request(
        "while True:\n    pass\n",
        Capabilities::default(),
        &recorder,
    );
    let cancel = req.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Cancelled, "{outcome:?}");
    assert!(outcome.duration_ms < 3000);
}

#[tokio::test]
async fn logs_progress_state_and_artifacts_reach_the_host() {
    let artifacts = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let source = "import automa\n\
automa.log.info('starting', step=1)\n\
automa.log.progress(0.5, 'half way')\n\
automa.state.set('count', {'n': 2})\n\
assert automa.state.get('count') == {'n': 2}\n\
assert automa.state.keys() == ['count']\n\
automa.files.publish('report.csv', 'a,b\\n1,2\\n')\n\
open('/artifacts/raw.txt', 'w').write('raw')\n\
try:\n    automa.files.publish('../escape.txt', 'x')\nexcept ValueError as e:\n    print('rejected')\n";
    let mut req = request(source, Capabilities::default(), &recorder);
    req.mounts.artifacts = Some(artifacts.path().to_owned());
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "rejected\n");
    let logs = recorder.logs.lock().unwrap().clone();
    assert_eq!(
        logs,
        vec![("info".into(), "starting".into(), Some(json!({"step": 1})))]
    );
    assert_eq!(
        *recorder.progress.lock().unwrap(),
        vec![(0.5, Some("half way".to_owned()))]
    );
    assert_eq!(
        std::fs::read_to_string(artifacts.path().join("report.csv")).unwrap(),
        "a,b\n1,2\n"
    );
    assert!(artifacts.path().join("raw.txt").exists());
    assert!(
        !artifacts
            .path()
            .parent()
            .unwrap()
            .join("escape.txt")
            .exists()
    );
    assert!(outcome.host_calls >= 7, "{}", outcome.host_calls);
}

#[tokio::test]
async fn denied_secret_names_how_to_grant_and_granted_secret_is_redacted() {
    let recorder = Arc::new(Recorder::default());
    let source = "import automa\n\
try:\n    automa.secrets.get('other')\nexcept PermissionError as e:\n    print('denied:', e)\n\
token = automa.secrets.get('api_token')\n\
print('token is', token)\n\
def main():\n    return {'echo': token}\n";
    let caps = Capabilities {
        secrets: vec!["api_token".into()],
        ..Capabilities::default()
    };
    let mut req = request(source, caps, &recorder);
    req.host.secrets = Arc::new(automa_runtime::host::ports::MapSecrets(
        [("api_token".to_owned(), "s3cr3t-value".to_owned())].into(),
    ));
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("denied: the secret \"other\" is not granted"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("admin can grant"));
    assert!(
        outcome.stdout.contains("token is [REDACTED]"),
        "{}",
        outcome.stdout
    );
    assert!(
        !serde_json::to_string(&outcome)
            .unwrap()
            .contains("s3cr3t-value")
    );
}

#[tokio::test]
async fn asyncio_runs_without_sockets() {
    let source = "import asyncio\n\
async def work(n):\n    await asyncio.sleep(0.01)\n    return n * 2\n\
async def main():\n    return await asyncio.gather(*(work(i) for i in range(5)))\n";
    let outcome = run(source).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result, Some(json!([0, 2, 4, 6, 8])));
    let outcome = run("import asyncio\nasync def go():\n    await asyncio.sleep(0)\n    return 7\nprint(asyncio.run(go()))\n").await;
    assert_eq!(outcome.stdout, "7\n", "{outcome:?}");
}

#[tokio::test]
async fn zoneinfo_knows_every_zone_and_dst() {
    let source = "from zoneinfo import ZoneInfo, available_timezones\n\
from datetime import datetime\n\
zones = available_timezones()\n\
assert len(zones) > 400, len(zones)\n\
ny = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo('America/New_York'))\n\
print(ny.utcoffset(), datetime(2026, 1, 1, tzinfo=ZoneInfo('America/New_York')).utcoffset())\n\
print(datetime(2026, 3, 29, 12, tzinfo=ZoneInfo('Europe/Berlin')).tzname())\n\
print(ZoneInfo('Asia/Kathmandu').utcoffset(datetime(2026, 1, 1)))\n";
    let outcome = run(source).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "-1 day, 20:00:00 -1 day, 19:00:00\nCEST\n5:45:00\n"
    );
}

#[tokio::test]
async fn bad_arguments_are_clear() {
    let outcome = run_with_args("def main(a):\n    return a\n", json!({"b": 1})).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, "TypeError");
    assert!(error.message.contains("'b'"), "{error:?}");
    let outcome = run("def main():\n    return object()\n").await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(
        outcome
            .error
            .unwrap()
            .message
            .contains("not JSON-serializable")
    );
}

#[tokio::test]
async fn describe_reads_the_main_signature_without_running() {
    let source = "\"\"\"Module doc.\"\"\"\nprint('must not run')\nraise SystemExit(1)\n\
def main(city: str, days: int = 3, *, verbose: bool = False, tags: list[str] | None = None):\n    \"\"\"Fetch the forecast.\"\"\"\n";
    let description = runtime().describe(source, "weather.py").await.unwrap();
    assert!(description.has_main);
    assert_eq!(
        description.description.as_deref(),
        Some("Fetch the forecast.")
    );
    let params = &description.parameters;
    assert_eq!(params["required"], json!(["city"]));
    assert_eq!(params["properties"]["city"]["type"], "string");
    assert_eq!(params["properties"]["days"]["default"], 3);
    assert_eq!(params["properties"]["verbose"]["type"], "boolean");
    assert_eq!(
        params["properties"]["tags"]["type"],
        json!(["array", "null"])
    );
    assert_eq!(params["additionalProperties"], false);

    let failure = runtime()
        .describe("def main(:\n", "bad.py")
        .await
        .unwrap_err();
    assert_eq!(failure.kind, "SyntaxError");
    assert!(failure.message.contains("line 1"), "{failure:?}");
}
