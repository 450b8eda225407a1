//! Rights follow the owner: disabling a user stops their agents, pauses their
//! schedules, refuses their webhooks and skips their queued jobs (each audited);
//! enabling them again resumes exactly what the disable paused. Deleting a user stops
//! what they had running. `exercise` also runs against PostgreSQL (`postgres.rs`).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const AGENT: &str = "import automa\n\ndef main():\n    while not automa.agent.stop_requested():\n        automa.agent.sleep(0.2)\n";
const SLOW: &str = "import time\n\ndef main():\n    time.sleep(30)\n";
const TICK: &str = "def main():\n    return 1\n";

async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, token, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{path}");
    resp.json().await.unwrap()
}

async fn script(app: &TestApp, token: &str, name: &str, source: &str) -> String {
    let v = create(
        app,
        token,
        "/api/v1/scripts",
        json!({"name": name, "source": source}),
    )
    .await;
    v["id"].as_str().unwrap().to_owned()
}

/// Queues a run of `script_id`; its job id.
async fn queue(app: &TestApp, token: &str, script_id: &str) -> String {
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{script_id}/run"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let job: Value = resp.json().await.unwrap();
    job["id"].as_str().unwrap().to_owned()
}

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

/// Polls `path` until `done` holds for it (30 s at most).
async fn until(app: &TestApp, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = read(app, token, path).await;
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} never got there: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn jobs_of(app: &TestApp, admin: &str, script_id: &str) -> Vec<Value> {
    let v = read(
        app,
        admin,
        &format!("/api/v1/jobs?script_id={script_id}&limit=200"),
    )
    .await;
    v["items"].as_array().unwrap().clone()
}

