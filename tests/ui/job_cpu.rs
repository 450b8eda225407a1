//! The job page shows the CPU a job used, and a job that spent its CPU budget has the
//! `cpu exceeded` badge.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app};
use crate::jobs::create_script;
use crate::web::Browser;
use serde_json::{Value, json};

#[tokio::test]
async fn the_job_page_shows_cpu_used_and_the_cpu_exceeded_badge() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let small = create_script(
        &app,
        &token,
        "small",
        "def main():\n    return sum(range(10**5))\n",
    )
    .await;
    let spin = create_script(
        &app,
        &token,
        "spin",
        "def main():\n    while True:\n        pass\n",
    )
    .await;
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{spin}"),
            &token,
            json!({"settings": {"cpu_seconds": 1, "timeout_seconds": 120}}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    for (script, status) in [(small, "succeeded"), (spin, "cpu_exceeded")] {
        let job: Value = app
            .send_json(
                "POST",
                &format!("/api/v1/scripts/{script}/run?wait=true"),
                &token,
                json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(job["status"], status, "{job}");
        let (_, html) = b
            .get_html(&format!("/jobs/{}", job["id"].as_str().unwrap()))
            .await;
        assert!(html.contains("data-cpu"), "{html}");
        // Counted in thread CPU time: the time, and no fuel (none was counted).
        let cpu = format!("CPU {} ms", job["cpu_time_ms"]);
        assert!(html.contains(&cpu), "{cpu}: {html}");
        assert!(!html.contains("of fuel"), "{html}");
        if status == "cpu_exceeded" {
            assert!(
                html.contains(r#"class="badge bad" data-status="cpu_exceeded""#),
                "{html}"
            );
            assert!(html.contains("cpu exceeded"));
        }
    }
}
