//! Artifact downloads stream from disk (issue 12): a 64 MiB artifact arrives whole
//! while the server's memory stays well below its size.

use crate::server_process::{create_admin, login, rss_bytes, serve_sqlite};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WRITE: &str = "def main():\n    with open('/artifacts/big.bin', 'wb') as f:\n        for _ in range(64):\n            f.write(b'a' * (1024 * 1024))\n";
const EMAIL: &str = "alice@example.org";
const PASSWORD: &str = "a long enough password";

#[tokio::test]
async fn a_large_artifact_streams_from_disk() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_admin(&data, None, EMAIL, PASSWORD);
    let server = serve_sqlite(&data);
    let base = server.base();
    let client = reqwest::Client::new();
    let token = login(&client, &base, EMAIL, PASSWORD).await;
    let script: Value = client
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        .json(&json!({"name": "big", "source": WRITE}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job: Value = client
        .post(format!(
            "{base}/api/v1/scripts/{}/run?wait=true",
            script["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "succeeded", "{job}");
    let job_id = job["id"].as_str().unwrap();

    let pid = server.child.id();
    let before = rss_bytes(pid);
    let get = |path: String| {
        client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
    };
    let mut resp = get(format!("/api/v1/jobs/{job_id}/artifacts/big.bin"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.content_length(), Some(64 * 1024 * 1024));
    let (mut received, mut peak) = (0u64, 0u64);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        assert!(chunk.iter().all(|b| *b == b'a'));
        received += chunk.len() as u64;
        peak = peak.max(rss_bytes(pid).saturating_sub(before));
    }
    println!("64 MiB artifact downloaded; the server's RSS grew by at most {peak} bytes");
    assert_eq!(received, 64 * 1024 * 1024);
    assert!(
        peak < 32 * 1024 * 1024,
        "the server's RSS grew by {peak} bytes"
    );
    let missing = get(format!("/api/v1/jobs/{job_id}/artifacts/../x"))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_job_without_artifacts_leaves_no_directory_behind() {
    let app = crate::helpers::spawn_app().await;
    let token = app.setup_admin().await;
    let mut jobs = Vec::new();
    for (name, source) in [
        ("none", "def main():\n    return 1\n"),
        (
            "one",
            "def main():\n    open('/artifacts/a.txt', 'w').write('kept')\n",
        ),
    ] {
        let script: Value = app
            .send_json(
                "POST",
                "/api/v1/scripts",
                &token,
                json!({"name": name, "source": source}),
            )
            .await
            .json()
            .await
            .unwrap();
        let job = app
            .run_wait(&token, script["id"].as_str().unwrap(), json!({}))
            .await;
        assert_eq!(job["status"], "succeeded", "{job}");
        jobs.push(job["id"].as_str().unwrap().to_owned());
    }
    let jobs_dir = app.data_dir().join("jobs");
    let (empty, kept) = (&jobs[0], &jobs[1]);
    assert!(
        !jobs_dir.join(empty).exists(),
        "an empty job directory stays on disk"
    );
    assert_eq!(
        std::fs::read_to_string(jobs_dir.join(kept).join("artifacts").join("a.txt")).unwrap(),
        "kept"
    );
    for (id, want) in [
        (empty, json!([])),
        (kept, json!([{"name": "a.txt", "size": 4}])),
    ] {
        let listed: Value = app
            .get(&format!("/api/v1/jobs/{id}/artifacts"), &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed, want, "job {id}");
    }
}
