use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn role_matrix_admin_vs_user() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let me: Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
    let admin_id = me["id"].as_str().unwrap().to_owned();
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let (bob_id, _bob) = app.create_user(&admin, "bob@example.org").await;

    // Admin-only collections: forbidden for users.
    assert_eq!(
        app.get("/api/v1/users", &alice).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/audit", &alice).await.status(),
        StatusCode::FORBIDDEN
    );
    let create = app
        .send_json(
            "POST",
            "/api/v1/users",
            &alice,
            json!({"email": "e@example.org", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(create.status(), StatusCode::FORBIDDEN);

    // Other users' records are invisible (404), one's own is readable.
    assert_eq!(
        app.get(&format!("/api/v1/users/{bob_id}"), &alice)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{admin_id}"), &alice)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{alice_id}"), &alice)
            .await
            .status(),
        StatusCode::OK
    );
    let patch_other = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{bob_id}"),
            &alice,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(patch_other.status(), StatusCode::NOT_FOUND);
    let promote_self = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            &alice,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(promote_self.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete(&format!("/api/v1/users/{bob_id}"), &alice)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Admin sees and changes everyone.
    let list: Value = app.get("/api/v1/users", &admin).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.get(&format!("/api/v1/users/{bob_id}"), &admin)
            .await
            .status(),
        StatusCode::OK
    );

    // Paging: two pages of 2 + 1.
    let page1: Value = app
        .get("/api/v1/users?limit=2", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2: Value = app
        .get(&format!("/api/v1/users?limit=2&cursor={cursor}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2["next_cursor"].is_null());

    // Disabling a user kills their tokens at once.
    let disable = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(disable.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &alice).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("alice@example.org", USER_PASSWORD, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Admin resets bob's password.
    let reset = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{bob_id}"),
            &admin,
            json!({"password": "reset by admin 1", "reset_totp": true}),
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    app.login_token("bob@example.org", "reset by admin 1").await;
    let weak = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{bob_id}"),
            &admin,
            json!({"password": "short"}),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The last admin cannot be demoted or deleted.
    let demote = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{admin_id}"),
            &admin,
            json!({"role": "user"}),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.delete(&format!("/api/v1/users/{admin_id}"), &admin)
            .await
            .status(),
        StatusCode::CONFLICT
    );

    // Promote bob, then delete him.
    let promote = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{bob_id}"),
            &admin,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(promote.status(), StatusCode::OK);
    assert_eq!(
        app.delete(&format!("/api/v1/users/{bob_id}"), &admin)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{bob_id}"), &admin)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Duplicate email.
    let dup = app
        .send_json(
            "POST",
            "/api/v1/users",
            &admin,
            json!({"email": "ALICE@example.org", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn user_token_scopes_are_capped_by_role() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // An admin token with only read scope cannot use admin endpoints.
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &admin,
            json!({"name": "ro", "scopes": ["read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ro = created["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/users", ro).await.status(),
        StatusCode::FORBIDDEN
    );
    let me: Value = app.get("/api/v1/me", ro).await.json().await.unwrap();
    let own = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    assert_eq!(app.get(&own, ro).await.status(), StatusCode::OK);
    let (alice_id, _) = app.create_user(&admin, "alice@example.org").await;
    let other = format!("/api/v1/users/{alice_id}");
    assert_eq!(app.get(&other, ro).await.status(), StatusCode::FORBIDDEN);
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &admin,
            json!({"name": "adm", "scopes": ["admin"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let adm = created["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users", adm).await.status(), StatusCode::OK);
    assert_eq!(app.get(&other, adm).await.status(), StatusCode::OK);
    // Credential changes need an interactive login, not an API token.
    let pw = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            adm,
            json!({"current_password": ADMIN_PASSWORD, "new_password": "another password"}),
        )
        .await;
    assert_eq!(pw.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn others_resources_need_the_admin_scope_not_only_the_admin_role() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &alice,
            json!({"name": "alices", "source": "def main():\n    return 1\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/scripts/{}", script["id"].as_str().unwrap());
    let token = |scope: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let v: Value = app
                .send_json(
                    "POST",
                    "/api/v1/tokens",
                    admin,
                    json!({"name": scope, "scopes": [scope]}),
                )
                .await
                .json()
                .await
                .unwrap();
            v["token"].as_str().unwrap().to_owned()
        }
    };
    let write = token("write").await;
    let rewrite = json!({"source": "def main():\n    return 'admin was here'\n"});

    // An admin's write token acts like a user's: another user's script is off limits
    // (with a reason, since the role would allow it) and absent from lists.
    let r = app.send_json("PATCH", &path, &write, rewrite.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin scope"),
        "{body}"
    );
    assert_eq!(app.get(&path, &write).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete(&path, &write).await.status(),
        StatusCode::FORBIDDEN
    );
    let list: Value = app
        .get("/api/v1/scripts", &write)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    let jobs: Value = app.get("/api/v1/jobs", &write).await.json().await.unwrap();
    assert!(jobs["items"].as_array().unwrap().is_empty());
    let source: Value = app.get(&path, &alice).await.json().await.unwrap();
    assert_eq!(source["version"], 1, "{source}");

    // The admin scope (or the login) may act on it.
    let admin_scope = token("admin").await;
    assert_eq!(
        app.get("/api/v1/scripts", &admin_scope)
            .await
            .json::<Value>()
            .await
            .unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app.send_json("PATCH", &path, &admin_scope, rewrite).await;
    assert_eq!(r.status(), StatusCode::OK);
}
