//! Load benchmark for `GET /api/v1/me` with a bearer token.
//!
//! `cargo run --release -p automa --example bench_me -- [--seconds 10] [--connections 32]`
//!
//! Starts the real app in this process (temp data dir, random port), creates an admin, a
//! JWT and a personal API token, then drives load from a SECOND process: `wrk` when it is
//! installed (Debian package `wrk`), otherwise this same binary re-executed in load
//! generator mode. Prints requests/s and p99 latency for both credential kinds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automa::app::Application;
use automa::config::Config;
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--load") {
        // Child mode: URL TOKEN CONNECTIONS SECONDS
        load_generator(
            &args[2],
            &args[3],
            args[4].parse().unwrap(),
            args[5].parse().unwrap(),
        );
        return;
    }
    let seconds = arg("--seconds", 10);
    let connections = arg("--connections", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("data"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        let app = Application::build(config).await.unwrap();
        let setup = app.setup_token().await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped(std::future::pending()));

        let c = reqwest::Client::new();
        let pw = "benchmark password";
        c.post(format!("{base}/api/v1/setup"))
            .json(&json!({"token": setup, "email": "bench@example.org", "password": pw}))
            .send()
            .await
            .unwrap();
        let login: Value = c
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "bench@example.org", "password": pw}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwt = login["access_token"].as_str().unwrap().to_owned();
        let pat: Value = c
            .post(format!("{base}/api/v1/tokens"))
            .bearer_auth(&jwt)
            .json(&json!({"name": "bench", "scopes": ["read"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pat = pat["token"].as_str().unwrap().to_owned();
        let url = format!("{base}/api/v1/me");
        for (kind, token) in [("jwt", jwt), ("api token", pat)] {
            let (rps, p99) = tokio::task::spawn_blocking({
                let url = url.clone();
                move || run_load(&url, &token, connections, seconds)
            })
            .await
            .unwrap();
            println!("GET /api/v1/me ({kind}): {rps:.0} req/s, p99 {p99}");
        }
    });
}

/// Runs the load in a separate process and returns (req/s, p99 text).
fn run_load(url: &str, token: &str, connections: u64, seconds: u64) -> (f64, String) {
    let wrk = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
        ])
        .args(["-H", &format!("Authorization: Bearer {token}"), url])
        .output();
    if let Ok(out) = wrk
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let rps = text
            .lines()
            .find(|l| l.starts_with("Requests/sec:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let p99 = text
            .lines()
            .find(|l| l.trim_start().starts_with("99%"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned();
        let non2xx = text.lines().find(|l| l.contains("Non-2xx"));
        if let Some(l) = non2xx {
            eprintln!("warning: {l}");
        }
        return (rps, format!("{p99} (wrk)"));
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--load",
            url,
            token,
            &connections.to_string(),
            &seconds.to_string(),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("load generator output");
    (
        v["rps"].as_f64().unwrap(),
        format!("{:.2}ms (in-tree generator)", v["p99_ms"].as_f64().unwrap()),
    )
}

/// Child process: closed-loop load with `connections` concurrent keep-alive clients.
fn load_generator(url: &str, token: &str, connections: usize, seconds: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (count, mut lat) = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert!(r.status().is_success());
                    r.bytes().await.unwrap();
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (all.len(), all)
    });
    lat.sort();
    let p99 = lat.get(lat.len() * 99 / 100).copied().unwrap_or_default();
    println!(
        "{}",
        json!({"rps": count as f64 / seconds as f64, "p99_ms": p99.as_secs_f64() * 1000.0})
    );
}
