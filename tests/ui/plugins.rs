//! Plugin pages over plain HTTP: an admin uploads the markdown example through the
//! multipart form, grants and enables it; bad uploads and forged forms change nothing;
//! users get a read-only list of the enabled plugins.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, USER_PASSWORD, spawn_app};
use crate::web::{Browser, csrf_in};
use automa_example_plugins::MARKDOWN_WASM;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

const BOUNDARY: &str = "automa-test-boundary-7d1f";

/// The upload form as a browser sends it: `csrf`, `replace` (when ticked), `file`.
fn upload_body(csrf: Option<&str>, replace: bool, wasm: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut text_field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    if let Some(csrf) = csrf {
        text_field("csrf", csrf);
    }
    if replace {
        text_field("replace", "true");
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plugin.wasm\"\r\n\
             Content-Type: application/wasm\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(wasm);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(b: &Browser, csrf: Option<&str>, replace: bool, wasm: &[u8]) -> Response {
    let cookies: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    b.client
        .post(format!("{}/plugins", b.base))
        .header(COOKIE, cookies.join("; "))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("origin", b.base.clone())
        .header("sec-fetch-site", "same-origin")
        .body(upload_body(csrf, replace, wasm))
        .send()
        .await
        .unwrap()
}

async fn plugin(app: &TestApp, admin: &str, name: &str) -> Value {
    app.get(&format!("/api/v1/plugins/{name}"), admin)
        .await
        .json()
        .await
        .unwrap()
}

/// The plugin page's settings form with these HTTP rules and memory limit.
fn settings<'a>(csrf: &'a str, http: &'a str, memory: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("http", http),
        ("secrets", "MD_TOKEN\nOTHER"),
        ("state", "true"),
        ("memory_mb", memory),
        ("timeout_ms", "5000"),
        ("enabled", "true"),
    ]
}

