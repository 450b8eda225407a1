//! Throughput across nodes, with real processes of the binary: trivial jobs per second
//! and `run?wait=true` latency for one node on SQLite, one node on PostgreSQL, and one
//! API node plus 1, 2 and 3 workers on PostgreSQL; the CPU each setup used per job (read
//! from /proc), and fail-over time after kill -9 of a worker. PostgreSQL setups need
//! `AUTOMA_TEST_POSTGRES_URL` (a server where the user may create databases).
//!
//! `cargo bench -p automa --bench cluster` (`AUTOMA_BENCH_JOBS`, default 300).

// A benchmark program: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/server_process.rs"]
mod server_process;

use futures::StreamExt;
use serde_json::{Value, json};
use server_process::{ServerProcess as Node, automa, create_admin, login};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const EMAIL: &str = "bench@example.org";
const PASSWORD: &str = "a long enough password";

struct Setup {
    data: PathBuf,
    database_url: Option<String>,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn new(postgres: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let database_url = match postgres {
            Some(admin_url) => {
                sqlx::any::install_default_drivers();
                let name = format!("automa_b_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::AnyPool::connect(admin_url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(admin_url).unwrap();
                url.set_path(&name);
                Some(url.to_string())
            }
            None => None,
        };
        create_admin(&data, database_url.as_deref(), EMAIL, PASSWORD);
        Self {
            data,
            database_url,
            _dir: dir,
        }
    }

    fn start(&self, sub: &str, role: Option<&str>, id: &str) -> Node {
        let mut cmd = automa(sub, self.database_url.as_deref());
        if let Some(role) = role {
            cmd.args(["--role", role]);
        }
        let flag = if sub == "worker" {
            "--admin-listen"
        } else {
            "--listen"
        };
        cmd.args(["--log-format", "json", flag, "127.0.0.1:0", "--node-id", id])
            .args(["--workers", "8", "--data-dir"])
            .arg(&self.data)
            .env("RUST_LOG", "warn,automa=info");
        Node::start(cmd)
    }
}

struct Figures {
    jobs_per_second: f64,
    wait_median_ms: f64,
    wait_p95_ms: f64,
    cpu_ms_per_job: f64,
}

/// Queue `n` trivial jobs (16 requests in flight) and wait for all; then 50 runs with
/// `?wait=true` one after another.
async fn measure(api: &Node, nodes: &[&Node], n: usize) -> Figures {
    let client = reqwest::Client::new();
    let base = format!("http://{}", api.addr);
    let token = login(&client, &base, EMAIL, PASSWORD).await;
    let script: Value = client
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        .json(&json!({"name": "trivial", "source": "def main():\n    return 1\n"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_url = format!(
        "{base}/api/v1/scripts/{}/run",
        script["id"].as_str().unwrap()
    );
    // Warm every node's runner first.
    for _ in 0..8 {
        let _ = client
            .post(format!("{run_url}?wait=true"))
            .bearer_auth(&token)
            .send()
            .await;
    }
    let cpu_before: f64 = nodes.iter().map(|n| n.cpu_seconds()).sum();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(n);
    let mut queued = futures::stream::iter((0..n).map(|_| {
        let request = client.post(&run_url).bearer_auth(&token).send();
        async move { request.await.unwrap().json::<Value>().await.unwrap() }
    }))
    .buffer_unordered(16);
    while let Some(job) = queued.next().await {
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        loop {
            let job: Value = client
                .get(format!("{base}/api/v1/jobs/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if job["status"] == "succeeded" {
                break;
            }
            assert!(job["status"] != "failed", "{job}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after: f64 = nodes.iter().map(|n| n.cpu_seconds()).sum();
    let mut waits = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let job: Value = client
            .post(format!("{run_url}?wait=true"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(job["status"], "succeeded", "{job}");
        waits.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    waits.sort_by(f64::total_cmp);
    Figures {
        jobs_per_second: n as f64 / elapsed,
        wait_median_ms: waits[waits.len() / 2],
        wait_p95_ms: waits[waits.len() * 95 / 100],
        cpu_ms_per_job: (cpu_after - cpu_before) * 1000.0 / n as f64,
    }
}

fn print(label: &str, f: &Figures) {
    println!(
        "{label:<34} {:>8.1} jobs/s   run?wait median {:>6.1} ms  p95 {:>6.1} ms   CPU {:>5.1} ms/job",
        f.jobs_per_second, f.wait_median_ms, f.wait_p95_ms, f.cpu_ms_per_job
    );
}

/// Kill -9 a worker holding a running job: time until the job runs again elsewhere.
async fn fail_over(postgres: &str) {
    let setup = Setup::new(Some(postgres)).await;
    let api = setup.start("serve", Some("api"), "api");
    let w1 = setup.start("worker", None, "w1");
    let client = reqwest::Client::new();
    let base = format!("http://{}", api.addr);
    let token = login(&client, &base, EMAIL, PASSWORD).await;
    let source = "import automa, time\ndef main():\n    n = automa.state.get('n', 0) + 1\n    automa.state.set('n', n)\n    if n == 1:\n        time.sleep(60)\n    return n\n";
    let script: Value = client
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        .json(&json!({"name": "slow", "source": source, "settings": {"retries": 1, "retry_backoff_seconds": 1}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job: Value = client
        .post(format!(
            "{base}/api/v1/scripts/{}/run",
            script["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_url = format!("{base}/api/v1/jobs/{}", job["id"].as_str().unwrap());
    let status = |client: reqwest::Client, url: String, token: String| async move {
        let job: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            job["status"].as_str().unwrap_or_default().to_owned(),
            job["attempt"].as_i64().unwrap_or(0),
        )
    };
    while status(client.clone(), job_url.clone(), token.clone())
        .await
        .0
        != "running"
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _w2 = setup.start("worker", None, "w2");
    let mut w1 = w1;
    w1.kill();
    let killed = Instant::now();
    let mut requeued = None;
    loop {
        let (state, attempt) = status(client.clone(), job_url.clone(), token.clone()).await;
        if attempt == 2 && requeued.is_none() {
            requeued = Some(killed.elapsed());
        }
        if state == "succeeded" {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(90),
            "never recovered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "fail-over after kill -9 (lease 15 s): job re-queued after {:.2} s, done on the other worker after {:.2} s",
        requeued.unwrap_or_default().as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n: usize = std::env::var("AUTOMA_BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    println!(
        "{n} trivial jobs per setup, 8 workers per running node, on {} cores",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    {
        let setup = Setup::new(None).await;
        let node = setup.start("serve", None, "one");
        print("one node, SQLite", &measure(&node, &[&node], n).await);
    }
    let Ok(postgres) = std::env::var("AUTOMA_TEST_POSTGRES_URL") else {
        println!("AUTOMA_TEST_POSTGRES_URL not set: the PostgreSQL setups are skipped");
        return;
    };
    {
        let setup = Setup::new(Some(&postgres)).await;
        let node = setup.start("serve", None, "one");
        print("one node, PostgreSQL", &measure(&node, &[&node], n).await);
    }
    for workers in 1..=3 {
        let setup = Setup::new(Some(&postgres)).await;
        let api = setup.start("serve", Some("api"), "api");
        let nodes: Vec<Node> = (1..=workers)
            .map(|i| setup.start("worker", None, &format!("w{i}")))
            .collect();
        let mut all: Vec<&Node> = vec![&api];
        all.extend(nodes.iter());
        let label = format!("API node + {workers} worker(s), PostgreSQL");
        print(&label, &measure(&api, &all, n).await);
    }
    fail_over(&postgres).await;
}
