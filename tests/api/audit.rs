use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn verify(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .args(["audit", "verify", "--data-dir"])
        .arg(app.data_dir())
        .output()
        .unwrap()
}

#[tokio::test]
async fn mutations_are_audited_and_filterable() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let me: Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
    let admin_id = me["id"].as_str().unwrap().to_owned();
    let (alice_id, _) = app.create_user(&admin, "alice@example.org").await;
    app.send_json(
        "PATCH",
        &format!("/api/v1/users/{alice_id}"),
        &admin,
        json!({"role": "admin"}),
    )
    .await;
    app.send_json("PATCH", "/api/v1/me", &admin, json!({"theme": "light"}))
        .await;
    let t: Value = app
        .send_json("POST", "/api/v1/tokens", &admin, json!({"name": "t"}))
        .await
        .json()
        .await
        .unwrap();
    app.delete(
        &format!("/api/v1/tokens/{}", t["id"].as_str().unwrap()),
        &admin,
    )
    .await;
    app.login(ADMIN_EMAIL, "wrong password!", None).await;
    app.delete(&format!("/api/v1/users/{alice_id}"), &admin)
        .await;

    let entries = app.audit_actions(&admin).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "setup.complete",
        "auth.login",
        "user.create",
        "user.update",
        "user.update_profile",
        "token.create",
        "token.revoke",
        "user.delete",
    ] {
        assert!(
            actions.contains(&expected),
            "missing {expected} in {actions:?}"
        );
    }
    let failed = entries
        .iter()
        .find(|e| e["action"] == "auth.login" && e["outcome"] == "failure")
        .expect("failed login audited");
    assert_eq!(failed["details"]["email"], ADMIN_EMAIL);
    assert_eq!(failed["source_ip"], "127.0.0.1");
    // Newest first, chained.
    assert!(entries[0]["seq"].as_i64() > entries[1]["seq"].as_i64());
    assert_eq!(entries[0]["prev_hash"], entries[1]["hash"]);

    let filtered: Value = app
        .get("/api/v1/audit?action=token.create", &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = filtered["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor"], admin_id);

    let by_actor: Value = app
        .get(&format!("/api/v1/audit?actor={admin_id}&limit=2"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 2);
    let cursor = by_actor["next_cursor"].as_str().unwrap();
    let next: Value = app
        .get(
            &format!("/api/v1/audit?actor={admin_id}&limit=2&cursor={cursor}"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(next["items"][0]["seq"].as_i64() < by_actor["items"][1]["seq"].as_i64());

    let future: Value = app
        .get("/api/v1/audit?since=2999-01-01T00:00:00Z", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["items"].as_array().unwrap().len(), 0);
    let bad = app.get("/api/v1/audit?since=yesterday", &admin).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn audit_verify_detects_an_edited_row() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "alice@example.org").await;
    app.send_json("PATCH", "/api/v1/me", &admin, json!({"theme": "dark"}))
        .await;

    let ok = verify(&app);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "verify failed: {stdout}");
    assert!(stdout.contains("audit log ok"), "{stdout}");

    // Tamper with row 2 directly in SQLite.
    let url = format!(
        "sqlite://{}?mode=rw",
        app.data_dir().join("automa.db").display()
    );
    let db = automa::db::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_log SET details = '{\"email\":\"evil@example.org\"}' WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    let broken = verify(&app);
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("seq 2"), "{stdout}");
}
