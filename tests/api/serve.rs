//! The real binary: config file + env + flags, JSON logs with the setup token, graceful
//! shutdown on SIGTERM.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Kills the server if the test fails before its orderly SIGTERM, so no orphan remains.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn serve_binary_reads_config_logs_setup_token_and_shuts_down_gracefully() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("automa.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nlogin_max_failures = 7\n",
            dir.path().join("from-file").display().to_string()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_automa"))
        .args(["serve", "--log-format", "json", "--config"])
        .arg(&config)
        .env("AUTOMA_METRICS_PUBLIC", "true")
        .env(
            "AUTOMA_CACHE_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache"),
        )
        .env_remove("AUTOMA_LISTEN")
        .env_remove("AUTOMA_DATA_DIR")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut guard = KillOnDrop(Some(child));
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let mut addr = None;
    let mut token = None;
    while addr.is_none() || token.is_none() {
        let v = rx.recv_timeout(Duration::from_secs(30)).expect("log line");
        if let Some(t) = v["setup_token"].as_str() {
            token = Some(t.to_owned());
            assert!(v["setup_url"].as_str().unwrap().contains(t));
        }
        if v["message"] == "listening" {
            addr = Some(v["addr"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        dir.path().join("from-file/automa.db").exists(),
        "data_dir from file"
    );
    let base = format!("http://{}", addr.unwrap());
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // AUTOMA_METRICS_PUBLIC from the environment.
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let setup = client
        .post(format!("{base}/api/v1/setup"))
        .json(
            &json!({"token": token.unwrap(), "email": "a@example.org", "password": "0123456789ab"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), StatusCode::CREATED);

    let kill = Command::new("kill")
        .args(["-TERM", &guard.0.as_ref().unwrap().id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut child = guard.0.take().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let mut saw_stop = false;
    while let Ok(v) = rx.recv_timeout(Duration::from_secs(5)) {
        saw_stop |= v["message"] == "server stopped";
    }
    assert!(saw_stop, "graceful shutdown logged");
}
