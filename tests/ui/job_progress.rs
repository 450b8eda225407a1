//! The job page's progress bar follows `automa.log.progress` live (the event stream's
//! `progress` entries), before the page reloads at the end.

use crate::browser::{browser, screenshots, start_chromedriver, wait_until};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::history::new_script;
use crate::web::Browser;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

const SCRIPT: &str = "import time\nimport automa\n\ndef main():\n    time.sleep(1.5)\n    automa.log.progress(0.5, 'half way')\n    time.sleep(3)\n    return 'done'\n";

#[tokio::test]
async fn the_progress_bar_moves_while_the_job_runs_in_chromium() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = new_script(&app, &admin, "halfway", SCRIPT).await;
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    let result = flow(&app, &d, &admin, &id).await;
    d.quit().await.ok();
    result.unwrap();
}

async fn text(d: &WebDriver, css: &str) -> String {
    match d.find(By::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn flow(app: &TestApp, d: &WebDriver, admin: &str, script_id: &str) -> WebDriverResult<()> {
    // Log the browser in with the session cookie of a form login.
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    d.goto(app.url("/login")).await?;
    d.add_cookie(Cookie::new(
        "automa_session",
        b.cookies["automa_session"].clone(),
    ))
    .await?;

    let job: Value = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{script_id}/run"),
            admin,
            json!({"args": {}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let job_id = job["id"].as_str().unwrap();
    d.goto(app.url(&format!("/jobs/{job_id}"))).await?;
    assert_eq!(
        text(d, "#live-indicator").await,
        "live",
        "opened while running"
    );
    wait_until("the live progress", || async {
        text(d, ".progress-label").await == "50% · half way"
    })
    .await;
    // Moved by the event stream, not by the reload at the end.
    assert_eq!(text(d, "#live-indicator").await, "live");
    let bar = d.find(By::Css(".progress[role=progressbar]")).await?;
    assert_eq!(bar.attr("aria-valuenow").await?.as_deref(), Some("50"));
    d.screenshot(&screenshots().join("job-progress.png"))
        .await?;
    wait_until("the finished job", || async {
        d.find(By::Css("[data-status=succeeded]")).await.is_ok()
    })
    .await;
    // After the reload: the stored progress, as last reported.
    assert_eq!(text(d, ".progress-label").await, "50% · half way");
    Ok(())
}
