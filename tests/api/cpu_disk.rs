//! CPU budget and disk quotas through the server (issue 12): a script's `cpu_seconds`
//! bounded by the owner's ceiling, a `cpu_exceeded` job, the CPU a job used in the API
//! and on its page; `/data`, `/artifacts` and `/tmp` quotas from `[quotas]` with an
//! admin's per-user override.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn script(app: &TestApp, token: &str, name: &str, source: &str, settings: Value) -> String {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            token,
            json!({"name": name, "source": source, "settings": settings}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

const SPIN: &str = "def main():\n    while True:\n        pass\n";

#[tokio::test]
async fn with_deterministic_cpu_a_budget_is_counted_in_fuel() {
    let app = spawn_app_with(|c| c.deterministic_cpu = true).await;
    let admin = app.setup_admin().await;
    let spin = script(
        &app,
        &admin,
        "spin",
        SPIN,
        json!({"cpu_seconds": 1, "timeout_seconds": 120}),
    )
    .await;
    let job = app.run_wait(&admin, &spin, json!({})).await;
    assert_eq!(job["status"], "cpu_exceeded", "{job}");
    assert_eq!(job["cpu_seconds"], 1.0, "the whole budget in fuel: {job}");
    assert_eq!(
        job["fuel_consumed"].as_i64(),
        Some(automa_runtime::FUEL_PER_CPU_SECOND as i64),
        "{job}"
    );
    assert!(job["cpu_time_ms"].as_i64().unwrap() > 50, "{job}");
}

#[tokio::test]
async fn a_job_over_its_cpu_budget_ends_cpu_exceeded_and_shows_the_cpu_it_used() {
    let app = spawn_app_with(|c| c.quotas.max_cpu_seconds = 30).await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;

    // Over the owner's ceiling: refused with the reason, until an admin raises it.
    let greedy = script(&app, &alice, "greedy", SPIN, json!({"cpu_seconds": 60})).await;
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{greedy}/run"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = resp.text().await.unwrap();
    assert!(text.contains("cpu_seconds 60 is over"), "{text}");
    let quotas = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{alice_id}/quotas"),
            &admin,
            json!({"cpu_seconds": 120}),
        )
        .await;
    assert_eq!(quotas.status(), StatusCode::OK);
    let quotas: Value = quotas.json().await.unwrap();
    assert_eq!(quotas["cpu_seconds"], 120);
    assert_eq!(quotas["overrides"]["cpu_seconds"], 120);
    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{alice_id}/quotas"),
            &admin,
            json!({"cpu_seconds": 0}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A spinning script with a 1 CPU second budget ends cpu_exceeded, not timed out.
    let spin = script(
        &app,
        &alice,
        "spin",
        SPIN,
        json!({"cpu_seconds": 1, "timeout_seconds": 120}),
    )
    .await;
    let job = app.run_wait(&alice, &spin, json!({})).await;
    assert_eq!(job["status"], "cpu_exceeded", "{job}");
    assert_eq!(job["error"]["kind"], "CpuExceeded");
    assert_eq!(job["attempt"], 1, "a spent CPU budget is not retried");
    // Counted in thread CPU time: ended within a few epoch ticks of its budget.
    let used = job["cpu_seconds"].as_f64().unwrap();
    assert!((1.0..3.0).contains(&used), "{job}");
    assert!(job["fuel_consumed"].is_null(), "no fuel counted: {job}");
    assert!(job["cpu_time_ms"].as_i64().unwrap() >= 1000, "{job}");
    assert!(job["duration_ms"].as_i64().unwrap() < 60_000);

    // An ordinary job reports what it used (the job page shows it: tests/ui/job_cpu.rs).
    let small = script(
        &app,
        &alice,
        "small",
        "def main():\n    return sum(range(100000))\n",
        json!({}),
    )
    .await;
    let job = app.run_wait(&alice, &small, json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let used = job["cpu_seconds"].as_f64().unwrap();
    assert!(used > 0.0 && used < 1.0, "{job}");

    // The filter knows the new status.
    let list: Value = app
        .get("/api/v1/jobs?status=cpu_exceeded", &alice)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"]
        .as_array()
        .or(list.as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "{list}");
}

const FILL: &str = r#"
import errno

def fill(path, kib):
    done = 0
    try:
        with open(path, "wb") as f:
            for _ in range(kib // 64):
                f.write(b"x" * 65536)
                done += 64
            f.flush()
    except OSError as e:
        return [done, e.errno == errno.ENOSPC, e.strerror]
    return [done, None, None]

def main():
    return {"data": fill("/data/d.bin", 4096), "tmp": fill("/tmp/t.bin", 4096),
            "artifacts": fill("/artifacts/a.bin", 4096)}
"#;

#[tokio::test]
async fn disk_quotas_come_from_the_config_and_an_admin_raises_them_per_user() {
    let app = spawn_app_with(|c| {
        c.quotas.data_mb = 1;
        c.quotas.tmp_mb = 2;
        c.quotas.artifacts_mb = 1;
    })
    .await;
    let admin = app.setup_admin().await;
    let (bob_id, bob) = app.create_user(&admin, "bob@example.org").await;
    let id = script(&app, &bob, "fill", FILL, json!({})).await;
    let job = app.run_wait(&bob, &id, json!({})).await;
    assert_eq!(
        job["status"], "succeeded",
        "the script caught ENOSPC: {job}"
    );
    let r = &job["result"];
    for (mount, cap) in [("data", 1024), ("tmp", 2048), ("artifacts", 1024)] {
        assert_eq!(r[mount][1], true, "{mount}: {r}");
        assert_eq!(r[mount][2], "No space left on device");
        // KiB handed to write() before the error (the last chunk may sit in the
        // file's buffer when the error comes at the flush).
        let done = r[mount][0].as_i64().unwrap();
        assert!(done <= cap && done >= cap - 128, "{mount}: {done} KiB");
    }

    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{bob_id}/quotas"),
            &admin,
            json!({"data_mb": 8, "tmp_mb": 8, "artifacts_mb": 8}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let job = app.run_wait(&bob, &id, json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    for mount in ["data", "tmp", "artifacts"] {
        assert_eq!(
            job["result"][mount],
            json!([4096, null, null]),
            "{mount}: {job}"
        );
    }
}

const BUSY_AGENT: &str = "import automa\n\ndef main():\n    n = 0\n    while not automa.agent.stop_requested():\n        for i in range(200000):\n            n += i\n";

async fn agent_state(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/agents/{id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_agent_over_its_cpu_budget_per_interval_is_paused_until_the_next_and_its_cpu_shows() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (carol_id, carol) = app.create_user(&admin, "carol@example.org").await;
    let sid = script(&app, &carol, "busy", BUSY_AGENT, json!({})).await;
    let create = |name: &'static str, cpu: Value| {
        let body = json!({"name": name, "script_id": sid, "restart_policy": "never",
            "cpu_seconds": cpu, "cpu_interval_seconds": 2});
        let (app, carol) = (&app, &carol);
        async move {
            let resp = app.send_json("POST", "/api/v1/agents", carol, body).await;
            assert_eq!(resp.status(), StatusCode::CREATED);
            resp.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let bad = app
        .send_json(
            "POST",
            "/api/v1/agents",
            &carol,
            json!({"name": "bad", "script_id": sid, "cpu_seconds": 5, "cpu_interval_seconds": 2}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Over the owner's ceiling (30 CPU seconds a minute: 1 per 2 s is fine, 2 per 2 s
    // is not): the instance does not start, and says why.
    let greedy = create("greedy", json!(2)).await;
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{greedy}/start"),
        &carol,
        json!({}),
    )
    .await;
    let mut state = Value::Null;
    for _ in 0..100 {
        state = agent_state(&app, &carol, &greedy).await;
        if state["state"] == "fatal" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state["state"], "fatal", "{state}");
    assert!(
        state["state_reason"]
            .as_str()
            .unwrap()
            .contains("over the owner's ceiling of 30 CPU seconds per minute"),
        "{state}"
    );
    // An admin raises carol's ceiling: it runs.
    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{carol_id}/quotas"),
            &admin,
            json!({"agent_cpu_seconds_per_minute": 60}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    // 1 CPU second per 2 s: a busy agent is paused each interval, and goes on.
    let busy = create("busy", json!(1)).await;
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{busy}/start"),
        &carol,
        json!({}),
    )
    .await;
    let mut pauses = Vec::new();
    for _ in 0..150 {
        let events: Value = app
            .get(&format!("/api/v1/agents/{busy}/events"), &carol)
            .await
            .json()
            .await
            .unwrap();
        pauses = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["kind"] == "log"
                    && e["body"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("paused for"))
            })
            .cloned()
            .collect();
        if pauses.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(pauses.len() >= 2, "{pauses:?}");
    assert_eq!(pauses[0]["body"]["level"], "warning");
    assert_eq!(pauses[0]["body"]["fields"]["cpu_throttled"], true);
    // The agent's CPU time is stored once a second while it runs, so the total can lag
    // the pauses by that much (more on a loaded machine): it must reach 500 ms while
    // the agent goes on running.
    let mut state = Value::Null;
    for _ in 0..100 {
        state = agent_state(&app, &carol, &busy).await;
        if state["cpu_time_ms"].as_i64().unwrap() >= 500 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state["state"], "running", "{state}");
    assert_eq!(state["cpu_seconds"], 1);
    let cpu = state["cpu_time_ms"].as_i64().unwrap();
    assert!(cpu >= 500, "{state}");
    app.send_json(
        "POST",
        &format!("/api/v1/agents/{busy}/stop"),
        &carol,
        json!({}),
    )
    .await;
}
