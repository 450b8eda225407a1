//! `notify_webhook` sends a job's error text out of the server, so like the script's own
//! HTTP requests it needs an admin's grant.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn notify_webhook_needs_an_http_grant() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let settings =
        json!({"notify_on_failure": false, "notify_webhook": "https://hooks.example.com/x"});
    let body = |name: &str, caps: Value| {
        json!({"name": name, "source": "def main():\n    return 1\n",
               "settings": settings, "capabilities": caps})
    };

    let refused = app
        .send_json("POST", "/api/v1/scripts", &alice, body("mine", json!({})))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = refused.json().await.unwrap();
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("HTTP grant"), "{message}");
    assert!(message.contains("hooks.example.com:443"), "{message}");

    let granted = json!({"http": {"rules": [{"host": "hooks.example.com"}]}});
    let created = app
        .send_json("POST", "/api/v1/scripts", &admin, body("granted", granted))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Withdrawing the grant while the webhook is still set is refused too.
    let withdraw = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"capabilities": {}}),
        )
        .await;
    assert_eq!(withdraw.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
