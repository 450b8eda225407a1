//! Tool-list change notifications (legacy sessions and 2026-07-28 subscriptions) and
//! sessions: bound to the user who opened them, ended on shutdown.

use crate::endpoint::client;
use crate::helpers::{TestApp, serve_on, spawn_app};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Checks the steps recorded by `mcp_client.py notify|listen` (see there).
fn assert_steps(out: &Value) {
    let steps = &out["steps"];
    let has = |step: &str, name: &str| {
        steps[step]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == name)
    };
    assert!(
        !out["before"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "fresh_tool"),
        "{out}"
    );
    assert_eq!(steps["create"]["notified"], true, "{out}");
    assert!(has("create", "fresh_tool"), "{out}");
    assert_eq!(steps["describe"]["notified"], true, "{out}");
    assert_eq!(
        steps["describe"]["tools"]["fresh_tool"], "Now described.",
        "{out}"
    );
    assert_eq!(steps["other_user"]["notified"], false, "{out}");
    assert_eq!(steps["not_a_tool"]["notified"], false, "{out}");
    assert_eq!(steps["unexpose"]["notified"], true, "{out}");
    assert!(!has("unexpose", "fresh_tool"), "{out}");
    assert_eq!(steps["expose"]["notified"], true, "{out}");
    assert!(has("expose", "fresh_tool"), "{out}");
    assert_eq!(steps["delete"]["notified"], true, "{out}");
    assert!(!has("delete", "fresh_tool"), "{out}");
    assert!(!has("delete", "not_yours"), "{out}");
}

#[tokio::test]
async fn a_session_hears_when_its_users_tools_change() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let out = client(&app, &alice, &["notify", &bob]).await;
    assert_eq!(out["protocol"], "2025-11-25", "{out}");
    assert_eq!(out["list_changed_advertised"], true, "{out}");
    assert_steps(&out);
}

#[tokio::test]
async fn a_2026_client_hears_of_tool_changes_on_its_subscription() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let out = client(&app, &alice, &["listen", &bob]).await;
    assert_eq!(out["protocol"], "2026-07-28", "{out}");
    assert_steps(&out);
}

/// A raw legacy client: `initialize`, then requests in the session it got.
async fn initialize(app: &TestApp, token: &str) -> String {
    let resp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let session = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = resp.text().await.unwrap();
    assert!(body.contains("\"capabilities\""), "{body}");
    assert!(body.contains("\"listChanged\":true"), "{body}");
    let status = in_session(app, token, &session, "POST")
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::ACCEPTED);
    session
}

fn in_session(app: &TestApp, token: &str, session: &str, method: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method.parse().unwrap(), app.url("/mcp"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
}

async fn list_tools(app: &TestApp, token: &str, session: &str) -> (StatusCode, String) {
    let resp = in_session(app, token, session, "POST")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_session_serves_only_the_user_who_opened_it() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let session = initialize(&app, &alice).await;

    let (status, body) = list_tools(&app, &alice, &session).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("run_script"), "{body}");

    // Bob, with a valid token of his own, cannot use, listen to or end Alice's session;
    // not even an admin can.
    for intruder in [&bob, &admin] {
        let (status, body) = list_tools(&app, intruder, &session).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(!body.contains("run_script"), "{body}");
        let resp = in_session(&app, intruder, &session, "GET")
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let resp = in_session(&app, intruder, &session, "DELETE")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
    // Nor can anyone without a token.
    let resp = app
        .client
        .post(app.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // A made-up session id is refused as well.
    let (status, _) = list_tools(&app, &alice, "not-a-session").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Alice's session still works; once she ends it, it is gone.
    let (status, _) = list_tools(&app, &alice, &session).await;
    assert_eq!(status, StatusCode::OK);
    let resp = in_session(&app, &alice, &session, "DELETE")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let (status, _) = list_tools(&app, &alice, &session).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shutdown_ends_open_sessions_and_their_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (base, stopper, setup_token) = serve_on(&dir.path().join("data")).await;
    let app = TestApp {
        base,
        client: reqwest::Client::new(),
        setup_token,
        dir,
    };
    let admin = app.setup_admin().await;
    let session = initialize(&app, &admin).await;
    // The standalone stream a legacy client keeps open for notifications.
    let resp = in_session(&app, &admin, &session, "GET")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.bytes_stream();

    let started = Instant::now();
    stopper.shutdown().await;
    // An open stream would have held the graceful shutdown for its 30 s limit.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        started.elapsed()
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the SSE stream outlived the server");
}
