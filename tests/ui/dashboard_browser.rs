//! The code editor and the log viewer in a real headless Chromium: what is typed in the
//! editor is the source the form submits, and the log viewer draws live and stored
//! lines with their level and fields, filters, searches, follows and copies.
//! Screenshots go to `target/ui-screenshots/`.

use crate::browser::{browser, path_of, screenshots, start_chromedriver, wait_until};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::jobs::create_script;
use crate::web::Browser;
use serde_json::{Value, json};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

async fn signed_in(app: &TestApp, d: &WebDriver) -> WebDriverResult<()> {
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    d.goto(app.url("/login")).await?;
    d.add_cookie(Cookie::new(
        "automa_session",
        b.cookies["automa_session"].clone(),
    ))
    .await
}

async fn text(d: &WebDriver, css: &str) -> String {
    match d.find(By::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// How many log rows are displayed (not filtered out).
async fn shown_lines(d: &WebDriver) -> usize {
    let mut n = 0;
    for row in d.find_all(By::Css("#log .line")).await.unwrap_or_default() {
        if row.is_displayed().await.unwrap_or(false) {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn the_code_editor_highlights_indents_and_is_what_the_form_submits_in_chromium() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    let result = editor_flow(&app, &d, &admin).await;
    d.quit().await.ok();
    result.unwrap();
}

async fn editor_flow(app: &TestApp, d: &WebDriver, admin: &str) -> WebDriverResult<()> {
    signed_in(app, d).await?;
    d.goto(app.url("/scripts/new")).await?;
    let content = d.find(By::Css(".editor .cm-content")).await?;
    // The field is still in the form, hidden behind the editor.
    let field = d.find(By::Css("textarea[name=source]")).await?;
    assert!(
        !field.is_displayed().await?,
        "the editor stands in for the textarea"
    );
    // Python highlighting and line numbers on the example.
    let keywords = d.find_all(By::Css(".cm-content .tok-keyword")).await?;
    assert!(!keywords.is_empty(), "keywords are highlighted");
    assert_eq!(keywords[0].text().await?, "def");
    assert!(
        text(d, ".cm-lineNumbers").await.contains('4'),
        "line numbers"
    );

    d.find(By::Id("name")).await?.send_keys("edited").await?;
    content.click().await?;
    content.send_keys(Key::Control + "a").await?;
    content.send_keys(Key::Delete).await?;
    // Enter after the colon indents the body; Enter again keeps that indentation.
    content.send_keys("def main(n: int = 2):").await?;
    content.send_keys(Key::Enter).await?;
    content.send_keys("x = n * 21").await?;
    content.send_keys(Key::Enter).await?;
    content.send_keys("return x").await?;
    let want = "def main(n: int = 2):\n    x = n * 21\n    return x";
    assert_eq!(
        field.prop("value").await?.as_deref(),
        Some(want),
        "the field follows the editor"
    );
    d.screenshot(&screenshots().join("editor.png")).await?;

    d.find(By::Css("form[action='/scripts/new'] button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the new script's page", || async {
        let p = path_of(d).await;
        p.starts_with("/scripts/") && p != "/scripts/new"
    })
    .await;
    let id = path_of(d).await.trim_start_matches("/scripts/").to_owned();
    let script: Value = app
        .get(&format!("/api/v1/scripts/{id}"), admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        script["source"], want,
        "the editor's text is the saved source"
    );
    let job = app.run_wait(admin, &id, json!({})).await;
    assert_eq!(job["result"], 42, "{job}");
    // The script page's editor shows the saved source, highlighted.
    wait_until("the script page's editor", || async {
        text(d, ".cm-content").await.contains("return x")
    })
    .await;
    d.screenshot(&screenshots().join("script-editor.png"))
        .await?;
    Ok(())
}

/// Logs at several levels with fields; the pauses let the page open while it runs.
const LEVELS: &str = r#"import time
import automa

def main():
    time.sleep(1.0)
    automa.log.info("step", i=1)
    print("plain output")
    automa.log.warning("careful", left=2)
    automa.log.error("broke", code=7)
    time.sleep(2.5)
    automa.log.info("step", i=3)
    return "done"
"#;

#[tokio::test]
async fn the_log_viewer_shows_levels_and_fields_filters_follows_and_copies_in_chromium() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script = create_script(&app, &admin, "levels", LEVELS).await;
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    let result = log_flow(&app, &d, &admin, &script).await;
    d.quit().await.ok();
    result.unwrap();
}

async fn log_flow(app: &TestApp, d: &WebDriver, admin: &str, script: &str) -> WebDriverResult<()> {
    signed_in(app, d).await?;
    let job: Value = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{script}/run"),
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
    let follow = d.find(By::Id("log-follow")).await?;
    assert_eq!(
        follow.prop("checked").await?.as_deref(),
        Some("true"),
        "follows by default"
    );

    // Live lines, drawn by the page from the event stream, with level and fields.
    wait_until("the live lines", || async {
        text(d, "#log").await.contains("broke code=7")
    })
    .await;
    assert_eq!(text(d, "#live-indicator").await, "live", "still streaming");
    let warning = d.find(By::Css("#log .line[data-level=warning]")).await?;
    assert_eq!(
        warning.find(By::Css(".lvl")).await?.text().await?,
        "warning"
    );
    assert_eq!(
        warning.find(By::Css(".field")).await?.text().await?,
        "left=2"
    );
    let at = warning.find(By::Css(".at")).await?.text().await?;
    assert!(at.len() == 12 && at.as_bytes()[2] == b':', "a time: {at}");
    let plain = d.find(By::Css("#log .line[data-stream=stdout]")).await?;
    assert_eq!(
        plain.find(By::Css(".stream")).await?.text().await?,
        "stdout"
    );
    d.screenshot(&screenshots().join("log-live.png")).await?;

    // After the job ends the page reloads and draws the stored lines the same way.
    wait_until("the finished job", || async {
        d.find(By::Css("[data-status=succeeded]")).await.is_ok()
    })
    .await;
    wait_until("the tools after the reload", || async {
        text(d, "#log-count").await == "5 lines"
    })
    .await;
    assert!(
        d.find(By::Id("log-follow")).await.is_err(),
        "nothing to follow any more"
    );
    let error = d.find(By::Css("#log .line[data-level=error]")).await?;
    assert_eq!(error.find(By::Css(".field")).await?.text().await?, "code=7");

    // Level filter: this level and above (printed output counts as info).
    let level = SelectElement::new(&d.find(By::Id("log-level")).await?).await?;
    level.select_by_value("warning").await?;
    assert_eq!(shown_lines(d).await, 2);
    assert_eq!(text(d, "#log-count").await, "2 of 5 lines");
    d.screenshot(&screenshots().join("log-filtered.png"))
        .await?;
    level.select_by_value("error").await?;
    assert_eq!(shown_lines(d).await, 1);
    level.select_by_value("info").await?;
    assert_eq!(shown_lines(d).await, 5);

    // Search: message and fields alike.
    let search = d.find(By::Id("log-search")).await?;
    search.send_keys("step").await?;
    assert_eq!(shown_lines(d).await, 2);
    search.clear().await?;
    search.send_keys("i=3").await?;
    assert_eq!(shown_lines(d).await, 1);

    // Copy: the lines shown.
    let copy = d.find(By::Id("log-copy")).await?;
    copy.click().await?;
    wait_until("the copy", || async {
        copy.text().await.unwrap_or_default() == "Copied 1 line"
    })
    .await;
    assert_eq!(copy.attr("data-copied").await?.as_deref(), Some("1"));

    // The equivalent commands, with the token left to the shell.
    let curl = text(d, "#curl-command").await;
    assert!(
        curl.contains("$AUTOMA_TOKEN") && curl.contains(&format!("/api/v1/jobs/{job_id}")),
        "{curl}"
    );
    assert!(!curl.contains(admin));
    d.screenshot(&screenshots().join("job-log-viewer.png"))
        .await?;

    // The dashboard's chart: axes and a hover title per hour.
    d.goto(app.url("/")).await?;
    let titles = d.find_all(By::Css("svg.chart .col title")).await?;
    assert_eq!(titles.len(), 24);
    assert!(d.find_all(By::Css("svg.chart .x-label")).await?.len() == 6);
    d.screenshot(&screenshots().join("dashboard-chart.png"))
        .await?;

    // The same pages in the dark theme, for the eye (colours come from the theme).
    let theme = SelectElement::new(&d.find(By::Css("select[name=theme]")).await?).await?;
    theme.select_by_value("dark").await?;
    wait_until("the dark theme", || async {
        d.source()
            .await
            .unwrap_or_default()
            .contains(r#"data-theme="dark""#)
    })
    .await;
    d.screenshot(&screenshots().join("dashboard-chart-dark.png"))
        .await?;
    d.goto(app.url(&format!("/jobs/{job_id}"))).await?;
    wait_until("the log tools", || async {
        text(d, "#log-count").await == "5 lines"
    })
    .await;
    d.screenshot(&screenshots().join("job-log-viewer-dark.png"))
        .await?;
    d.goto(app.url(&format!("/scripts/{script}"))).await?;
    wait_until("the editor", || async {
        text(d, ".cm-content").await.contains("automa.log")
    })
    .await;
    d.screenshot(&screenshots().join("script-editor-dark.png"))
        .await?;
    Ok(())
}
