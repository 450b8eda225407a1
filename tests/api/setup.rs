use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn first_run_setup_creates_admin_once() {
    let app = spawn_app().await;
    let token = app.setup_token.clone().expect("setup token on first run");

    let status: Value = app
        .client
        .get(app.url("/api/v1/setup"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["setup_required"], true);

    let wrong = app
        .client
        .post(app.url("/api/v1/setup"))
        .json(&json!({"token": "nope", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let weak = app
        .client
        .post(app.url("/api/v1/setup"))
        .json(&json!({"token": token, "email": ADMIN_EMAIL, "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let ok = app
        .client
        .post(app.url("/api/v1/setup"))
        .json(&json!({"token": token, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let user: Value = ok.json().await.unwrap();
    assert_eq!(user["role"], "admin");
    assert!(user.get("password_hash").is_none());

    let again = app
        .client
        .post(app.url("/api/v1/setup"))
        .json(&json!({"token": token, "email": "x@example.org", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "conflict");

    let admin = app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me: Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["theme"], "system");
}

#[tokio::test]
async fn cli_user_create_makes_an_admin_and_ends_setup() {
    let app = spawn_app().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .args([
            "user",
            "create",
            "--email",
            "cli@example.org",
            "--admin",
            "--data-dir",
        ])
        .arg(app.data_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "cli password 12345").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let token = app
        .login_token("cli@example.org", "cli password 12345")
        .await;
    let me: Value = app.get("/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["role"], "admin");

    let setup = app
        .client
        .post(app.url("/api/v1/setup"))
        .json(&json!({"token": app.setup_token.clone().unwrap(), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn cli_set_password_recovers_an_account_and_list_shows_users() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .args([
            "user",
            "set-password",
            "--email",
            ADMIN_EMAIL,
            "--reset-totp",
            "--data-dir",
        ])
        .arg(app.data_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "recovered password 1").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login_token(ADMIN_EMAIL, "recovered password 1").await;

    let list = std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .args(["user", "list", "--data-dir"])
        .arg(app.data_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success());
    assert!(
        text.contains(ADMIN_EMAIL) && text.contains("admin"),
        "{text}"
    );
}
