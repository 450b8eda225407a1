//! Artifact downloads stream from disk (issue 12): a 64 MiB artifact arrives whole
//! while the server's memory stays well below its size.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const WRITE: &str = "def main():\n    with open('/artifacts/big.bin', 'wb') as f:\n        for _ in range(64):\n            f.write(b'a' * (1024 * 1024))\n";

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test]
async fn a_large_artifact_streams_from_disk() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &alice,
            json!({"name": "big", "source": WRITE}),
        )
        .await;
    let script: Value = resp.json().await.unwrap();
    let job = app
        .run_wait(&alice, script["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let job_id = job["id"].as_str().unwrap();

    let before = rss_bytes();
    let mut resp = app
        .get(&format!("/api/v1/jobs/{job_id}/artifacts/big.bin"), &alice)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.content_length(), Some(64 * 1024 * 1024));
    let (mut received, mut peak) = (0u64, 0u64);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        assert!(chunk.iter().all(|b| *b == b'a'));
        received += chunk.len() as u64;
        peak = peak.max(rss_bytes().saturating_sub(before));
    }
    println!("64 MiB artifact downloaded; RSS grew by at most {peak} bytes");
    assert_eq!(received, 64 * 1024 * 1024);
    assert!(peak < 32 * 1024 * 1024, "RSS grew by {peak} bytes");
    let missing = app
        .get(&format!("/api/v1/jobs/{job_id}/artifacts/../x"), &alice)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
