//! MCP tool-call latency benchmark: prints numbers, asserts nothing.
//!
//! `cargo run -p automa --example bench_mcp -- [--calls 300]`
//!
//! Starts the real app in this process (SQLite in a temp dir, random port), creates a
//! trivial script exposed as a tool and calls it over `/mcp` with a raw HTTP client (one
//! reqwest client, so one kept-alive connection; no MCP SDK in the measurement):
//! - a legacy-protocol client (`initialize` handshake, then every call in its session
//!   when the server hands out a session id),
//! - a 2026-07-28 client (no handshake, per-request protocol metadata, stateless),
//! - the built-in `list_agents`, which runs no job (the MCP layer's own cost),
//! - and, as the floor, `POST /api/v1/scripts/{id}/run?wait=true` on the same server.
//!
//! Each prints median, p99 and min over the calls after a warm-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automa::app::Application;
use automa::config::Config;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WARM_UP: usize = 20;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(arg("--calls", 300)))
}

struct Server {
    base: String,
    token: String,
    script_id: String,
    http: reqwest::Client,
}

async fn start() -> anyhow::Result<(Server, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse()?;
    config.cache_dir =
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/automa-bench-cache"));
    let app = Application::build(config).await?;
    let setup = app.setup_token().await.unwrap_or_default();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();
    http.post(format!("{base}/api/v1/setup"))
        .json(&json!({"token": setup, "email": "bench@example.org", "password": "benchmark password"}))
        .send()
        .await?
        .error_for_status()?;
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "bench@example.org", "password": "benchmark password"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let script: Value = http
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "trivial", "source": "def main():\n    return 1\n",
                      "max_concurrency": 100, "expose_as_tool": true}),
        )
        .send()
        .await?
        .json()
        .await?;
    let script_id = script["id"].as_str().unwrap().to_owned();
    Ok((
        Server {
            base,
            token,
            script_id,
            http,
        },
        dir,
    ))
}

/// The JSON-RPC message answering request `id`, from a JSON or an SSE response body.
fn answer(headers: &HeaderMap, body: &str, id: u64) -> anyhow::Result<Value> {
    let is_sse = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let messages: Vec<Value> = if is_sse {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    } else {
        vec![serde_json::from_str(body)?]
    };
    messages
        .into_iter()
        .find(|m| m["id"] == id)
        .ok_or_else(|| anyhow::anyhow!("no answer to request {id} in: {body}"))
}

/// One MCP client over a reused connection: `session` and `version` go in the headers.
struct Mcp<'a> {
    server: &'a Server,
    session: Option<String>,
    /// Set for the 2026-07-28 client: every request carries its protocol metadata.
    modern: bool,
    version: String,
    next_id: u64,
}

impl Mcp<'_> {
    async fn post(
        &mut self,
        method: &str,
        name: Option<&str>,
        mut params: Value,
    ) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        if self.modern {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": self.version,
                "io.modelcontextprotocol/clientCapabilities": {},
            });
        }
        let mut req = self
            .server
            .http
            .post(format!("{}/mcp", self.server.base))
            .bearer_auth(&self.server.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", &self.version)
            .json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        if self.modern {
            req = req.header("mcp-method", method);
            if let Some(name) = name {
                req = req.header("mcp-name", name);
            }
        }
        if let Some(session) = &self.session {
            req = req.header("mcp-session-id", session);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await?;
        anyhow::ensure!(status.is_success(), "{method}: {status} {body}");
        answer(&headers, &body, id)
    }

    async fn legacy(server: &Server) -> anyhow::Result<Mcp<'_>> {
        let resp = server
            .http
            .post(format!("{}/mcp", server.base))
            .bearer_auth(&server.token)
            .header("accept", "application/json, text/event-stream")
            .json(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"}}}),
            )
            .send()
            .await?;
        let session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = resp.headers().clone();
        let body = resp.text().await?;
        let init = answer(&headers, &body, 0)?;
        let version = init["result"]["protocolVersion"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("initialize failed: {init}"))?
            .to_owned();
        let mcp = Mcp {
            server,
            session,
            modern: false,
            version,
            next_id: 0,
        };
        let mut req = server
            .http
            .post(format!("{}/mcp", server.base))
            .bearer_auth(&server.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", &mcp.version)
            .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        if let Some(session) = &mcp.session {
            req = req.header("mcp-session-id", session);
        }
        req.send().await?.error_for_status()?;
        Ok(mcp)
    }

    fn modern(server: &Server) -> Mcp<'_> {
        Mcp {
            server,
            session: None,
            modern: true,
            version: "2026-07-28".into(),
            next_id: 0,
        }
    }

    /// Calls tool `name` without arguments; `trivial` must answer `1`.
    async fn call(&mut self, name: &str) -> anyhow::Result<()> {
        let answer = self
            .post(
                "tools/call",
                Some(name),
                json!({"name": name, "arguments": {}}),
            )
            .await?;
        let result = &answer["result"];
        anyhow::ensure!(
            result["isError"] != true && (name != "trivial" || result["content"][0]["text"] == "1"),
            "the tool call failed: {answer}"
        );
        Ok(())
    }
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = times[(times.len() * 99).div_ceil(100).saturating_sub(1)];
    println!(
        "{what}: median {:.2} ms, p99 {:.2} ms, min {:.2} ms ({} calls)",
        ms(times[times.len() / 2]),
        ms(p99),
        ms(times[0]),
        times.len()
    );
}

/// Times `calls` calls of tool `name` after a warm-up, one after another.
async fn time_calls(mcp: &mut Mcp<'_>, name: &str, calls: usize) -> anyhow::Result<Vec<Duration>> {
    for _ in 0..WARM_UP {
        mcp.call(name).await?;
    }
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        mcp.call(name).await?;
        times.push(started.elapsed());
    }
    Ok(times)
}

async fn run_wait(server: &Server, url: &str) -> anyhow::Result<()> {
    let job: Value = server
        .http
        .post(url)
        .bearer_auth(&server.token)
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(job["status"] == "succeeded", "the job failed: {job}");
    Ok(())
}

async fn bench(calls: usize) -> anyhow::Result<()> {
    let (server, _dir) = start().await?;
    println!(
        "profile: {}",
        if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        }
    );

    let mut legacy = Mcp::legacy(&server).await?;
    println!(
        "legacy client: protocol {}, session {}",
        legacy.version,
        if legacy.session.is_some() {
            "yes"
        } else {
            "no (stateless)"
        }
    );
    report(
        "MCP tools/call, legacy client",
        time_calls(&mut legacy, "trivial", calls).await?,
    );

    report(
        "MCP tools/call of list_agents (no job), legacy client",
        time_calls(&mut legacy, "list_agents", calls).await?,
    );

    let mut modern = Mcp::modern(&server);
    report(
        "MCP tools/call, 2026-07-28 client (stateless)",
        time_calls(&mut modern, "trivial", calls).await?,
    );

    let run_url = format!(
        "{}/api/v1/scripts/{}/run?wait=true",
        server.base, server.script_id
    );
    for _ in 0..WARM_UP {
        run_wait(&server, &run_url).await?;
    }
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        run_wait(&server, &run_url).await?;
        times.push(started.elapsed());
    }
    report("REST run?wait=true (same script, for comparison)", times);
    Ok(())
}
