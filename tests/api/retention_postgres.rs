//! The retention sweep's SQL on PostgreSQL (per-script periods, audit pruning with its
//! signed checkpoint), when `AUTOMA_TEST_POSTGRES_URL` names a server (see postgres.rs).
//! Skipped (passes) when unset. Its own database, dropped at the end.

use crate::helpers::*;
use automa::retention::{Retention, sweep};
use reqwest::StatusCode;
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

fn verify(db_url: &str, data: &std::path::Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .args(["audit", "verify", "--data-dir"])
        .arg(data)
        .env("DATABASE_URL", db_url)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn per_script_retention_and_audit_pruning_on_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db_url = pg.url.clone();
    let app = spawn_app_with(|c| c.database_url = Some(db_url.clone().into())).await;
    let token = app.setup_admin().await;

    let mut jobs = Vec::new();
    for (script, settings) in [
        ("short", json!({"jobs_days": 5})),
        ("long", json!({"jobs_days": 200})),
        ("plain", json!({})),
    ] {
        let resp = app
            .send_json(
                "POST",
                "/api/v1/scripts",
                &token,
                json!({"name": script, "source": "print('x')\n", "settings": settings}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let created: Value = resp.json().await.unwrap();
        let job = app
            .run_wait(&token, created["id"].as_str().unwrap(), json!({}))
            .await;
        assert_eq!(job["status"], "succeeded", "{job}");
        jobs.push(job["id"].as_str().unwrap().to_owned());
    }
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &token,
            json!({"name": "bad", "source": "print(1)\n", "settings": {"jobs_days": 3651}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cut = automa::db::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.send_json("PATCH", "/api/v1/me", &token, json!({"theme": "dark"}))
        .await;
    app.send_json("PATCH", "/api/v1/me", &token, json!({"theme": "light"}))
        .await;

    let db = automa::db::connect(&db_url).await.unwrap();
    sqlx::query("UPDATE jobs SET created_at = created_at - $1, finished_at = finished_at - $1")
        .bind(40 * DAY_MS)
        .execute(&db)
        .await
        .unwrap();
    let data = app.data_dir();
    let retention = Retention {
        audit_days: 1,
        ..Retention::default()
    };
    let (old,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE at < $1")
        .bind(cut)
        .fetch_one(&db)
        .await
        .unwrap();
    let swept = sweep(&db, &data, &retention, cut + DAY_MS).await.unwrap();
    assert_eq!(swept.jobs, 1, "the 5-day script's: {swept:?}");
    assert_eq!(swept.audit, old as u64, "{swept:?}");
    let status = |id: String| {
        let (app, token) = (&app, &token);
        async move { app.get(&format!("/api/v1/jobs/{id}"), token).await.status() }
    };
    assert_eq!(status(jobs[0].clone()).await, StatusCode::NOT_FOUND);
    let swept = sweep(&db, &data, &Retention::default(), cut + 100 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept.jobs, 1, "the plain script's: {swept:?}");
    assert_eq!(status(jobs[1].clone()).await, StatusCode::OK);
    assert_eq!(status(jobs[2].clone()).await, StatusCode::NOT_FOUND);

    let (code, text) = verify(&db_url, &data);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("from checkpoint #1 (the newest of 1): seq {old} ")),
        "{text}"
    );
    let report: Value = app
        .get("/api/v1/audit/verify", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checkpoint"]["last_seq"], old, "{report}");
    sqlx::query("UPDATE audit_checkpoints SET pruned_rows = pruned_rows + 1")
        .execute(&db)
        .await
        .unwrap();
    let (code, text) = verify(&db_url, &data);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("BROKEN at checkpoint #1: the signature does not match"),
        "{text}"
    );

    db.close().await;
    drop(app);
    pg.drop().await;
}
