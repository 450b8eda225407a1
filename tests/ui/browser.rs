//! The main flow in a real browser: Debian's headless Chromium driven through
//! chromedriver (started here on a free port) with thirtyfour. Screenshots of the main
//! pages go to `target/ui-screenshots/`.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;
use tokio::process::{Child, Command};

fn tool(env: &str, default: &str) -> String {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: run scripts/test (it installs chromium and chromium-driver) or set {env}"
    );
    path
}

pub(crate) fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver on a free loopback port; killed when dropped.
pub(crate) struct Driver {
    _child: Child,
    pub(crate) url: String,
}

pub(crate) async fn start_chromedriver() -> Driver {
    let bin = tool("AUTOMA_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/status")).await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { _child: child, url }
}

pub(crate) async fn browser(driver: &Driver, profile: &std::path::Path) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(&tool("AUTOMA_TEST_CHROMIUM", "/usr/bin/chromium"))
        .unwrap();
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        &format!("--user-data-dir={}", profile.display()),
    ] {
        caps.add_arg(arg).unwrap();
    }
    WebDriver::new(&driver.url, caps)
        .await
        .expect("a browser session")
}

/// Polls `check` until it is true (10 s at most).
pub(crate) async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn path_of(d: &WebDriver) -> String {
    d.current_url().await.unwrap().path().to_owned()
}

const SCRIPT: &str = r#""""Greets someone, slowly."""
import time

def main(name: str, times: int = 4):
    for i in range(times):
        print(f"tick {i} for {name}")
        time.sleep(0.4)
    return f"hi {name}"
"#;

#[tokio::test]
async fn setup_login_run_watch_the_live_log_and_log_out_in_chromium() {
    let app = spawn_app().await;
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    let shots = screenshots();
    let result = flow(&app, &d, &shots).await;
    d.quit().await.ok();
    result.unwrap();
}

