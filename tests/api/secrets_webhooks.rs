//! Secrets (encrypted at rest, write-only, redacted everywhere) and webhooks.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn secrets_are_write_only_encrypted_and_redacted() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, user) = app.create_user(&admin, "user@example.org").await;
    let secret = "s3cr3t-value-4711";
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            &user,
            json!({"name": "api_token", "value": secret}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            &admin,
            json!({"name": "api_token", "value": secret}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let listed = app
        .get("/api/v1/secrets", &admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("api_token") && !listed.contains(secret),
        "{listed}"
    );

    let source = "import automa\ndef main():\n    value = automa.secrets.get('api_token')\n    print('value:', value)\n    automa.log.info('using ' + value, token=value)\n    return {'token': value, 'length': len(value)}\n";
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "uses-secret", "source": source, "capabilities": {"secrets": ["api_token"]}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    let id = script["id"].as_str().unwrap();
    let job = app.run_wait(&admin, id, json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["result"]["length"],
        secret.len(),
        "the script got the real value"
    );
    let job_text = job.to_string();
    assert!(!job_text.contains(secret), "{job_text}");
    assert!(job_text.contains("[REDACTED]"), "{job_text}");
    let job_id = job["id"].as_str().unwrap();
    let logs = app
        .get(&format!("/api/v1/jobs/{job_id}/logs"), &admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !logs.contains(secret) && logs.contains("[REDACTED]"),
        "{logs}"
    );
    let audit = serde_json::to_string(&app.audit_actions(&admin).await).unwrap();
    assert!(!audit.contains(secret));
    // At rest: the database file never holds the value in clear.
    let mut files = vec![app.data_dir().join("automa.db")];
    files.push(app.data_dir().join("automa.db-wal"));
    for file in files.iter().filter(|f| f.exists()) {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{}",
            file.display()
        );
    }
}

#[tokio::test]
async fn webhook_runs_with_the_body_as_arguments_and_rotates() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let source = "def main(name: str):\n    return 'hook for ' + name\n";
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "hooked", "source": source}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = script["id"].as_str().unwrap();
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{id}/webhook"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let hook: Value = resp.json().await.unwrap();
    let path = hook["path"].as_str().unwrap().to_owned();

    let resp = app
        .client
        .post(app.url(&path))
        .json(&json!({"name": "octocat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let job: Value = resp.json().await.unwrap();
    assert_eq!(job["trigger"], "webhook");
    let job_id = job["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job: Value = app
            .get(&format!("/api/v1/jobs/{job_id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if job["status"] == "succeeded" {
            assert_eq!(job["result"], "hook for octocat");
            break;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resp = app
        .client
        .post(app.url(&path))
        .json(&json!({"wrong": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .client
        .post(app.url("/api/v1/hooks/whk_0000"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let rotated: Value = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{id}/webhook"),
            &admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["path"], hook["path"]);
    let resp = app
        .client
        .post(app.url(&path))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "the old URL is void");
}
