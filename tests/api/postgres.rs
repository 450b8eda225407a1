//! The same foundation flows against PostgreSQL, when `AUTOMA_TEST_POSTGRES_URL` names a
//! server where the user may create databases (e.g.
//! `postgres://automa@127.0.0.1:5432/postgres`). Skipped (passes) when unset. Each run
//! creates and finally drops its own database.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn foundation_flows_on_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db_url = pg.url.clone();

    let app = spawn_app_with(|c| c.database_url = Some(db_url.clone().into())).await;
    let token = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&token, "alice@example.org").await;
    assert_eq!(
        app.get(&format!("/api/v1/users/{alice_id}"), &alice)
            .await
            .status(),
        StatusCode::OK
    );
    let patch = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{alice_id}"),
            &token,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(patch.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &alice).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/tokens",
            &token,
            json!({"name": "pg", "expires_in_seconds": 60}),
        )
        .await
        .json()
        .await
        .unwrap();
    let pat = created["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", pat).await.status(), StatusCode::OK);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/tokens/{id}"), &token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/me", pat).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login(ADMIN_EMAIL, "wrong password!", None).await;

    let audit: Value = app
        .get(
            "/api/v1/audit?action=auth.login&since=2020-01-01T00:00:00Z",
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(audit["items"].as_array().unwrap().len() >= 2);

    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &db_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{stdout}");

    // Plugins: the component is stored in the database (every node loads it from there).
    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(&token)
        .header("content-type", "application/wasm")
        .body(automa_example_plugins::MARKDOWN_WASM.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .send_json(
            "PATCH",
            "/api/v1/plugins/markdown",
            &token,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &token,
            json!({"name": "md", "capabilities": {"plugins": ["markdown"]},
                   "source": "import automa\ndef main():\n    return automa.plugins.markdown.render(markdown='*pg*')\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let job = app
        .run_wait(&token, script["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(job["result"]["html"], "<p><em>pg</em></p>\n", "{job}");

    // Disabling and enabling a user pauses and resumes their automations here too.
    crate::owner_rights::exercise(&app, &token, "owner@example.org").await;

    drop(app);
    pg.drop().await;
}
