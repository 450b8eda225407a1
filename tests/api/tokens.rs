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

async fn mint(app: &TestApp, with: &str, body: Value) -> reqwest::Response {
    app.send_json("POST", "/api/v1/tokens", with, body).await
}

#[tokio::test]
async fn a_token_mints_only_tokens_that_end_no_later_and_reach_no_further() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let parent: Value = mint(
        &app,
        &alice,
        json!({"name": "short", "scopes": ["write"], "expires_in_seconds": 30}),
    )
    .await
    .json()
    .await
    .unwrap();
    let short = parent["token"].as_str().unwrap().to_owned();

    // No expiry, or a later one, is refused with the reason.
    for body in [
        json!({"name": "forever", "scopes": ["write"]}),
        json!({"name": "longer", "scopes": ["read"], "expires_in_seconds": 3600}),
    ] {
        let r = mint(&app, &short, body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: Value = r.json().await.unwrap();
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("expires_in_seconds"),
            "{err}"
        );
    }
    // A wider scope is refused too.
    let wider = mint(
        &app,
        &short,
        json!({"name": "adm", "scopes": ["admin"], "expires_in_seconds": 10}),
    )
    .await;
    assert_eq!(wider.status(), StatusCode::FORBIDDEN);

    // Within both bounds it works, and the child ends with (or before) its parent.
    let child = mint(
        &app,
        &short,
        json!({"name": "child", "scopes": ["read"], "expires_in_seconds": 20}),
    )
    .await;
    assert_eq!(child.status(), StatusCode::CREATED);
    let child: Value = child.json().await.unwrap();
    assert!(child["expires_at"].as_str().unwrap() <= parent["expires_at"].as_str().unwrap());

    // A never-expiring token (like a login) still mints never-expiring tokens.
    let lasting: Value = mint(
        &app,
        &alice,
        json!({"name": "lasting", "scopes": ["write"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let lasting = lasting["token"].as_str().unwrap();
    let forever = mint(
        &app,
        lasting,
        json!({"name": "forever", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(forever.status(), StatusCode::CREATED);
}
