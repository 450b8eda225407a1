//! Live event streams re-check the caller's rights while open: revoking the token,
//! disabling the user or deleting the resource ends them within seconds.

use crate::helpers::*;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const AGENT: &str = "import automa\n\ndef main():\n    while not automa.agent.stop_requested():\n        automa.agent.sleep(0.2)\n";
const SLOW: &str =
    "import time\n\ndef main():\n    print('started', flush=True)\n    time.sleep(30)\n";

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, token, body).await;
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn api_token(app: &TestApp, token: &str) -> (String, String) {
    let t = post(
        app,
        token,
        "/api/v1/tokens",
        json!({"name": "stream", "scopes": ["write"]}),
    )
    .await;
    (
        t["id"].as_str().unwrap().to_owned(),
        t["token"].as_str().unwrap().to_owned(),
    )
}

async fn open(app: &TestApp, token: &str, path: &str) -> Response {
    let resp = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp
}

/// Reads the stream until it ends; what it sent. Fails after `within`.
async fn read_to_end(mut stream: Response, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut text = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) | Ok(Err(_)) => return text,
            Err(_) => panic!("the stream was still open after {within:?}: {text}"),
        }
    }
}

async fn running_agent(app: &TestApp, token: &str) -> String {
    let script = post(
        app,
        token,
        "/api/v1/scripts",
        json!({"name": "loop", "source": AGENT}),
    )
    .await;
    let agent = post(
        app,
        token,
        "/api/v1/agents",
        json!({"name": "a", "script_id": script["id"], "stop_grace_seconds": 1}),
    )
    .await;
    let id = agent["id"].as_str().unwrap().to_owned();
    post(app, token, &format!("/api/v1/agents/{id}/start"), json!({})).await;
    id
}

