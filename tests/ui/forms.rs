//! Sessions, CSRF and roles over plain HTTP.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD, spawn_app};
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

#[tokio::test]
async fn setup_page_creates_the_admin_and_login_sets_a_safe_session_cookie() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app.base);
    let token = app.setup_token.clone().unwrap();
    let (status, html) = b.get_html(&format!("/setup?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&token), "token prefilled");
    let csrf = csrf_in(&html);

    // A short password is refused and the form keeps the email.
    let resp = b
        .post(
            "/setup",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("email", ADMIN_EMAIL),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains(ADMIN_EMAIL) && html.contains("role=\"alert\""));

    let csrf = csrf_in(&html);
    let resp = b
        .post(
            "/setup",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?email=")
    );

    // Wrong password: 401 page, email kept, no session.
    let (_, html) = b.get_html("/login").await;
    let csrf = csrf_in(&html);
    let resp = b
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", ADMIN_EMAIL),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.text().await.unwrap().contains(ADMIN_EMAIL));
    assert!(!b.cookies.contains_key("automa_session"));

    let (_, html) = b.get_html("/login").await;
    let csrf = csrf_in(&html);
    let resp = b
        .post(
            "/login",
            &[
                ("csrf", &csrf),
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
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http test server");

    // The session id is stored only as a hash.
    let id = b.cookies["automa_session"].clone();
    let db = std::fs::read(app.data_dir().join("automa.db")).unwrap();
    let db_text = String::from_utf8_lossy(&db);
    assert!(!db_text.contains(&id), "raw session id stored");

    // Pages work with the cookie; the API does not accept it (bearer only).
    let (status, html) = b.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Dashboard") && html.contains(ADMIN_EMAIL));
    let resp = b.get("/api/v1/me").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The login was audited like an API login.
    let admin = app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let audit = app.audit_actions(&admin).await;
    assert!(audit.iter().any(|e| e["action"] == "auth.login"
        && e["outcome"] == "success"
        && e["details"]["via"] == "session"));
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "auth.login" && e["outcome"] == "failure")
    );
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_or_from_another_site_are_refused() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);

    // Login form without the token (the pre-login cookie alone is not enough).
    b.get("/login").await;
    let resp = b
        .post(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key("automa_session"));

    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = b.csrf().await;

    // Logout without the token, with a wrong one, and cross-site with the right one.
    let resp = b.post("/logout", &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = b.post("/logout", &[("csrf", "0000")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = b
        .client
        .post(format!("{}/logout", app.base))
        .header(
            "cookie",
            format!("automa_session={}", b.cookies["automa_session"]),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(b.get_html("/").await.0, StatusCode::OK, "still logged in");

    // The right token logs out, and the old cookie is dead even if replayed.
    let old = b.cookies["automa_session"].clone();
    let resp = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("automa_session"));
    b.cookies.insert("automa_session".into(), old);
    let resp = b.get("/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/login");
}

#[tokio::test]
async fn admin_pages_are_for_admins_only_and_password_change_ends_sessions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, user_token) = app.create_user(&admin, "user@example.org").await;

    let mut anon = Browser::new(&app.base);
    for path in ["/", "/scripts", "/users", "/audit", "/secrets"] {
        let resp = anon.get(path).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        let back = if path == "/" {
            String::new()
        } else {
            format!("?next=%2F{}", &path[1..])
        };
        assert_eq!(resp.headers()[LOCATION], format!("/login{back}").as_str());
    }

    let mut user = Browser::new(&app.base);
    user.login("user@example.org", USER_PASSWORD).await;
    let (_, html) = user.get_html("/").await;
    assert!(
        !html.contains("href=\"/users\""),
        "no admin links for users"
    );
    for path in ["/users", "/audit", "/secrets"] {
        let (status, html) = user.get_html(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("administrator role required"));
    }

    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = adm.get_html("/").await;
    assert!(html.contains("href=\"/users\"") && html.contains("href=\"/secrets\""));
    for path in ["/users", "/audit", "/secrets"] {
        assert_eq!(adm.get_html(path).await.0, StatusCode::OK, "{path}");
    }
    let (_, html) = adm.get_html("/users").await;
    assert!(html.contains("user@example.org"));

    // Changing the password ends the user's browser sessions.
    let resp = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            &user_token,
            json!({"current_password": USER_PASSWORD, "new_password": "another password 456"}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let resp = user.get("/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn run_form_keeps_input_and_shows_problems_then_runs() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "adder", "source": "def main(a: int, b: int = 2, note: str = 'x'):\n    return a + b\n"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    let id = script["id"].as_str().unwrap();

    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, html) = b.get_html(&format!("/scripts/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="a""#) && html.contains(r#"type="number""#));
    assert!(html.contains("return a + b"), "source shown");
    let csrf = csrf_in(&html);

    let resp = b
        .post(
            &format!("/scripts/{id}/run"),
            &[("csrf", &csrf), ("a", "four"), ("note", "keep me")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("enter a whole number"));
    assert!(html.contains(r#"value="four""#) && html.contains(r#"value="keep me""#));

    let resp = b
        .post(
            &format!("/scripts/{id}/run"),
            &[("csrf", &csrf), ("a", "40"), ("b", "2")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let job_url = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(job_url.starts_with("/jobs/"));
    let job_id = job_url.trim_start_matches("/jobs/");
    // Wait through the API for the outcome, then check the page shows it.
    for _ in 0..200 {
        let j: Value = app
            .get(&format!("/api/v1/jobs/{job_id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if j["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, html) = b.get_html(&job_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-status="succeeded""#), "{html}");
    assert!(
        html.contains(r#"<pre class="mono" id="result">42</pre>"#),
        "{html}"
    );

    // Someone else's job does not exist for a user.
    let (_, _) = app.create_user(&admin, "other@example.org").await;
    let mut other = Browser::new(&app.base);
    other.login("other@example.org", USER_PASSWORD).await;
    assert_eq!(other.get_html(&job_url).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn theme_preference_is_saved_and_applied() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = b.get_html("/scripts").await;
    assert!(html.contains(r#"data-theme="system""#));
    let csrf = csrf_in(&html);
    let resp = b
        .post(
            "/theme",
            &[("csrf", &csrf), ("theme", "dark"), ("back", "/scripts?q=a")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/scripts?q=a");
    let (_, html) = b.get_html("/").await;
    assert!(html.contains(r#"data-theme="dark""#));
    let me: Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
    assert_eq!(me["theme"], "dark");

    // No open redirect, and a bad value is the API's 422.
    let resp = b
        .post(
            "/theme",
            &[
                ("csrf", &csrf),
                ("theme", "light"),
                ("back", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(resp.headers()[LOCATION], "/");
    let resp = b
        .post(
            "/theme",
            &[("csrf", &csrf), ("theme", "pink"), ("back", "/")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn new_script_form_keeps_input_on_error_and_creates_the_script() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = b.get_html("/scripts").await;
    assert!(html.contains("No scripts yet.") && html.contains(r#"href="/scripts/new""#));
    let (status, html) = b.get_html("/scripts/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("def main(name: str = &quot;world&quot;)"),
        "{html}"
    );
    let csrf = csrf_in(&html);

    // The API's checks, with the input kept: a bad name, then a syntax error.
    let broken = "def main(:\n    pass\n";
    for (name, message) in [("broken one", "name must be"), ("broken", "line 1")] {
        let resp = b
            .post(
                "/scripts/new",
                &[("csrf", &csrf), ("name", name), ("source", broken)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = resp.text().await.unwrap();
        assert!(html.contains(&format!(r#"value="{name}""#)) && html.contains("def main(:"));
        assert!(html.contains(message), "{message}: {html}");
    }

    let resp = b
        .post(
            "/scripts/new",
            &[
                ("csrf", &csrf),
                ("name", "hello"),
                ("source", "def main(who: str):\r\n    return who\r\n"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = b.get_html(&page).await;
    assert!(html.contains(r#"name="who""#) && html.contains("return who"));
    assert!(!html.contains('\r'), "line breaks normalised");
}
