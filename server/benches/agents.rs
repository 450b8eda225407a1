//! Agents benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa --bench agents` starts the real app and measures the
//! resident memory each idle agent adds (200 agents looping on `automa.agent.sleep`)
//! and the latency of a message round trip through the API (POST a message, see the
//! agent's reply in its events).

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::BenchApp;

const IDLE_AGENTS: usize = 200;
const ROUND_TRIPS: usize = 100;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

/// A field of a /proc/self file in bytes (values there are in kB).
fn proc_bytes(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/self/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// Memory: resident (RSS), proportional (PSS: a page mapped by several instances, like
/// the compiled image's memory pages, counts once in all), and PSS anonymous and
/// file-backed.
fn memory() -> [u64; 4] {
    [
        proc_bytes("status", "VmRSS:"),
        proc_bytes("smaps_rollup", "Pss:"),
        proc_bytes("smaps_rollup", "Pss_Anon:"),
        proc_bytes("smaps_rollup", "Pss_File:"),
    ]
}

async fn bench() -> anyhow::Result<()> {
    let app = BenchApp::start().await?;
    let (base, client) = (app.base.clone(), app.client.clone());
    // Every request is the admin's; the token argument is kept for readability.
    let post = |path: String, _token: Option<String>, body: Value| {
        let app = &app;
        async move { app.json(reqwest::Method::POST, &path, body).await }
    };
    let token = Some(app.token.clone());

    let sleeper = post("/api/v1/scripts".into(), token.clone(), json!({"name": "sleeper", "source": "import automa\nwhile automa.agent.sleep(3600):\n    pass\n"})).await?;
    // Warm up: one agent, so the runtime and allocator are in steady state.
    let warm = post(
        "/api/v1/agents".into(),
        token.clone(),
        json!({"name": "warm", "script_id": sleeper["id"], "memory_mb": 64}),
    )
    .await?;
    post(
        format!(
            "/api/v1/agents/{}/start",
            warm["id"].as_str().unwrap_or_default()
        ),
        token.clone(),
        json!({}),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = memory();
    for n in 0..IDLE_AGENTS {
        let agent = post(
            "/api/v1/agents".into(),
            token.clone(),
            json!({"name": format!("idle-{n}"), "script_id": sleeper["id"], "memory_mb": 64}),
        )
        .await?;
        post(
            format!(
                "/api/v1/agents/{}/start",
                agent["id"].as_str().unwrap_or_default()
            ),
            token.clone(),
            json!({}),
        )
        .await?;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = memory();
    let each =
        |i: usize| after[i].saturating_sub(before[i]) as f64 / IDLE_AGENTS as f64 / 1048576.0;
    println!(
        "idle agents: {IDLE_AGENTS} add {:.2} MiB each as RSS (pages shared between instances \
         counted once per instance), {:.2} MiB each as PSS ({:.2} anonymous, {:.2} file-backed) \
         (target <= 4 MiB)",
        each(0),
        each(1),
        each(2),
        each(3)
    );

    let echo = "import automa\nwhile not automa.agent.stop_requested():\n    m = automa.agent.receive(timeout=5)\n    if m is not None:\n        automa.agent.emit(m)\n";
    let script = post(
        "/api/v1/scripts".into(),
        token.clone(),
        json!({"name": "echo", "source": echo}),
    )
    .await?;
    let agent = post(
        "/api/v1/agents".into(),
        token.clone(),
        json!({"name": "echo", "script_id": script["id"]}),
    )
    .await?;
    let id = agent["id"].as_str().unwrap_or_default().to_owned();
    post(
        format!("/api/v1/agents/{id}/start"),
        token.clone(),
        json!({}),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    let mut seen = 0usize;
    for n in 0..ROUND_TRIPS {
        let started = Instant::now();
        client
            .post(format!("{base}/api/v1/agents/{id}/messages"))
            .bearer_auth(token.clone().unwrap_or_default())
            .json(&json!({"body": n}))
            .send()
            .await?;
        loop {
            let events: Value = client
                .get(format!("{base}/api/v1/agents/{id}/events?kind=event"))
                .bearer_auth(token.clone().unwrap_or_default())
                .send()
                .await?
                .json()
                .await?;
            if events.as_array().map_or(0, Vec::len) > seen {
                seen += 1;
                break;
            }
        }
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "message round trip (POST, agent replies, reply listed): median {:.2} ms, p99 {:.2} ms (n={ROUND_TRIPS}; target <= 5 ms)",
        times[ROUND_TRIPS / 2].as_secs_f64() * 1000.0,
        times[ROUND_TRIPS * 99 / 100].as_secs_f64() * 1000.0
    );
    Ok(())
}