async fn flow(
    app: &crate::helpers::TestApp,
    d: &WebDriver,
    shots: &std::path::Path,
) -> WebDriverResult<()> {
    // First-run setup from the link the server logs.
    let token = app.setup_token.clone().unwrap();
    d.goto(app.url(&format!("/setup?token={token}"))).await?;
    d.find(By::Id("email"))
        .await?
        .send_keys(ADMIN_EMAIL)
        .await?;
    d.find(By::Id("password"))
        .await?
        .send_keys(ADMIN_PASSWORD)
        .await?;
    d.screenshot(&shots.join("setup.png")).await?;
    d.find(By::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the login page", || async { path_of(d).await == "/login" }).await;

    // Log in (the email is prefilled from setup).
    let email = d.find(By::Id("email")).await?;
    assert_eq!(email.value().await?.as_deref(), Some(ADMIN_EMAIL));
    d.screenshot(&shots.join("login.png")).await?;
    d.find(By::Id("password"))
        .await?
        .send_keys(ADMIN_PASSWORD)
        .await?;
    d.find(By::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until("the dashboard", || async { path_of(d).await == "/" }).await;
    assert!(
        d.find(By::Css("a[href='/users']")).await.is_ok(),
        "admin sees Users"
    );

    // Empty states say what to do next.
    d.goto(app.url("/scripts")).await?;
    assert!(d.source().await?.contains("No scripts yet."));

    // A script, created through the API to save time.
    let admin = app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "greeter", "source": SCRIPT}),
        )
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();

    d.goto(app.url("/scripts")).await?;
    d.screenshot(&shots.join("scripts.png")).await?;
    // The search filters while typing (htmx swaps the list in, no page load).
    d.find(By::Css("input[type=search]"))
        .await?
        .send_keys("zzz")
        .await?;
    wait_until("the filtered list", || async {
        d.source()
            .await
            .unwrap_or_default()
            .contains("No script matches this search.")
    })
    .await;
    d.find(By::LinkText("Show all scripts"))
        .await?
        .click()
        .await?;
    d.find(By::LinkText("greeter")).await?.click().await?;
    wait_until("the script page", || async {
        path_of(d).await == format!("/scripts/{}", script["id"].as_str().unwrap())
    })
    .await;
    // The generated form: a required text field and an integer with its default.
    let times = d.find(By::Id("arg-times")).await?;
    assert_eq!(times.attr("type").await?.as_deref(), Some("number"));
    assert_eq!(times.value().await?.as_deref(), Some("4"));
    d.find(By::Id("arg-name")).await?.send_keys("Ada").await?;
    // The editor (CodeMirror over the hidden source field): line numbers, and Tab
    // indents instead of moving the focus on; the field follows the editor.
    let gutter = d.find(By::Css(".editor .cm-gutters")).await?;
    assert!(gutter.text().await?.contains('8'), "line numbers");
    let content = d.find(By::Css(".editor .cm-content")).await?;
    content.click().await?;
    content.send_keys(Key::Control + Key::Home).await?;
    content.send_keys(Key::Tab).await?;
    let field = d.find(By::Css("textarea.code")).await?;
    let source = field.prop("value").await?.unwrap_or_default();
    assert!(
        source.starts_with("    \"\"\"Greets"),
        "Tab indents and the field follows: {source}"
    );
    // Focus is still in the editor (Tab did not move it on).
    let active = d.active_element().await?;
    let class = active.class_name().await?.unwrap_or_default();
    assert!(class.contains("cm-content"), "focus in the editor: {class}");
    d.screenshot(&shots.join("script.png")).await?;
    d.find(By::Css(".run-form button[type=submit]"))
        .await?
        .click()
        .await?;

    // The job page: the log arrives live while the job runs, then the page shows the
    // outcome.
    wait_until("the job page", || async {
        path_of(d).await.starts_with("/jobs/")
    })
    .await;
    wait_until("a live log line", || async {
        let live = match d.find(By::Id("live-indicator")).await {
            Ok(e) => e.text().await.unwrap_or_default() == "live",
            Err(_) => false,
        };
        let log = match d.find(By::Id("log")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        live && log.contains("tick 0 for Ada")
    })
    .await;
    d.screenshot(&shots.join("job-running.png")).await?;
    wait_until("the finished job", || async {
        d.find(By::Css("[data-status=succeeded]")).await.is_ok()
    })
    .await;
    let log = d.find(By::Id("log")).await?.text().await?;
    assert!(log.contains("tick 3 for Ada"), "{log}");
    assert!(
        d.find(By::Id("result"))
            .await?
            .text()
            .await?
            .contains("hi Ada")
    );
    d.screenshot(&shots.join("job.png")).await?;

    // The dashboard counts it; also on a phone-sized window.
    d.goto(app.url("/")).await?;
    let total = d.find(By::Css("[data-stat=total]")).await?.text().await?;
    assert_eq!(total, "1");
    d.screenshot(&shots.join("dashboard.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    d.screenshot(&shots.join("dashboard-phone.png")).await?;
    d.set_window_rect(0, 0, 1280, 900).await?;

    // The theme select applies on change and stays chosen.
    let select = SelectElement::new(&d.find(By::Css("select[name=theme]")).await?).await?;
    select.select_by_value("dark").await?;
    wait_until("the dark theme", || async {
        d.source()
            .await
            .unwrap_or_default()
            .contains(r#"data-theme="dark""#)
    })
    .await;
    d.screenshot(&shots.join("dashboard-dark.png")).await?;

    // Log out: back to the login page, and the pages need a login again.
    d.find(By::Css("form[action='/logout'] button"))
        .await?
        .click()
        .await?;
    wait_until("the login page after logout", || async {
        path_of(d).await == "/login"
    })
    .await;
    d.goto(app.url("/scripts")).await?;
    assert_eq!(path_of(d).await, "/login");
    Ok(())
}
