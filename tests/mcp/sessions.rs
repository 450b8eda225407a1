//! Tool-list change notifications (legacy sessions and 2026-07-28 subscriptions) and
//! sessions: bound to the user who opened them, capped per user, expired by client
//! requests alone, closed with their disabled user, ended on shutdown.

use crate::endpoint::create_script;
use crate::helpers::{TestApp, USER_PASSWORD, serve_on, spawn_app, spawn_app_with};
use crate::mcp_client::client;
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

/// Opens the standalone notification stream of a session and collects it, in a task,
/// until the server ends it.
async fn collect_stream(
    app: &TestApp,
    token: &str,
    session: &str,
) -> tokio::task::JoinHandle<String> {
    let resp = in_session(app, token, session, "GET")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.bytes_stream();
    tokio::spawn(async move {
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    })
}

async fn assert_ends(stream: tokio::task::JoinHandle<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), stream)
        .await
        .expect("the session's stream outlived it")
        .unwrap()
}

#[tokio::test]
async fn past_16_sessions_a_user_loses_the_least_recently_used() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let bobs = initialize(&app, &bob).await;
    let mut sessions = Vec::new();
    let mut stream = None;
    for i in 0..16 {
        sessions.push(initialize(&app, &alice).await);
        if i == 1 {
            stream = Some(collect_stream(&app, &alice, &sessions[1]).await);
        }
    }
    // The first one is in use, so the second (with its open stream) is now the least
    // recently used.
    let (status, _) = list_tools(&app, &alice, &sessions[0]).await;
    assert_eq!(status, StatusCode::OK);

    let newest = initialize(&app, &alice).await;
    let (status, _) = list_tools(&app, &alice, &sessions[1]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ends(stream.unwrap()).await;
    for session in sessions[2..].iter().chain([&sessions[0], &newest]) {
        let (status, body) = list_tools(&app, &alice, session).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Another user's sessions do not count against hers.
    let (status, _) = list_tools(&app, &bob, &bobs).await;
    assert_eq!(status, StatusCode::OK);
    // Still 16 at most: the next one replaces the now least recently used.
    initialize(&app, &alice).await;
    let (status, _) = list_tools(&app, &alice, &sessions[2]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = list_tools(&app, &alice, &sessions[3]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_idle_session_expires_though_notifications_reach_it() {
    let app = spawn_app_with(|c| c.mcp_session_idle = Duration::from_secs(2)).await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let idle = initialize(&app, &alice).await;
    let busy = initialize(&app, &alice).await;
    let stream = collect_stream(&app, &alice, &idle).await;
    let script = create_script(
        &app,
        &alice,
        json!({"name": "changing", "source": "def main():\n    return 1\n",
               "expose_as_tool": true}),
    )
    .await;

    // Tools keep changing (a notification to both sessions each time); only `busy`
    // makes requests.
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(3500) {
        n += 1;
        let resp = app
            .send_json(
                "PATCH",
                &format!("/api/v1/scripts/{script}"),
                &alice,
                json!({"description": format!("Version {n}.")}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let (status, body) = list_tools(&app, &alice, &busy).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let (status, _) = list_tools(&app, &alice, &idle).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let heard = assert_ends(stream).await;
    assert!(
        heard.matches("notifications/tools/list_changed").count() >= 2,
        "{heard}"
    );
    let (status, _) = list_tools(&app, &alice, &busy).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_disabled_users_sessions_are_closed() {
    // Long enough that idleness cannot be what closes them here.
    let app = spawn_app_with(|c| c.mcp_session_idle = Duration::from_secs(10)).await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let hers = initialize(&app, &alice).await;
    let stream = collect_stream(&app, &alice, &hers).await;
    let bobs = initialize(&app, &bob).await;

    let path = format!("/api/v1/users/{alice_id}");
    let resp = app
        .send_json("PATCH", &path, &admin, json!({"disabled": true}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ends(stream).await;
    let resp = app
        .send_json("PATCH", &path, &admin, json!({"disabled": false}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let alice = app.login_token("alice@example.org", USER_PASSWORD).await;
    let (status, _) = list_tools(&app, &alice, &hers).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = list_tools(&app, &bob, &bobs).await;
    assert_eq!(status, StatusCode::OK);
}
