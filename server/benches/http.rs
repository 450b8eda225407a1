//! HTTP request-path benchmark: prints numbers, asserts nothing about time.
//!
//! `cargo bench -p automa --bench http` starts the real app on loopback (SQLite in a
//! temp dir, `support::BenchApp`), signs in as a user does (setup, then
//! `POST /api/v1/auth/login`), creates a personal API token (`POST /api/v1/tokens`,
//! scope `read`), and then, for each kind of bearer the API accepts (the login's JWT
//! access token, the `atm_…` API token), sends `GET /api/v1/me` from `CLIENTS`
//! concurrent keep-alive HTTP/1.1 connections to 127.0.0.1, each a bare hyper client
//! connection on one client thread (so the load costs the 2 cores little), closed loop:
//! a warm-up of `WARMUP` requests per connection, then `REQUESTS` per connection, with a
//! hard cap of 30 s per kind. Every answer must be 200 (anything else stops the bench).
//!
//! It prints, per kind: requests per second, latency median and p99 (from sending the
//! request to the last byte of the answer), and the CPU time the server's threads spent
//! per request (the whole process's threads minus the client thread), next to the target
//! of issue 15 (>= 20k req/s). `HTTP_BENCH_CLIENTS` and `HTTP_BENCH_REQUESTS` override the
//! connection count and the requests per connection. Like the other benches it installs
//! no log subscriber; `HTTP_BENCH_ACCESS_LOG=text|json` installs `automa serve`'s (level
//! `info`, one access-log line per request) writing to a sink, to price the log's
//! formatting without a terminal's cost.

mod support;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, HOST, HeaderValue};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::BenchApp;

const CLIENTS: usize = 8;
const REQUESTS: usize = 5_000;
const WARMUP: usize = 500;
/// No kind runs longer than this, whatever the counts.
const HARD_CAP: Duration = Duration::from_secs(30);
const TARGET_RPS: f64 = 20_000.0;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let clients = env_count("HTTP_BENCH_CLIENTS", CLIENTS);
    let requests = env_count("HTTP_BENCH_REQUESTS", REQUESTS);
    let access_log = std::env::var("HTTP_BENCH_ACCESS_LOG")
        .ok()
        .filter(|f| !f.is_empty());
    if let Some(format) = &access_log {
        let filter = tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info");
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::sink);
        if format == "json" {
            builder.json().flatten_event(true).init();
        } else {
            builder.init();
        }
    }
    // The server's runtime: its own worker threads, as `automa serve` has.
    let server = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (app, api_token) = server.block_on(async {
        let app = BenchApp::start().await?;
        let created: Value = app
            .json(
                reqwest::Method::POST,
                "/api/v1/tokens",
                json!({"name": "http bench", "scopes": ["read"]}),
            )
            .await?;
        let token = created["token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("creating an API token failed: {created}"))?
            .to_owned();
        anyhow::Ok((app, token))
    })?;
    let addr: std::net::SocketAddr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| anyhow::anyhow!("bench address {}: {e}", app.base))?;
    anyhow::ensure!(addr.ip().is_loopback(), "the bench talks to loopback only");

    // All clients on this one thread; the server's threads do the rest.
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!(
        "GET /api/v1/me, {clients} keep-alive HTTP/1.1 connections x {requests} requests (after {WARMUP} each to warm up), access log {}, target >= {TARGET_RPS:.0} req/s",
        access_log.as_deref().map_or("off", |f| f)
    );
    for (kind, token) in [
        ("JWT access token", app.token.as_str()),
        ("API token (atm_)", api_token.as_str()),
    ] {
        let auth = HeaderValue::from_str(&format!("Bearer {token}"))?;
        client.block_on(load(addr, &auth, clients, WARMUP))?;
        let cpu_before = Cpu::now();
        let run = client.block_on(load(addr, &auth, clients, requests))?;
        let cpu = Cpu::now().since(&cpu_before);
        run.print(kind, cpu);
    }
    drop(app);
    Ok(())
}

/// One measured load: every request's latency and the wall time of the whole.
struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
    capped: bool,
}

impl Run {
    fn print(mut self, kind: &str, cpu: Cpu) {
        self.latencies.sort_unstable();
        let n = self.latencies.len();
        let at = |q: f64| {
            self.latencies
                .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        let rps = n as f64 / self.elapsed.as_secs_f64();
        println!(
            "  {kind}: {rps:.0} req/s, latency median {:.3} ms, p99 {:.3} ms (n={n} in {:.2} s{}; target >= {TARGET_RPS:.0} req/s: {})",
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            self.elapsed.as_secs_f64(),
            if self.capped {
                ", stopped at the 30 s cap"
            } else {
                ""
            },
            if rps >= TARGET_RPS { "met" } else { "not met" },
        );
        if n > 0 {
            println!(
                "    CPU per request: server threads {:.1} µs, client thread {:.1} µs",
                cpu.server.as_secs_f64() * 1e6 / n as f64,
                cpu.client.as_secs_f64() * 1e6 / n as f64,
            );
        }
    }
}

/// `per_client` requests from each of `clients` connections at once.
async fn load(
    addr: std::net::SocketAddr,
    auth: &HeaderValue,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<Run> {
    let deadline = Instant::now() + HARD_CAP;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        tasks.push(tokio::spawn(connection(
            addr,
            auth.clone(),
            per_client,
            deadline,
        )));
    }
    let mut latencies = Vec::with_capacity(clients * per_client);
    let mut capped = false;
    for task in tasks {
        let (times, stopped) = task.await??;
        latencies.extend(times);
        capped |= stopped;
    }
    Ok(Run {
        latencies,
        elapsed: started.elapsed(),
        capped,
    })
}

/// One keep-alive connection sending `count` requests one after another; true when it
/// stopped at the deadline.
async fn connection(
    addr: std::net::SocketAddr,
    auth: HeaderValue,
    count: usize,
    deadline: Instant,
) -> anyhow::Result<(Vec<Duration>, bool)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let host = HeaderValue::from_str(&addr.to_string())?;
    let mut times = Vec::with_capacity(count);
    let mut stopped = false;
    for _ in 0..count {
        if Instant::now() >= deadline {
            stopped = true;
            break;
        }
        let request = hyper::Request::get("/api/v1/me")
            .header(HOST, host.clone())
            .header(AUTHORIZATION, auth.clone())
            .body(Empty::<Bytes>::new())?;
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        times.push(sent.elapsed());
        if status != hyper::StatusCode::OK {
            anyhow::bail!(
                "GET /api/v1/me answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    drop(sender);
    let _ = driver.await;
    Ok((times, stopped))
}

/// CPU time of this process's threads: the calling (client) thread and all the others.
struct Cpu {
    server: Duration,
    client: Duration,
}

impl Cpu {
    /// Read on the client thread: `/proc/thread-self` is the caller.
    fn now() -> Self {
        let client = schedstat("/proc/thread-self/schedstat");
        let all = std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .flatten()
                    .map(|t| schedstat(&format!("{}/schedstat", t.path().display())))
                    .sum::<Duration>()
            })
            .unwrap_or_default();
        Self {
            server: all.saturating_sub(client),
            client,
        }
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            server: self.server.saturating_sub(before.server),
            client: self.client.saturating_sub(before.client),
        }
    }
}

/// A thread's time on the CPU (the first field of its `schedstat`, in nanoseconds).
fn schedstat(path: &str) -> Duration {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}
