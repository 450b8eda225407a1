//! The viewer's own account over plain HTTP: API tokens (shown once, revoked), password
//! change, TOTP enrolment and login with a code, and `?next=` after login.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD, spawn_app};
use crate::login::{now, totp_code};
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"))
        + start.len();
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap()]
}

/// The `href` of the last link that starts before `marker`, unescaped.
pub fn href_before(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let start = html[..at].rfind("href=\"").unwrap() + "href=\"".len();
    html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_api_token_is_shown_once_works_and_is_revoked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "user@example.org").await;
    let mut b = Browser::new(&app.base);
    b.login("user@example.org", USER_PASSWORD).await;

    let (status, html) = b.get_html("/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No API tokens yet."), "empty state");
    assert!(
        !html.contains(r#"value="admin""#),
        "users cannot choose admin"
    );
    let csrf = csrf_in(&html);

    // Without the CSRF token: refused.
    let resp = b
        .post("/tokens", &[("name", "ci"), ("scope", "read")])
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // The API's validation, with the choices kept.
    let resp = create_token(&mut b, &csrf, (" ", "write", "90")).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("name must be 1 to 100 characters"), "{html}");
    assert!(html.contains(r#"value="write" checked"#), "{html}");
    assert!(html.contains(r#"value="90" selected"#));

    // A user asking for the admin scope gets the API's refusal, input kept.
    let resp = create_token(&mut b, &csrf, ("sneaky", "admin", "7")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let html = resp.text().await.unwrap();
    assert!(html.contains("cannot grant a scope") && html.contains(r#"value="sneaky""#));

    let resp = create_token(&mut b, &csrf, ("backup job", "write", "30")).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let html = resp.text().await.unwrap();
    let token = between(
        &html,
        r#"id="token-value" type="text" readonly value=""#,
        "\"",
    )
    .to_owned();
    assert!(token.starts_with("atm_"), "{token}");
    assert!(html.contains("shown only this once") && html.contains("data-copy"));

    // The token works as a bearer token, and is never shown again.
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let (_, html) = b.get_html("/tokens").await;
    assert!(!html.contains(&token) && !html.contains("shown only this once"));
    assert!(html.contains("backup job") && html.contains("read, write"));
    // The last use is recorded off the request path: it shows up shortly.
    let mut html = html;
    for _ in 0..50 {
        if !html.contains("<td>never</td>") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        html = b.get_html("/tokens").await.1;
    }
    assert!(
        !html.contains("<td>never</td>"),
        "last use and expiry shown: {html}"
    );
    let id = between(&html, r#"action="/tokens/"#, "/revoke").to_owned();

    let resp = b
        .post(&format!("/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/tokens");
    assert_eq!(
        app.get("/api/v1/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, html) = b.get_html("/tokens").await;
    assert!(html.contains(r#"data-token-state="revoked""#));

    // Someone else's token id is not found.
    let mut other = Browser::new(&app.base);
    other.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = other.csrf().await;
    let resp = other
        .post(&format!("/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// Posts the new-token form with `(name, scope, expires)`.
async fn create_token(
    b: &mut Browser,
    csrf: &str,
    (name, scope, expires): (&str, &str, &str),
) -> reqwest::Response {
    let fields = [
        ("csrf", csrf),
        ("name", name),
        ("scope", scope),
        ("expires", expires),
    ];
    b.post("/tokens", &fields).await
}

#[tokio::test]
async fn password_change_explains_mistakes_and_keeps_only_this_session() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut elsewhere = Browser::new(&app.base);
    elsewhere.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (status, html) = b.get_html("/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(ADMIN_EMAIL) && html.contains("Change password"));
    let csrf = csrf_in(&html);
    let new = "a new password 789";
    for (current, new_pw, again, message) in [
        ("wrong password", new, new, "Current password is wrong"),
        (
            ADMIN_PASSWORD,
            new,
            "something else",
            "The two new passwords differ",
        ),
        (ADMIN_PASSWORD, "short", "short", "at least 10"),
    ] {
        let resp = b
            .post(
                "/profile/password",
                &[
                    ("csrf", &csrf),
                    ("current_password", current),
                    ("new_password", new_pw),
                    ("confirm_password", again),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
        assert!(
            !html.contains(current) || current == "short",
            "passwords are not echoed"
        );
    }

    let resp = b
        .post(
            "/profile/password",
            &[
                ("csrf", &csrf),
                ("current_password", ADMIN_PASSWORD),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/profile?done=password");
    let (status, html) = b.get_html("/profile?done=password").await;
    assert_eq!(status, StatusCode::OK, "this browser stays signed in");
    assert!(html.contains("Password changed."));
    assert_eq!(
        elsewhere.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "others end"
    );
    let mut again = Browser::new(&app.base);
    again.login(ADMIN_EMAIL, new).await;
}

#[tokio::test]
async fn totp_is_enrolled_with_a_qr_code_then_needed_at_login_and_disabled() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = b.get_html("/profile").await;
    assert!(html.contains("Set up two-factor authentication"));
    let csrf = csrf_in(&html);

    let resp = b.post("/profile/totp", &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"<div class="qr" role="img""#) && html.contains("<svg"));
    let secret = between(&html, r#"id="totp-secret">"#, "<").to_owned();
    assert!(secret.len() >= 16, "{secret}");

    // A wrong code: the same secret is shown again with the error.
    let resp = b
        .post(
            "/profile/totp/confirm",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Invalid TOTP code") && html.contains(&secret),
        "{html}"
    );

    let code = totp_code(&secret, now());
    let resp = b
        .post("/profile/totp/confirm", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/profile?done=totp_on");
    let (_, html) = b.get_html("/profile?done=totp_on").await;
    assert!(html.contains("Two-factor authentication is on") && !html.contains(&secret));

    // Logging in now asks for a code (the next step's: the current one was used).
    let mut fresh = Browser::new(&app.base);
    let (_, html) = fresh.get_html("/login").await;
    let resp = fresh
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"name="totp""#));
    let code = totp_code(&secret, now() + 30);
    let resp = fresh
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("totp", &code),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(fresh.cookies.contains_key("automa_session"));

    // Turning it off needs the password; this browser stays signed in.
    let resp = b
        .post(
            "/profile/totp/disable",
            &[("csrf", &csrf), ("password", "not it at all")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("Password is wrong."));
    let resp = b
        .post(
            "/profile/totp/disable",
            &[("csrf", &csrf), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (status, html) = b.get_html("/profile?done=totp_off").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Two-factor authentication is off."));
    assert!(html.contains("Set up two-factor authentication"));
}

#[tokio::test]
async fn login_returns_to_the_page_asked_for_and_only_to_this_site() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut b = Browser::new(&app.base);

    let resp = b.get("/jobs?status=failed").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let login = location(&resp);
    assert_eq!(login, "/login?next=%2Fjobs%3Fstatus%3Dfailed");
    // Not for htmx fragments or event streams.
    for (header, value) in [("hx-request", "true"), ("accept", "text/event-stream")] {
        let resp = b
            .client
            .get(format!("{}/jobs?status=failed", app.base))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(location(&resp), "/login", "{header}");
    }
    let (_, html) = b.get_html(&login).await;
    assert!(
        html.contains(r#"name="next" value="/jobs?status=failed""#),
        "{html}"
    );
    assert_eq!(
        log_in_to(&mut b, "/jobs?status=failed").await,
        "/jobs?status=failed"
    );

    // Signed in, the login page sends a safe `next` on, anything else home.
    for (next, expected) in [
        ("/tokens", "/tokens"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("evil.example", "/"),
    ] {
        let url = format!(
            "/login?next={}",
            crate::web::form_body(&[("", next)]).trim_start_matches('=')
        );
        let resp = b.get(&url).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&resp), expected, "{next:?}");
    }

    // And the form refuses a foreign `next` too.
    let mut other = Browser::new(&app.base);
    assert_eq!(log_in_to(&mut other, "//evil.example").await, "/");
}

/// Logs in as the admin through the form with `next`; returns where it redirects.
async fn log_in_to(b: &mut Browser, next: &str) -> String {
    let (_, html) = b.get_html("/login").await;
    let resp = b
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", next),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    location(&resp)
}
