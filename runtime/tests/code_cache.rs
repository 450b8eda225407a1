//! A script's byte code is kept between its runs: later runs of the same source and
//! file name load it instead of compiling, and behave exactly as a compiled run does
//! (results, tracebacks with the script's lines, `__file__`, `main` detection).
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{CodeOrigin, RunOutcome, RunPhases, RunStatus, Runtime, RuntimeConfig};
use common::{Recorder, request};
use serde_json::json;
use std::sync::Arc;

async fn run_named(runtime: &Runtime, source: &str, filename: &str) -> (RunOutcome, RunPhases) {
    let recorder = Arc::new(Recorder::default());
    let mut req = request(source, Capabilities::default(), &recorder);
    req.filename = filename.into();
    runtime.run_timed(req).await
}

/// A source no other test of this binary runs, so the first run compiles it here.
fn unique(source: &str, tag: &str) -> String {
    format!("# {tag}\n{source}")
}

const FAILING: &str = r#"
def helper(n):
    raise ValueError(f"bad {n}")

def main(n: int = 3):
    return helper(n)
"#;

#[tokio::test]
async fn the_second_run_loads_the_kept_code_and_fails_the_same_way() {
    let runtime = common::runtime();
    let source = unique(FAILING, "traceback");
    let (first, phases) = run_named(runtime, &source, "job.py").await;
    assert_eq!(phases.code, CodeOrigin::CompiledNow);
    let (second, phases) = run_named(runtime, &source, "job.py").await;
    assert_eq!(phases.code, CodeOrigin::Kept);
    for outcome in [&first, &second] {
        assert_eq!(outcome.status, RunStatus::Failed, "{outcome:?}");
        let error = outcome.error.as_ref().unwrap();
        assert_eq!(error.kind, "ValueError");
        assert_eq!(error.message, "bad 3");
        // The script's own lines (the tag is line 1), from its registered source.
        assert!(
            error
                .traceback
                .contains("File \"job.py\", line 4, in helper")
                && error.traceback.contains("raise ValueError(f\"bad {n}\")"),
            "{}",
            error.traceback
        );
    }
    assert_eq!(first.error, second.error);
}

#[tokio::test]
async fn the_file_name_is_part_of_the_kept_code() {
    let runtime = common::runtime();
    let source = unique("def main():\n    return __file__\n", "file name");
    let (a, _) = run_named(runtime, &source, "a.py").await;
    let (b, phases) = run_named(runtime, &source, "b.py").await;
    // Another name is another script: compiled again, and it sees its own name.
    assert_eq!(phases.code, CodeOrigin::CompiledNow);
    assert_eq!(a.result, Some(json!("a.py")));
    assert_eq!(b.result, Some(json!("b.py")));
    let (again, phases) = run_named(runtime, &source, "a.py").await;
    assert_eq!(phases.code, CodeOrigin::Kept);
    assert_eq!(again.result, Some(json!("a.py")));
}

#[tokio::test]
async fn kept_code_keeps_how_main_is_called() {
    let runtime = common::runtime();
    let cases = [
        // Automa calls `main`; the `__main__` block does not run.
        (
            "def main():\n    return 'called'\nif __name__ == '__main__':\n    print('block')\n",
            json!("called"),
            "",
        ),
        // A script that calls `main` itself is not called again.
        (
            "count = []\ndef main():\n    count.append(1)\n    print(len(count))\nmain()\n",
            json!(null),
            "1\n",
        ),
        // No top-level `main`: a plain script under `__main__`.
        (
            "if __name__ == '__main__':\n    print('plain')\n",
            json!(null),
            "plain\n",
        ),
    ];
    for (i, (source, result, stdout)) in cases.into_iter().enumerate() {
        let source = unique(source, &format!("main {i}"));
        for origin in [CodeOrigin::CompiledNow, CodeOrigin::Kept] {
            let (outcome, phases) = run_named(runtime, &source, "s.py").await;
            assert_eq!(phases.code, origin, "case {i}");
            assert_eq!(
                outcome.status,
                RunStatus::Succeeded,
                "case {i}: {outcome:?}"
            );
            assert_eq!(outcome.result, Some(result.clone()), "case {i}");
            assert_eq!(outcome.stdout, stdout, "case {i}");
        }
    }
}

#[tokio::test]
async fn a_syntax_error_is_reported_from_the_source_every_time() {
    let runtime = common::runtime();
    let source = unique("def main(:\n    pass\n", "syntax");
    for _ in 0..2 {
        let (outcome, phases) = run_named(runtime, &source, "broken.py").await;
        assert_eq!(phases.code, CodeOrigin::Source);
        assert_eq!(outcome.status, RunStatus::Failed, "{outcome:?}");
        let error = outcome.error.unwrap();
        assert_eq!(error.kind, "SyntaxError");
        assert!(
            error.message.contains("broken.py, line "),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn with_the_cache_off_every_run_compiles_its_script() {
    let runtime = common::runtime_with(RuntimeConfig {
        code_cache_bytes: 0,
        ..RuntimeConfig::default()
    });
    for _ in 0..2 {
        let (outcome, phases) = run_named(&runtime, "def main():\n    return 2\n", "s.py").await;
        assert_eq!(phases.code, CodeOrigin::Source);
        assert_eq!(outcome.result, Some(json!(2)));
    }
}
