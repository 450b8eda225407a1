//! Log floods (issue 12): a job writing 64 KB log lines as fast as it can stores at
//! most its log quota (one marker, then a count), the server keeps answering while it
//! runs, and the job ends; Cancel ends a job left `running` by a failed final update.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const FLOOD: &str = "import automa, time\n\ndef main():\n    n = 0\n    end = time.time() + 4\n    while time.time() < end:\n        automa.log.info('x' * 65000)\n        n += 1\n    return n\n";

/// The quota of the flood test: small enough that the database growth is telling.
const LOG_BYTES: u64 = 4 * 1024 * 1024;

fn db_bytes(app: &TestApp) -> u64 {
    ["automa.db", "automa.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(app.data_dir().join(f)).ok())
        .map(|m| m.len())
        .sum()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, token, body).await;
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

// The server's own runtime has worker threads; so does this test's, or the flooding
// guest and the requests would take turns on one thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_flood_stores_the_quota_and_the_server_keeps_answering() {
    let app = spawn_app_with(|c| {
        c.quotas.job_log_bytes = LOG_BYTES;
        // Every write of the flood reaches the log quota (not the host-call quota).
        c.quotas.host_calls_per_run = u32::MAX;
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let script = post(
        &app,
        &alice,
        "/api/v1/scripts",
        json!({"name": "flood", "source": FLOOD}),
    )
    .await;
    let script_id = script["id"].as_str().unwrap();
    let before = db_bytes(&app);
    let job = post(
        &app,
        &alice,
        &format!("/api/v1/scripts/{script_id}/run"),
        json!({}),
    )
    .await;
    let job_id = job["id"].as_str().unwrap().to_owned();

    // `GET /me` all through the flood, bounded in time and count.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut latencies = Vec::new();
    let status = loop {
        let started = Instant::now();
        let me = app.get("/api/v1/me", &alice).await;
        latencies.push(started.elapsed());
        assert_eq!(me.status(), StatusCode::OK, "{}", me.text().await.unwrap());
        if latencies.len() % 10 == 0 {
            let job: Value = app
                .get(&format!("/api/v1/jobs/{job_id}"), &alice)
                .await
                .json()
                .await
                .unwrap();
            let status = job["status"].as_str().unwrap().to_owned();
            if status != "queued" && status != "running" {
                break job;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the job was still running after 60 s"
        );
        assert!(latencies.len() < 20_000);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    println!(
        "GET /api/v1/me during the log flood: {} requests, p99 {p99:?}, max {:?}",
        latencies.len(),
        latencies[latencies.len() - 1]
    );
    assert_eq!(status["status"], "succeeded", "{status}");
    assert!(p99 < Duration::from_millis(500), "p99 {p99:?}");

    let written = status["result"].as_u64().unwrap();
    let logs: Vec<Value> = app
        .get(&format!("/api/v1/jobs/{job_id}/logs"), &alice)
        .await
        .json()
        .await
        .unwrap();
    let lines: Vec<&Value> = logs.iter().filter(|l| l["stream"] == "log").collect();
    let system: Vec<&str> = logs
        .iter()
        .filter(|l| l["stream"] == "system")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    let stored: u64 = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap().len() as u64)
        .sum();
    assert!(stored <= LOG_BYTES, "{stored} bytes stored");
    assert_eq!(
        lines.len() as u64,
        LOG_BYTES / 65_000,
        "entries up to the quota"
    );
    assert_eq!(system.len(), 2, "{system:?}");
    assert!(system[0].starts_with("log limit reached"), "{system:?}");
    let dropped = written - lines.len() as u64;
    assert!(dropped > 0, "the flood went past the quota");
    assert!(
        system[1].starts_with(&format!("{dropped} log entries (")),
        "{system:?} ({written} written)"
    );
    let growth = db_bytes(&app).saturating_sub(before);
    println!("database growth {growth} bytes for {written} log lines of 65,000 bytes");
    assert!(
        growth < 4 * LOG_BYTES,
        "the database grew by {growth} bytes"
    );
}

#[tokio::test]
async fn cancel_ends_a_job_left_running() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let script = post(
        &app,
        &alice,
        "/api/v1/scripts",
        json!({"name": "quick", "source": "def main():\n    return 1\n"}),
    )
    .await;
    let job = app
        .run_wait(&alice, script["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let job_id = job["id"].as_str().unwrap();
    // What a failed final update leaves: `running` on this node, no worker on it.
    let node = std::fs::read_to_string(app.data_dir().join("node_id")).unwrap();
    let url = format!("sqlite://{}", app.data_dir().join("automa.db").display());
    let db = automa::db::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE jobs SET status = 'running', worker_id = $2, finished_at = NULL WHERE id = $1",
    )
    .bind(job_id)
    .bind(node.trim())
    .execute(&db)
    .await
    .unwrap();

    let started = Instant::now();
    let cancelled = post(
        &app,
        &alice,
        &format!("/api/v1/jobs/{job_id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let job: Value = app
        .get(&format!("/api/v1/jobs/{job_id}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "cancelled");
    assert!(job["finished_at"].is_string(), "{job}");
}