#[tokio::test]
async fn a_job_log_stream_ends_when_its_token_is_revoked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (token_id, token) = api_token(&app, &alice).await;
    let script = post(
        &app,
        &alice,
        "/api/v1/scripts",
        json!({"name": "slow", "source": SLOW}),
    )
    .await;
    let script_id = script["id"].as_str().unwrap();
    let job = post(
        &app,
        &alice,
        &format!("/api/v1/scripts/{script_id}/run"),
        json!({}),
    )
    .await;
    let job_id = job["id"].as_str().unwrap();

    let stream = open(&app, &token, &format!("/api/v1/jobs/{job_id}/logs")).await;
    let revoked = app
        .delete(&format!("/api/v1/tokens/{token_id}"), &alice)
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let sent = read_to_end(stream, Duration::from_secs(10)).await;
    // Ended by the re-check, not by the job: it is still running.
    assert!(!sent.contains("event: end"), "{sent}");
    let job: Value = app
        .get(&format!("/api/v1/jobs/{job_id}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "running", "{job}");
    app.send_json(
        "POST",
        &format!("/api/v1/jobs/{job_id}/cancel"),
        &alice,
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn an_agent_event_stream_ends_when_its_user_is_disabled_or_it_is_deleted() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, token) = api_token(&app, &alice).await;
    let agent = running_agent(&app, &alice).await;
    let path = format!("/api/v1/agents/{agent}/events");

    // The admin's own stream of alice's agent ends when the agent is deleted.
    let watched = open(&app, &admin, &path).await;
    let stream = open(&app, &token, &path).await;
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    read_to_end(stream, Duration::from_secs(10)).await;

    assert_eq!(
        app.delete(&path.replace("/events", ""), &admin)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    read_to_end(watched, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_user_holds_at_most_sixteen_live_streams() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let agent = running_agent(&app, &alice).await;
    let path = format!("/api/v1/agents/{agent}/events");
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(open(&app, &alice, &path).await);
    }
    let refused = app
        .client
        .get(app.url(&path))
        .bearer_auth(&alice)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await, "too_many_requests");
    // Other users are not affected, and plain (non-streaming) reads still work.
    open(&app, &admin, &path).await;
    assert_eq!(app.get(&path, &alice).await.status(), StatusCode::OK);

    // Streams that end give their slot back: a finished job's log stream ends at once.
    drop(held);
    let script = post(
        &app,
        &alice,
        "/api/v1/scripts",
        json!({"name": "quick", "source": "print(1)\n"}),
    )
    .await;
    let job = app
        .run_wait(&alice, script["id"].as_str().unwrap(), json!({}))
        .await;
    let logs = format!("/api/v1/jobs/{}/logs", job["id"].as_str().unwrap());
    // The dropped agent streams are noticed once the server next writes to them.
    let deadline = Instant::now() + Duration::from_secs(40);
    for _ in 0..20 {
        loop {
            let resp = app
                .client
                .get(app.url(&logs))
                .bearer_auth(&alice)
                .header("accept", "text/event-stream")
                .send()
                .await
                .unwrap();
            if resp.status() == StatusCode::OK {
                let sent = read_to_end(resp, Duration::from_secs(10)).await;
                assert!(sent.contains("event: end"), "{sent}");
                break;
            }
            assert!(Instant::now() < deadline, "slots were not given back");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The `seq` of every `log` event in an SSE text.
fn log_seqs(sent: &str) -> Vec<i64> {
    sent.split("\n\n")
        .filter(|e| e.contains("event: log"))
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("id: ")))
        .map(|id| id.trim().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_long_log_streams_page_by_page_each_entry_once_in_order() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let source = "import automa, time\n\ndef main():\n    for i in range(1200):\n        automa.log.info('a', i=i)\n    time.sleep(1)\n    for i in range(300):\n        automa.log.info('b', i=i)\n";
    let script = post(
        &app,
        &admin,
        "/api/v1/scripts",
        json!({"name": "chatty", "source": source}),
    )
    .await;
    let script_id = script["id"].as_str().unwrap();
    let job = post(
        &app,
        &admin,
        &format!("/api/v1/scripts/{script_id}/run"),
        json!({}),
    )
    .await;
    let logs = format!("/api/v1/jobs/{}/logs", job["id"].as_str().unwrap());
    // Opened while the job runs: more than a page is stored by then or soon after.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let live = read_to_end(open(&app, &admin, &logs).await, Duration::from_secs(60)).await;
    assert!(live.contains("event: end"), "{live}");
    // And once more after the end, from storage alone.
    let stored = read_to_end(open(&app, &admin, &logs).await, Duration::from_secs(60)).await;
    // The JSON log comes in pages of 1000: the stored count is the first page's plus
    // the second's.
    let first: Vec<Value> = app.get(&logs, &admin).await.json().await.unwrap();
    let second: Vec<Value> = app
        .get(&format!("{logs}?after=1000"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let stored_count = first.len() + second.len();
    assert!(stored_count >= 1500, "{stored_count}");
    let expected: Vec<i64> = (1..=stored_count as i64).collect();
    assert_eq!(log_seqs(&live), expected);
    assert_eq!(log_seqs(&stored), expected);
}

#[tokio::test]
async fn a_page_of_agent_history_is_bounded_in_bytes() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script = post(
        &app,
        &admin,
        "/api/v1/scripts",
        json!({"name": "loop", "source": AGENT}),
    )
    .await;
    let agent = post(
        &app,
        &admin,
        "/api/v1/agents",
        json!({"name": "big", "script_id": script["id"]}),
    )
    .await;
    let id = agent["id"].as_str().unwrap().to_owned();
    // 50 stored events of 200 kB each: 10 MB of history, more than one 8 MiB page. (An
    // agent's own history quota would take minutes to store that much.)
    let url = format!(
        "sqlite://{}?mode=rw",
        app.data_dir().join("automa.db").display()
    );
    let db = automa::db::connect(&url).await.unwrap();
    for i in 0..50i64 {
        let body = json!({"i": i, "pad": "x".repeat(200_000)}).to_string();
        sqlx::query("INSERT INTO agent_events (agent_id, seq, at, kind, body) VALUES ($1, $2, $3, 'event', $4)")
            .bind(&id)
            .bind(i + 1)
            .bind(automa::db::now_ms())
            .bind(body)
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;

    let page = |after: i64| {
        let (app, admin, id) = (&app, &admin, &id);
        async move {
            let resp = app
                .get(
                    &format!("/api/v1/agents/{id}/events?kind=event&limit=10000&after={after}"),
                    admin,
                )
                .await;
            assert_eq!(resp.status(), StatusCode::OK);
            let link = resp
                .headers()
                .get("link")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = resp.bytes().await.unwrap();
            assert!(
                body.len() < 9 * 1024 * 1024,
                "{} bytes in one page",
                body.len()
            );
            (serde_json::from_slice::<Vec<Value>>(&body).unwrap(), link)
        }
    };
    let (first, link) = page(0).await;
    assert!(!first.is_empty() && first.len() < 50, "{}", first.len());
    let last = first.last().unwrap()["seq"].as_i64().unwrap();
    // The next page is named, with the kind asked for (limit: the server's page size).
    assert_eq!(
        link.as_deref(),
        Some(
            format!(
                "</api/v1/agents/{id}/events?after={last}&limit=1000&kind=event>; rel=\"next\""
            )
            .as_str()
        )
    );
    let (rest, link) = page(last).await;
    assert_eq!(link, None, "the last page names no next one");
    let numbers: Vec<i64> = first
        .iter()
        .chain(rest.iter())
        .map(|e| e["body"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, (0..50).collect::<Vec<_>>());
}
