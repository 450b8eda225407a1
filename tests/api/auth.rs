use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn login_ok_and_failures() {
    let app = spawn_app().await;
    app.setup_admin().await;

    let ok = app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", token).await.status(), StatusCode::OK);

    let bad = app.login(ADMIN_EMAIL, "wrong password!", None).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(bad).await, "unauthorized");

    let unknown = app.login("nobody@example.org", ADMIN_PASSWORD, None).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    // Emails are case-insensitive.
    let upper = app
        .login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD, None)
        .await;
    assert_eq!(upper.status(), StatusCode::OK);

    let garbage = app.get("/api/v1/me", "not-a-jwt").await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(garbage).await, "unauthorized");
}

#[tokio::test]
async fn lockout_after_repeated_failures() {
    let app = spawn_app_with(|c| c.login_max_failures = 3).await;
    let admin = app.setup_admin().await;
    for _ in 0..3 {
        let r = app.login(ADMIN_EMAIL, "wrong password!", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while locked.
    let locked = app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again in")
    );

    // Unknown accounts lock the same way (no account enumeration).
    for _ in 0..3 {
        app.login("ghost@example.org", "whatever pass", None).await;
    }
    let ghost = app.login("ghost@example.org", "whatever pass", None).await;
    assert_eq!(ghost.status(), StatusCode::TOO_MANY_REQUESTS);

    let actions: Vec<String> = app
        .audit_actions(&admin)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.contains(&"auth.lockout".to_owned()), "{actions:?}");
}

fn totp_code(secret: &str, at: u64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("x")
        .build()
        .unwrap()
        .generate(at)
        .to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn totp_enrol_login_replay_and_disable() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;

    let enrol = app
        .send_json("POST", "/api/v1/me/totp", &admin, json!({}))
        .await;
    assert_eq!(enrol.status(), StatusCode::OK);
    let enrol: Value = enrol.json().await.unwrap();
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    assert!(
        enrol["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );

    let wrong = app
        .send_json(
            "POST",
            "/api/v1/me/totp/confirm",
            &admin,
            json!({"code": "000000"}),
        )
        .await;
    // 000000 could be valid by chance (1 in 10^6 × 3); accept either outcome then.
    if wrong.status() != StatusCode::NO_CONTENT {
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let code = totp_code(&secret, now());
        let ok = app
            .send_json(
                "POST",
                "/api/v1/me/totp/confirm",
                &admin,
                json!({"code": code}),
            )
            .await;
        assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    }

    let me: Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
    assert_eq!(me["totp_enabled"], true);

    // At rest the secret is encrypted with the secrets key.
    let url = format!(
        "sqlite://{}?mode=rw",
        app.data_dir().join("automa.db").display()
    );
    let db = automa::db::connect(&url).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT totp_secret FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert!(stored.starts_with("enc:"), "{stored}");
    assert!(!stored.contains(&secret));

    let no_code = app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(no_code.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(no_code).await, "totp_required");

    // The code for the next step is within the allowed skew and not used yet.
    let next = totp_code(&secret, now() + 30);
    let ok = app.login(ADMIN_EMAIL, ADMIN_PASSWORD, Some(&next)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let token: Value = ok.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    // Replaying the same code is refused.
    let replay = app.login(ADMIN_EMAIL, ADMIN_PASSWORD, Some(&next)).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);

    let bad_pw = app
        .send_json(
            "POST",
            "/api/v1/me/totp/disable",
            &token,
            json!({"password": "nope nope nope"}),
        )
        .await;
    assert_eq!(bad_pw.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let off = app
        .send_json(
            "POST",
            "/api/v1/me/totp/disable",
            &token,
            json!({"password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_access_token_is_rejected_with_token_expired() {
    let app = spawn_app_with(|c| c.access_token_ttl = Duration::from_secs(1)).await;
    let admin = app.setup_admin().await;
    assert_eq!(app.get("/api/v1/me", &admin).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resp = app.get("/api/v1/me", &admin).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(resp).await, "token_expired");
}

#[tokio::test]
async fn password_change_invalidates_old_tokens_and_theme_updates() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;

    let theme = app
        .send_json("PATCH", "/api/v1/me", &admin, json!({"theme": "dark"}))
        .await;
    assert_eq!(theme.status(), StatusCode::OK);
    let me: Value = theme.json().await.unwrap();
    assert_eq!(me["theme"], "dark");
    let bad_theme = app
        .send_json("PATCH", "/api/v1/me", &admin, json!({"theme": "pink"}))
        .await;
    assert_eq!(bad_theme.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let wrong = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            &admin,
            json!({"current_password": "not it at all", "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            &admin,
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &admin).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login_token(ADMIN_EMAIL, "a brand new password").await;
}

#[tokio::test]
async fn logout_voids_access_tokens_but_not_api_tokens() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let second = app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created: Value = app
        .send_json("POST", "/api/v1/tokens", &admin, json!({"name": "keep"}))
        .await
        .json()
        .await
        .unwrap();
    let pat = created["token"].as_str().unwrap();
    let out = app
        .send_json("POST", "/api/v1/auth/logout", &admin, json!({}))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &admin).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", &second).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/api/v1/me", pat).await.status(), StatusCode::OK);
    let fresh = app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(app.get("/api/v1/me", &fresh).await.status(), StatusCode::OK);
}
