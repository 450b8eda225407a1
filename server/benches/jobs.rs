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

/// Counts the statements sqlx reports, whoever runs them, and the time they took
/// (sqlx's `elapsed_secs`: from sending a statement to its last row).
#[derive(Clone, Default)]
struct Statements {
    count: Arc<AtomicU64>,
    micros: Arc<AtomicU64>,
    /// Statements that took a millisecond or more: on SQLite mostly ones that found the
    /// write lock taken and slept in its busy handler (1 ms, then 2, 5, 10...).
    slow: Arc<AtomicU64>,
    /// With `JOBS_BENCH_SQL=1`: each statement's text, how often it ran and its time.
    by_text: Option<Arc<std::sync::Mutex<ByText>>>,
}

/// A statement's text, with how often it ran and its seconds in all.
type ByText = std::collections::HashMap<String, (u64, f64)>;

impl Statements {
    /// Statements so far, their time in microseconds and how many were slow.
    fn so_far(&self) -> (u64, u64, u64) {
        (
            self.count.load(Ordering::Relaxed),
            self.micros.load(Ordering::Relaxed),
            self.slow.load(Ordering::Relaxed),
        )
    }

    /// Statements, their milliseconds and the slow ones since `before`, per one of
    /// `jobs`.
    fn per_job(&self, before: (u64, u64, u64), jobs: usize) -> (f64, f64, f64) {
        let (count, micros, slow) = self.so_far();
        (
            (count - before.0) as f64 / jobs as f64,
            (micros - before.1) as f64 / 1000.0 / jobs as f64,
            (slow - before.2) as f64 / jobs as f64,
        )
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.count.fetch_add(1, Ordering::Relaxed);
            let mut elapsed = Elapsed(0.0, String::new());
            event.record(&mut elapsed);
            if let Some(by_text) = &self.by_text {
                let mut by_text = by_text.lock().unwrap_or_else(|e| e.into_inner());
                let entry = by_text.entry(elapsed.1.clone()).or_default();
                entry.0 += 1;
                entry.1 += elapsed.0;
            }
            self.micros
                .fetch_add((elapsed.0 * 1e6) as u64, Ordering::Relaxed);
            if elapsed.0 >= 1e-3 {
                self.slow.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Reads a statement event's `elapsed_secs` and its text (`db.statement`, or the
/// `summary` when the text is short enough to be only that).
struct Elapsed(f64, String);

impl tracing::field::Visit for Elapsed {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.0 = value;
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.1.is_empty()) {
            self.1 = value.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.1.is_empty()) {
            let text = format!("{value:?}");
            self.1 = text.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
}

fn main() -> anyhow::Result<()> {
    let statements = Statements {
        by_text: std::env::var_os("JOBS_BENCH_SQL").map(|_| Arc::default()),
        ..Statements::default()
    };
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
    let (per_run, db_ms, slow) = statements.per_job(before, LATENCY_RUNS);
    times.sort();
    println!(
        "POST /run?wait=true, trivial script: median {:.2} ms, p99 {:.2} ms (n={LATENCY_RUNS}; target median <= 10 ms)",
        ms(times[LATENCY_RUNS / 2]),
        ms(times[LATENCY_RUNS * 99 / 100])
    );
    println!(
        "  SQL statements per run, one at a time: {per_run:.1}, taking {db_ms:.2} ms; {slow:.2} took >= 1 ms"
    );

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
    // Each poll above is three list queries; their time is counted, a little.
    let (count, micros, slow) = statements.so_far();
    let burst = (count - before.0).saturating_sub(3 * polls) as f64 / THROUGHPUT_JOBS as f64;
    let db_ms = (micros - before.1) as f64 / 1000.0 / THROUGHPUT_JOBS as f64;
    let slow = (slow - before.2) as f64 / THROUGHPUT_JOBS as f64;
    println!(
        "  SQL statements per job in the burst: {burst:.1}, taking {db_ms:.2} ms; {slow:.2} took >= 1 ms"
    );
    if let Some(by_text) = &statements.by_text {
        let by_text = by_text.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<_> = by_text.iter().collect();
        rows.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
        println!("  statements of the whole bench, by total time:");
        for (text, (count, secs)) in rows.into_iter().take(25) {
            let text: String = text.chars().take(150).collect();
            println!("  {count:>7} {:>9.1} ms  {text}", secs * 1000.0);
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
