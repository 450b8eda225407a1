//! Agents through the API: lifecycle, messages, crash handling, the hang watchdog,
//! autostart after a restart, and many sleeping agents at once.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ECHO: &str = r#"import automa

def main(prefix: str = 'echo'):
    automa.agent.set_status('waiting', handled=0)
    handled = 0
    while not automa.agent.stop_requested():
        message = automa.agent.receive(timeout=1)
        if message is None:
            continue
        handled += 1
        automa.agent.emit({'reply': prefix + ': ' + str(message['text'])})
        automa.agent.set_status('answered', handled=handled)
    print('stopping politely')
"#;

async fn script(app: &TestApp, token: &str, name: &str, source: &str) -> String {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            token,
            json!({"name": name, "source": source}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn agent(app: &TestApp, token: &str, body: Value) -> String {
    let resp = app.send_json("POST", "/api/v1/agents", token, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn wait_state(app: &TestApp, token: &str, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let agent: Value = app
            .get(&format!("/api/v1/agents/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if agent["state"] == state {
            return agent;
        }
        assert!(Instant::now() < deadline, "never {state}: {agent}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn events(app: &TestApp, token: &str, id: &str, kind: &str) -> Vec<Value> {
    let list: Value = app
        .get(&format!("/api/v1/agents/{id}/events?kind={kind}"), token)
        .await
        .json()
        .await
        .unwrap();
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn start_message_round_trip_and_graceful_stop() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script_id = script(&app, &admin, "echo", ECHO).await;
    let id = agent(
        &app,
        &admin,
        json!({"name": "echo", "script_id": script_id, "args": {"prefix": "pong"}}),
    )
    .await;
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/messages"),
            &admin,
            json!({"body": {"text": "x"}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT, "not running yet");

    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/start"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    wait_state(&app, &admin, &id, "running").await;
    let sent = Instant::now();
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/messages"),
            &admin,
            json!({"body": {"text": "ping"}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        if let Some(event) = events(&app, &admin, &id, "event").await.first().cloned() {
            break event;
        }
        assert!(Instant::now() < deadline, "no reply");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    println!("message round trip through the API: {:?}", sent.elapsed());
    assert_eq!(reply["body"], json!({"reply": "pong: ping"}));
    let agent: Value = wait_status(&app, &admin, &id, "answered").await;
    assert_eq!(agent["status_metrics"], json!({"handled": 1.0}));
    assert!(agent["uptime_seconds"].as_i64().is_some());

    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/restart"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    wait_state(&app, &admin, &id, "running").await;
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/messages"),
            &admin,
            json!({"body": {"text": "again"}}),
        )
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::ACCEPTED,
        "the restarted instance reads messages"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while events(&app, &admin, &id, "event").await.len() < 2 {
        assert!(Instant::now() < deadline, "no reply after restart");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/stop"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let stopped: Value = resp.json().await.unwrap();
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    let stdout = events(&app, &admin, &id, "stdout").await;
    assert!(
        stdout
            .iter()
            .any(|e| e["body"].as_str().unwrap().contains("stopping politely")),
        "graceful: {stdout:?}"
    );
    let transitions: Vec<String> = events(&app, &admin, &id, "transition")
        .await
        .iter()
        .map(|e| e["body"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        transitions,
        [
            "starting", "running", "stopped", "starting", "running", "stopped"
        ]
    );
    let actions: Vec<String> = app
        .audit_actions(&admin)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"agent.running".to_owned()) && actions.contains(&"agent.stop".to_owned()),
        "{actions:?}"
    );
}

async fn wait_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let agent: Value = app
            .get(&format!("/api/v1/agents/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if agent["status_text"] == status {
            return agent;
        }
        assert!(Instant::now() < deadline, "status never {status}: {agent}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn forced_stop_ends_an_agent_that_ignores_the_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script_id = script(&app, &admin, "stubborn", "while True:\n    pass\n").await;
    let id = agent(
        &app,
        &admin,
        json!({"name": "stubborn", "script_id": script_id, "stop_grace_seconds": 1}),
    )
    .await;
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/start"),
        &admin,
        json!({}),
    )
    .await;
    wait_state(&app, &admin, &id, "running").await;
    let started = Instant::now();
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/stop"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let stopped: Value = resp.json().await.unwrap();
    assert_eq!(stopped["state"], "stopped");
    // The instance ignored the request and was ended: cancelled, not exited by itself.
    assert!(
        stopped["last_exit"].as_str().unwrap().contains("cancelled"),
        "{stopped}"
    );
    let again = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/stop"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "not running any more");
    let agent: Value = app
        .get(&format!("/api/v1/agents/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        agent["state"], "stopped",
        "a refused stop leaves the state as it was"
    );
    // Ended after the 1 s grace period, not left running; the bound is loose because
    // the full suite shares two cores.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn crash_backoff_restart_then_fatal() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // Crashes on the first two starts (state counts them), then runs.
    let flaky = "import automa\nn = automa.state.get('starts', 0) + 1\nautoma.state.set('starts', n)\nif n <= 2:\n    raise RuntimeError(f'crash {n}')\nwhile automa.agent.sleep(1):\n    pass\n";
    let script_id = script(&app, &admin, "flaky", flaky).await;
    let id = agent(
        &app,
        &admin,
        json!({"name": "flaky", "script_id": script_id, "backoff_seconds": 1}),
    )
    .await;
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/start"),
        &admin,
        json!({}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let agent: Value = app
            .get(&format!("/api/v1/agents/{id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if agent["state"] == "running" && agent["restarts"] == 2 {
            assert!(
                agent["last_exit"].as_str().unwrap().contains("crash 2"),
                "{agent}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{agent}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let states: Vec<String> = events(&app, &admin, &id, "transition")
        .await
        .iter()
        .map(|e| e["body"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        states.iter().filter(|s| *s == "backoff").count(),
        2,
        "{states:?}"
    );
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/stop"),
        &admin,
        json!({}),
    )
    .await;

    let crasher = script(&app, &admin, "crasher", "raise SystemExit(3)\n").await;
    let id = agent(&app, &admin, json!({"name": "crasher", "script_id": crasher, "backoff_seconds": 1, "max_quick_restarts": 2})).await;
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/start"),
        &admin,
        json!({}),
    )
    .await;
    let fatal = wait_state(&app, &admin, &id, "fatal").await;
    assert!(
        fatal["state_reason"]
            .as_str()
            .unwrap()
            .contains("3 times in a row"),
        "{fatal}"
    );
}

#[tokio::test]
async fn the_watchdog_restarts_a_hung_agent() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let hangs = "import automa, time\nautoma.agent.set_status('alive')\nwhile True:\n    pass\n";
    let script_id = script(&app, &admin, "hangs", hangs).await;
    let id = agent(&app, &admin, json!({"name": "hangs", "script_id": script_id, "hang_timeout_seconds": 1, "restart_policy": "on-failure"})).await;
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/start"),
        &admin,
        json!({}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let agent: Value = app
            .get(&format!("/api/v1/agents/{id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if agent["last_exit"]
            .as_str()
            .is_some_and(|e| e.contains("hung"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{agent}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/stop"),
        &admin,
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn a_hundred_sleeping_agents_keep_the_server_responsive() {
    // More agents than one user may run by default, and more than the default sandbox
    // memory holds at 128 MiB each: an admin's settings for this test.
    let app = spawn_app_with(|c| {
        c.quotas.max_agents_per_user = 100;
        c.quotas.total_sandbox_memory_mb = 100 * 128;
    })
    .await;
    let admin = app.setup_admin().await;
    let script_id = script(
        &app,
        &admin,
        "sleeper",
        "import automa\nwhile automa.agent.sleep(60):\n    pass\n",
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..100 {
        let id = agent(
            &app,
            &admin,
            json!({"name": format!("sleeper-{n}"), "script_id": script_id, "memory_mb": 64}),
        )
        .await;
        app.send_json(
            "POST",
            &format!("/api/v1/agents/{id}/start"),
            &admin,
            json!({}),
        )
        .await;
        ids.push(id);
    }
    for id in &ids {
        wait_state(&app, &admin, id, "running").await;
    }
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        worst = worst.max(started.elapsed());
    }
    assert!(
        worst < Duration::from_secs(1),
        "healthz took {worst:?} with 100 agents"
    );
    let list: Value = app
        .get("/api/v1/agents?limit=200", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "running")
            .count(),
        100
    );
    for id in &ids {
        app.send_json(
            "POST",
            &format!("/api/v1/agents/{id}/stop"),
            &admin,
            json!({}),
        )
        .await;
    }
}

#[tokio::test]
async fn autostart_agents_come_back_after_a_server_restart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let client = reqwest::Client::new();
    let (base, stop, setup) = crate::helpers::serve_on(&data).await;
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
    let post = |path: String, body: Value| {
        let (client, base, token) = (&client, &base, &token);
        async move {
            client
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let script = post("/api/v1/scripts".into(), json!({"name": "keeper", "source": "import automa\nwhile automa.agent.sleep(60):\n    pass\n"})).await;
    let keeper = post(
        "/api/v1/agents".into(),
        json!({"name": "keeper", "script_id": script["id"], "autostart": true}),
    )
    .await;
    let manual = post(
        "/api/v1/agents".into(),
        json!({"name": "manual", "script_id": script["id"]}),
    )
    .await;
    for agent in [&keeper, &manual] {
        let started = post(
            format!("/api/v1/agents/{}/start", agent["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
        assert_eq!(started["id"], agent["id"]);
    }
    let state = |base: String, id: String| {
        let (client, token) = (&client, &token);
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let agent: Value = client
                    .get(format!("{base}/api/v1/agents/{id}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if agent["state"] != "starting" || Instant::now() > deadline {
                    return agent;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(
        state(base.clone(), keeper["id"].as_str().unwrap().to_owned()).await["state"],
        "running"
    );

    stop.shutdown().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (base, stop, _) = crate::helpers::serve_on(&data).await;
    let back = state(base.clone(), keeper["id"].as_str().unwrap().to_owned()).await;
    let history: Value = client
        .get(format!(
            "{base}/api/v1/agents/{}/events?kind=transition",
            keeper["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back["state"], "running", "{back} {history}");
    let manual = state(base.clone(), manual["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(manual["state"], "stopped", "{manual}");
    stop.shutdown().await;
}

/// An agent that never reads: its mailbox holds a bounded number of bytes, then says
/// full (429), and one message larger than the per-message bound is refused (422).
#[tokio::test]
async fn a_mailbox_nobody_reads_is_bounded_in_bytes_and_messages_in_size() {
    const DEAF: &str = "import automa, time\ndef main():\n    while not automa.agent.stop_requested():\n        time.sleep(0.2)\n";
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script_id = script(&app, &admin, "deaf", DEAF).await;
    let id = agent(
        &app,
        &admin,
        json!({"name": "deaf", "script_id": script_id}),
    )
    .await;
    let path = format!("/api/v1/agents/{id}/messages");
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{id}/start"),
        &admin,
        json!({}),
    )
    .await;
    wait_state(&app, &admin, &id, "running").await;

    let too_big = app
        .send_json(
            "POST",
            &path,
            &admin,
            json!({"body": "x".repeat(70 * 1024)}),
        )
        .await;
    assert_eq!(too_big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = too_big.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 KiB"),
        "{error}"
    );

    // 60 KiB each: 4 MiB holds 68 of them, far fewer than the 1000-message bound.
    let body = json!({"body": "m".repeat(60 * 1024)});
    let mut accepted = 0;
    loop {
        let resp = app.send_json("POST", &path, &admin, body.clone()).await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        accepted += 1;
        assert!(accepted <= 100, "the mailbox never said full");
    }
    assert_eq!(accepted, 68, "4 MiB of 60 KiB messages");
    // A small message still fits in what is left.
    let small = app
        .send_json("POST", &path, &admin, json!({"body": "hi"}))
        .await;
    assert_eq!(small.status(), StatusCode::ACCEPTED);
}
