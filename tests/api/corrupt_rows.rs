//! Typed rows (issue 13): a script whose stored settings do not decode is not run with
//! default limits; the job ends `interrupted` naming the row, and the API answers 500.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SLEEP: &str = "import time\n\ndef main():\n    time.sleep(1.5)\n";

async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/jobs/{id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

async fn run(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.send_json(
        "POST",
        &format!("/api/v1/scripts/{id}/run"),
        token,
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_corrupt_settings_column_stops_the_run_and_names_the_row() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let created: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "corrupt", "source": SLEEP, "max_concurrency": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    // The first job runs; the second waits behind it (one at a time) in the queue.
    let first: Value = run(&app, &admin, &id).await.json().await.unwrap();
    let second: Value = run(&app, &admin, &id).await.json().await.unwrap();
    let second = second["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while job(&app, &admin, first["id"].as_str().unwrap()).await["status"] != "running" {
        assert!(Instant::now() < deadline, "first job never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let url = format!(
        "sqlite://{}?mode=rw",
        app.data_dir().join("automa.db").display()
    );
    let db = automa::db::connect(&url).await.unwrap();
    sqlx::query("UPDATE scripts SET settings = '{\"memory_mb\": \"lots\"}' WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    let row = format!("scripts row {id}: column settings does not decode");
    let ended = loop {
        let j = job(&app, &admin, &second).await;
        if !matches!(j["status"].as_str(), Some("queued" | "running")) {
            break j;
        }
        assert!(Instant::now() < deadline, "{j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ended["status"], "interrupted", "{ended}");
    assert_eq!(ended["error"]["kind"], "CorruptRow", "{ended}");
    let message = ended["error"]["message"].as_str().unwrap();
    assert!(message.contains(&row), "{ended}");

    // New runs and an update that keeps the stored settings are refused, not defaulted.
    assert_eq!(
        run(&app, &admin, &id).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let update = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"description": "kept settings"}),
        )
        .await;
    assert_eq!(update.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
