use crate::helpers::{TestApp, spawn_app};
use crate::mcp_client::client;
use reqwest::StatusCode;
use serde_json::{Value, json};

const GREETER: &str = "def main(name: str, times: int = 1):\n    \"\"\"Greets someone.\"\"\"\n    print('greeting', name)\n    return {'greeting': 'hi ' + name, 'times': times}\n";

pub async fn create_script(app: &TestApp, token: &str, body: Value) -> String {
    let resp = app.send_json("POST", "/api/v1/scripts", token, body).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

fn tool_names(out: &Value) -> Vec<String> {
    out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn refuses_requests_without_a_valid_token() {
    let app = spawn_app().await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    for token in [None, Some("not-a-token"), Some("atm_0000000000000000")] {
        let mut req = app
            .client
            .post(app.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "token {token:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    }
}

#[tokio::test]
async fn python_sdk_lists_and_calls_tools_within_the_users_rights() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let greeter = create_script(
        &app,
        &alice,
        json!({"name": "greeter.v1", "source": GREETER, "expose_as_tool": true}),
    )
    .await;
    // Not exposed: callable with run_script, but not a tool of its own.
    create_script(
        &app,
        &alice,
        json!({"name": "hidden", "source": "def main():\n    return 1\n"}),
    )
    .await;
    create_script(
        &app,
        &bob,
        json!({"name": "bobs_tool", "source": "def main():\n    return 'bob'\n",
               "description": "Bob's", "expose_as_tool": true}),
    )
    .await;

    let bench_calls = std::env::var("AUTOMA_MCP_BENCH_CALLS").unwrap_or_else(|_| "20".into());
    let out = client(
        &app,
        &alice,
        &["flow", &greeter, "greeter_v1", &bench_calls],
    )
    .await;

    let names = tool_names(&out);
    for builtin in [
        "list_scripts",
        "run_script",
        "get_job",
        "list_agents",
        "start_agent",
        "stop_agent",
        "restart_agent",
        "send_agent_message",
        "agent_events",
    ] {
        assert!(
            names.contains(&builtin.to_owned()),
            "{builtin} in {names:?}"
        );
    }
    assert!(names.contains(&"greeter_v1".to_owned()), "{names:?}");
    assert!(!names.contains(&"hidden".to_owned()), "{names:?}");
    assert!(!names.contains(&"bobs_tool".to_owned()), "{names:?}");
    let tool = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "greeter_v1")
        .unwrap();
    assert_eq!(tool["description"], "Greets someone.");
    assert_eq!(tool["inputSchema"]["type"], "object");
    assert!(
        tool["inputSchema"]["properties"]["name"].is_object(),
        "{tool}"
    );

    // The script tool runs a job and answers with main()'s return value.
    assert_eq!(out["script_call"]["is_error"], false, "{out}");
    let result: Value =
        serde_json::from_str(out["script_call"]["text"][0].as_str().unwrap()).unwrap();
    assert_eq!(result, json!({"greeting": "hi Ada", "times": 2}));
    // Arguments are checked against the parameters before anything is queued.
    assert_eq!(out["bad_args"]["is_error"], true, "{out}");
    assert!(
        out["bad_args"]["text"][0]
            .as_str()
            .unwrap()
            .contains("invalid arguments"),
        "{out}"
    );

    assert_eq!(out["run_script"]["job"]["status"], "succeeded", "{out}");
    assert_eq!(
        out["run_script"]["job"]["result"],
        json!({"greeting": "hi Bo", "times": 1})
    );
    let job = &out["get_job"]["job"];
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["id"], out["run_script"]["job"]["id"]);
    assert!(
        job["stdout_tail"].as_str().unwrap().contains("greeting Bo"),
        "{job}"
    );

    let listed: Vec<&str> = out["list_scripts"]["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.contains(&"hidden") && !listed.contains(&"bobs_tool"));
    assert_eq!(out["list_agents"]["agents"], json!([]));

    assert_eq!(out["source"][0], GREETER);
    assert!(
        out["job_log"][0].as_str().unwrap().contains("greeting Bo"),
        "{out}"
    );
    assert_eq!(
        out["templates"],
        json!(["automa://scripts/{id}", "automa://jobs/{id}/log"])
    );
    if let Some(bench) = out.get("bench_ms") {
        println!("MCP tool call running a trivial script: {bench}");
    }

    // Bob sees his own tool, not Alice's, and cannot reach her script or job.
    let bob_out = client(&app, &bob, &["list"]).await;
    let bob_names = tool_names(&bob_out);
    assert!(bob_names.contains(&"bobs_tool".to_owned()), "{bob_names:?}");
    assert!(
        !bob_names.contains(&"greeter_v1".to_owned()),
        "{bob_names:?}"
    );
    let call = client(&app, &bob, &["call", "greeter_v1", "{\"name\": \"x\"}"]).await;
    assert!(
        call["call"]["exception"]
            .as_str()
            .is_some_and(|e| e.contains("unknown tool")),
        "{call}"
    );
    let call = client(
        &app,
        &bob,
        &["call", "run_script", &json!({"id": greeter}).to_string()],
    )
    .await;
    assert_eq!(call["call"]["is_error"], true, "{call}");
    assert_eq!(call["call"]["text"][0], "not found");
    let job_id = out["run_script"]["job"]["id"].as_str().unwrap();
    let call = client(
        &app,
        &bob,
        &["call", "get_job", &json!({"id": job_id}).to_string()],
    )
    .await;
    assert_eq!(call["call"]["text"][0], "not found", "{call}");

    // An admin sees every exposed script.
    let admin_out = client(&app, &admin, &["list"]).await;
    let admin_names = tool_names(&admin_out);
    assert!(
        admin_names.contains(&"greeter_v1".to_owned())
            && admin_names.contains(&"bobs_tool".to_owned())
    );

    // Every tool call is audited under the caller.
    let audit = app.audit_actions(&admin).await;
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "mcp.greeter_v1",
        "mcp.run_script",
        "mcp.get_job",
        "mcp.list_scripts",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
