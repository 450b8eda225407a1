//! Agent tools, failing script tools and read-only tokens through the Python MCP SDK.

use crate::endpoint::create_script;
use crate::helpers::{TestApp, spawn_app};
use crate::mcp_client::{ECHO_AGENT, answer_of, call};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn wait_state(app: &TestApp, token: &str, id: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let agent: Value = app
            .get(&format!("/api/v1/agents/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if agent["state"] == state {
            return;
        }
        assert!(Instant::now() < deadline, "never {state}: {agent}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn agents_are_driven_over_mcp_by_their_owner_only() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let script_id =
        create_script(&app, &alice, json!({"name": "echo", "source": ECHO_AGENT})).await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/agents",
            &alice,
            json!({"name": "echo", "script_id": script_id, "args": {"prefix": "pong"}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_id = json!({"id": id}).to_string();

    let listed = answer_of(&call(&app, &alice, "list_agents", "{}").await);
    assert_eq!(listed["agents"][0]["id"], id.as_str(), "{listed}");
    let listed = answer_of(&call(&app, &bob, "list_agents", "{}").await);
    assert_eq!(listed["agents"], json!([]));

    // Bob can neither start nor message Alice's agent: for him it does not exist.
    let out = call(&app, &bob, "start_agent", &with_id).await;
    assert_eq!(out["call"]["is_error"], true, "{out}");
    assert_eq!(out["call"]["text"][0], "not found");

    answer_of(&call(&app, &alice, "start_agent", &with_id).await);
    wait_state(&app, &alice, &id, "running").await;
    let message = json!({"id": id, "body": {"text": "ping"}}).to_string();
    assert_eq!(
        answer_of(&call(&app, &alice, "send_agent_message", &message).await),
        json!({"delivered": true})
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let query = json!({"id": id, "kind": "event"}).to_string();
    let events = loop {
        let events = answer_of(&call(&app, &alice, "agent_events", &query).await);
        if !events["events"].as_array().unwrap().is_empty() {
            break events;
        }
        assert!(Instant::now() < deadline, "no reply event");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(events["events"][0]["body"], json!({"reply": "pong: ping"}));

    let out = call(&app, &bob, "stop_agent", &with_id).await;
    assert_eq!(out["call"]["text"][0], "not found", "{out}");
    answer_of(&call(&app, &alice, "stop_agent", &with_id).await);
    wait_state(&app, &alice, &id, "stopped").await;
    // Messages to a stopped agent are refused with a readable tool error.
    let out = call(&app, &alice, "send_agent_message", &message).await;
    assert_eq!(out["call"]["is_error"], true, "{out}");
}

#[tokio::test]
async fn a_failing_script_tool_reports_the_error_and_output() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    create_script(
        &app,
        &admin,
        json!({"name": "fails", "expose_as_tool": true,
               "source": "def main():\n    print('about to fail')\n    raise ValueError('boom')\n"}),
    )
    .await;
    let out = call(&app, &admin, "fails", "{}").await;
    assert_eq!(out["call"]["is_error"], true, "{out}");
    let texts = out["call"]["text"].as_array().unwrap();
    assert_eq!(texts[0], "the job ended failed", "{out}");
    let job: Value = serde_json::from_str(texts[1].as_str().unwrap()).unwrap();
    assert_eq!(job["status"], "failed");
    assert!(job["error"].to_string().contains("boom"), "{job}");
    assert!(
        job["stdout_tail"]
            .as_str()
            .unwrap()
            .contains("about to fail"),
        "{job}"
    );
}

#[tokio::test]
async fn a_read_only_api_token_lists_but_does_not_run() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let script_id = create_script(
        &app,
        &alice,
        json!({"name": "answer", "expose_as_tool": true, "source": "def main():\n    return 42\n"}),
    )
    .await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &alice,
            json!({"name": "mcp read", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("atm_"));

    let listed = answer_of(&call(&app, &token, "list_scripts", "{}").await);
    assert_eq!(listed["scripts"][0]["tool_name"], "answer", "{listed}");
    let out = call(&app, &token, "answer", "{}").await;
    assert_eq!(out["call"]["is_error"], true, "{out}");
    assert!(
        out["call"]["text"][0].as_str().unwrap().contains("scope"),
        "{out}"
    );
    let out = call(
        &app,
        &token,
        "run_script",
        &json!({"id": script_id}).to_string(),
    )
    .await;
    assert_eq!(out["call"]["is_error"], true, "{out}");
    // The same user's full token runs it.
    assert_eq!(
        answer_of(&call(&app, &alice, "answer", "{}").await),
        json!(42)
    );
}
