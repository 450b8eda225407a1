//! The OpenAPI document tells the truth (issue 12): schemathesis (pinned in
//! tests/support/requirements.txt, installed by scripts/test) generates requests from
//! `/api/openapi.json` against the real server, authenticated with an admin's API
//! token, and fails on any 5xx, undocumented status, wrong content type or response
//! that breaks its schema. Bounded: a few examples per operation, two minutes at most.

use crate::helpers::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// The test-tools venv's python (with schemathesis), running schemathesis through
/// `tests/support/schemathesis_run.py` (a work-around for a CPython 3.11 parser bug).
fn schemathesis() -> tokio::process::Command {
    let python = std::env::var("AUTOMA_TEST_PYTHON")
        .expect("AUTOMA_TEST_PYTHON: the test-tools venv's python (scripts/test sets it)");
    let mut command = tokio::process::Command::new(python);
    command.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/support/schemathesis_run.py"),
    );
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_what_the_server_answers() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &admin,
            json!({"name": "schemathesis", "scopes": ["admin"]}),
        )
        .await;
    let token: Value = resp.json().await.unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    // Something to list and read.
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "hello", "source": "def main():\n    return {'a': [1, 'b']}\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.run_wait(&admin, script["id"].as_str().unwrap(), json!({}))
        .await;

    let report = tempfile::tempdir().unwrap();
    let mut run = schemathesis();
    run.arg("run")
        .arg(app.url("/api/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "8", "--max-time", "75", "--seed", "1"])
        .args(["--workers", "2", "--request-timeout", "20"])
        .args(["--suppress-health-check", "all", "--no-shrink", "--no-color"])
        .args(["--generation-database", "none"])
        // Uploads are WebAssembly bodies it cannot make; logging out and changing the
        // password would end the run's own authentication.
        .args(["--exclude-path", "/api/v1/plugins"])
        .args(["--exclude-path", "/api/v1/auth/logout"])
        .args(["--exclude-path", "/api/v1/me/password"])
        .arg("--report-dir")
        .arg(report.path())
        .current_dir(report.path())
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(180), run.output())
        .await
        .expect("schemathesis ran over 3 minutes")
        .expect("run schemathesis (installed by scripts/test into the test-tools venv)");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text.rfind("SUMMARY").map_or(&text[..], |at| &text[at..]);
    println!("{summary}");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
