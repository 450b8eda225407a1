//! Email through the server's SMTP settings: a script's allowed email, and the
//! failure notification to the script's owner, against a real SMTP server.

use crate::helpers::{ADMIN_EMAIL, spawn_app_with};
use crate::smtp::SmtpServer;
use automa_runtime::host::{SmtpSettings, SmtpTls};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn scripts_send_allowed_email_and_failures_notify_the_owner() {
    let smtp = SmtpServer::start();
    let port = smtp.port;
    let app = spawn_app_with(move |c| {
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
    let source = "import automa\ndef main(fail: bool = False):\n    if fail:\n        raise RuntimeError('disk full')\n    automa.email.send('team@example.com', 'Weekly report', 'all green')\n    return 'sent'\n";
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "reporter", "source": source,
                   "settings": {"notify_on_failure": true},
                   "capabilities": {"email": {"rules": [{"kind": "domain", "value": "example.com"}]}}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    let id = script["id"].as_str().unwrap();
    let run = |args: Value| {
        let app = &app;
        let admin = &admin;
        async move {
            app.send_json(
                "POST",
                &format!("/api/v1/scripts/{id}/run?wait=true"),
                admin,
                json!({"args": args}),
            )
            .await
            .json::<Value>()
            .await
            .unwrap()
        }
    };
    let ok = run(json!({})).await;
    assert_eq!(ok["status"], "succeeded", "{ok}");
    let failed = run(json!({"fail": true})).await;
    assert_eq!(failed["status"], "failed");
    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    let report = messages
        .iter()
        .find(|m| m.contains("Subject: Weekly report"))
        .expect("the script's email");
    assert!(report.contains("RCPT team@example.com"));
    let notice = messages
        .iter()
        .find(|m| m.contains("Subject: [automa] reporter: failed"))
        .expect("a notification");
    assert!(notice.contains(&format!("RCPT {ADMIN_EMAIL}")), "{notice}");
    assert!(notice.contains("RuntimeError: disk full"), "{notice}");
}
