//! One core for every way in (issue 13): the same operation done through the REST API
//! and through the dashboard's form (a real POST with the session cookie and CSRF
//! token) gives the same result and the same audit entry — action, actor, outcome,
//! source address and details — differing only in the resource it names. There is no
//! MCP tool for users, tokens, secrets or the audit log, so MCP is not a way in here.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, USER_PASSWORD, spawn_app};
use crate::web::Browser;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

/// The newest audit entry of `action` on `target`.
async fn entry(app: &TestApp, admin: &str, action: &str, target: &str) -> Value {
    let entries = app.audit_actions(admin).await;
    entries
        .into_iter()
        .find(|e| e["action"] == action && e["target"] == target)
        .unwrap_or_else(|| panic!("no {action} entry for {target}"))
}

/// What must be the same whichever way the operation came in.
fn shape(e: &Value) -> Value {
    json!({
        "actor": e["actor"],
        "action": e["action"],
        "outcome": e["outcome"],
        "source_ip": e["source_ip"],
        "details": e["details"],
    })
}

/// Both entries agree on everything but the target; returns the API's for more checks.
async fn same_entry(app: &TestApp, admin: &str, action: &str, targets: [&str; 2]) -> Value {
    let by_api = entry(app, admin, action, targets[0]).await;
    let by_page = entry(app, admin, action, targets[1]).await;
    assert_eq!(shape(&by_api), shape(&by_page), "{action}");
    by_api
}

async fn admin_id(app: &TestApp, admin: &str) -> String {
    let me: Value = app.get("/api/v1/me", admin).await.json().await.unwrap();
    me["id"].as_str().unwrap().to_owned()
}

