//! Many jobs queued at once: each runs once, ends with its whole log (the last entries
//! are stored with the final state), has its one `script.run` audit entry, and the
//! audit chain, written in batches after a chain end kept in memory (SQLite), verifies.
//! On PostgreSQL two nodes append to the one chain at the same time.

use crate::cluster::{Api, Cluster};
use crate::helpers::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const JOBS: i64 = 120;

/// Prints two lines (with log entries, one with fields and one with a NUL byte, and
/// progress between them) and returns its argument.
const NUMBERED: &str = "import automa\ndef main(n):\n    print('first', n)\n    automa.log.info('between', n=n)\n    automa.log.info('nul\\x00byte')\n    automa.log.progress(0.5)\n    print('last', n)\n    return n\n";

/// What each job must show: succeeded on its first attempt with its own number, and its
/// log holds its two lines once each, in order.
fn check_job(n: i64, job: &Value, log: &[Value]) {
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempt"], 1, "{job}");
    assert_eq!(job["result"], n, "{job}");
    let lines: Vec<&str> = log
        .iter()
        .filter(|e| e["stream"] == "stdout")
        .map(|e| e["message"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        lines,
        [format!("first {n}\n"), format!("last {n}\n")],
        "{log:?}"
    );
    // Fields and a NUL (which PostgreSQL's text cannot hold) are kept on both databases.
    let logged: Vec<(&str, &Value)> = log
        .iter()
        .filter(|e| e["stream"] == "log")
        .map(|e| (e["message"].as_str().unwrap_or_default(), &e["fields"]))
        .collect();
    assert_eq!(
        logged,
        [
            ("between", &json!({"n": n})),
            ("nul\u{fffd}byte", &Value::Null)
        ],
        "{log:?}"
    );
    let seqs: Vec<i64> = log.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "{log:?}");
}

/// Each job's `script.run` entries: exactly one per job.
async fn assert_each_audited_once(db: &sqlx::AnyPool, jobs: &[String]) {
    let targets: Vec<(String,)> =
        sqlx::query_as("SELECT target FROM audit_log WHERE action = 'script.run'")
            .fetch_all(db)
            .await
            .unwrap();
    for job in jobs {
        let target = format!("job:{job}");
        let entries = targets.iter().filter(|(t,)| *t == target).count();
        assert_eq!(entries, 1, "{target} has {entries} script.run entries");
    }
}

#[tokio::test]
async fn a_burst_of_jobs_runs_each_once_with_its_log_and_audit_entry() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "numbered", "source": NUMBERED, "max_concurrency": 100}),
        )
        .await
        .json()
        .await
        .unwrap();
    let script = script["id"].as_str().unwrap().to_owned();
    let runs = (0..JOBS).map(|n| {
        let (app, admin, script) = (&app, &admin, &script);
        async move {
            let job: Value = app
                .send_json(
                    "POST",
                    &format!("/api/v1/scripts/{script}/run"),
                    admin,
                    json!({"args": {"n": n}}),
                )
                .await
                .json()
                .await
                .unwrap();
            job["id"].as_str().unwrap().to_owned()
        }
    });
    let jobs: Vec<String> = futures::future::join_all(runs).await;

    let deadline = Instant::now() + Duration::from_secs(120);
    for (n, id) in jobs.iter().enumerate() {
        let job = loop {
            let job: Value = app
                .get(&format!("/api/v1/jobs/{id}"), &admin)
                .await
                .json()
                .await
                .unwrap();
            if job["status"] != "queued" && job["status"] != "running" {
                break job;
            }
            assert!(Instant::now() < deadline, "{id} never ended: {job}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let log: Value = app
            .get(&format!("/api/v1/jobs/{id}/logs"), &admin)
            .await
            .json()
            .await
            .unwrap();
        check_job(n as i64, &job, log.as_array().unwrap());
    }

    let url = format!(
        "sqlite://{}?mode=ro",
        app.data_dir().join("automa.db").display()
    );
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    assert_each_audited_once(&db, &jobs).await;
    let report: Value = app
        .get("/api/v1/audit/verify", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
}

#[tokio::test]
async fn two_nodes_appending_at_once_keep_one_verifiable_chain_on_postgres() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let first = cluster.start("serve", None, "node-1", 4);
    let second = cluster.start("serve", None, "node-2", 4);
    let (a, b) = (
        Api::login(&first.base).await,
        Api::login(&second.base).await,
    );
    let script = a
        .script_with(json!({"name": "numbered", "source": NUMBERED, "max_concurrency": 100}))
        .await;
    // Each run is appended by the node that took it, the two interleaved.
    let runs = (0..JOBS).map(|n| {
        let api = if n % 2 == 0 { &a } else { &b };
        let script = &script;
        async move {
            let job = api
                .post(
                    &format!("/api/v1/scripts/{script}/run"),
                    json!({"args": {"n": n}}),
                )
                .await;
            job["id"].as_str().unwrap().to_owned()
        }
    });
    let jobs: Vec<String> = futures::future::join_all(runs).await;
    for (n, id) in jobs.iter().enumerate() {
        let job = a
            .until(
                &format!("/api/v1/jobs/{id}"),
                Duration::from_secs(180),
                |j| j["status"] != "queued" && j["status"] != "running",
            )
            .await;
        let log = a.get(&format!("/api/v1/jobs/{id}/logs")).await;
        check_job(n as i64, &job, log.as_array().unwrap());
    }
    let db = cluster.db().await;
    assert_each_audited_once(&db, &jobs).await;
    for api in [&a, &b] {
        let report = api.get("/api/v1/audit/verify").await;
        assert_eq!(report["ok"], true, "{report}");
    }
    // Appends after the interleaving go on from the real end, on either node.
    for api in [&b, &a] {
        api.post(
            &format!("/api/v1/scripts/{script}/run"),
            json!({"args": {"n": -1}}),
        )
        .await;
    }
    let report = a.get("/api/v1/audit/verify").await;
    assert_eq!(report["ok"], true, "{report}");
}
