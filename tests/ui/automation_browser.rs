//! Schedules and agents in a real browser: create a script in the page, schedule it by
//! cron in a time zone (the five-run preview updates as the form changes), create an
//! agent, start it, send a message and watch the reply arrive live, stop it, find all of
//! it in the audit log; then a plain user cannot reach the admin pages. Screenshots go
//! to `target/ui-screenshots/`.

use crate::automation_forms::readme_agent;
use crate::browser::{browser, path_of, screenshots, start_chromedriver, wait_until};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, USER_PASSWORD, spawn_app};
use serde_json::json;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

#[tokio::test]
async fn schedule_a_script_and_talk_to_an_agent_in_chromium() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    // The browser lives in Tokyo, so the new-schedule form must default to that zone.
    let cdp = format!(
        "{}/session/{}/goog/cdp/execute",
        driver.url,
        d.handle().session_id()
    );
    let resp = reqwest::Client::new()
        .post(cdp)
        .json(&json!({"cmd": "Emulation.setTimezoneOverride", "params": {"timezoneId": "Asia/Tokyo"}}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let result = flow(&app, &admin, &d, &screenshots()).await;
    d.quit().await.ok();
    result.unwrap();
}

async fn login(app: &TestApp, d: &WebDriver, email: &str, password: &str) -> WebDriverResult<()> {
    d.goto(app.url("/login")).await?;
    d.find(By::Id("email")).await?.send_keys(email).await?;
    d.find(By::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    d.find(By::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the dashboard", || async { path_of(d).await == "/" }).await;
    Ok(())
}

async fn page_has(d: &WebDriver, text: &str) -> bool {
    d.source().await.unwrap_or_default().contains(text)
}

async fn text_of(d: &WebDriver, css: &str) -> String {
    match d.find(By::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Creates a script through the new-script page.
async fn new_script(
    app: &TestApp,
    d: &WebDriver,
    name: &str,
    source: Option<&str>,
) -> WebDriverResult<()> {
    d.goto(app.url("/scripts/new")).await?;
    d.find(By::Id("name")).await?.send_keys(name).await?;
    if let Some(source) = source {
        // Typing Python into the editor would fight its auto-indent-free Tab handling.
        d.execute(
            "document.getElementById('source').value = arguments[0];",
            vec![json!(source)],
        )
        .await?;
    }
    d.find(By::Css("form[action='/scripts/new'] button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the script page", || async {
        let p = path_of(d).await;
        p.starts_with("/scripts/") && p != "/scripts/new"
    })
    .await;
    Ok(())
}

async fn flow(
    app: &TestApp,
    admin: &str,
    d: &WebDriver,
    shots: &std::path::Path,
) -> WebDriverResult<()> {
    login(app, d, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    // Both pages are in the navigation and say what to do first.
    d.find(By::Css("nav a[href='/schedules']"))
        .await?
        .click()
        .await?;
    wait_until("the schedules page", || async {
        path_of(d).await == "/schedules"
    })
    .await;
    assert!(page_has(d, "No scripts to schedule yet.").await);
    d.find(By::Css("nav a[href='/agents']"))
        .await?
        .click()
        .await?;
    wait_until("the agents page", || async {
        path_of(d).await == "/agents"
    })
    .await;
    assert!(page_has(d, "No scripts to run as an agent yet.").await);

    // The example script of the new-script page, and an agent script.
    new_script(app, d, "hello", None).await?;
    new_script(app, d, "echo", Some(readme_agent())).await?;

    // Schedule `hello` on weekdays at 07:30 in New York; the preview follows the form.
    d.goto(app.url("/schedules")).await?;
    assert!(page_has(d, "Nothing scheduled yet.").await);
    d.find(By::LinkText("New schedule")).await?.click().await?;
    wait_until("the schedule form", || async {
        path_of(d).await == "/schedules/new"
    })
    .await;
    wait_until("the browser's zone and its preview", || async {
        let zone = match d.find(By::Id("timezone")).await {
            Ok(e) => e.value().await.unwrap_or_default().unwrap_or_default(),
            Err(_) => String::new(),
        };
        zone == "Asia/Tokyo" && text_of(d, "#schedule-preview").await.contains("09:00 JST")
    })
    .await;
    SelectElement::new(&d.find(By::Id("script_id")).await?)
        .await?
        .select_by_visible_text("hello")
        .await?;
    // Only the cron fields show for a cron schedule.
    assert!(d.find(By::Id("cron")).await?.is_displayed().await?);
    assert!(
        !d.find(By::Id("every_seconds"))
            .await?
            .is_displayed()
            .await?
    );
    let cron = d.find(By::Id("cron")).await?;
    cron.clear().await?;
    cron.send_keys("61 * * * *").await?;
    wait_until("the cron problem in the preview", || async {
        text_of(d, "#preview-problem")
            .await
            .contains("invalid cron pattern")
    })
    .await;
    cron.clear().await?;
    cron.send_keys("30 7 * * MON-FRI").await?;
    SelectElement::new(&d.find(By::Id("timezone")).await?)
        .await?
        .select_by_value("America/New_York")
        .await?;
    wait_until("five New York runs", || async {
        let runs = d
            .find_all(By::Css("#schedule-preview li"))
            .await
            .unwrap_or_default();
        let text = text_of(d, "#schedule-preview").await;
        runs.len() == 5 && text.matches("07:30 E").count() == 5
    })
    .await;
    d.screenshot(&shots.join("schedule-new.png")).await?;
    d.find(By::Css("form.schedule button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the schedule list", || async {
        path_of(d).await == "/schedules"
    })
    .await;
    let row = text_of(d, "#schedule-list tbody tr").await;
    assert!(
        row.contains("hello") && row.contains("30 7 * * MON-FRI"),
        "{row}"
    );
    assert!(
        row.contains("America/New_York") && row.contains("07:30"),
        "{row}"
    );
    d.screenshot(&shots.join("schedules.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    d.screenshot(&shots.join("schedules-phone.png")).await?;
    d.set_window_rect(0, 0, 1280, 900).await?;

    // An agent from the echo script.
    d.goto(app.url("/agents")).await?;
    d.find(By::LinkText("New agent")).await?.click().await?;
    wait_until("the agent form", || async {
        path_of(d).await == "/agents/new"
    })
    .await;
    d.find(By::Id("name"))
        .await?
        .send_keys("greeter-agent")
        .await?;
    SelectElement::new(&d.find(By::Id("script_id")).await?)
        .await?
        .select_by_visible_text("echo")
        .await?;
    let args = d.find(By::Id("args")).await?;
    args.clear().await?;
    args.send_keys(r#"{"greeting": "hello"}"#).await?;
    d.find(By::Css("form[action='/agents/new'] button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the agent page", || async {
        let p = path_of(d).await;
        p.starts_with("/agents/") && p != "/agents/new"
    })
    .await;
    let agent_page = path_of(d).await;
    assert!(d.find(By::Css("[data-state=stopped]")).await.is_ok());
    d.find(By::Css("button[data-action=start]"))
        .await?
        .click()
        .await?;
    // The status card refreshes itself (htmx) until the agent runs and reports.
    wait_until("the running agent", || async {
        d.find(By::Css("#agent-status [data-state=running]"))
            .await
            .is_ok()
            && text_of(d, "#status-text").await == "waiting"
    })
    .await;

    // A message; the reply arrives over the event stream without a page load.
    d.execute(
        "document.body.setAttribute('data-no-reload', '1');",
        Vec::new(),
    )
    .await?;
    d.find(By::Id("body"))
        .await?
        .send_keys(r#"{"name": "Ada"}"#)
        .await?;
    d.find(By::Css("#message-form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the live reply", || async {
        text_of(d, "#replies")
            .await
            .contains(r#"{"reply":"hello, Ada"}"#)
    })
    .await;
    assert!(d.find(By::Id("message-sent")).await.is_ok());
    let marker = d
        .find(By::Css("body"))
        .await?
        .attr("data-no-reload")
        .await?;
    assert_eq!(marker.as_deref(), Some("1"), "no page load");
    assert_eq!(path_of(d).await, agent_page);
    wait_until("the status after the reply", || async {
        text_of(d, "#status-text").await == "answered"
    })
    .await;
    assert!(text_of(d, "#agent-log").await.contains("running"));
    d.screenshot(&shots.join("agent.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    d.screenshot(&shots.join("agent-phone.png")).await?;
    d.set_window_rect(0, 0, 1280, 900).await?;

    d.find(By::Css("button[data-action=stop]"))
        .await?
        .click()
        .await?;
    wait_until("the stopped agent", || async {
        d.find(By::Css("#agent-status [data-state=stopped]"))
            .await
            .is_ok()
    })
    .await;
    d.goto(app.url("/agents")).await?;
    let row = text_of(d, "#agent-list tbody tr").await;
    assert!(
        row.contains("greeter-agent") && row.contains("stopped") && row.contains("answered"),
        "{row}"
    );
    d.screenshot(&shots.join("agents.png")).await?;

    // Every step is in the audit log.
    d.goto(app.url("/audit")).await?;
    let audit = d.find(By::Css("main")).await?.text().await?;
    for action in [
        "script.create",
        "schedule.create",
        "agent.create",
        "agent.start",
        "agent.message",
        "agent.stop",
    ] {
        assert!(audit.contains(action), "{action} audited: {audit}");
    }

    // A plain user sees the new pages (empty) but not the admin ones.
    app.create_user(admin, "user@example.org").await;
    d.find(By::Css("form[action='/logout'] button"))
        .await?
        .click()
        .await?;
    wait_until("the login page", || async { path_of(d).await == "/login" }).await;
    login(app, d, "user@example.org", USER_PASSWORD).await?;
    assert!(d.find(By::Css("nav a[href='/agents']")).await.is_ok());
    assert!(
        d.find(By::Css("nav a[href='/audit']")).await.is_err(),
        "no admin links"
    );
    for path in ["/audit", "/users", "/secrets"] {
        d.goto(app.url(path)).await?;
        assert!(page_has(d, "administrator role required").await, "{path}");
    }
    d.goto(app.url(&agent_page)).await?;
    assert!(page_has(d, "Error 404").await, "another user's agent");
    d.goto(app.url("/schedules")).await?;
    assert!(page_has(d, "No scripts to schedule yet.").await);
    Ok(())
}
