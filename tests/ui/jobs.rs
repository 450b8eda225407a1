//! The job page's actions and its live log route, over plain HTTP.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) async fn create_script(app: &TestApp, token: &str, name: &str, source: &str) -> String {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            token,
            json!({"name": name, "source": source}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn wait_status(app: &TestApp, token: &str, job: &str, want: &str) -> Value {
    for _ in 0..300 {
        let j: Value = app
            .get(&format!("/api/v1/jobs/{job}"), token)
            .await
            .json()
            .await
            .unwrap();
        if j["status"] == want {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} never became {want}");
}

/// Submits the run form of `script` and returns the new job's id.
async fn run(b: &mut Browser, script: &str, fields: &[(&str, &str)]) -> String {
    let (_, html) = b.get_html(&format!("/scripts/{script}")).await;
    let csrf = csrf_in(&html);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let resp = b.post(&format!("/scripts/{script}/run"), &all).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let loc = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    loc.trim_start_matches("/jobs/").to_owned()
}

#[tokio::test]
async fn cancel_rerun_and_the_cookie_authenticated_event_stream() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // A slow job: its page offers Cancel; cancelling ends it as `cancelled`.
    let slow = create_script(
        &app,
        &token,
        "slow",
        "import time\n\ndef main():\n    print('start')\n    time.sleep(30)\n",
    )
    .await;
    let job = run(&mut b, &slow, &[]).await;
    wait_status(&app, &token, &job, "running").await;
    let (_, html) = b.get_html(&format!("/jobs/{job}")).await;
    assert!(html.contains(&format!(r#"action="/jobs/{job}/cancel""#)));
    assert!(html.contains(&format!(r#"data-stream="/jobs/{job}/events""#)));
    let csrf = csrf_in(&html);
    let resp = b
        .post(&format!("/jobs/{job}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    wait_status(&app, &token, &job, "cancelled").await;

    // The event stream of a finished job: the stored log, then `end`.
    let resp = b.get(&format!("/jobs/{job}/events")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = tokio::time::timeout(Duration::from_secs(10), resp.text())
        .await
        .unwrap()
        .unwrap();
    assert!(
        body.contains("event: log") && body.contains("start"),
        "{body}"
    );
    assert!(body.contains("event: end"), "{body}");
    // Without a session there is no stream.
    let mut anon = Browser::new(&app.base);
    assert_eq!(
        anon.get(&format!("/jobs/{job}/events")).await.status(),
        StatusCode::SEE_OTHER
    );

    // Re-run: a new job with the same arguments.
    let adder = create_script(
        &app,
        &token,
        "adder",
        "def main(a: int, b: int = 1):\n    return a + b\n",
    )
    .await;
    let first = run(&mut b, &adder, &[("a", "5"), ("b", "6")]).await;
    wait_status(&app, &token, &first, "succeeded").await;
    let csrf = b.csrf().await;
    let resp = b
        .post(&format!("/jobs/{first}/rerun"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let second = resp.headers()[LOCATION]
        .to_str()
        .unwrap()
        .trim_start_matches("/jobs/")
        .to_owned();
    assert_ne!(second, first);
    let j = wait_status(&app, &token, &second, "succeeded").await;
    assert_eq!(j["args"], json!({"a": 5, "b": 6}));
    assert_eq!(j["result"], 11);

    // The job list and the dashboard show them; a failure is listed with a link.
    let failing = create_script(
        &app,
        &token,
        "failing",
        "def main():\n    raise ValueError('boom')\n",
    )
    .await;
    let bad = run(&mut b, &failing, &[]).await;
    wait_status(&app, &token, &bad, "failed").await;
    let (_, html) = b.get_html(&format!("/jobs/{bad}")).await;
    assert!(html.contains("ValueError") && html.contains("boom"));
    assert!(html.contains("Traceback"), "traceback shown");
    let (_, html) = b.get_html("/").await;
    assert!(
        html.contains(&format!(r#"href="/jobs/{bad}""#)),
        "recent failure linked"
    );
    let (_, html) = b.get_html("/jobs").await;
    for id in [&job, &first, &second, &bad] {
        assert!(html.contains(id.as_str()));
    }
}

#[tokio::test]
async fn a_finished_jobs_page_shows_its_log_a_page_at_a_time() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let many = create_script(
        &app,
        &token,
        "many",
        "def main():\n    for i in range(1500):\n        print('line', i)\n",
    )
    .await;
    let job = run(&mut b, &many, &[]).await;
    wait_status(&app, &token, &job, "succeeded").await;
    // The log's last batch may be stored just after the job's status.
    for _ in 0..100 {
        let last: Value = app
            .get(&format!("/api/v1/jobs/{job}/logs?after=1499"), &token)
            .await
            .json()
            .await
            .unwrap();
        if last.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The first 1000 entries (the API's page), and a link to the rest.
    let (_, html) = b.get_html(&format!("/jobs/{job}")).await;
    assert!(html.contains("line 999\n") && !html.contains("line 1000\n"));
    let next = format!("/jobs/{job}?log_after=1000");
    assert!(
        html.contains(&format!(r#"id="log-next" href="{next}""#)),
        "{html}"
    );
    let (_, html) = b.get_html(&next).await;
    assert!(html.contains("line 1000\n") && html.contains("line 1499\n"));
    assert!(!html.contains("line 999\n") && !html.contains("log-next"));
    assert!(html.contains("Entries after 1000"), "{html}");
}
