//! Jobs benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa --bench jobs` starts the real app on loopback (SQLite in a
//! temp dir) and measures the end-to-end latency of `POST /scripts/{id}/run?wait=true`
//! for a trivial script, and the throughput of trivial jobs with the default workers.
//! It also counts the SQL statements the server runs (sqlx's `sqlx::query` events; on
//! SQLite a transaction's BEGIN and COMMIT are not among them) per trivial job.

mod support;

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::BenchApp;
use tracing_subscriber::layer::SubscriberExt;

const LATENCY_RUNS: usize = 300;
const THROUGHPUT_JOBS: usize = 1000;

/// Counts the statements sqlx reports, whoever runs them.
#[derive(Clone, Default)]
struct Statements(Arc<AtomicU64>);

impl Statements {
    fn so_far(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() -> anyhow::Result<()> {
    let statements = Statements::default();
    let only_statements = tracing_subscriber::filter::Targets::new()
        .with_target("sqlx::query", tracing::Level::DEBUG);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(
        tracing_subscriber::Layer::with_filter(statements.clone(), only_statements),
    ))?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(bench(&statements))
}

async fn bench(statements: &Statements) -> anyhow::Result<()> {
    let app = BenchApp::start().await?;
    let (base, token, client) = (app.base.clone(), app.token.clone(), app.client.clone());
    let script: Value = client
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        .json(&json!({"name": "trivial", "source": "def main():\n    return 1\n", "max_concurrency": 100}))
        .send()
        .await?
        .json()
        .await?;
    let id = script["id"].as_str().unwrap_or_default().to_owned();
    let run_url = format!("{base}/api/v1/scripts/{id}/run");

    for _ in 0..20 {
        client
            .post(format!("{run_url}?wait=true"))
            .bearer_auth(&token)
            .send()
            .await?;
    }
    let mut times = Vec::with_capacity(LATENCY_RUNS);
    let before = statements.so_far();
    for _ in 0..LATENCY_RUNS {
        let started = Instant::now();
        let job: Value = client
            .post(format!("{run_url}?wait=true"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        times.push(started.elapsed());
        if job["status"] != "succeeded" {
            anyhow::bail!("a job did not succeed: {job}");
        }
    }
    let per_run = (statements.so_far() - before) as f64 / LATENCY_RUNS as f64;
    times.sort();
    println!(
        "POST /run?wait=true, trivial script: median {:.2} ms, p99 {:.2} ms (n={LATENCY_RUNS}; target median <= 10 ms)",
        ms(times[LATENCY_RUNS / 2]),
        ms(times[LATENCY_RUNS * 99 / 100])
    );
    println!("  SQL statements per run, one at a time: {per_run:.1}");

    let started = Instant::now();
    let before = statements.so_far();
    let mut ids = Vec::with_capacity(THROUGHPUT_JOBS);
    let mut pending = futures::stream::FuturesUnordered::new();
    use futures::StreamExt;
    for _ in 0..THROUGHPUT_JOBS {
        let request = client.post(&run_url).bearer_auth(&token).send();
        pending.push(request);
        if pending.len() >= 32
            && let Some(response) = pending.next().await
        {
            let job: Value = response?.json().await?;
            ids.push(job["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    while let Some(response) = pending.next().await {
        let job: Value = response?.json().await?;
        ids.push(job["id"].as_str().unwrap_or_default().to_owned());
    }
    let queued = started.elapsed();
    let mut polls = 0u64;
    loop {
        polls += 1;
        let list: Value = client
            .get(format!(
                "{base}/api/v1/jobs?status=succeeded&limit=1&script_id={id}"
            ))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let busy: Value = client
            .get(format!("{base}/api/v1/jobs?status=queued&limit=1"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let running: Value = client
            .get(format!("{base}/api/v1/jobs?status=running&limit=1"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let empty = |v: &Value| v["items"].as_array().is_none_or(Vec::is_empty);
        if empty(&busy) && empty(&running) && !empty(&list) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "throughput: {THROUGHPUT_JOBS} trivial jobs queued in {:.0} ms and finished in {:.0} ms: {:.0} jobs/s (target >= 300)",
        ms(queued),
        ms(elapsed),
        THROUGHPUT_JOBS as f64 / elapsed.as_secs_f64()
    );
    // Each poll above is three list queries.
    let burst = (statements.so_far() - before).saturating_sub(3 * polls);
    println!(
        "  SQL statements per job in the burst: {:.1}",
        burst as f64 / THROUGHPUT_JOBS as f64
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
