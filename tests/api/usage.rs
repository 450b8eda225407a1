//! Usage against quotas (issue 12): `GET /me/usage` and `GET /users/{id}/usage` show
//! what a user's jobs, agents and scripts hold next to their ceilings, and `/metrics`
//! the same numbers per user.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const FILL: &str = "import automa\n\ndef main():\n    with open('/data/blob', 'wb') as f:\n        f.write(b'x' * 100000)\n    for k in ('a', 'bb', 'ccc'):\n        automa.state.set(k, 'v' * 10)\n    return 1\n";
const SLEEP: &str = "import time\n\ndef main():\n    time.sleep(3)\n";
const AGENT: &str = "import automa\n\ndef main():\n    while not automa.agent.stop_requested():\n        automa.agent.sleep(0.2)\n";

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, token, body).await;
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn usage(app: &TestApp, token: &str, path: &str) -> Value {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

async fn script(app: &TestApp, token: &str, name: &str, source: &str, settings: Value) -> String {
    post(
        app,
        token,
        "/api/v1/scripts",
        json!({"name": name, "source": source, "settings": settings}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `path` until `done` holds for the answer (or fails after 20 s).
async fn usage_until(
    app: &TestApp,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let u = usage(app, token, path).await;
        if done(&u) {
            return u;
        }
        assert!(Instant::now() < deadline, "{u}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the series `name{user="id",...}` in a Prometheus text answer.
fn series(text: &str, name: &str, user: &str) -> Option<f64> {
    let prefix = format!("{name}{{user=\"{user}\",");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn usage_counts_runs_agents_disk_state_and_cpu_against_the_ceilings() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let (bob_id, bob) = app.create_user(&admin, "bob@example.org").await;
    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{alice_id}/quotas"),
            &admin,
            json!({"running_jobs": 3, "data_mb": 5}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let fresh = usage(&app, &alice, "/api/v1/me/usage").await;
    assert_eq!(fresh["user_id"], alice_id.as_str());
    assert_eq!(fresh["email"], "alice@example.org");
    for zero in [
        "running_jobs",
        "agents_running",
        "memory_committed_mb",
        "scripts",
        "data_bytes",
        "state_keys",
        "state_bytes",
    ] {
        assert_eq!(fresh[zero], 0, "{zero}: {fresh}");
    }
    assert_eq!(fresh["running_jobs_ceiling"], 3, "the admin's override");
    assert_eq!(fresh["data_bytes_ceiling_per_script"], 5 * 1024 * 1024);
    assert_eq!(fresh["agents_ceiling"], 10, "the server's default");

    let fill = script(&app, &alice, "fill", FILL, json!({})).await;
    let done = app.run_wait(&alice, &fill, json!({})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let after = usage(&app, &alice, "/api/v1/me/usage").await;
    assert_eq!(after["scripts"], 1);
    assert_eq!(after["state_keys"], 3);
    // Keys plus values as stored: JSON, each 10-character string with its quotes.
    assert_eq!(
        after["state_bytes"],
        (1 + 2 + 3) + 3 * 12,
        "keys plus values"
    );
    assert_eq!(after["state_keys_max_script"], 3);
    // 100,000 bytes plus one 4 KiB entry, as the disk quota counts the file.
    assert_eq!(after["data_bytes"], 100_000 + 4096, "{after}");
    assert_eq!(after["data_bytes_max_script"], 100_000 + 4096);
    assert!(after["job_cpu_seconds"].as_f64().unwrap() > 0.0, "{after}");

    let sleeper = script(&app, &alice, "sleep", SLEEP, json!({"memory_mb": 96})).await;
    post(
        &app,
        &alice,
        &format!("/api/v1/scripts/{sleeper}/run"),
        json!({}),
    )
    .await;
    let looper = script(&app, &alice, "loop", AGENT, json!({})).await;
    let agent = post(
        &app,
        &alice,
        "/api/v1/agents",
        json!({"name": "looper", "script_id": looper, "memory_mb": 64, "stop_grace_seconds": 1}),
    )
    .await;
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    post(
        &app,
        &alice,
        &format!("/api/v1/agents/{agent_id}/start"),
        json!({}),
    )
    .await;
    let busy = usage_until(&app, &alice, "/api/v1/me/usage", |u| {
        u["running_jobs"] == 1 && u["agents_running"] == 1 && u["memory_committed_mb"] == 96 + 64
    })
    .await;
    assert_eq!(busy["scripts"], 3);

    // An admin sees it too, and every user's on /metrics; a user sees only their own.
    let seen = usage(&app, &admin, &format!("/api/v1/users/{alice_id}/usage")).await;
    assert_eq!(seen["user_id"], alice_id.as_str());
    assert_eq!(seen["state_keys"], 3);
    let theirs = app
        .get(&format!("/api/v1/users/{alice_id}/usage"), &bob)
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let own = usage(&app, &bob, &format!("/api/v1/users/{bob_id}/usage")).await;
    assert_eq!(own["scripts"], 0);
    let missing = app.get("/api/v1/users/no-such-user/usage", &admin).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let text = app.get("/metrics", &admin).await.text().await.unwrap();
    assert_eq!(
        series(&text, "user_state_keys", &alice_id),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "user_running_jobs_ceiling", &alice_id),
        Some(3.0)
    );
    assert_eq!(series(&text, "user_data_bytes", &alice_id), Some(104_096.0));
    assert_eq!(series(&text, "user_state_keys", &bob_id), Some(0.0));
    assert!(series(&text, "user_agents_running", &alice_id).is_some());
    assert!(text.contains("# TYPE user_memory_committed_bytes gauge"));

    post(
        &app,
        &alice,
        &format!("/api/v1/agents/{agent_id}/stop"),
        json!({}),
    )
    .await;
    let idle = usage_until(&app, &alice, "/api/v1/me/usage", |u| {
        u["running_jobs"] == 0 && u["agents_running"] == 0
    })
    .await;
    assert_eq!(idle["memory_committed_mb"], 0, "{idle}");
}
