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

async fn script_with_arg(app: &crate::helpers::TestApp, token: &str) -> String {
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            token,
            json!({"name": "s", "source": "def main(n: int):\n    return n\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    script["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn cron5_refusals_name_the_field_even_when_disabled() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = script_with_arg(&app, &admin).await;
    for (cron, enabled, message) in [
        ("61 * * * *", true, "minute 61 is out of range 0–59"),
        (
            "* * * * * * *",
            true,
            "a cron pattern has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; this one has 7",
        ),
        (
            "1,,2 * * * *",
            false,
            "minute \"1,,2\" has an empty item in its list",
        ),
        (
            "0 0 30 2 *",
            true,
            "it never fires: no month in \"2\" has a day in \"30\"",
        ),
        (
            "0 0 30 2 *",
            false,
            "it never fires: no month in \"2\" has a day in \"30\"",
        ),
    ] {
        let resp = app
            .send_json(
                "POST",
                "/api/v1/schedules",
                &admin,
                json!({"script_id": id, "kind": "cron", "cron": cron, "enabled": enabled, "args": {"n": 1}}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{cron}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            format!("invalid cron pattern {cron:?}: {message}"),
            "{body}"
        );
    }
    let list: Value = app
        .get("/api/v1/schedules", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_disabled_schedule_shows_its_next_runs_as_inactive() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = script_with_arg(&app, &admin).await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/schedules",
            &admin,
            json!({"script_id": id, "kind": "cron", "cron": "0 0 */2 * MON", "enabled": false, "args": {"n": 1}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let schedule: Value = resp.json().await.unwrap();
    assert_eq!(schedule["active"], false);
    assert_eq!(schedule["next_run_at"], Value::Null);
    let runs = schedule["next_runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 5);
    for run in &runs {
        // Mondays that are odd days of the month (the cron(5) day rule).
        let day = chrono::DateTime::parse_from_rfc3339(run.as_str().unwrap()).unwrap();
        use chrono::Datelike;
        assert_eq!(day.weekday(), chrono::Weekday::Mon, "{run}");
        assert_eq!(day.day() % 2, 1, "{run}");
    }
    let path = format!("/api/v1/schedules/{}", schedule["id"].as_str().unwrap());
    let enabled: Value = app
        .send_json("PATCH", &path, &admin, json!({"enabled": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled["active"], true);
    assert_eq!(enabled["next_runs"].as_array().unwrap(), &runs);
    assert_eq!(enabled["next_run_at"], runs[0]);
}

async fn preview(app: &crate::helpers::TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let resp = app
        .send_json("POST", "/api/v1/schedules/preview", token, body)
        .await;
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn preview_answers_when_a_timing_would_run() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;

    let (status, body) = preview(
        &app,
        &admin,
        json!({"cron": "0 0 */2 * MON", "timezone": "UTC", "from": "2026-12-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["runs"],
        json!([
            "2026-12-07T00:00:00.000Z",
            "2026-12-21T00:00:00.000Z",
            "2027-01-11T00:00:00.000Z",
            "2027-01-25T00:00:00.000Z",
            "2027-02-01T00:00:00.000Z"
        ])
    );

    // Berlin's spring-forward gap: 02:30 does not exist on 2026-03-29, the job runs at 03:00.
    let (status, body) = preview(
        &app,
        &admin,
        json!({"cron": "30 2 * * *", "timezone": "Europe/Berlin", "from": "2026-03-28T12:00:00Z", "count": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["local"],
        json!(["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"])
    );
    assert_eq!(
        body["runs"],
        json!(["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"])
    );
    assert_eq!(body["timezone"], "Europe/Berlin");
    assert_eq!(body["from"], "2026-03-28T12:00:00.000Z");

    // The other kinds, counted from `from`.
    let (status, body) = preview(
        &app,
        &admin,
        json!({"kind": "interval", "every_seconds": 90, "from": "2026-12-01T00:00:00Z", "count": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["runs"],
        json!([
            "2026-12-01T00:01:30.000Z",
            "2026-12-01T00:03:00.000Z",
            "2026-12-01T00:04:30.000Z"
        ])
    );
    let (status, body) = preview(
        &app,
        &admin,
        json!({"kind": "once", "at": "2026-12-24T18:00:00Z", "timezone": "Asia/Kolkata", "from": "2026-12-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["runs"], json!(["2026-12-24T18:00:00.000Z"]));
    assert_eq!(body["local"], json!(["2026-12-24T23:30:00+05:30"]));

    // Without `from`: the next runs from now, five by default.
    let (status, body) = preview(&app, &admin, json!({"cron": "* * * * *"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["runs"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn preview_refuses_bad_timings_with_the_reason() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for (body, message) in [
        (
            json!({"cron": "61 * * * *"}),
            "invalid cron pattern \"61 * * * *\": minute 61 is out of range 0–59",
        ),
        (
            json!({"cron": "0 0 30 2 *", "timezone": "Europe/Berlin"}),
            "invalid cron pattern \"0 0 30 2 *\": it never fires: no month in \"2\" has a day in \"30\"",
        ),
        (
            json!({"cron": "0 9 * * *", "timezone": "Nowhere/City"}),
            "unknown time zone \"Nowhere/City\"; use an IANA name like Europe/Berlin",
        ),
        (
            json!({"cron": "* * * * *", "count": 0}),
            "count must be between 1 and 100, not 0",
        ),
        (
            json!({"cron": "* * * * *", "count": 101}),
            "count must be between 1 and 100, not 101",
        ),
        (
            json!({"cron": "* * * * *", "from": "soon"}),
            "from must be an RFC 3339 time",
        ),
        (
            json!({"timezone": "UTC"}),
            "a `cron` schedule needs `cron`, e.g. \"0 9 * * MON-FRI\"",
        ),
        (
            json!({"kind": "weekly"}),
            "kind must be once, interval or cron, not \"weekly\"",
        ),
        (
            json!({"kind": "interval", "every_seconds": 0}),
            "every_seconds must be between 1 and 31622400",
        ),
    ] {
        let (status, got) = preview(&app, &admin, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {got}");
        assert_eq!(got["error"]["message"], message, "{body}");
    }
    // Not a field of the request.
    let (status, _) = preview(&app, &admin, json!({"cron": "* * * * *", "script_id": "x"})).await;
    assert!(status.is_client_error());
}
