//! `automa.files.publish` counts against the job's `/artifacts` disk quota with the
//! files the script writes there (issue 12): a publish past it raises `OSError` ENOSPC
//! in the guest, the job goes on, and what was published leaves less room for writes.

use crate::helpers::*;
use serde_json::{Value, json};

const PUBLISH: &str = r#"
import automa, errno

def attempt(what, fn):
    try:
        fn()
        return [what, "ok"]
    except OSError as e:
        return [what, e.errno == errno.ENOSPC, "No space left on device" in str(e)]

def write(path, n):
    with open(path, "wb") as f:
        f.write(b"w" * n)

def main():
    return [
        attempt("write 700 KiB", lambda: write("/artifacts/a.bin", 700 * 1024)),
        attempt("publish 400 KiB", lambda: automa.files.publish("big.bin", b"y" * 400 * 1024)),
        attempt("publish 100 KiB", lambda: automa.files.publish("small.bin", b"z" * 100 * 1024)),
        attempt("write 300 KiB", lambda: write("/artifacts/b.bin", 300 * 1024)),
        attempt("publish 100 KiB again", lambda: automa.files.publish("small.bin", b"z" * 100 * 1024)),
    ]
"#;

#[tokio::test]
async fn a_publish_past_the_artifacts_quota_fails_with_enospc_and_the_job_goes_on() {
    let app = spawn_app_with(|c| c.quotas.artifacts_mb = 1).await;
    let admin = app.setup_admin().await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &bob,
            json!({"name": "publish", "source": PUBLISH}),
        )
        .await;
    let script: Value = resp.json().await.unwrap();
    let job = app
        .run_wait(&bob, script["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["result"],
        json!([
            ["write 700 KiB", "ok"],
            // 704 KiB held (the file and its entry): 404 more do not fit in 1024.
            ["publish 400 KiB", true, true],
            ["publish 100 KiB", "ok"],
            // 808 KiB held now, publishes included: the script's own write is refused.
            ["write 300 KiB", true, true],
            // Replacing an artifact by one of the same size needs no more room.
            ["publish 100 KiB again", "ok"],
        ]),
        "{job}"
    );
    let artifacts: Value = app
        .get(
            &format!("/api/v1/jobs/{}/artifacts", job["id"].as_str().unwrap()),
            &bob,
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = artifacts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"a.bin") && names.contains(&"small.bin"),
        "{artifacts}"
    );
    assert!(!names.contains(&"big.bin"), "{artifacts}");
}