fn location(resp: &Response) -> String {
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn admin_uploads_reviews_grants_enables_replaces_and_uninstalls_a_plugin() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (status, html) = b.get_html("/plugins").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No plugins installed"), "empty state");
    let folder = app.data_dir().join("plugins").display().to_string();
    assert!(html.contains(&folder), "the empty state names the folder");
    assert!(html.contains(r#"enctype="multipart/form-data""#));
    let csrf = csrf_in(&html);

    let resp = upload(&b, Some(&csrf), false, MARKDOWN_WASM).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/plugins/markdown?done=installed");
    let (_, html) = b.get_html("/plugins").await;
    assert!(html.contains(r#"href="/plugins/markdown""#) && html.contains("disabled"));
    assert!(html.contains("render") && html.contains("headings"));

    let (status, html) = b.get_html("/plugins/markdown?done=installed").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("nothing granted"), "install notice");
    assert!(html.contains("automa.plugins.markdown.render(markdown=&quot;...&quot;)"));
    assert!(html.contains("&quot;plugins&quot;: [&quot;markdown&quot;]"));
    assert!(
        html.contains("&quot;required&quot;"),
        "pretty-printed schema"
    );
    assert!(html.contains(r#"action="/plugins/markdown/delete""#) && html.contains("data-confirm"));

    // A bad rule and a limit that is not a number: refused with the input kept.
    let resp = b
        .post(
            "/plugins/markdown",
            &settings(&csrf, "api.example.com", "lots"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("enter a whole number") && html.contains(r#"value="lots""#));
    let resp = b
        .post(
            "/plugins/markdown",
            &settings(&csrf, "ftp://files.example.com", "64"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("unsupported scheme") && html.contains("ftp://files.example.com"));
    assert!(html.contains("MD_TOKEN\nOTHER"), "secrets kept");
    let resp = b
        .post(
            "/plugins/markdown",
            &settings(&csrf, "api.example.com", "99999"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("memory_mb must be 1 to 4096")
    );
    let p = plugin(&app, &admin, "markdown").await;
    assert_eq!(p["enabled"], false, "refused forms change nothing");
    assert_eq!(
        p["grants"],
        json!({"http": [], "secrets": [], "state": false})
    );

    let resp = b
        .post(
            "/plugins/markdown",
            &settings(&csrf, "api.example.com\n\n*.example.org\n", "64"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/plugins/markdown?done=saved");
    let p = plugin(&app, &admin, "markdown").await;
    assert_eq!(p["enabled"], true);
    assert_eq!(
        p["grants"],
        json!({"http": ["api.example.com", "*.example.org"], "secrets": ["MD_TOKEN", "OTHER"], "state": true})
    );
    assert_eq!(
        (p["memory_mb"].as_i64(), p["timeout_ms"].as_i64()),
        (Some(64), Some(5000))
    );
    let (_, html) = b.get_html("/plugins/markdown").await;
    assert!(html.contains("enabled") && html.contains("*.example.org"));

    // The same name again needs "replace", which keeps the grants.
    let resp = upload(&b, Some(&csrf), false, MARKDOWN_WASM).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(html.contains("already installed") && html.contains("role=\"alert\""));
    let resp = upload(&b, Some(&csrf), true, MARKDOWN_WASM).await;
    assert_eq!(location(&resp), "/plugins/markdown?done=replaced");
    assert_eq!(
        plugin(&app, &admin, "markdown").await["grants"]["state"],
        true
    );

    let audit = app.audit_actions(&admin).await;
    for action in ["plugin.install", "plugin.update", "plugin.replace"] {
        assert!(
            audit.iter().any(|e| e["action"] == action),
            "{action} audited"
        );
    }

    let resp = b.post("/plugins/markdown/delete", &[("csrf", &csrf)]).await;
    assert_eq!(location(&resp), "/plugins?deleted=markdown");
    let (_, html) = b.get_html("/plugins?deleted=markdown").await;
    assert!(html.contains("Plugin markdown uninstalled.") && html.contains("No plugins installed"));
}

#[tokio::test]
async fn bad_uploads_show_the_reason_and_forged_forms_are_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = b.csrf().await;

    let resp = upload(&b, Some(&csrf), true, b"not a component").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("Not installed"));
    assert!(html.contains("not WebAssembly"), "the reason");
    assert!(
        html.contains(r#"name="replace" value="true" checked"#),
        "box kept"
    );
    // Larger than the server-wide 1 MiB body limit: the upload route takes it.
    let resp = upload(&b, Some(&csrf), false, &vec![b'x'; 3 * 1024 * 1024]).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("not WebAssembly"));
    // A core module (the 8-byte header of an empty one) is not a component.
    let resp = upload(&b, Some(&csrf), false, b"\0asm\x01\0\0\0").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("core WebAssembly module, not a component")
    );
    let resp = upload(&b, Some(&csrf), false, b"").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("Choose a .wasm file"));

    for forged in [None, Some("not-the-token")] {
        let resp = upload(&b, forged, false, MARKDOWN_WASM).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{forged:?}");
    }
    let listed: Value = app
        .get("/api/v1/plugins", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "nothing installed");

    // Settings and uninstall forms without the token do nothing either.
    upload(&b, Some(&csrf), false, MARKDOWN_WASM).await;
    let resp = b
        .post(
            "/plugins/markdown",
            &[
                ("memory_mb", "64"),
                ("timeout_ms", "100"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = b.post("/plugins/markdown/delete", &[("csrf", "x")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(plugin(&app, &admin, "markdown").await["enabled"], false);
}

#[tokio::test]
async fn users_see_the_enabled_plugins_read_only_and_cannot_upload_or_change_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "user@example.org").await;
    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = adm.csrf().await;
    upload(&adm, Some(&csrf), false, MARKDOWN_WASM).await;

    let mut user = Browser::new(&app.base);
    user.login("user@example.org", USER_PASSWORD).await;
    let (status, html) = user.get_html("/plugins").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/plugins""#), "in the navigation");
    assert!(
        html.contains("No plugins are enabled"),
        "disabled ones are hidden"
    );

    let resp = app
        .send_json(
            "PATCH",
            "/api/v1/plugins/markdown",
            &admin,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, html) = user.get_html("/plugins").await;
    assert!(html.contains("automa.plugins.markdown.render(markdown=&quot;...&quot;)"));
    assert!(html.contains("&quot;plugins&quot;: [&quot;markdown&quot;]"));
    assert!(!html.contains("multipart/form-data"), "no upload form");
    assert!(
        !html.contains(r#"href="/plugins/markdown""#),
        "no admin page link"
    );
    let csrf = csrf_in(&html);

    assert_eq!(
        user.get_html("/plugins/markdown").await.0,
        StatusCode::FORBIDDEN
    );
    let resp = upload(&user, Some(&csrf), true, MARKDOWN_WASM).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = user
        .post(
            "/plugins/markdown",
            &[
                ("csrf", &csrf),
                ("memory_mb", "64"),
                ("timeout_ms", "100"),
                ("state", "true"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = user
        .post("/plugins/markdown/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let p = plugin(&app, &admin, "markdown").await;
    assert_eq!(p["enabled"], true, "still enabled");
    assert_eq!(p["grants"]["state"], false, "unchanged");
}
