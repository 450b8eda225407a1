//! The script page's retention form over plain HTTP: it shows the server's periods for
//! the empty fields, saves the four overrides into the script's run settings (the other
//! settings kept), keeps the input and says what is wrong when refused, and needs the
//! CSRF token.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app};
use crate::jobs::create_script;
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

/// A form POST of owned values.
async fn send(
    b: &mut Browser,
    path: &str,
    fields: Vec<(&'static str, String)>,
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &pairs).await
}

#[tokio::test]
async fn retention_form_shows_saves_and_refuses_with_the_input_kept() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = create_script(&app, &admin, "kept", "print(1)\n").await;
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"settings": {"memory_mb": 96}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let settings = || async {
        let s: Value = app
            .get(&format!("/api/v1/scripts/{id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        s["settings"].clone()
    };
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, html) = b.get_html(&format!("/scripts/{id}")).await;
    let path = format!("/scripts/{id}/retention");
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    let (status, html) = b.get_html(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"name="jobs_days" placeholder="server: 90 days" value="""#),
        "{html}"
    );
    assert!(html.contains(r#"placeholder="server: 30 days""#), "{html}");
    let csrf = csrf_in(&html);

    let form = |jobs: &'static str, artifacts: &'static str, csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("jobs_days", jobs.to_owned()),
            ("job_logs_days", String::new()),
            ("artifacts_days", artifacts.to_owned()),
            ("agent_history_days", String::new()),
        ]
    };
    let resp = send(&mut b, &path, form("7", "0", &csrf)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()[LOCATION],
        format!("{path}?saved=true").as_str()
    );
    let saved = settings().await;
    assert_eq!(saved["jobs_days"], 7, "{saved}");
    assert_eq!(saved["artifacts_days"], 0, "{saved}");
    assert!(saved["job_logs_days"].is_null(), "{saved}");
    assert_eq!(
        saved["memory_mb"], 96,
        "the other settings are kept: {saved}"
    );
    let (_, html) = b.get_html(&format!("{path}?saved=true")).await;
    assert!(html.contains("Saved."), "{html}");
    assert!(
        html.contains(r#"name="jobs_days" placeholder="server: 90 days" value="7""#),
        "{html}"
    );

    // Out of range (the settings' own check) and not a number (the form's): refused,
    // the input kept, the settings unchanged.
    let resp = send(&mut b, &path, form("5000", "0", &csrf)).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("jobs_days must be between 1 and 3650 days"),
        "{html}"
    );
    assert!(html.contains(r#"value="5000""#), "{html}");
    let resp = send(&mut b, &path, form("7", "soon", &csrf)).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("artifacts_days must be a whole number of days"),
        "{html}"
    );
    assert_eq!(settings().await, saved);

    // Without the token: refused.
    let mut fields = form("1", "1", "");
    fields.remove(0);
    let resp = send(&mut b, &path, fields).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(settings().await, saved);
}
