//! kill -9 under load (issue 12): clients keep submitting jobs while the server is
//! killed with SIGKILL; after a restart every job whose submission was answered exists
//! and ends, and none ran twice (each job counts its runs in the script's state under
//! its own key, and returns the count).

use crate::server_process::{create_admin, login, serve_sqlite};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EMAIL: &str = "ops@example.org";
const PASSWORD: &str = "a long enough password";
const COUNT: &str = "import automa\n\ndef main(tag):\n    n = automa.state.get(tag, 0) + 1\n    automa.state.set(tag, n)\n    return n\n";
const CLIENTS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_under_load_loses_no_accepted_job_and_runs_none_twice() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_admin(&data, None, EMAIL, PASSWORD);
    let mut server = serve_sqlite(&data);
    let base = server.base();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = login(&client, &base, EMAIL, PASSWORD).await;
    let resp = client
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        // No retries: a job the kill interrupts ends `interrupted`, it is not run again.
        .json(&json!({"name": "count", "source": COUNT, "max_concurrency": 8}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    let run = format!(
        "{base}/api/v1/scripts/{}/run",
        script["id"].as_str().unwrap()
    );

    // Clients submit as fast as they are answered until the server is gone.
    let accepted: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, token, run, accepted) =
            (client.clone(), token.clone(), run.clone(), accepted.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let tag = format!("c{c}-{i}");
                let sent = client
                    .post(&run)
                    .bearer_auth(&token)
                    .json(&json!({"args": {"tag": tag}}))
                    .send()
                    .await;
                let Ok(resp) = sent else { return };
                if !resp.status().is_success() {
                    return;
                }
                let Ok(job) = resp.json::<Value>().await else {
                    return;
                };
                let id = job["id"].as_str().unwrap().to_owned();
                accepted.lock().unwrap().push((id, tag));
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.kill(); // SIGKILL while submissions and runs are in flight
    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() >= 20,
        "only {} jobs accepted",
        accepted.len()
    );

    let server = serve_sqlite(&data);
    let base = server.base();
    let token = login(&client, &base, EMAIL, PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut outcomes = std::collections::BTreeMap::new();
    for (id, tag) in &accepted {
        let job = loop {
            let resp = client
                .get(format!("{base}/api/v1/jobs/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "accepted job {id} was lost");
            let job: Value = resp.json().await.unwrap();
            if !matches!(job["status"].as_str(), Some("queued" | "running")) {
                break job;
            }
            assert!(Instant::now() < deadline, "{job}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let status = job["status"].as_str().unwrap().to_owned();
        assert_eq!(job["attempt"], 1, "{tag}: {job}");
        match status.as_str() {
            // Its first and only run: the count under its key was 0 before it.
            "succeeded" => assert_eq!(job["result"], 1, "{tag} ran twice: {job}"),
            "interrupted" => {}
            other => panic!("{tag}: {other}: {job}"),
        }
        *outcomes.entry(status).or_insert(0usize) += 1;
    }
    println!(
        "kill -9 under load: {} accepted jobs, after the restart {outcomes:?}",
        accepted.len()
    );
    assert!(
        outcomes.get("succeeded").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
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
    assert_eq!(running["items"], json!([]), "{running}");
    drop(server);
}
