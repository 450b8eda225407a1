//! One run builder: a job and an agent of the same script get the same grants (secret,
//! email, package mount) and record their output the same way (whole lines, secrets
//! redacted).

use crate::helpers::{TestApp, spawn_app_with};
use crate::smtp::SmtpServer;
use automa_runtime::host::{SmtpSettings, SmtpTls};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const SECRET: &str = "parity-s3cr3t-9731";

/// Reports what the run was granted; as an agent, emits that and waits to be stopped.
const SOURCE: &str = r#"import automa, hashlib, automa_testpkg

def main(mode: str = "job"):
    v = automa.secrets.get("api_token")
    print("secret is", v)
    print("a", "b")
    automa.email.send("ops@example.com", "parity " + mode, "hello")
    seen = {
        "secret_sha256": hashlib.sha256(v.encode()).hexdigest() if v else None,
        "package": automa_testpkg.greet("x"),
        "mounts": sorted(m for m in automa.files.mounts() if m != "/artifacts"),
    }
    if mode == "agent":
        automa.agent.emit(seen)
        automa.agent.emit({"raw": v})
        while not automa.agent.stop_requested():
            automa.agent.sleep(1)
    return seen
"#;

fn wheelhouse() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/support/make_wheel.py"
    );
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .args([
            "automa_testpkg",
            "1.0",
            "def greet(name):\n    return f'hi {name} from a wheel'\n",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

async fn agent_events(app: &TestApp, token: &str, id: &str, kind: &str) -> Vec<Value> {
    let list: Value = app
        .get(&format!("/api/v1/agents/{id}/events?kind={kind}"), token)
        .await
        .json()
        .await
        .unwrap();
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_job_and_an_agent_of_one_script_get_the_same_grants() {
    let smtp = SmtpServer::start();
    let port = smtp.port;
    let wheels = wheelhouse();
    let links = wheels.path().to_owned();
    let app = spawn_app_with(move |c| {
        c.pip_find_links = Some(links);
        c.pip_no_index = true;
        c.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "automa@example.org".into(),
        });
    })
    .await;
    let admin = app.setup_admin().await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            &admin,
            json!({"name": "api_token", "value": SECRET}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "parity", "source": SOURCE,
                   "requirements": ["automa_testpkg==1.0"],
                   "capabilities": {
                       "secrets": ["api_token"],
                       "email": {"rules": [{"kind": "domain", "value": "example.com"}]}}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script_id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = json!({
        "secret_sha256": hex::encode(Sha256::digest(SECRET)),
        "package": "hi x from a wheel",
        "mounts": ["/data", "/packages", "/tmp"],
    });

    // As a job.
    let job = app.run_wait(&admin, &script_id, json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"], expected);
    let logs = app
        .get(
            &format!("/api/v1/jobs/{}/logs", job["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!logs.contains(SECRET), "{logs}");
    let logs: Vec<Value> = serde_json::from_str(&logs).unwrap();
    let job_lines: Vec<&str> = logs
        .iter()
        .filter(|e| e["stream"] == "stdout")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(job_lines, ["secret is [REDACTED]\n", "a b\n"]);

    // As an agent.
    let resp = app
        .send_json(
            "POST",
            "/api/v1/agents",
            &admin,
            json!({"name": "parity", "script_id": script_id, "args": {"mode": "agent"}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/start"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(30);
    let emitted = loop {
        let emitted = agent_events(&app, &admin, &id, "event").await;
        if emitted.len() >= 2 {
            break emitted;
        }
        assert!(Instant::now() < deadline, "no events: {emitted:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        emitted[0]["body"], expected,
        "the agent sees what the job saw"
    );
    assert_eq!(emitted[1]["body"], json!({"raw": "[REDACTED]"}));
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/agents/{id}/stop"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let history = app
        .get(&format!("/api/v1/agents/{id}/events"), &admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(!history.contains(SECRET), "{history}");
    let agent_lines: Vec<String> = agent_events(&app, &admin, &id, "stdout")
        .await
        .iter()
        .map(|e| e["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        agent_lines, job_lines,
        "one event per line, like the job log"
    );

    let messages = smtp.wait_for(2).await;
    for subject in ["parity job", "parity agent"] {
        assert!(
            messages
                .iter()
                .any(|m| m.contains(&format!("Subject: {subject}"))),
            "{subject}: {messages:?}"
        );
    }
    // The agent's host calls reach the audit log through the one queue, naming it.
    let audit = app
        .audit_until(&admin, |entries| {
            entries
                .iter()
                .any(|e| e["action"] == "host.email.send" && e["details"]["agent_id"] == id)
        })
        .await;
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "host.secrets.get" && e["details"]["agent_id"] == id),
        "{audit:?}"
    );
}
