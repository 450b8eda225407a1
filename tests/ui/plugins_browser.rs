//! The plugin pages in a real browser: the markdown example is uploaded through the file
//! input, then granted and enabled on its page. Screenshots (the list, the plugin page,
//! and the page at phone width) go to `target/ui-screenshots/`.

use crate::browser::{browser, path_of, screenshots, start_chromedriver, wait_until};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use automa_example_plugins::MARKDOWN_WASM;
use thirtyfour::prelude::*;

#[tokio::test]
async fn upload_grant_and_enable_a_plugin_in_chromium() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let files = tempfile::tempdir().unwrap();
    let wasm = files.path().join("markdown.wasm");
    std::fs::write(&wasm, MARKDOWN_WASM).unwrap();
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    let result = flow(&app, &d, &screenshots(), &wasm).await;
    d.quit().await.ok();
    result.unwrap();
    let p: serde_json::Value = app
        .get("/api/v1/plugins/markdown", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["enabled"], true);
    assert_eq!(p["grants"]["http"], serde_json::json!(["api.example.com"]));
}

async fn click(d: &WebDriver, css: &str) -> WebDriverResult<()> {
    d.find(By::Css(css)).await?.click().await
}

async fn flow(
    app: &TestApp,
    d: &WebDriver,
    shots: &std::path::Path,
    wasm: &std::path::Path,
) -> WebDriverResult<()> {
    d.goto(app.url("/plugins")).await?;
    wait_until("the login page", || async { path_of(d).await == "/login" }).await;
    d.find(By::Id("email"))
        .await?
        .send_keys(ADMIN_EMAIL)
        .await?;
    d.find(By::Id("password"))
        .await?
        .send_keys(ADMIN_PASSWORD)
        .await?;
    click(d, "form[action='/login'] button[type=submit]").await?;
    wait_until("the plugins page", || async {
        path_of(d).await == "/plugins"
    })
    .await;
    assert!(d.source().await?.contains("No plugins installed"));

    d.find(By::Id("plugin-file"))
        .await?
        .send_keys(wasm.display().to_string())
        .await?;
    click(d, "form[action='/plugins'] button[type=submit]").await?;
    wait_until("the plugin page", || async {
        path_of(d).await == "/plugins/markdown"
    })
    .await;
    d.find(By::Id("grant-http"))
        .await?
        .send_keys("api.example.com")
        .await?;
    click(d, "#plugin-enabled").await?;
    click(d, "form[action='/plugins/markdown'] button[type=submit]").await?;
    wait_until("the saved notice", || async {
        d.source().await.unwrap_or_default().contains("Saved.")
    })
    .await;
    d.screenshot(&shots.join("plugin.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    d.screenshot(&shots.join("plugin-phone.png")).await?;
    d.set_window_rect(0, 0, 1280, 900).await?;

    d.goto(app.url("/plugins")).await?;
    let status = d.find(By::Css("#plugins .badge")).await?.text().await?;
    assert_eq!(status, "enabled");
    d.screenshot(&shots.join("plugins.png")).await?;
    Ok(())
}
