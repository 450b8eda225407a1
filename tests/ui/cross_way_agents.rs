//! One core for every way in (issue 13), agents and plugins. An agent created, started
//! and stopped through the REST API, the dashboard's forms (real POSTs with the session
//! cookie and CSRF token) and MCP (the official Python SDK's client; MCP has no tool to
//! create an agent, so its agent is created through the API and started and stopped
//! over MCP) reads back the same (state, reason, settings) and leaves the same audit
//! entries (action, target kind, actor, outcome, address, details), differing only in
//! what they name. A plugin's settings changed through the API and through its page
//! (there are no MCP plugin tools) read back the same and are audited the same.

use crate::cross_way::both_ways;
use crate::cross_way_scripts::{entry, read, same_entries, without};
use crate::helpers::TestApp;
use crate::mcp_client::{ECHO_AGENT, answer};
use automa_example_plugins::{MARKDOWN_WASM, TESTKIT_WASM};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The ways in, in the order the agent test uses them.
const WAYS: [&str; 3] = ["api", "page", "mcp"];

/// The agent once it is in `state`.
async fn in_state(app: &TestApp, token: &str, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let agent = read(app, token, &format!("/api/v1/agents/{id}")).await;
        if agent["state"] == state {
            return agent;
        }
        assert!(Instant::now() < deadline, "never {state}: {agent}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An agent as read back without what names it or measures its run.
fn settled(agent: &Value) -> Value {
    without(
        agent,
        &[
            "id",
            "name",
            "created_at",
            "updated_at",
            "started_at",
            "last_heartbeat_at",
            "uptime_seconds",
            "cpu_time_ms",
        ],
    )
}

/// All of them agree on `settled`; the first.
fn all_alike(agents: &[Value], what: &str) -> Value {
    for (way, agent) in WAYS.iter().zip(agents) {
        assert_eq!(settled(agent), settled(&agents[0]), "{what}, {way}");
    }
    agents[0].clone()
}

#[tokio::test]
async fn an_agent_created_started_and_stopped_is_the_same_through_the_api_the_page_and_mcp() {
    let (app, admin, me, mut page, csrf) = both_ways().await;
    let body = json!({"name": "echo", "source": ECHO_AGENT});
    let resp = app.send_json("POST", "/api/v1/scripts", &admin, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    let script_id = script["id"].as_str().unwrap().to_owned();

    // Create: the same settings under three names (the page's form has these fields).
    let mut agents = Vec::new();
    for way in WAYS {
        let name = format!("echo-{way}");
        let id = if way == "page" {
            let form = [
                ("csrf", csrf.as_str()),
                ("name", name.as_str()),
                ("script_id", script_id.as_str()),
                ("args", "{\"prefix\": \"pong\"}"),
                ("restart_policy", "never"),
                ("memory_mb", "160"),
                ("stop_grace_seconds", "5"),
            ];
            let resp = page.post("/agents/new", &form).await;
            assert_eq!(resp.status(), StatusCode::SEE_OTHER);
            let to = resp.headers()[LOCATION].to_str().unwrap().to_owned();
            to.strip_prefix("/agents/").unwrap().to_owned()
        } else {
            let body = json!({"name": name, "script_id": script_id, "args": {"prefix": "pong"},
                              "restart_policy": "never", "autostart": false,
                              "memory_mb": 160, "stop_grace_seconds": 5});
            let resp = app.send_json("POST", "/api/v1/agents", &admin, body).await;
            assert_eq!(resp.status(), StatusCode::CREATED);
            let agent: Value = resp.json().await.unwrap();
            agent["id"].as_str().unwrap().to_owned()
        };
        agents.push(id);
    }
    let mut read_back = Vec::new();
    for (way, id) in WAYS.iter().zip(&agents) {
        let agent = read(&app, &admin, &format!("/api/v1/agents/{id}")).await;
        assert_eq!(agent["name"], format!("echo-{way}"));
        read_back.push(agent);
    }
    let created = all_alike(&read_back, "created");
    assert_eq!(created["state"], "stopped", "{created}");
    assert_eq!(created["script_id"], script_id.as_str());
    assert_eq!(created["args"], json!({"prefix": "pong"}));
    assert_eq!(created["restart_policy"], "never");
    assert_eq!(created["autostart"], false);
    assert_eq!(created["memory_mb"], 160);
    assert_eq!(created["stop_grace_seconds"], 5);
    let targets: Vec<String> = agents.iter().map(|id| format!("agent:{id}")).collect();
    same_entries(&app, &admin, "agent.create", &targets, &["name"]).await;
    for (way, target) in WAYS.iter().zip(&targets) {
        let e = entry(&app, &admin, "agent.create", target).await;
        assert_eq!(e["actor"], me.as_str());
        assert_eq!(e["details"]["name"], format!("echo-{way}"));
    }

    // Start and stop each its own way.
    for (action, state) in [("start", "running"), ("stop", "stopped")] {
        for (way, id) in WAYS.iter().zip(&agents) {
            match *way {
                "api" => {
                    let path = format!("/api/v1/agents/{id}/{action}");
                    let resp = app.send_json("POST", &path, &admin, json!({})).await;
                    assert_eq!(resp.status(), StatusCode::OK, "{action}");
                    let agent: Value = resp.json().await.unwrap();
                    assert_eq!(agent["id"], id.as_str());
                }
                "page" => {
                    let form = [("csrf", csrf.as_str())];
                    let resp = page.post(&format!("/agents/{id}/{action}"), &form).await;
                    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{action}");
                    assert_eq!(resp.headers()[LOCATION], format!("/agents/{id}").as_str());
                }
                _ => {
                    let tool = format!("{action}_agent");
                    let agent = answer(&app, &admin, &tool, &json!({"id": id})).await;
                    assert_eq!(agent["id"], id.as_str());
                }
            }
        }
        let mut read_back = Vec::new();
        for id in &agents {
            read_back.push(in_state(&app, &admin, id, state).await);
        }
        let agent = all_alike(&read_back, action);
        assert_eq!(agent["restarts"], 0, "{agent}");
        assert_eq!(agent["memory_mb"], 160);
        let action = format!("agent.{action}");
        same_entries(&app, &admin, &action, &targets, &[]).await;
        let e = entry(&app, &admin, &action, &targets[0]).await;
        assert_eq!(e["actor"], me.as_str());
    }
    // The stopped agents have really run and ended the same way.
    let stopped = read(&app, &admin, &format!("/api/v1/agents/{}", agents[0])).await;
    assert_eq!(stopped["state_reason"], "stopped on request", "{stopped}");
    assert!(stopped["last_exit"].is_string(), "{stopped}");
}

/// Installs a plugin through the API; its name.
async fn installed(app: &TestApp, admin: &str, wasm: &[u8]) -> String {
    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(admin)
        .header("content-type", "application/wasm")
        .body(wasm.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let plugin: Value = resp.json().await.unwrap();
    plugin["name"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_plugins_settings_changed_are_the_same_through_the_api_and_the_page() {
    let (app, admin, me, mut page, csrf) = both_ways().await;
    // Two plugins, one for each way (a plugin is named by its manifest).
    let by_api = installed(&app, &admin, MARKDOWN_WASM).await;
    let by_page = installed(&app, &admin, TESTKIT_WASM).await;
    assert_ne!(by_api, by_page);

    let settings = json!({"enabled": true,
                          "grants": {"http": ["example.org"], "secrets": ["MD_TOKEN"], "state": true},
                          "memory_mb": 96, "timeout_ms": 4000});
    let path = format!("/api/v1/plugins/{by_api}");
    let resp = app.send_json("PATCH", &path, &admin, settings).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let form = [
        ("csrf", csrf.as_str()),
        ("http", "example.org"),
        ("secrets", "MD_TOKEN"),
        ("state", "true"),
        ("memory_mb", "96"),
        ("timeout_ms", "4000"),
        ("enabled", "true"),
    ];
    let resp = page.post(&format!("/plugins/{by_page}"), &form).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()[LOCATION],
        format!("/plugins/{by_page}?done=saved").as_str()
    );

    let kept = |p: &Value| {
        without(
            p,
            &[
                "name",
                "version",
                "description",
                "functions",
                "requested",
                "sha256",
                "size_bytes",
                "created_at",
                "updated_at",
            ],
        )
    };
    let api_read = read(&app, &admin, &path).await;
    let page_read = read(&app, &admin, &format!("/api/v1/plugins/{by_page}")).await;
    assert_eq!(kept(&api_read), kept(&page_read));
    assert_eq!(api_read["enabled"], true, "{api_read}");
    assert_eq!(
        api_read["grants"],
        json!({"http": ["example.org"], "secrets": ["MD_TOKEN"], "state": true})
    );
    assert_eq!(api_read["memory_mb"], 96);
    assert_eq!(api_read["timeout_ms"], 4000);

    let targets = [format!("plugin:{by_api}"), format!("plugin:{by_page}")];
    same_entries(&app, &admin, "plugin.update", &targets, &[]).await;
    let e = entry(&app, &admin, "plugin.update", &targets[0]).await;
    assert_eq!(e["actor"], me.as_str());
    assert_eq!(e["details"]["grants"], api_read["grants"]);
    assert_eq!(e["details"]["memory_mb"], 96);
}
