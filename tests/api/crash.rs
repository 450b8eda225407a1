//! kill -9 in the middle of a job: after a restart nothing is lost, duplicated or left
//! `running`; a job with retries left runs again, one without is `interrupted`.

use crate::server_process::{ServerProcess, create_admin, login, serve_sqlite};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const EMAIL: &str = "ops@example.org";
const PASSWORD: &str = "a long enough password";

/// Starts `automa serve` on a random port; returns the process and its base URL.
fn serve(data_dir: &Path) -> (ServerProcess, String) {
    let server = serve_sqlite(data_dir);
    let base = server.base();
    (server, base)
}

/// The runs' scratch directories (`automa-run-<pid>-...`) process `pid` has.
fn scratch_dirs_of(pid: u32) -> Vec<String> {
    let prefix = format!("automa-run-{pid}-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(&prefix))
        .collect()
}

async fn wait_for(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    job: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let resp = client
            .get(format!("{base}/api/v1/jobs/{job}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let body: Value = resp.json().await.unwrap();
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "job never got there: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn kill_nine_mid_job_then_restart_recovers_every_job() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_admin(&data, None, EMAIL, PASSWORD);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let (mut server, base) = serve(&data);
    let client = reqwest::Client::new();
    let token = login(&client, &base, EMAIL, PASSWORD).await;
    // The script sleeps on its first attempt only: the state survives the crash.
    let source = "import automa, time\ndef main():\n    n = automa.state.get('attempts', 0) + 1\n    automa.state.set('attempts', n)\n    print('counted', flush=True)\n    if n == 1:\n        time.sleep(30)\n    return n\n";
    let mut jobs = Vec::new();
    for (name, retries) in [("retried", 1), ("single", 0)] {
        let resp = client
            .post(format!("{base}/api/v1/scripts"))
            .bearer_auth(&token)
            .json(&json!({"name": name, "source": source, "settings": {"retries": retries, "retry_backoff_seconds": 1}}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let script: Value = resp.json().await.unwrap();
        let id = script["id"].as_str().unwrap();
        let job: Value = client
            .post(format!("{base}/api/v1/scripts/{id}/run"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jobs.push(job["id"].as_str().unwrap().to_owned());
    }
    // Killed once each first attempt has stored its count (`running` alone comes
    // before the script's first line, and a kill then would leave nothing counted).
    for job in &jobs {
        wait_for(&client, &base, &token, job, |j| j["status"] == "running").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let logs: Value = client
                .get(format!("{base}/api/v1/jobs/{job}/logs"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let counted = logs.as_array().is_some_and(|l| {
                l.iter()
                    .any(|e| e["message"].as_str().map(str::trim) == Some("counted"))
            });
            if counted {
                break;
            }
            assert!(Instant::now() < deadline, "never counted: {logs}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let killed = server.child.id();
    assert!(
        !scratch_dirs_of(killed).is_empty(),
        "the running jobs have their /tmp"
    );
    server.kill(); // SIGKILL: no shutdown code runs

    let (mut server, base) = serve(&data);
    // The new process removed the scratch directories the killed one left.
    assert_eq!(scratch_dirs_of(killed), Vec::<String>::new());
    let retried = wait_for(&client, &base, &token, &jobs[0], |j| {
        j["status"] == "succeeded"
    })
    .await;
    assert_eq!(retried["attempt"], 2);
    assert_eq!(retried["result"], 2);
    let single = wait_for(&client, &base, &token, &jobs[1], |j| {
        j["status"] != "running"
    })
    .await;
    assert_eq!(single["status"], "interrupted", "{single}");
    assert!(
        single["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server stopped"),
        "{single}"
    );
    let logs: Value = client
        .get(format!("{base}/api/v1/jobs/{}/logs", jobs[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["stream"] == "system"
                && l["message"].as_str().unwrap().contains("will be retried")),
        "{logs}"
    );
    let running: Value = client
        .get(format!("{base}/api/v1/jobs?status=running"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(running["items"].as_array().unwrap().is_empty());
    server.kill();
}
