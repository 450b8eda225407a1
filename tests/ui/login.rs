//! The login form: TOTP, throttling, cookie flags behind https, security headers.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app, spawn_app_with};
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::json;

pub(crate) fn totp_code(secret: &str, at: u64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("x")
        .build()
        .unwrap()
        .generate(at)
        .to_string()
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn totp_accounts_get_a_code_field_and_log_in_with_a_fresh_code() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let enrol: serde_json::Value = app
        .send_json("POST", "/api/v1/me/totp", &admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    let resp = app
        .send_json(
            "POST",
            "/api/v1/me/totp/confirm",
            &admin,
            json!({"code": totp_code(&secret, now())}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let mut b = Browser::new(&app.base);
    let (_, html) = b.get_html("/login").await;
    assert!(!html.contains(r#"name="totp""#), "no code field at first");
    let resp = b
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"name="totp""#) && html.contains(ADMIN_EMAIL));
    assert!(!b.cookies.contains_key("automa_session"));

    // The code of the next step (the current one was used to confirm).
    let code = totp_code(&secret, now() + 30);
    let fields = [
        ("csrf", csrf_in(&html)),
        ("email", ADMIN_EMAIL.to_owned()),
        ("password", ADMIN_PASSWORD.to_owned()),
        ("totp", code),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = b.post("/login", &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(b.cookies.contains_key("automa_session"));

    // Replaying the same code in another browser is refused.
    let mut other = Browser::new(&app.base);
    let (_, html) = other.get_html("/login").await;
    let mut replay = fields.clone();
    let csrf = csrf_in(&html);
    replay[0] = ("csrf", &csrf);
    let resp = other.post("/login", &replay).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_lock_the_login_form_like_the_api() {
    let app = spawn_app_with(|c| c.login_max_failures = 2).await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (_, html) = b.get_html("/login").await;
        let resp = b
            .post(
                "/login",
                &[
                    ("csrf", &csrf_in(&html)),
                    ("email", ADMIN_EMAIL),
                    ("password", "wrong password"),
                ],
            )
            .await;
        statuses.push(resp.status());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                resp.text()
                    .await
                    .unwrap()
                    .contains("too many failed login attempts")
            );
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Locked even with the right password now.
    let (_, html) = b.get_html("/login").await;
    let resp = b
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn cookies_are_secure_behind_https_and_pages_carry_security_headers() {
    let app = spawn_app_with(|c| c.public_url = Some("https://automa.example.org".into())).await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    let resp = b.get("/login").await;
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let html = resp.text().await.unwrap();
    let resp = b
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("automa_session="))
        .unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // The embedded assets are served.
    let resp = b.get("/static/htmx.min.js").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("htmx"));
    assert_eq!(
        b.get("/static/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
}
