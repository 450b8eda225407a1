//! Admin pages over plain HTTP: only for admins; users, secrets, audit log and settings
//! through the API's rules, with input kept on error.

use crate::account::href_before;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD, spawn_app, spawn_app_with};
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

fn location(resp: &reqwest::Response) -> String {
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn admin_pages_and_forms_are_refused_to_users_and_hidden_from_their_navigation() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (user_id, _) = app.create_user(&admin, "user@example.org").await;
    let mut user = Browser::new(&app.base);
    user.login("user@example.org", USER_PASSWORD).await;
    let (_, html) = user.get_html("/").await;
    assert!(html.contains(r#"href="/tokens""#) && html.contains(r#"href="/profile""#));
    for admin_link in ["/users", "/audit", "/nodes", "/secrets", "/settings"] {
        assert!(
            !html.contains(&format!(r#"href="{admin_link}""#)),
            "{admin_link}"
        );
    }
    let csrf = csrf_in(&html);
    let own = format!("/users/{user_id}");
    for path in [
        "/users",
        own.as_str(),
        "/audit",
        "/nodes",
        "/secrets",
        "/settings",
    ] {
        let (status, html) = user.get_html(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("administrator role required"), "{path}");
    }
    for (path, fields) in [
        (
            "/users",
            vec![
                ("email", "x@example.org"),
                ("password", "long enough pw"),
                ("role", "admin"),
            ],
        ),
        (own.as_str(), vec![("action", "role"), ("role", "admin")]),
        ("/secrets", vec![("name", "TOKEN"), ("value", "v")]),
        ("/secrets/TOKEN/delete", vec![]),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let resp = user.post(path, &fields).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    let me: serde_json::Value = app
        .get(&format!("/api/v1/users/{user_id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "user", "nothing changed");

    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = adm.get_html("/").await;
    for link in [
        "/users",
        "/audit",
        "/nodes",
        "/secrets",
        "/settings",
        "/tokens",
    ] {
        assert!(html.contains(&format!(r#"href="{link}""#)), "{link}");
    }
    for path in [
        "/users",
        own.as_str(),
        "/audit",
        "/nodes",
        "/secrets",
        "/settings",
    ] {
        assert_eq!(adm.get_html(path).await.0, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_nodes_page_shows_this_node_alive_with_its_role_and_workers() {
    let app = spawn_app_with(|c| c.workers = 3).await;
    app.setup_admin().await;
    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, html) = adm.get_html("/nodes").await;
    assert_eq!(status, StatusCode::OK);
    let row = html
        .split("<tr>")
        .find(|row| row.contains("(this node)"))
        .expect("this node is listed");
    assert!(row.contains("<td>all</td>"), "{row}");
    assert!(row.contains(r#"class="badge ok">alive"#), "{row}");
    assert!(row.contains("/ 3"), "{row}");
}

#[tokio::test]
async fn users_are_created_changed_disabled_and_reset_under_the_api_rules() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = adm.get_html("/users").await;
    assert!(html.contains("You are the only user."));
    let csrf = csrf_in(&html);

    for (email, password, status, message) in [
        (
            "not-an-email",
            "long enough pw",
            StatusCode::UNPROCESSABLE_ENTITY,
            "email is not a valid address",
        ),
        (
            "ann@example.org",
            "short",
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least 10",
        ),
        (
            ADMIN_EMAIL,
            "long enough pw",
            StatusCode::CONFLICT,
            "already exists",
        ),
    ] {
        let resp = adm
            .post(
                "/users",
                &[
                    ("csrf", &csrf),
                    ("email", email),
                    ("password", password),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(resp.status(), status, "{message}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
        assert!(html.contains(&format!(r#"value="{email}""#)), "email kept");
        assert!(
            html.contains(r#"<option value="admin" selected>"#),
            "role kept"
        );
    }

    let resp = adm
        .post(
            "/users",
            &[
                ("csrf", &csrf),
                ("email", "ann@example.org"),
                ("password", USER_PASSWORD),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = location(&resp);
    assert!(page.ends_with("?done=created"), "{page}");
    let user_page = page.trim_end_matches("?done=created").to_owned();
    let (_, html) = adm.get_html(&page).await;
    assert!(html.contains("User created.") && html.contains("ann@example.org"));

    let mut ann = Browser::new(&app.base);
    ann.login("ann@example.org", USER_PASSWORD).await;
    let post = |action: &'static str, extra: Vec<(&'static str, &'static str)>| {
        let mut f = vec![("action", action)];
        f.extend(extra);
        f
    };

    // Promote, then disable: her session ends and she cannot log in.
    for (action, extra) in [("role", vec![("role", "admin")]), ("disable", vec![])] {
        let mut fields = post(action, extra);
        fields.push(("csrf", &csrf));
        let resp = adm.post(&user_page, &fields).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{action}");
        assert_eq!(location(&resp), format!("{user_page}?done={action}"));
    }
    let (_, html) = adm.get_html(&user_page).await;
    assert!(html.contains(r#"<option value="admin" selected>"#) && html.contains("disabled"));
    assert_eq!(ann.get("/").await.status(), StatusCode::SEE_OTHER);
    let (_, html) = ann.get_html("/login").await;
    let resp = ann
        .post(
            "/login",
            &[
                ("csrf", &csrf_in(&html)),
                ("email", "ann@example.org"),
                ("password", USER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Enable with a new password: she logs in with it.
    for (action, extra) in [
        ("enable", vec![]),
        ("password", vec![("password", "short")]),
    ] {
        let mut fields = post(action, extra);
        fields.push(("csrf", &csrf));
        let resp = adm.post(&user_page, &fields).await;
        if action == "password" {
            assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(resp.text().await.unwrap().contains("at least 10"));
        } else {
            assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        }
    }
    let resp = adm
        .post(
            &user_page,
            &[
                ("csrf", &csrf),
                ("action", "password"),
                ("password", "reset by admin 42"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let mut ann = Browser::new(&app.base);
    ann.login("ann@example.org", "reset by admin 42").await;

    // The last enabled admin cannot demote or disable themself (the API's rule).
    let resp = adm
        .post(
            &user_page,
            &[("csrf", &csrf), ("action", "role"), ("role", "user")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "ann is demoted again");
    let (_, html) = adm.get_html("/users").await;
    let me = href_before(&html, r#"</a> <span class="muted">(you)"#);
    let (_, html) = adm.get_html(&me).await;
    assert!(html.contains("This is your own account"), "{me}");
    for fields in [
        [("action", "role"), ("role", "user")],
        [("action", "disable"), ("role", "")],
    ] {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &csrf));
        let resp = adm.post(&me, &fields).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("last enabled administrator")
        );
    }
    assert_eq!(
        adm.get_html("/users").await.0,
        StatusCode::OK,
        "still admin"
    );
}

#[tokio::test]
async fn secrets_are_saved_replaced_and_deleted_and_their_values_never_shown() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = adm.get_html("/secrets").await;
    assert!(html.contains("No secrets yet."));
    let csrf = csrf_in(&html);

    let value = "s3cret-value-that-must-not-show";
    let resp = adm
        .post(
            "/secrets",
            &[("csrf", &csrf), ("name", "9bad name"), ("value", value)],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("name must be") && html.contains(r#"value="9bad name""#));
    assert!(!html.contains(value), "the value is not put back");

    for round in ["saved", "replaced"] {
        let resp = adm
            .post(
                "/secrets",
                &[("csrf", &csrf), ("name", "API_TOKEN"), ("value", value)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{round}");
        assert_eq!(location(&resp), "/secrets?saved=API_TOKEN");
    }
    let (_, html) = adm.get_html("/secrets?saved=API_TOKEN").await;
    assert!(html.contains("Secret API_TOKEN saved.") && html.contains(">API_TOKEN<"));
    assert!(!html.contains(value));
    let actions: Vec<String> = app
        .audit_actions(&admin)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.contains(&"secret.create".into()) && actions.contains(&"secret.update".into()));

    let resp = adm
        .post("/secrets/API_TOKEN/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = adm.get_html("/secrets").await;
    assert!(html.contains("No secrets yet."));
    let resp = adm
        .post("/secrets/API_TOKEN/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_and_time_and_pages() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "user@example.org").await;
    // Enough entries for two pages of 50.
    for i in 0..55 {
        let theme = if i % 2 == 0 { "dark" } else { "light" };
        let resp = app
            .send_json("PATCH", "/api/v1/me", &admin, json!({"theme": theme}))
            .await;
        assert!(resp.status().is_success());
    }
    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (status, html) = adm.get_html("/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr>").count() - 1, 50, "a page of 50 rows");
    let older = href_before(&html, r#"rel="next""#);
    assert!(older.starts_with("/audit?cursor="), "{older}");
    let (_, html) = adm.get_html(&older).await;
    assert!(html.contains("← Newest") && html.contains("user.create"));

    // Actor by email (the log records ids), and action.
    let (_, html) = adm
        .get_html("/audit?actor=user%40example.org&action=auth.login")
        .await;
    assert_eq!(html.matches("<tr>").count() - 1, 1, "{html}");
    assert!(html.contains("user@example.org") && html.contains(r#"value="auth.login""#));
    let (_, html) = adm.get_html("/audit?action=user.create").await;
    assert!(html.contains("user.create") && !html.contains("user.update_profile"));

    // A time range in the future is empty; a bad time is explained, input kept.
    let (_, html) = adm.get_html("/audit?since=2999-01-01T00%3A00").await;
    assert!(html.contains("No audit entries match."));
    let (_, html) = adm
        .get_html("/audit?since=2000-01-01T00%3A00&until=2999-01-01T00%3A00&action=user.create")
        .await;
    assert_eq!(html.matches("<tr>").count() - 1, 1);
    let (status, html) = adm.get_html("/audit?since=yesterday&action=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("From: enter a date and time") && html.contains(r#"value="yesterday""#));
}

#[tokio::test]
async fn settings_show_the_smtp_server_but_never_its_password() {
    let app = spawn_app_with(|c| {
        c.smtp = Some(automa_runtime::host::SmtpSettings {
            host: "mail.example.org".into(),
            port: 587,
            tls: automa_runtime::host::SmtpTls::Starttls,
            username: Some("robot".into()),
            password: Some("smtp-password-xyz".into()),
            from: "automa@example.org".into(),
        });
    })
    .await;
    app.setup_admin().await;
    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, html) = adm.get_html("/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("mail.example.org:587") && html.contains("STARTTLS"));
    assert!(html.contains("robot") && html.contains("set (not shown)"));
    assert!(!html.contains("smtp-password-xyz"));

    let bare = spawn_app().await;
    bare.setup_admin().await;
    let mut adm = Browser::new(&bare.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        adm.get_html("/settings")
            .await
            .1
            .contains("Email is not configured.")
    );
}
