//! Typed rows (issue 13): a job whose stored arguments, or whose script's stored
//! settings, do not decode is not run with defaults; it ends `interrupted` naming the
//! row, and the API answers 500 where it would have used the corrupt value.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SLEEP: &str = "import time\n\ndef main():\n    time.sleep(1.5)\n";

async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/jobs/{id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

async fn run(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.send_json(
        "POST",
        &format!("/api/v1/scripts/{id}/run"),
        token,
        json!({}),
    )
    .await
}

async fn queue(app: &TestApp, token: &str, script: &str) -> String {
    let job: Value = run(app, token, script).await.json().await.unwrap();
    job["id"].as_str().unwrap().to_owned()
}

async fn wait_for(app: &TestApp, token: &str, id: &str, done: impl Fn(&str) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = job(app, token, id).await;
        if done(j["status"].as_str().unwrap_or_default()) {
            return j;
        }
        assert!(Instant::now() < deadline, "{j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn tamper(app: &TestApp, sql: &'static str, id: &str) {
    let url = format!(
        "sqlite://{}?mode=rw",
        app.data_dir().join("automa.db").display()
    );
    let db = automa::db::connect(&url).await.unwrap();
    sqlx::query(sql).bind(id).execute(&db).await.unwrap();
    db.close().await;
}

fn interrupted_naming(job: &Value, row: &str) {
    assert_eq!(job["status"], "interrupted", "{job}");
    assert_eq!(job["error"]["kind"], "CorruptRow", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains(row), "{job}");
}

#[tokio::test]
async fn corrupt_stored_rows_stop_the_run_and_name_the_row() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "corrupt", "source": SLEEP, "max_concurrency": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let not_waiting = |s: &str| !matches!(s, "queued" | "running");

    // One job at a time: the first runs, the second and third wait in the queue.
    let first = queue(&app, &admin, &id).await;
    let second = queue(&app, &admin, &id).await;
    let third = queue(&app, &admin, &id).await;
    wait_for(&app, &admin, &first, |s| s == "running").await;
    tamper(
        &app,
        "UPDATE jobs SET args = '{\"a\": ' WHERE id = $1",
        &second,
    )
    .await;
    let ended = wait_for(&app, &admin, &second, not_waiting).await;
    interrupted_naming(
        &ended,
        &format!("jobs row {second}: column args does not decode"),
    );

    // While the third runs, a fourth waits; then the script's settings go bad.
    wait_for(&app, &admin, &third, |s| s == "running").await;
    let fourth = queue(&app, &admin, &id).await;
    tamper(
        &app,
        "UPDATE scripts SET settings = '{\"memory_mb\": \"lots\"}' WHERE id = $1",
        &id,
    )
    .await;
    let ended = wait_for(&app, &admin, &fourth, not_waiting).await;
    interrupted_naming(
        &ended,
        &format!("scripts row {id}: column settings does not decode"),
    );

    // New runs and an update that keeps the stored settings are refused, not defaulted.
    assert_eq!(
        run(&app, &admin, &id).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let update = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"description": "kept settings"}),
        )
        .await;
    assert_eq!(update.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn an_audit_entry_whose_details_do_not_decode_is_an_error_not_an_empty_entry() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (user_id, _) = app.create_user(&admin, "corrupt@example.org").await;
    let entries = app.audit_actions(&admin).await;
    let created = entries
        .iter()
        .find(|e| e["action"] == "user.create")
        .unwrap();
    assert_eq!(created["target"], format!("user:{user_id}"));
    let entry_id = created["id"].as_str().unwrap();
    tamper(
        &app,
        "UPDATE audit_log SET details = '{not json' WHERE id = $1",
        entry_id,
    )
    .await;

    let listed = app.get("/api/v1/audit", &admin).await;
    assert_eq!(listed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Only that row: a filter that leaves it out still reads.
    let others = app.get("/api/v1/audit?action=auth.login", &admin).await;
    assert_eq!(others.status(), StatusCode::OK);
    let body: Value = others.json().await.unwrap();
    assert!(!body["items"].as_array().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn corrupt_parameters_refuse_runs_and_corrupt_agent_arguments_stop_the_agent() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let source = "import time\n\ndef main(n: int = 1):\n    while True:\n        time.sleep(1)\n";
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "params", "source": source}),
        )
        .await
        .json()
        .await
        .unwrap();
    let script = created["id"].as_str().unwrap().to_owned();
    let agent: Value = app
        .send_json(
            "POST",
            "/api/v1/agents",
            &admin,
            json!({"name": "args", "script_id": script, "args": {"n": 2}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let agent = agent["id"].as_str().unwrap().to_owned();

    // An agent whose stored arguments went bad is not started with none.
    tamper(
        &app,
        "UPDATE agents SET args = '{\"n\": ' WHERE id = $1",
        &agent,
    )
    .await;
    let start = format!("/api/v1/agents/{agent}/start");
    app.send_json("POST", &start, &admin, json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let stopped = loop {
        let a: Value = app
            .get(&format!("/api/v1/agents/{agent}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if a["state"] == "fatal" {
            break a;
        }
        assert_ne!(a["state"], "running", "{a}");
        assert!(Instant::now() < deadline, "{a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reason = stopped["state_reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("agents row {agent}: column args does not decode")),
        "{stopped}"
    );

    // A version whose stored parameters went bad checks no arguments: runs are refused.
    tamper(
        &app,
        "UPDATE script_versions SET parameters = '[1,' WHERE script_id = $1",
        &script,
    )
    .await;
    let refused = run(&app, &admin, &script).await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
