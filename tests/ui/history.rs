//! Script version history with diffs, and the job history's filters, over plain HTTP.

use crate::account::href_before;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::web::Browser;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates a script through the API; its id.
pub async fn new_script(app: &TestApp, token: &str, name: &str, source: &str) -> String {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            token,
            json!({"name": name, "source": source}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    script["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn script_versions_are_listed_and_compared_as_a_unified_diff() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let source = "def main():\n    x = 1\n    return 'old line'\n";
    let id = new_script(&app, &admin, "greeter", source).await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (status, html) = b.get_html(&format!("/scripts/{id}/versions")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Only one version so far."));

    for source in [
        "def main():\n    x = 1\n    return 'new <line>'\n",
        "def main():\n    x = 1\n    return 'new <line>'\n# third\n",
    ] {
        let resp = app
            .send_json(
                "PATCH",
                &format!("/api/v1/scripts/{id}"),
                &admin,
                json!({"source": source}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let (_, html) = b.get_html(&format!("/scripts/{id}")).await;
    assert!(
        html.contains(&format!(r#"href="/scripts/{id}/versions""#)),
        "linked from the script"
    );

    // Default: the newest against the one before.
    let (_, html) = b.get_html(&format!("/scripts/{id}/versions")).await;
    assert!(
        html.contains("v2 → v3") && html.contains("+1") && html.contains("−0"),
        "{html}"
    );
    assert!(html.contains(r#"<tr class="add"><td class="ln"></td><td class="ln">4</td>"#));
    assert!(html.contains(ADMIN_EMAIL), "author shown");

    // Any two versions; the source is escaped.
    let (_, html) = b
        .get_html(&format!("/scripts/{id}/versions?from=1&to=2"))
        .await;
    assert!(html.contains("v1 → v2"));
    assert!(html.contains(r#"<tr class="del"><td class="ln">3</td><td class="ln"></td>"#));
    assert!(html.contains("return 'old line'") && html.contains("return 'new &lt;line&gt;'"));
    let link = href_before(&html, ">changes</a>");
    assert_eq!(link, format!("/scripts/{id}/versions?from=2&to=3"));

    let (status, _) = b
        .get_html(&format!("/scripts/{id}/versions?from=9&to=2"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn job_history_filters_by_status_script_and_time() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut ids = Vec::new();
    for (name, source) in [
        ("works", "def main():\n    return 1\n"),
        ("breaks", "def main():\n    raise ValueError('no')\n"),
    ] {
        let id = new_script(&app, &admin, name, source).await;
        app.run_wait(&admin, &id, json!({"args": {}})).await;
        ids.push(id);
    }
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, html) = b.get_html("/jobs").await;
    assert_eq!(html.matches("data-status=").count(), 2);
    let (_, html) = b.get_html("/jobs?status=failed").await;
    assert_eq!(html.matches("data-status=").count(), 1);
    assert!(html.contains(">breaks</a>") && html.contains(r#"<option value="failed" selected>"#));
    let (_, html) = b.get_html(&format!("/jobs?script_id={}", ids[0])).await;
    assert_eq!(html.matches("data-status=").count(), 1);
    assert!(html.contains(">works</a>") && html.contains(r#"data-status="succeeded""#));

    let (_, html) = b.get_html("/jobs?since=2999-01-01T00%3A00").await;
    assert!(html.contains("No job matches these filters.") && html.contains(r#"href="/jobs""#));
    let (status, html) = b.get_html("/jobs?since=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Created from: enter a date and time") && html.contains(r#"value="soon""#)
    );
}