async fn set_disabled(app: &TestApp, admin: &str, user_id: &str, disabled: bool) {
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{user_id}"),
            admin,
            json!({"disabled": disabled}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

fn audited(entries: &[Value], action: &str, target: &str) -> bool {
    entries
        .iter()
        .any(|e| e["action"] == action && e["target"] == target)
}

/// The whole disable / enable cycle for a fresh user `email`.
pub async fn exercise(app: &TestApp, admin: &str, email: &str) {
    let (user_id, user) = app.create_user(admin, email).await;
    let tick = script(app, &user, "tick", TICK).await;
    let slow = script(app, &user, "slow", SLOW).await;
    let looping = script(app, &user, "loop", AGENT).await;

    let ticking = create(
        app,
        &user,
        "/api/v1/schedules",
        json!({"script_id": tick, "kind": "interval", "every_seconds": 1}),
    )
    .await;
    let ticking = ticking["id"].as_str().unwrap().to_owned();
    // One the user paused themselves: it must stay paused after the enable.
    let own_pause = create(
        app,
        &user,
        "/api/v1/schedules",
        json!({"script_id": tick, "kind": "interval", "every_seconds": 60, "enabled": false}),
    )
    .await;
    let own_pause = own_pause["id"].as_str().unwrap().to_owned();

    let running = create(
        app,
        &user,
        "/api/v1/agents",
        json!({"name": "runner", "script_id": looping, "stop_grace_seconds": 2}),
    )
    .await;
    let running = running["id"].as_str().unwrap().to_owned();
    let idle = create(
        app,
        &user,
        "/api/v1/agents",
        json!({"name": "idle", "script_id": looping}),
    )
    .await;
    let idle = idle["id"].as_str().unwrap().to_owned();
    let start = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{running}/start"),
            &user,
            json!({}),
        )
        .await;
    assert_eq!(start.status(), StatusCode::OK);
    until(app, &user, &format!("/api/v1/agents/{running}"), |a| {
        a["state"] == "running"
    })
    .await;

    let hook = create(
        app,
        &user,
        &format!("/api/v1/scripts/{tick}/webhook"),
        json!({}),
    )
    .await;
    let hook = app.url(hook["path"].as_str().unwrap());
    let call = app
        .client
        .post(&hook)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), StatusCode::ACCEPTED);

    // One slow job runs (max_concurrency 1), the next waits in the queue.
    let first = queue(app, &user, &slow).await;
    let second = queue(app, &user, &slow).await;
    let (first, second) = (first.as_str(), second.as_str());
    until(app, admin, &format!("/api/v1/jobs/{first}"), |j| {
        j["status"] == "running"
    })
    .await;
    assert_eq!(
        read(app, admin, &format!("/api/v1/jobs/{second}")).await["status"],
        "queued"
    );

    set_disabled(app, admin, &user_id, true).await;

    // Queued work is skipped with the reason, running work is cancelled.
    let skipped = read(app, admin, &format!("/api/v1/jobs/{second}")).await;
    assert_eq!(skipped["status"], "cancelled", "{skipped}");
    assert!(
        skipped["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "{skipped}"
    );
    until(app, admin, &format!("/api/v1/jobs/{first}"), |j| {
        j["status"] == "cancelled"
    })
    .await;
    // The agent is stopped, the schedule paused, the webhook refused without a job.
    let agent = read(app, admin, &format!("/api/v1/agents/{running}")).await;
    assert_eq!(agent["state"], "stopped", "{agent}");
    let schedule = read(app, admin, &format!("/api/v1/schedules/{ticking}")).await;
    assert_eq!(schedule["enabled"], false, "{schedule}");
    let before = jobs_of(app, admin, &tick).await.len();
    let refused = app
        .client
        .post(&hook)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::GONE);
    assert_eq!(error_code(refused).await, "gone");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        jobs_of(app, admin, &tick).await.len(),
        before,
        "no new jobs"
    );

    let entries = app
        .audit_until(admin, |e| {
            audited(e, "agent.stop", &format!("agent:{running}"))
        })
        .await;
    for (action, target) in [
        ("schedule.pause", format!("schedule:{ticking}")),
        ("agent.stop", format!("agent:{running}")),
        ("job.skip", format!("user:{user_id}")),
        ("job.cancel", format!("job:{first}")),
        ("webhook.run", format!("script:{tick}")),
    ] {
        assert!(audited(&entries, action, &target), "{action} {target}");
    }
    assert!(!audited(
        &entries,
        "schedule.pause",
        &format!("schedule:{own_pause}")
    ));

    // Enabled again: what the disable paused resumes, nothing else.
    set_disabled(app, admin, &user_id, false).await;
    let schedule = read(app, admin, &format!("/api/v1/schedules/{ticking}")).await;
    assert_eq!(schedule["enabled"], true, "{schedule}");
    let schedule = read(app, admin, &format!("/api/v1/schedules/{own_pause}")).await;
    assert_eq!(schedule["enabled"], false, "{schedule}");
    until(app, admin, &format!("/api/v1/agents/{running}"), |a| {
        a["state"] == "running"
    })
    .await;
    let agent = read(app, admin, &format!("/api/v1/agents/{idle}")).await;
    assert_eq!(agent["state"], "stopped", "{agent}");
    let call = app
        .client
        .post(&hook)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), StatusCode::ACCEPTED);
    let entries = app
        .audit_until(admin, |e| {
            audited(e, "agent.start", &format!("agent:{running}"))
        })
        .await;
    assert!(audited(
        &entries,
        "schedule.resume",
        &format!("schedule:{ticking}")
    ));

    // Leave nothing running for the next flow on the same server.
    set_disabled(app, admin, &user_id, true).await;
}

#[tokio::test]
async fn disabling_a_user_pauses_their_automations_and_enabling_resumes_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    exercise(&app, &admin, "owner@example.org").await;
}

#[tokio::test]
async fn deleting_a_user_stops_their_agents_first() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (user_id, user) = app.create_user(&admin, "gone@example.org").await;
    let looping = script(&app, &user, "loop", AGENT).await;
    let agent = create(
        &app,
        &user,
        "/api/v1/agents",
        json!({"name": "runner", "script_id": looping, "stop_grace_seconds": 2}),
    )
    .await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{agent}/start"),
        &user,
        json!({}),
    )
    .await;
    until(&app, &user, &format!("/api/v1/agents/{agent}"), |a| {
        a["state"] == "running"
    })
    .await;
    let resp = app
        .delete(&format!("/api/v1/users/{user_id}"), &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let entries = app.audit_actions(&admin).await;
    let stop = entries
        .iter()
        .find(|e| e["action"] == "agent.stop" && e["target"] == format!("agent:{agent}"))
        .expect("agent.stop audited");
    assert!(
        stop["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("deleted")
    );
    assert_eq!(
        app.get(&format!("/api/v1/agents/{agent}"), &admin)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