/// `POST path` through the API, which must answer 201; the created resource.
async fn created(app: &TestApp, admin: &str, path: &str, body: Value) -> Value {
    let resp = app.send_json("POST", path, admin, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{path}");
    resp.json().await.unwrap()
}

/// A server with its admin: their access token and id, and a browser signed in as them
/// with the session's CSRF token.
pub(crate) async fn both_ways() -> (TestApp, String, String, Browser, String) {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let me = admin_id(&app, &admin).await;
    let mut page = Browser::new(&app.base);
    page.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = page.csrf().await;
    (app, admin, me, page, csrf)
}

#[tokio::test]
async fn a_secret_saved_replaced_refused_and_deleted_is_the_same_through_the_api_and_the_page() {
    let (app, admin, me, mut page, csrf) = both_ways().await;

    for (value, status, action) in [
        ("one", StatusCode::CREATED, "secret.create"),
        ("two", StatusCode::OK, "secret.update"),
    ] {
        let body = json!({"name": "BY_API", "value": value});
        let resp = app.send_json("POST", "/api/v1/secrets", &admin, body).await;
        assert_eq!(resp.status(), status);
        let form = [
            ("csrf", csrf.as_str()),
            ("name", "BY_PAGE"),
            ("value", value),
        ];
        let resp = page.post("/secrets", &form).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[LOCATION], "/secrets?saved=BY_PAGE");
        let e = same_entry(&app, &admin, action, ["secret:BY_API", "secret:BY_PAGE"]).await;
        assert_eq!(e["actor"], me.as_str());
        assert_eq!(e["outcome"], "success");
    }
    let listed: Value = app
        .get("/api/v1/secrets", &admin)
        .await
        .json()
        .await
        .unwrap();
    let rows: Vec<&Value> = listed.as_array().unwrap().iter().collect();
    assert_eq!(rows.len(), 2, "{listed}");
    for row in &rows {
        assert_eq!(row["created_by"], me.as_str(), "{row}");
        assert!(row.get("value").is_none() && row.get("ciphertext").is_none());
    }

    // A refused name: the same status and the same message either way.
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            &admin,
            json!({"name": "1bad", "value": "v"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    let form = [("csrf", csrf.as_str()), ("name", "1bad"), ("value", "v")];
    let resp = page.post("/secrets", &form).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    // The page shows the service's message next to the form (up to its first quote,
    // which the page escapes).
    let unquoted = message.split('\'').next().unwrap();
    assert!(unquoted.len() > 20 && html.contains(unquoted), "{message}");

    let resp = app.delete("/api/v1/secrets/BY_API", &admin).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = page
        .post("/secrets/BY_PAGE/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    same_entry(
        &app,
        &admin,
        "secret.delete",
        ["secret:BY_API", "secret:BY_PAGE"],
    )
    .await;
    let listed: Value = app
        .get("/api/v1/secrets", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn a_token_created_and_revoked_is_the_same_through_the_api_and_the_page() {
    let (app, admin, me, mut page, csrf) = both_ways().await;

    let body = json!({"name": "by-api", "scopes": ["read", "write"]});
    let by_api = created(&app, &admin, "/api/v1/tokens", body).await;
    let resp = page
        .post(
            "/tokens",
            &[
                ("csrf", &csrf),
                ("name", "by-page"),
                ("scope", "write"),
                ("expires", "never"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let html = resp.text().await.unwrap();

    let list: Value = app
        .get("/api/v1/tokens", &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    let find = |name: &str| items.iter().find(|t| t["name"] == name).unwrap().clone();
    let (api_row, page_row) = (find("by-api"), find("by-page"));
    for key in ["scopes", "expires_at", "revoked_at"] {
        assert_eq!(api_row[key], page_row[key], "{key}");
    }
    assert_eq!(page_row["scopes"], json!(["read", "write"]));
    // The page shows its token once, and the token works like the API's.
    let marker = r#"id="token-value""#;
    let input = &html[html.find(marker).expect("the new token is shown")..];
    let value = r#"value=""#;
    let shown = input[input.find(value).unwrap() + value.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        shown.starts_with(page_row["prefix"].as_str().unwrap()),
        "{shown}"
    );
    for token in [by_api["token"].as_str().unwrap(), shown.as_str()] {
        let resp = app.get("/api/v1/me", token).await;
        assert_eq!(resp.status(), StatusCode::OK, "{token}");
    }
    let targets = |row: &Value| format!("token:{}", row["id"].as_str().unwrap());
    let (api_target, page_target) = (targets(&api_row), targets(&page_row));
    let e = entry(&app, &admin, "token.create", &api_target).await;
    let f = entry(&app, &admin, "token.create", &page_target).await;
    assert_eq!(e["actor"], me.as_str());
    assert_eq!(e["details"]["scopes"], "read write");
    assert_eq!(e["details"]["scopes"], f["details"]["scopes"]);
    assert_eq!(e["details"]["expires_at"], f["details"]["expires_at"]);
    for key in ["actor", "outcome", "source_ip"] {
        assert_eq!(e[key], f[key], "{key}");
    }

    let api_id = api_row["id"].as_str().unwrap();
    let page_id = page_row["id"].as_str().unwrap();
    let resp = app
        .delete(&format!("/api/v1/tokens/{api_id}"), &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = page
        .post(&format!("/tokens/{page_id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let e = entry(&app, &admin, "token.revoke", &api_target).await;
    let f = entry(&app, &admin, "token.revoke", &page_target).await;
    for key in ["actor", "outcome", "source_ip"] {
        assert_eq!(e[key], f[key], "{key}");
    }
    for token in [by_api["token"].as_str().unwrap(), shown.as_str()] {
        let resp = app.get("/api/v1/me", token).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "revoked");
    }
}

#[tokio::test]
async fn a_user_created_and_disabled_is_the_same_through_the_api_and_the_page() {
    let (app, admin, me, mut page, csrf) = both_ways().await;

    let body = json!({"email": "api@example.org", "password": USER_PASSWORD, "role": "user"});
    let by_api = created(&app, &admin, "/api/v1/users", body).await;
    let resp = page
        .post(
            "/users",
            &[
                ("csrf", &csrf),
                ("email", "page@example.org"),
                ("password", USER_PASSWORD),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    let page_id = location
        .strip_prefix("/users/")
        .and_then(|rest| rest.strip_suffix("?done=created"))
        .unwrap()
        .to_owned();
    let api_id = by_api["id"].as_str().unwrap().to_owned();
    let targets = [format!("user:{api_id}"), format!("user:{page_id}")];
    let targets = [targets[0].as_str(), targets[1].as_str()];

    let e = entry(&app, &admin, "user.create", targets[0]).await;
    let f = entry(&app, &admin, "user.create", targets[1]).await;
    assert_eq!(e["actor"], me.as_str());
    assert_eq!(
        e["details"],
        json!({"email": "api@example.org", "role": "user"})
    );
    assert_eq!(
        f["details"],
        json!({"email": "page@example.org", "role": "user"})
    );
    for key in ["actor", "outcome", "source_ip"] {
        assert_eq!(e[key], f[key], "{key}");
    }

    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{api_id}"),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = page
        .post(
            &format!("/users/{page_id}"),
            &[("csrf", &csrf), ("action", "disable")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let e = same_entry(&app, &admin, "user.update", targets).await;
    assert_eq!(
        e["details"],
        json!({"role": null, "disabled": true, "password_reset": false, "totp_reset": false})
    );
    for (id, email) in [(&api_id, "api@example.org"), (&page_id, "page@example.org")] {
        let user: Value = app
            .get(&format!("/api/v1/users/{id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(user["disabled"], true, "{user}");
        assert_eq!(user["email"], email);
        let resp = app.login(email, USER_PASSWORD, None).await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{email} is disabled"
        );
    }

    // The last admin cannot be demoted either way: the same 409 and message.
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{me}"),
            &admin,
            json!({"role": "user"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    let resp = page
        .post(
            &format!("/users/{me}"),
            &[("csrf", &csrf), ("action", "role"), ("role", "user")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(resp.text().await.unwrap().contains(&message), "{message}");
}

#[tokio::test]
async fn the_audit_page_shows_the_entries_the_api_reads_with_the_same_filter() {
    let (app, admin, _, mut page, csrf) = both_ways().await;
    for name in ["FIRST", "SECOND"] {
        let resp = page
            .post(
                "/secrets",
                &[("csrf", &csrf), ("name", name), ("value", "v")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let body: Value = app
        .get("/api/v1/audit?action=secret.create", &admin)
        .await
        .json()
        .await
        .unwrap();
    let targets: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["secret:SECOND", "secret:FIRST"], "newest first");
    let (status, html) = page.get_html("/audit?action=secret.create").await;
    assert_eq!(status, StatusCode::OK);
    let shown: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| html.contains(t))
        .collect();
    assert_eq!(shown, targets);
    let second = html.find("secret:SECOND").unwrap();
    let first = html.find("secret:FIRST").unwrap();
    assert!(second < first, "newest first on the page too");
    assert!(!html.contains("setup.complete"), "the filter applies");
    // The actor is shown by email, the API gives the id the log records.
    assert!(html.contains(ADMIN_EMAIL));

    // A bad time is refused by each way in with its own wording.
    let resp = app.get("/api/v1/audit?since=yesterday", &admin).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (status, html) = page.get_html("/audit?since=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("From: enter a date and time"));
}
