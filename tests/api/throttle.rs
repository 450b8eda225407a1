//! Password attempts are counted before the password is checked, so a burst of
//! concurrent guesses cannot get past the limit; password change and TOTP disable share
//! the login's counters.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn concurrent_wrong_logins_are_checked_at_most_max_failures_times() {
    let app = spawn_app_with(|c| c.login_max_failures = 5).await;
    let admin = app.setup_admin().await;
    let attempts = (0..50).map(|_| app.login(ADMIN_EMAIL, "wrong password!", None));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!((1..=5).contains(&checked), "{statuses:?}");
    assert_eq!(checked + refused, 50, "{statuses:?}");

    // The account stays locked for the right password too, and the lock was audited once.
    let locked = app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let entries = app.audit_actions(&admin).await;
    let count = |action: &str| entries.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("auth.lockout"), 1, "{entries:?}");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "auth.login" && e["outcome"] == "failure")
            .count(),
        checked
    );
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_ip_allowance() {
    let app = spawn_app_with(|c| c.login_max_failures = 2).await;
    app.setup_admin().await;
    // The IP allows 4 × 2 failed attempts; 20 good logins count none of them.
    for _ in 0..20 {
        app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }
    let wrong = app.login(ADMIN_EMAIL, "wrong password!", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

async fn post_until_locked(app: &TestApp, path: &str, token: &str, body: serde_json::Value) {
    for _ in 0..5 {
        let r = app.send_json("POST", path, token, body.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    let r = app.send_json("POST", path, token, body).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_code(r).await, "too_many_requests");
}

#[tokio::test]
async fn password_change_and_totp_disable_are_throttled_like_login() {
    let app = spawn_app_with(|c| c.login_max_failures = 5).await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;

    let wrong_change =
        json!({"current_password": "not it at all", "new_password": "a brand new password"});
    post_until_locked(&app, "/api/v1/me/password", &alice, wrong_change).await;
    // Locked even with the right current password, and the account's login is locked too.
    let right = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            &alice,
            json!({"current_password": USER_PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let login = app.login("alice@example.org", USER_PASSWORD, None).await;
    assert_eq!(login.status(), StatusCode::TOO_MANY_REQUESTS);

    post_until_locked(
        &app,
        "/api/v1/me/totp/disable",
        &bob,
        json!({"password": "nope nope nope"}),
    )
    .await;

    let entries = app.audit_actions(&admin).await;
    let failed = |action: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == "failure")
            .count()
    };
    assert_eq!(failed("user.change_password"), 5);
    assert_eq!(failed("user.totp_disable"), 5);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "auth.lockout")
            .count(),
        2
    );
}
