//! API tokens and the profile in a real browser: a signed-out visit to /tokens comes
//! back there after login; a token is created (shown once, copied), then revoked after
//! the confirmation; TOTP is enrolled from the QR page with a code computed here, and the
//! password changed. Screenshots (also at phone width) go to `target/ui-screenshots/`.

use crate::browser::{browser, path_of, screenshots, start_chromedriver, wait_until};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::history::new_script;
use crate::login::{now, totp_code};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

#[tokio::test]
async fn tokens_and_profile_with_totp_in_chromium() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script_id = two_versions(&app, &admin).await;
    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver, profile.path()).await;
    let result = flow(&app, &d, &screenshots(), &script_id).await;
    d.quit().await.ok();
    result.unwrap();
}

async fn has(d: &WebDriver, css: &str) -> bool {
    d.find(By::Css(css)).await.is_ok()
}

async fn fill(d: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    d.find(By::Id(id)).await?.send_keys(text).await
}

async fn submit(d: &WebDriver, form_action: &str) -> WebDriverResult<()> {
    d.find(By::Css(format!(
        "form[action='{form_action}'] button[type=submit]"
    )))
    .await?
    .click()
    .await
}

async fn flow(
    app: &TestApp,
    d: &WebDriver,
    shots: &std::path::Path,
    script_id: &str,
) -> WebDriverResult<()> {
    // Signed out: the login page, then back to the page asked for.
    d.goto(app.url("/tokens")).await?;
    wait_until("the login page", || async { path_of(d).await == "/login" }).await;
    fill(d, "email", ADMIN_EMAIL).await?;
    fill(d, "password", ADMIN_PASSWORD).await?;
    submit(d, "/login").await?;
    wait_until("the tokens page", || async {
        path_of(d).await == "/tokens"
    })
    .await;
    assert!(d.source().await?.contains("No API tokens yet."));

    // Create a token: its value is shown once, and the Copy button copies it.
    fill(d, "token-name", "deploy bot").await?;
    d.find(By::Css("input[name=scope][value=write]"))
        .await?
        .click()
        .await?;
    SelectElement::new(&d.find(By::Id("token-expires")).await?)
        .await?
        .select_by_value("90")
        .await?;
    submit(d, "/tokens").await?;
    wait_until("the new token", || has(d, "#token-value")).await;
    let token = d
        .find(By::Id("token-value"))
        .await?
        .value()
        .await?
        .unwrap_or_default();
    assert!(token.starts_with("atm_"), "{token}");
    let copy = d.find(By::Css("button[data-copy]")).await?;
    copy.click().await?;
    wait_until("the copy confirmation", || async {
        copy.text().await.unwrap_or_default() == "Copied"
    })
    .await;
    d.screenshot(&shots.join("tokens-created.png")).await?;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status(), reqwest::StatusCode::OK);

    // Never shown again.
    d.goto(app.url("/tokens")).await?;
    assert!(!has(d, "#token-value").await);
    assert!(!d.source().await?.contains(&token));
    d.screenshot(&shots.join("tokens.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    d.screenshot(&shots.join("tokens-phone.png")).await?;
    d.set_window_rect(0, 0, 1280, 900).await?;

    // Revoke asks first.
    d.find(By::Css("form[action$='/revoke'] button"))
        .await?
        .click()
        .await?;
    d.accept_alert().await?;
    wait_until("the revoked token", || {
        has(d, "tr[data-token-state=revoked]")
    })
    .await;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status(), reqwest::StatusCode::UNAUTHORIZED);

    // The profile, from the email in the top bar: TOTP from the QR page.
    d.find(By::Css("a.email")).await?.click().await?;
    wait_until("the profile", || async { path_of(d).await == "/profile" }).await;
    submit(d, "/profile/totp").await?;
    wait_until("the QR code", || has(d, ".qr svg")).await;
    let secret = d.find(By::Id("totp-secret")).await?.text().await?;
    d.screenshot(&shots.join("profile-totp.png")).await?;
    fill(d, "totp-code", &totp_code(&secret, now())).await?;
    submit(d, "/profile/totp/confirm").await?;
    wait_until("TOTP on", || async {
        d.source()
            .await
            .unwrap_or_default()
            .contains("Two-factor authentication is on.")
    })
    .await;

    // Change the password; this browser stays signed in.
    let new = "a fresh password 2026";
    fill(d, "current_password", ADMIN_PASSWORD).await?;
    fill(d, "new_password", new).await?;
    fill(d, "confirm_password", new).await?;
    submit(d, "/profile/password").await?;
    wait_until("the password notice", || async {
        d.source()
            .await
            .unwrap_or_default()
            .contains("Password changed.")
    })
    .await;
    assert_eq!(path_of(d).await, "/profile");
    d.screenshot(&shots.join("profile.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    assert!(
        d.find(By::Css("a.email")).await?.is_displayed().await?,
        "the profile link stays on a phone"
    );
    d.screenshot(&shots.join("profile-phone.png")).await?;
    d.set_window_rect(0, 0, 1280, 900).await?;

    // A script's history: the diff between its two versions, from the script page.
    d.goto(app.url(&format!("/scripts/{script_id}"))).await?;
    d.find(By::LinkText("History and changes"))
        .await?
        .click()
        .await?;
    wait_until("the diff", || has(d, "table.diff tr.add")).await;
    let removed = d.find_all(By::Css("tr.del .code")).await?;
    assert_eq!(removed.len(), 2, "both old lines changed");
    let last = removed[1].text().await?;
    assert!(last.ends_with("return 'hello'"), "{last}");
    let diff = d.find(By::Css("table.diff")).await?.text().await?;
    assert!(diff.contains("return f'hello {name}'"), "{diff}");
    d.screenshot(&shots.join("script-versions.png")).await?;
    d.goto(app.url("/audit?action=user.change_password"))
        .await?;
    assert!(has(d, "#audit").await);
    d.screenshot(&shots.join("audit.png")).await?;

    // The other admin pages, for a look (desktop and phone).
    for page in ["users", "secrets", "settings"] {
        d.goto(app.url(&format!("/{page}"))).await?;
        assert_eq!(path_of(d).await, format!("/{page}"));
        d.screenshot(&shots.join(format!("{page}.png"))).await?;
    }
    d.goto(app.url("/users")).await?;
    d.find(By::Css("#users a")).await?.click().await?;
    wait_until("a user's page", || has(d, "select#role")).await;
    d.screenshot(&shots.join("user.png")).await?;
    d.set_window_rect(0, 0, 390, 844).await?;
    d.screenshot(&shots.join("user-phone.png")).await?;
    Ok(())
}

/// A script saved twice; its id.
async fn two_versions(app: &TestApp, token: &str) -> String {
    let id = new_script(app, token, "hello", "def main():\n    return 'hello'\n").await;
    let source =
        "def main(name: str = 'you'):\n    \"\"\"Greets.\"\"\"\n    return f'hello {name}'\n";
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            token,
            serde_json::json!({"source": source}),
        )
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    id
}
