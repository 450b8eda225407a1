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

/// A server, its admin's token and the script `body` created.
async fn with_script(body: Value) -> (TestApp, String, String) {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let created = create(&app, &admin, "/api/v1/scripts", body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    (app, admin, id)
}

/// `GET path` answers 500: a stored row it reads does not decode.
async fn fails_reading(app: &TestApp, token: &str, path: &str) {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    assert_eq!(error_code(resp).await, "internal", "{path}");
}

/// `POST` `body` to `path`, which must create; what it created.
async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, token, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{path}");
    resp.json().await.unwrap()
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
    let (app, admin, id) =
        with_script(json!({"name": "corrupt", "source": SLEEP, "max_concurrency": 1})).await;
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
    let source = "import time\n\ndef main(n: int = 1):\n    while True:\n        time.sleep(1)\n";
    let (app, admin, script) = with_script(json!({"name": "params", "source": source})).await;
    let agent = create(
        &app,
        &admin,
        "/api/v1/agents",
        json!({"name": "args", "script_id": script, "args": {"n": 2}}),
    )
    .await;
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

/// The text `sql` reads from the stored row `id` (to see what a refused write left).
async fn stored(app: &TestApp, sql: &'static str, id: &str) -> Option<String> {
    let url = format!(
        "sqlite://{}?mode=ro",
        app.data_dir().join("automa.db").display()
    );
    let db = automa::db::connect(&url).await.unwrap();
    let (text,): (Option<String>,) = sqlx::query_as(sql).bind(id).fetch_one(&db).await.unwrap();
    db.close().await;
    text
}

#[tokio::test]
async fn an_agent_whose_stored_state_or_status_does_not_decode_is_an_error_not_a_guess() {
    let (app, admin, script) = with_script(json!({"name": "idle", "source": SLEEP})).await;
    let agent = create(
        &app,
        &admin,
        "/api/v1/agents",
        json!({"name": "idle", "script_id": script}),
    )
    .await;
    assert_eq!(agent["state"], "stopped", "{agent}");
    let id = agent["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/agents/{id}");

    // A state no version wrote is neither shown nor taken for "not running".
    tamper(
        &app,
        "UPDATE agents SET state = 'crashed' WHERE id = $1",
        &id,
    )
    .await;
    fails_reading(&app, &admin, &one).await;
    fails_reading(&app, &admin, "/api/v1/agents").await;
    let stop = app
        .send_json("POST", &format!("{one}/stop"), &admin, json!({}))
        .await;
    assert_eq!(stop.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // Status numbers that do not decode are an error too, not no numbers.
    tamper(
        &app,
        "UPDATE agents SET state = 'stopped', status_metrics = '{\"n\": ' WHERE id = $1",
        &id,
    )
    .await;
    fails_reading(&app, &admin, &one).await;
    tamper(
        &app,
        "UPDATE agents SET status_metrics = '{\"n\": 3}' WHERE id = $1",
        &id,
    )
    .await;
    let read: Value = app.get(&one, &admin).await.json().await.unwrap();
    assert_eq!(read["state"], "stopped", "{read}");
    assert_eq!(read["status_metrics"], json!({"n": 3}), "{read}");
}

#[tokio::test]
async fn corrupt_schedule_arguments_and_job_results_are_errors_not_empty_values() {
    let source = "def main(n: int = 1):\n    return n * 2\n";
    let (app, admin, script) = with_script(json!({"name": "answer", "source": source})).await;
    let schedule = create(
        &app,
        &admin,
        "/api/v1/schedules",
        json!({"script_id": script, "kind": "interval", "every_seconds": 3600,
                   "enabled": false, "args": {"n": 2}}),
    )
    .await;
    let schedule = schedule["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/schedules/{schedule}");

    tamper(
        &app,
        "UPDATE schedules SET args = '{\"n\": ' WHERE id = $1",
        &schedule,
    )
    .await;
    fails_reading(&app, &admin, &one).await;
    fails_reading(&app, &admin, "/api/v1/schedules").await;
    // An update that keeps the arguments refuses, and does not store `{}` over them.
    let update = app
        .send_json("PATCH", &one, &admin, json!({"every_seconds": 7200}))
        .await;
    assert_eq!(update.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let args = stored(&app, "SELECT args FROM schedules WHERE id = $1", &schedule).await;
    assert_eq!(args.as_deref(), Some("{\"n\": "));
    // One that sets them anew is accepted.
    let fixed = app
        .send_json("PATCH", &one, &admin, json!({"args": {"n": 3}}))
        .await;
    assert_eq!(fixed.status(), StatusCode::OK);
    let fixed: Value = fixed.json().await.unwrap();
    assert_eq!(fixed["args"], json!({"n": 3}), "{fixed}");

    // A finished job whose stored result went bad is not shown as having none.
    let job = app
        .run_wait(&admin, &script, json!({"args": {"n": 4}}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"], 8, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    tamper(&app, "UPDATE jobs SET result = '[8,' WHERE id = $1", &id).await;
    fails_reading(&app, &admin, &format!("/api/v1/jobs/{id}")).await;
    fails_reading(&app, &admin, "/api/v1/jobs").await;
}
