//! Host plugins: install, grant, call from scripts, and contain misbehaving ones. Uses
//! the example plugins built from source (markdown in Rust, chat-notify in Python) and
//! the test plugin `testkit`.

use crate::helpers::{TestApp, error_code, serve_on, spawn_app};
use automa_example_plugins::{CHAT_NOTIFY_WASM, MARKDOWN_WASM, TESTKIT_WASM};
use axum::routing::post;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

async fn upload(app: &TestApp, token: &str, wasm: &[u8], query: &str) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/plugins{query}")))
        .bearer_auth(token)
        .header("content-type", "application/wasm")
        .body(wasm.to_vec())
        .send()
        .await
        .unwrap()
}

async fn install(app: &TestApp, admin: &str, wasm: &[u8], settings: Value) -> Value {
    let resp = upload(app, admin, wasm, "").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let plugin: Value = resp.json().await.unwrap();
    let name = plugin["name"].as_str().unwrap();
    let resp = app
        .send_json("PATCH", &format!("/api/v1/plugins/{name}"), admin, settings)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Create a script (as admin, with `plugins` granted) and run it; the finished job.
async fn run_script(
    app: &TestApp,
    admin: &str,
    name: &str,
    plugins: &[&str],
    source: &str,
) -> Value {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            admin,
            json!({"name": name, "source": source, "capabilities": {"plugins": plugins}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    app.run_wait(admin, script["id"].as_str().unwrap(), json!({}))
        .await
}

#[tokio::test]
async fn install_review_enable_and_call_from_a_script() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, user) = app.create_user(&admin, "user@example.org").await;

    assert_eq!(
        upload(&app, &user, MARKDOWN_WASM, "").await.status(),
        StatusCode::FORBIDDEN,
        "only admins install plugins"
    );
    let resp = upload(&app, &admin, MARKDOWN_WASM, "").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let plugin: Value = resp.json().await.unwrap();
    assert_eq!(plugin["name"], "markdown");
    assert_eq!(plugin["enabled"], false, "new plugins start disabled");
    assert_eq!(plugin["requested"], json!([]));
    let functions: Vec<&str> = plugin["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(functions, ["render", "headings"]);
    assert_eq!(
        upload(&app, &admin, MARKDOWN_WASM, "").await.status(),
        StatusCode::CONFLICT,
        "a second upload of the same name needs replace=true"
    );
    assert_eq!(
        upload(&app, &admin, MARKDOWN_WASM, "?replace=true")
            .await
            .status(),
        StatusCode::OK
    );
    // Users see plugins and their functions, not the grants.
    let listed: Value = app
        .get("/api/v1/plugins", &user)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["name"], "markdown");
    assert!(listed[0]["grants"].is_null());

    let source = r##"
import automa

def main():
    try:
        automa.plugins.markdown.render(markdown="# x")
    except LookupError as e:
        disabled = str(e)
    return {"disabled": disabled}
"##;
    let job = run_script(&app, &admin, "before-enable", &["markdown"], source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert!(
        job["result"]["disabled"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "{job}"
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

    let source = r##"
import automa

def main():
    html = automa.plugins.markdown.render(markdown="# Hello\n\nSome *text*.")["html"]
    heads = automa.plugins.call("markdown", "headings", markdown="# A\n## B")["headings"]
    manifest = automa.plugins.describe("markdown")
    return {"html": html, "heads": [h["text"] for h in heads], "version": manifest["version"]}
"##;
    let job = run_script(&app, &admin, "uses-markdown", &["markdown"], source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["result"]["html"],
        "<h1>Hello</h1>\n<p>Some <em>text</em>.</p>\n"
    );
    assert_eq!(job["result"]["heads"], json!(["A", "B"]));

    // Host calls reach the audit log through a queue: wait for the script's call.
    let actions: Vec<String> = app
        .audit_until(&admin, |entries| {
            entries.iter().any(|e| e["action"] == "host.plugins.call")
        })
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in [
        "plugin.install",
        "plugin.replace",
        "plugin.update",
        "host.plugins.call",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn calls_need_a_grant_and_arguments_that_fit_the_schema() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    install(&app, &admin, MARKDOWN_WASM, json!({"enabled": true})).await;

    let source = r##"
import automa

def main():
    try:
        automa.plugins.markdown.render(markdown="# x")
    except PermissionError as e:
        return {"denied": str(e)}
"##;
    let job = run_script(&app, &admin, "not-granted", &[], source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let denied = job["result"]["denied"].as_str().unwrap();
    assert!(denied.contains("not granted"), "{denied}");

    let source = r##"
import automa

def main():
    out = {}
    for name, kwargs in [("missing", {}), ("typo", {"markdwn": "x"}), ("type", {"markdown": 5})]:
        try:
            automa.plugins.markdown.render(**kwargs)
        except ValueError as e:
            out[name] = str(e)
    try:
        automa.plugins.markdown.nothing()
    except LookupError as e:
        out["unknown"] = str(e)
    try:
        automa.plugins.absent.thing()
    except PermissionError as e:
        out["absent"] = str(e)
    try:
        automa.plugins.markdown.render(markdown="x" * 2_000_000)
    except automa.errors.TooLargeError as e:
        out["big"] = str(e)
    return out
"##;
    let job = run_script(&app, &admin, "bad-args", &["markdown"], source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let out = &job["result"];
    assert!(
        out["missing"]
            .as_str()
            .unwrap()
            .contains("\"markdown\" is a required property"),
        "{out}"
    );
    assert!(out["typo"].as_str().unwrap().contains("markdwn"), "{out}");
    assert!(out["type"].as_str().unwrap().contains("/markdown"), "{out}");
    assert!(
        out["unknown"]
            .as_str()
            .unwrap()
            .contains("render, headings"),
        "{out}"
    );
    assert!(
        out["absent"].as_str().unwrap().contains("not granted"),
        "{out}"
    );
    assert!(
        out["big"].as_str().unwrap().contains("limited to 1024 KiB"),
        "{out}"
    );
    // Uninstalled, the plugin is gone for scripts too.
    let resp = app.delete("/api/v1/plugins/markdown", &admin).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app.delete("/api/v1/plugins/markdown", &admin).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let source = r##"
import automa

def main():
    try:
        automa.plugins.markdown.render(markdown="x")
    except LookupError as e:
        return str(e)
"##;
    let job = run_script(&app, &admin, "after-delete", &["markdown"], source).await;
    assert!(
        job["result"].as_str().unwrap().contains("no plugin named"),
        "{job}"
    );
}

#[tokio::test]
async fn malformed_and_hostile_components_are_rejected_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("text", b"definitely not wasm".to_vec(), "not WebAssembly"),
        (
            "core module",
            b"\0asm\x01\0\0\0".to_vec(),
            "core WebAssembly module",
        ),
        (
            "truncated",
            MARKDOWN_WASM[..MARKDOWN_WASM.len() / 2].to_vec(),
            "malformed",
        ),
        (
            "runner (imports email, files, agent, plugins)",
            automa_python_wasm::RUNNER_COMPONENT.to_vec(),
            "automa:host/email@0.1.0",
        ),
    ];
    for (what, wasm, expected) in cases {
        let resp = upload(&app, &admin, &wasm, "").await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let body: Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{what}: {message}");
    }
    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(&admin)
        .json(&json!({"wasm": "..."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let listed: Value = app
        .get("/api/v1/plugins", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "nothing was installed");

    // Bad grants and limits are refused with the reason.
    install(&app, &admin, MARKDOWN_WASM, json!({})).await;
    for bad in [
        json!({"grants": {"http": ["ftp://x"]}}),
        json!({"grants": {"email": ["a@b.c"]}}),
        json!({"timeout_ms": 0}),
    ] {
        let resp = app
            .send_json("PATCH", "/api/v1/plugins/markdown", &admin, bad.clone())
            .await;
        assert!(resp.status().is_client_error(), "{bad}");
        error_code(resp).await;
    }
}

#[tokio::test]
async fn misbehaving_plugins_leave_the_script_a_clear_error() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    install(
        &app,
        &admin,
        TESTKIT_WASM,
        json!({"enabled": true, "timeout_ms": 500, "memory_mb": 32}),
    )
    .await;
    let source = r##"
import automa
from automa.errors import HostError

def main():
    out = {}
    try:
        automa.plugins.testkit.spin()
    except TimeoutError as e:
        out["spin"] = str(e)
    try:
        automa.plugins.testkit.crash()
    except HostError as e:
        out["crash"] = str(e)
    try:
        automa.plugins.testkit.hog()
    except HostError as e:
        out["hog"] = str(e)
    out["echo"] = automa.plugins.testkit.echo(still="alive")
    return out
"##;
    let job = run_script(&app, &admin, "contained", &["testkit"], source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let out = &job["result"];
    assert!(
        out["spin"].as_str().unwrap().contains("within 500 ms"),
        "{out}"
    );
    assert!(
        out["crash"].as_str().unwrap().contains("crashed in crash"),
        "{out}"
    );
    assert!(
        out["hog"]
            .as_str()
            .unwrap()
            .contains("memory limit of 32 MiB"),
        "{out}"
    );
    assert_eq!(out["echo"], json!({"still": "alive"}));
}

/// A loopback HTTP server that records the bodies it is sent.
async fn recording_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(body);
                "ok"
            }
        })
        .get(|| async { "hello from the hook" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (port, seen)
}

#[tokio::test]
async fn plugin_state_and_http_reach_only_as_far_as_granted() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (port, _) = recording_server().await;
    install(&app, &admin, TESTKIT_WASM, json!({"enabled": true})).await;
    let source = format!(
        r##"
import automa

def main():
    out = {{}}
    for name, call in [("count", lambda: automa.plugins.testkit.count()),
                       ("fetch", lambda: automa.plugins.testkit.fetch(url="http://127.0.0.1:{port}/hook"))]:
        try:
            out[name] = call()
        except Exception as e:
            out[name] = type(e).__name__ + ": " + str(e)
    return out
"##
    );
    let job = run_script(&app, &admin, "ungranted", &["testkit"], &source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let out = &job["result"];
    assert!(
        out["fetch"]
            .as_str()
            .unwrap()
            .starts_with("PermissionError"),
        "{out}"
    );
    assert!(
        out["fetch"]
            .as_str()
            .unwrap()
            .contains("An admin can grant it in the plugin's grants"),
        "the denial names where to grant it: {out}"
    );
    assert!(
        out["count"]
            .as_str()
            .unwrap()
            .contains("the plugin \"testkit\" has no state"),
        "state is not granted: {out}"
    );

    let resp = app
        .send_json(
            "PATCH",
            "/api/v1/plugins/testkit",
            &admin,
            json!({"grants": {"http": [format!("127.0.0.1:{port}")], "state": true}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "granted", "source": source, "capabilities": {"plugins": ["testkit"]}}),
        )
        .await;
    let script: Value = resp.json().await.unwrap();
    let id = script["id"].as_str().unwrap();
    let first = app.run_wait(&admin, id, json!({})).await;
    let second = app.run_wait(&admin, id, json!({})).await;
    assert_eq!(first["result"]["count"], json!({"count": 1}), "{first}");
    assert_eq!(
        second["result"]["count"],
        json!({"count": 2}),
        "state persists: {second}"
    );
    assert_eq!(
        first["result"]["fetch"],
        json!({"status": 200, "body": "hello from the hook"})
    );
    // The plugin's log line lands in the calling job's log, marked with its name.
    let logs = app
        .get(
            &format!("/api/v1/jobs/{}/logs", second["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(logs.contains("[testkit] count is 2"), "{logs}");

    // A secret granted to the plugin does not reach the script or the job's log.
    let value = "plugin-only-secret-8810";
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            &admin,
            json!({"name": "PLUGIN_TOKEN", "value": value}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .send_json(
            "PATCH",
            "/api/v1/plugins/testkit",
            &admin,
            json!({"grants": {"secrets": ["PLUGIN_TOKEN"]}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let source = r##"
import automa

def main():
    return automa.plugins.testkit.reveal(name="PLUGIN_TOKEN")
"##;
    let job = run_script(&app, &admin, "reveal", &["testkit"], source).await;
    assert_eq!(job["result"], json!({"value": "[REDACTED]"}), "{job}");
    let logs = app
        .get(
            &format!("/api/v1/jobs/{}/logs", job["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(logs.contains("the secret is [REDACTED]"), "{logs}");
    assert!(logs.contains("printed [REDACTED] in two writes"), "{logs}");
    assert!(!logs.contains(value), "{logs}");
}

#[tokio::test]
async fn python_chat_notify_plugin_posts_through_the_granted_host() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (port, seen) = recording_server().await;
    let hook = format!("http://127.0.0.1:{port}/hook");
    let plugin = install(
        &app,
        &admin,
        CHAT_NOTIFY_WASM,
        json!({"enabled": true, "grants": {"http": [format!("127.0.0.1:{port}")], "secrets": ["CHAT_WEBHOOK_URL"]}}),
    )
    .await;
    assert_eq!(
        plugin["requested"],
        json!([{"kind": "http", "value": "hooks.slack.com"}, {"kind": "secret", "value": "CHAT_WEBHOOK_URL"}])
    );
    let resp = app
        .send_json(
            "POST",
            "/api/v1/secrets",
            &admin,
            json!({"name": "CHAT_WEBHOOK_URL", "value": hook}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    let source = format!(
        r##"
import automa

def main():
    direct = automa.plugins.chat_notify.send(text="deploy done", username="automa", webhook_url="{hook}")
    from_secret = automa.plugins.chat_notify.send(text="via the secret")
    try:
        automa.plugins.chat_notify.send(text="elsewhere", webhook_url="http://127.0.0.2:{port}/hook")
    except PermissionError as e:
        denied = str(e)
    return {{"direct": direct, "from_secret": from_secret, "denied": denied}}
"##
    );
    let job = run_script(&app, &admin, "notify", &["chat-notify"], &source).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["direct"], json!({"status": 200}));
    assert_eq!(job["result"]["from_secret"], json!({"status": 200}));
    let seen: Vec<Value> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(seen[0]["text"], "deploy done");
    assert_eq!(seen[0]["username"], "automa");
    assert_eq!(seen[1]["text"], "via the secret");
    assert_eq!(seen.len(), 2, "the denied host got nothing");

    // The call that used the secret webhook URL is audited without it (host calls
    // reach the audit log through a queue, so wait for all three).
    let is_hook_send =
        |e: &Value| e["actor"] == "plugin:chat-notify" && e["action"] == "host.http.send";
    let targets: Vec<String> = app
        .audit_until(&admin, |entries| {
            entries.iter().filter(|e| is_hook_send(e)).count() >= 3
        })
        .await
        .iter()
        .filter(|e| is_hook_send(e))
        .map(|e| e["target"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        targets.contains(&"POST [REDACTED]".to_owned()),
        "{targets:?}"
    );
    assert_eq!(
        targets.iter().filter(|t| t.contains(&hook)).count(),
        1,
        "only the call given the URL directly names it: {targets:?}"
    );
}

/// Sign in on a server started by `serve_on`, running first-run setup if asked to.
async fn sign_in(base: &str, setup: Option<String>) -> String {
    let client = reqwest::Client::new();
    let credentials = json!({"email": "a@example.org", "password": "a long password"});
    if let Some(token) = setup {
        let mut body = credentials.clone();
        body["token"] = json!(token);
        let resp = client
            .post(format!("{base}/api/v1/setup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}

async fn get_json(base: &str, path: &str, token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn folder_plugins_install_disabled_and_never_roll_back_an_upload() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let folder = data.join("plugins");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("markdown.wasm"), MARKDOWN_WASM).unwrap();
    std::fs::write(folder.join("broken.wasm"), b"not a plugin").unwrap();

    let (base, stop, setup) = serve_on(&data).await;
    let token = sign_in(&base, setup).await;
    let listed = get_json(&base, "/api/v1/plugins", &token).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "the broken file is skipped: {listed:?}");
    assert_eq!(listed[0]["name"], "markdown");
    assert_eq!(listed[0]["source"], "folder");
    assert_eq!(listed[0]["enabled"], false);
    assert_eq!(
        listed[0]["grants"],
        json!({"http": [], "secrets": [], "state": false})
    );

    // An admin uploads another build of the same plugin (here: the same component
    // with a custom section appended, so its digest differs).
    let mut newer = MARKDOWN_WASM.to_vec();
    newer.extend_from_slice(&[0x00, 14, 11]);
    newer.extend_from_slice(b"automa-testv2");
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/plugins?replace=true"))
        .bearer_auth(&token)
        .header("content-type", "application/wasm")
        .body(newer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let uploaded: Value = resp.json().await.unwrap();
    assert_eq!(uploaded["source"], "upload");
    assert_ne!(uploaded["sha256"], listed[0]["sha256"]);
    stop.shutdown().await;

    // After a restart the folder's older file does not replace the upload.
    let (base, stop, _) = serve_on(&data).await;
    let token = sign_in(&base, None).await;
    let plugin = get_json(&base, "/api/v1/plugins/markdown", &token).await;
    assert_eq!(plugin["sha256"], uploaded["sha256"], "{plugin}");
    assert_eq!(plugin["source"], "upload");
    stop.shutdown().await;
}
