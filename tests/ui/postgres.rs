//! The pages against PostgreSQL (sessions, dashboard aggregates, run form), when
//! `AUTOMA_TEST_POSTGRES_URL` names a server where the user may create databases
//! (scripts/test starts a throwaway one). Skipped (passes) when unset.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app_with};
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

#[tokio::test]
async fn pages_work_on_postgres() {
    let Ok(admin_url) = std::env::var("AUTOMA_TEST_POSTGRES_URL") else {
        eprintln!("AUTOMA_TEST_POSTGRES_URL not set: skipping the PostgreSQL UI test");
        return;
    };
    sqlx::any::install_default_drivers();
    let name = format!("automa_ui_{}", uuid::Uuid::new_v4().simple());
    let admin_db = sqlx::AnyPool::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin_db)
        .await
        .unwrap();
    let mut db_url = url::Url::parse(&admin_url).unwrap();
    db_url.set_path(&name);
    let db_url = db_url.to_string();

    let app = spawn_app_with(|c| c.database_url = Some(db_url.clone().into())).await;
    let token = app.setup_admin().await;
    let script: Value = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &token,
            json!({"name": "pg-greeter", "source": "def main(name: str):\n    return 'hi ' + name\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = script["id"].as_str().unwrap();

    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, html) = b.get_html(&format!("/scripts/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let resp = b
        .post(
            &format!("/scripts/{id}/run"),
            &[("csrf", &csrf_in(&html)), ("name", "pg")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let job_url = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    let job_id = job_url.trim_start_matches("/jobs/").to_owned();
    for _ in 0..200 {
        let j: Value = app
            .get(&format!("/api/v1/jobs/{job_id}"), &token)
            .await
            .json()
            .await
            .unwrap();
        if j["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, html) = b.get_html("/").await;
    assert!(html.contains(r#"data-stat="total">1<"#), "{html}");
    let (status, html) = b.get_html("/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("pg-greeter") && html.contains(&job_id));
    let csrf = b.csrf().await;
    assert_eq!(
        b.post("/logout", &[("csrf", &csrf)]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(b.get("/").await.status(), StatusCode::SEE_OTHER);

    drop(app);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin_db)
    .await
    .unwrap();
    admin_db.close().await;
}
