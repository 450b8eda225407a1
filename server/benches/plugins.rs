//! Plugin benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa --bench plugins` starts the real app, installs the test
//! plugin (Rust, `echo`), the markdown example (Rust) and the chat-notify example
//! (Python), and has a script time its own calls with `time.perf_counter`: the
//! latency a script sees for one plugin call, host checks and a fresh instance
//! included. Target for a trivial call: <= 2 ms.

mod support;

use automa_example_plugins::{CHAT_NOTIFY_WASM, MARKDOWN_WASM, TESTKIT_WASM};
use reqwest::Method;
use serde_json::{Value, json};
use support::BenchApp;

const CALLS: usize = 300;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let app = BenchApp::start().await?;
    for wasm in [TESTKIT_WASM, MARKDOWN_WASM, CHAT_NOTIFY_WASM] {
        let plugin: Value = app
            .client
            .post(format!("{}/api/v1/plugins", app.base))
            .bearer_auth(&app.token)
            .header("content-type", "application/wasm")
            .body(wasm.to_vec())
            .send()
            .await?
            .json()
            .await?;
        let name = plugin["name"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("install failed: {plugin}"))?;
        app.json(
            Method::PATCH,
            &format!("/api/v1/plugins/{name}"),
            json!({"enabled": true}),
        )
        .await?;
    }
    // chat-notify is called with a webhook on a host it was not granted: the Python
    // plugin is instantiated and runs, and its HTTP call is refused by the host.
    let source = format!(
        r##"
import time, statistics, automa

def timed(call, n):
    call()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {{"median_ms": statistics.median(samples), "p99_ms": samples[int(len(samples) * 0.99) - 1]}}

def notify():
    try:
        automa.plugins.chat_notify.send(text="x", webhook_url="https://denied.example/hook")
    except PermissionError:
        pass

def main():
    doc = "# Title\n\nSome *text* with a [link](https://example.org).\n\n- a\n- b\n"
    return {{
        "echo (Rust, trivial)": timed(lambda: automa.plugins.testkit.echo(x=1), {CALLS}),
        "markdown.render (Rust)": timed(lambda: automa.plugins.markdown.render(markdown=doc), {CALLS}),
        "chat_notify.send (Python, refused host)": timed(notify, {python_calls}),
    }}
"##,
        python_calls = CALLS / 10
    );
    let script = app
        .json(
            Method::POST,
            "/api/v1/scripts",
            json!({"name": "plugin-bench", "source": source,
                   "capabilities": {"plugins": ["testkit", "markdown", "chat-notify"]},
                   "settings": {"timeout_seconds": 600}}),
        )
        .await?;
    let id = script["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("script not created: {script}"))?;
    let job = app
        .json(
            Method::POST,
            &format!("/api/v1/scripts/{id}/run?wait=true"),
            json!({}),
        )
        .await?;
    let Some(results) = job["result"].as_object() else {
        anyhow::bail!("the benchmark script failed: {job}");
    };
    for (what, numbers) in results {
        println!(
            "plugin call {what}: median {:.3} ms, p99 {:.3} ms (from the script; target for a trivial call <= 2 ms)",
            numbers["median_ms"].as_f64().unwrap_or_default(),
            numbers["p99_ms"].as_f64().unwrap_or_default()
        );
    }
    Ok(())
}
