//! Schedules through the API: validation, next-run preview, firing on time, and
//! surviving a restart of the server.

use crate::helpers::{serve_on, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn bad_schedules_are_refused_with_reasons() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "s", "source": "def main(n: int):\n    return n\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = script["id"].as_str().unwrap();
    for (body, needle) in [
        (
            json!({"script_id": id, "kind": "cron", "cron": "99 * * * *", "args": {"n": 1}}),
            "invalid cron",
        ),
        (
            json!({"script_id": id, "kind": "cron", "cron": "0 9 * * *", "timezone": "Nowhere/City", "args": {"n": 1}}),
            "unknown time zone",
        ),
        (
            json!({"script_id": id, "kind": "once", "at": "2001-01-01T00:00:00Z", "args": {"n": 1}}),
            "never run",
        ),
        (
            json!({"script_id": id, "kind": "interval", "every_seconds": 60}),
            "missing required argument `n`",
        ),
        (
            json!({"script_id": "nope", "kind": "interval", "every_seconds": 60}),
            "no script",
        ),
    ] {
        let resp = app
            .send_json("POST", "/api/v1/schedules", &admin, body)
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(needle),
            "{body}"
        );
    }
    let resp = app
        .send_json(
            "POST",
            "/api/v1/schedules",
            &admin,
            json!({"script_id": id, "kind": "cron", "cron": "0 9 * * MON-FRI", "timezone": "Europe/Berlin", "args": {"n": 1}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let schedule: Value = resp.json().await.unwrap();
    let runs = schedule["next_runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5);
    assert_eq!(schedule["next_run_at"], runs[0]);
}

async fn scheduled_jobs(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let list: Value = client
        .get(format!("{base}/api/v1/jobs?limit=200"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["trigger"] == "schedule")
        .cloned()
        .collect()
}

async fn wait_for_jobs(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    at_least: usize,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let jobs = scheduled_jobs(client, base, token).await;
        if jobs.iter().filter(|j| j["status"] == "succeeded").count() >= at_least {
            return jobs;
        }
        assert!(
            Instant::now() < deadline,
            "fewer than {at_least} scheduled runs: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn interval_schedule_fires_and_survives_a_restart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let client = reqwest::Client::new();
    let (base, stop, setup) = serve_on(&data).await;
    let resp = client
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"token": setup.unwrap(), "email": "a@example.org", "password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "a@example.org", "password": "a long password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let script: Value = client
        .post(format!("{base}/api/v1/scripts"))
        .bearer_auth(&token)
        .json(&json!({"name": "tick", "source": "def main(label: str):\n    return label\n"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = client
        .post(format!("{base}/api/v1/schedules"))
        .bearer_auth(&token)
        .json(&json!({"script_id": script["id"], "kind": "interval", "every_seconds": 1, "args": {"label": "tock"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let jobs = wait_for_jobs(&client, &base, &token, 2).await;
    assert!(jobs.iter().all(|j| j["args"] == json!({"label": "tock"})));

    stop.shutdown().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (base, stop, _) = serve_on(&data).await;
    let before = scheduled_jobs(&client, &base, &token).await.len();
    let after = wait_for_jobs(&client, &base, &token, before + 2).await;
    // One job per firing: never two within the same second of schedule.
    let mut created: Vec<i64> = after
        .iter()
        .map(|j| automa::db::parse_rfc3339(j["created_at"].as_str().unwrap()).unwrap())
        .collect();
    created.sort();
    for pair in created.windows(2) {
        assert!(
            pair[1] - pair[0] >= 500,
            "two jobs for one firing: {created:?}"
        );
    }
    stop.shutdown().await;
}
