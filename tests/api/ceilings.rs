//! Resource ceilings (issue 12): memory per run, timeout, agents and running jobs per
//! user, and the sandbox memory the server commits. A user's settings over a ceiling
//! are refused with the reason; an admin's per-user override lifts it.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const AGENT: &str = "import automa\n\ndef main():\n    while not automa.agent.stop_requested():\n        automa.agent.sleep(0.2)\n";
const SLEEP: &str = "import time\n\ndef main():\n    time.sleep(1.5)\n";

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, token, body).await;
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn script(app: &TestApp, token: &str, name: &str, source: &str, settings: Value) -> String {
    post(
        app,
        token,
        "/api/v1/scripts",
        // Several jobs of a script may run at once: only the quotas hold them back.
        json!({"name": name, "source": source, "settings": settings, "max_concurrency": 4}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_quotas(app: &TestApp, admin: &str, user: &str, body: Value) -> Value {
    let resp = app
        .send_json("PUT", &format!("/api/v1/users/{user}/quotas"), admin, body)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/jobs/{id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

async fn wait_final(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = job(app, token, id).await;
        if !matches!(j["status"].as_str(), Some("queued" | "running")) {
            return j;
        }
        assert!(Instant::now() < deadline, "{j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn memory_and_timeout_over_the_ceiling_are_refused_until_an_admin_raises_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let big = script(
        &app,
        &alice,
        "big",
        "def main():\n    return 1\n",
        json!({"memory_mb": 4096}),
    )
    .await;
    let long = script(
        &app,
        &alice,
        "long",
        "def main():\n    return 1\n",
        json!({"timeout_seconds": 7200}),
    )
    .await;
    for (id, reason) in [
        (
            &big,
            "memory_mb 4096 is over the owner's ceiling of 1024 MiB per run",
        ),
        (
            &long,
            "timeout_seconds 7200 is over the owner's ceiling of 3600 s",
        ),
    ] {
        let resp = app
            .send_json(
                "POST",
                &format!("/api/v1/scripts/{id}/run"),
                &alice,
                json!({}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(reason) && message.contains("an admin can raise"),
            "{message}"
        );
    }
    // A user cannot raise their own.
    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{alice_id}/quotas"),
            &alice,
            json!({"memory_mb": 4096}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let bad = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{alice_id}/quotas"),
            &admin,
            json!({"memory_mb": 1}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let view = set_quotas(
        &app,
        &admin,
        &alice_id,
        json!({"memory_mb": 4096, "timeout_seconds": 7200}),
    )
    .await;
    assert_eq!(view["memory_mb"], 4096);
    assert_eq!(
        view["agents"], 10,
        "the server's ceiling where not overridden"
    );
    let own: Value = app
        .get(&format!("/api/v1/users/{alice_id}/quotas"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["overrides"]["timeout_seconds"], 7200);
    for id in [&big, &long] {
        let done = app.run_wait(&alice, id, json!({})).await;
        assert_eq!(done["status"], "succeeded", "{done}");
    }
}

#[tokio::test]
async fn agents_per_user_are_capped_until_an_admin_raises_the_ceiling() {
    let app = spawn_app_with(|c| c.quotas.max_agents_per_user = 1).await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let sid = script(&app, &alice, "loop", AGENT, json!({})).await;
    let mut ids = Vec::new();
    for name in ["a", "b"] {
        let agent = post(
            &app,
            &alice,
            "/api/v1/agents",
            json!({"name": name, "script_id": sid, "stop_grace_seconds": 1}),
        )
        .await;
        ids.push(agent["id"].as_str().unwrap().to_owned());
    }
    post(
        &app,
        &alice,
        &format!("/api/v1/agents/{}/start", ids[0]),
        json!({}),
    )
    .await;
    let refused = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{}/start", ids[1]),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already runs 1 agents, their ceiling"),
        "{body}"
    );
    set_quotas(&app, &admin, &alice_id, json!({"agents": 2})).await;
    post(
        &app,
        &alice,
        &format!("/api/v1/agents/{}/start", ids[1]),
        json!({}),
    )
    .await;
    for id in &ids {
        post(
            &app,
            &alice,
            &format!("/api/v1/agents/{id}/stop"),
            json!({}),
        )
        .await;
    }
}

#[tokio::test]
async fn one_user_gets_a_share_of_the_workers_and_memory_is_not_overcommitted() {
    let app = spawn_app_with(|c| {
        c.workers = 3;
        c.quotas.max_running_jobs_per_user = 1;
        c.quotas.total_sandbox_memory_mb = 700;
    })
    .await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let a = script(&app, &alice, "a", SLEEP, json!({"memory_mb": 64})).await;
    let b = script(&app, &bob, "b", SLEEP, json!({"memory_mb": 64})).await;

    // Alice's two jobs run one after the other; Bob's runs beside her first.
    let run = |token: &str, id: &str| {
        let (token, id) = (token.to_owned(), id.to_owned());
        let app = &app;
        async move {
            post(app, &token, &format!("/api/v1/scripts/{id}/run"), json!({})).await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let a1 = run(&alice, &a).await;
    let a2 = run(&alice, &a).await;
    let b1 = run(&bob, &b).await;
    let (a1, a2, b1) = (
        wait_final(&app, &alice, &a1).await,
        wait_final(&app, &alice, &a2).await,
        wait_final(&app, &bob, &b1).await,
    );
    for j in [&a1, &a2, &b1] {
        assert_eq!(j["status"], "succeeded", "{j}");
    }
    let at = |j: &Value, k: &str| j[k].as_str().unwrap().to_owned();
    assert!(at(&a2, "started_at") >= at(&a1, "finished_at"), "{a1} {a2}");
    assert!(at(&b1, "started_at") < at(&a1, "finished_at"), "{a1} {b1}");

    // An admin's override: both of Alice's run at once.
    set_quotas(&app, &admin, &alice_id, json!({"running_jobs": 2})).await;
    let a3 = run(&alice, &a).await;
    let a4 = run(&alice, &a).await;
    let (a3, a4) = (
        wait_final(&app, &alice, &a3).await,
        wait_final(&app, &alice, &a4).await,
    );
    assert!(at(&a4, "started_at") < at(&a3, "finished_at"), "{a3} {a4}");

    // 700 MiB committed at most: two 400 MiB jobs wait for each other, an agent that
    // does not fit beside a job is refused with the reason.
    let fat = script(&app, &alice, "fat", SLEEP, json!({"memory_mb": 400})).await;
    let f1 = run(&alice, &fat).await;
    let f2 = run(&alice, &fat).await;
    let agent_script = script(&app, &alice, "agent", AGENT, json!({})).await;
    let agent = post(
        &app,
        &alice,
        "/api/v1/agents",
        json!({"name": "fat", "script_id": agent_script, "memory_mb": 400, "restart_policy": "never"}),
    )
    .await;
    let agent_id = agent["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    post(
        &app,
        &alice,
        &format!("/api/v1/agents/{agent_id}/start"),
        json!({}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let state = loop {
        let a: Value = app
            .get(&format!("/api/v1/agents/{agent_id}"), &alice)
            .await
            .json()
            .await
            .unwrap();
        if a["state"] == "fatal" || Instant::now() > deadline {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(state["state"], "fatal", "{state}");
    assert!(
        state["state_reason"]
            .as_str()
            .unwrap()
            .contains("sandbox memory is fully committed"),
        "{state}"
    );
    let (f1, f2) = (
        wait_final(&app, &alice, &f1).await,
        wait_final(&app, &alice, &f2).await,
    );
    let (first, second) = if at(&f1, "started_at") <= at(&f2, "started_at") {
        (&f1, &f2)
    } else {
        (&f2, &f1)
    };
    assert!(
        at(second, "started_at") >= at(first, "finished_at"),
        "{f1} {f2}"
    );
}
