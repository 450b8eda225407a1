use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn token_lifecycle_create_use_list_revoke() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;

    let created = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &admin,
            json!({"name": "ci", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("atm_"));
    assert_eq!(created["scopes"], json!(["read"]));

    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status(), StatusCode::OK);

    // A read token cannot write.
    let write = app
        .send_json("PATCH", "/api/v1/me", &token, json!({"theme": "dark"}))
        .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    // Nor mint tokens with more power than it has.
    let mint = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &token,
            json!({"name": "x", "scopes": ["write"]}),
        )
        .await;
    assert_eq!(mint.status(), StatusCode::FORBIDDEN);

    let list: Value = app
        .get("/api/v1/tokens", &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].get("token").is_none(), "token is shown only once");
    assert!(token.starts_with(items[0]["prefix"].as_str().unwrap()));
    assert!(items[0]["last_used_at"].is_string() || items[0]["last_used_at"].is_null());

    let revoke = app.delete(&format!("/api/v1/tokens/{id}"), &admin).await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/me", &token).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(after).await, "unauthorized");
}

#[tokio::test]
async fn expired_api_token_is_rejected() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &admin,
            json!({"name": "short", "scopes": ["read"], "expires_in_seconds": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let resp = app.get("/api/v1/me", &token).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(resp).await, "token_expired");
}

#[tokio::test]
async fn users_cannot_touch_each_others_tokens() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &admin,
            json!({"name": "admin-token"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();

    let resp = app.delete(&format!("/api/v1/tokens/{id}"), &alice).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let list: Value = app
        .get("/api/v1/tokens", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    // A plain user cannot grant the admin scope.
    let admin_scope = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &alice,
            json!({"name": "x", "scopes": ["admin"]}),
        )
        .await;
    assert_eq!(admin_scope.status(), StatusCode::FORBIDDEN);
    // The admin's token still works.
    let token = created["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", token).await.status(), StatusCode::OK);
}
