//! The schedule and agent pages over plain HTTP: validation keeps the input and says
//! what is wrong, the preview explains a bad cron pattern, forms without the CSRF
//! token are refused, and other users' schedules and agents do not exist.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, USER_PASSWORD, spawn_app};
use crate::jobs::create_script;
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The agent example of the README, so the documented agent is the one tested here.
pub fn readme_agent() -> &'static str {
    let readme = include_str!("../../README.md");
    let section = &readme[readme.find("## Agents").expect("an Agents section")..];
    let start = section.find("```python\n").expect("a Python example") + "```python\n".len();
    let len = section[start..].find("```").expect("the example's end");
    &section[start..start + len]
}

/// A form POST of owned values.
async fn send(b: &mut Browser, path: &str, fields: &[(&'static str, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &pairs).await
}

async fn api_json(app: &TestApp, path: &str, token: &str) -> Value {
    app.get(path, token).await.json().await.unwrap()
}

#[tokio::test]
async fn schedule_forms_validate_keep_input_preview_and_need_the_token() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, html) = b.get_html("/schedules").await;
    assert!(html.contains("No scripts to schedule yet.") && html.contains("/scripts/new"));
    let script_id = create_script(
        &app,
        &admin,
        "greet",
        "def main(name: str):\n    return name\n",
    )
    .await;
    let (_, html) = b.get_html("/schedules").await;
    assert!(html.contains("Nothing scheduled yet.") && html.contains("/schedules/new"));

    // The form: every zone, the script's parameters, and five runs of the default.
    let (status, html) = b.get_html("/schedules/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<option value="Europe/Berlin">"#));
    assert!(html.contains(r#"<option value="America/Argentina/Buenos_Aires">"#));
    assert!(html.contains("name: str"), "parameters hint");
    assert_eq!(html.matches("UTC)</span></li>").count(), 5, "{html}");
    let csrf = csrf_in(&html);

    // The live preview: runs in the zone, or why there are none.
    let (_, frag) = b
        .get_html("/schedules/preview?kind=cron&cron=0+9+*+*+*&timezone=Asia%2FTokyo")
        .await;
    assert_eq!(frag.matches("09:00 JST").count(), 5, "{frag}");
    let (_, frag) = b
        .get_html("/schedules/preview?kind=cron&cron=61+*+*+*+*&timezone=UTC")
        .await;
    assert!(frag.contains("invalid cron pattern") && frag.contains("role=\"alert\""));
    let (_, frag) = b
        .get_html("/schedules/preview?kind=interval&every_seconds=soon&timezone=UTC")
        .await;
    assert!(frag.contains("enter a whole number of seconds"), "{frag}");

    let form = |cron: &'static str, args: &'static str| {
        vec![
            ("script_id", script_id.clone()),
            ("kind", "cron".to_owned()),
            ("cron", cron.to_owned()),
            ("every_seconds", "3600".to_owned()),
            ("at", String::new()),
            ("timezone", "Europe/Berlin".to_owned()),
            ("args", args.to_owned()),
            ("enabled", "true".to_owned()),
            ("overlap", "queue".to_owned()),
            ("catch_up", "skip".to_owned()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>, token: Option<&str>| {
        let mut fields = fields;
        if let Some(t) = token {
            fields.push(("csrf", t.to_owned()));
        }
        fields
    };

    // A bad cron pattern is explained next to its field, and nothing typed is lost.
    let resp = send(
        &mut b,
        "/schedules/new",
        &post(form("61 * * * *", r#"{"name": "Ada"}"#), Some(&csrf)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("invalid cron pattern"), "{html}");
    assert!(html.contains(r#"value="61 * * * *""#));
    assert!(html.contains(r#"<option value="Europe/Berlin" selected>"#));
    assert!(
        html.contains("{&quot;name&quot;: &quot;Ada&quot;}"),
        "args kept"
    );
    assert!(html.contains(r#"<option value="queue" selected>"#));

    // The API's own check of the arguments, shown at the arguments.
    let resp = send(
        &mut b,
        "/schedules/new",
        &post(form("0 9 * * MON-FRI", "{}"), Some(&csrf)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("missing required argument"), "{html}");
    assert!(html.contains(r#"value="0 9 * * MON-FRI""#));

    // Without the token: refused, nothing created.
    let resp = send(
        &mut b,
        "/schedules/new",
        &post(form("0 9 * * MON-FRI", r#"{"name": "Ada"}"#), None),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let list = api_json(&app, "/api/v1/schedules", &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    let resp = send(
        &mut b,
        "/schedules/new",
        &post(form("0 9 * * MON-FRI", r#"{"name": "Ada"}"#), Some(&csrf)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/schedules");
    let list = api_json(&app, "/api/v1/schedules", &admin).await;
    let s = list["items"][0].clone();
    assert_eq!(s["timezone"], "Europe/Berlin");
    assert_eq!(s["args"], json!({"name": "Ada"}));
    assert_eq!(
        (s["overlap"].as_str(), s["catch_up"].as_str()),
        (Some("queue"), Some("skip"))
    );
    let id = s["id"].as_str().unwrap().to_owned();
    let (_, html) = b.get_html("/schedules").await;
    assert!(html.contains("0 9 * * MON-FRI") && html.contains("Europe/Berlin"));
    assert!(html.contains(&format!(r#"data-schedule="{id}""#)));
    let (_, html) = b
        .get_html(&format!("/schedules?script_id={script_id}"))
        .await;
    assert!(html.contains("Schedules of"), "per-script list");

    // Disable in place; without the token nothing changes.
    let toggle = format!("/schedules/{id}/enabled");
    let resp = b
        .post(&toggle, &[("enabled", "false"), ("back", "/schedules")])
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = b
        .post(
            &toggle,
            &[
                ("csrf", &csrf),
                ("enabled", "false"),
                ("back", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/schedules", "no open redirect");
    let s = api_json(&app, &format!("/api/v1/schedules/{id}"), &admin).await;
    assert_eq!(s["enabled"], false);

    // Edit: the stored values are in the form; a bad interval keeps the input.
    let (_, html) = b.get_html(&format!("/schedules/{id}")).await;
    assert!(html.contains(r#"value="0 9 * * MON-FRI""#) && html.contains("Delete schedule"));
    let edit = format!("/schedules/{id}");
    let fields = [
        ("csrf", csrf.as_str()),
        ("kind", "interval"),
        ("every_seconds", "ninety"),
        ("timezone", "Europe/Berlin"),
        ("args", r#"{"name": "Bo"}"#),
        ("overlap", "skip"),
        ("catch_up", "run_once"),
    ];
    let resp = b.post(&edit, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("enter a whole number of seconds") && html.contains(r#"value="ninety""#));
    let mut fields = fields;
    fields[2].1 = "90";
    let resp = b.post(&edit, &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let s = api_json(&app, &format!("/api/v1/schedules/{id}"), &admin).await;
    assert_eq!(
        (s["kind"].as_str(), s["every_seconds"].as_i64()),
        (Some("interval"), Some(90))
    );
    assert_eq!(s["enabled"], false, "an unchecked box disables");
    let resp = b.post(&edit, &fields[1..]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "edit needs the token");

    // Another user sees none of it.
    app.create_user(&admin, "user@example.org").await;
    let mut other = Browser::new(&app.base);
    other.login("user@example.org", USER_PASSWORD).await;
    assert_eq!(other.get_html(&edit).await.0, StatusCode::NOT_FOUND);
    let (_, html) = other.get_html("/schedules").await;
    assert!(!html.contains(&id));

    let resp = b.post(&format!("/schedules/{id}/delete"), &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = b
        .post(&format!("/schedules/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = app.get(&format!("/api/v1/schedules/{id}"), &admin).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

async fn wait_state(app: &TestApp, token: &str, id: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = api_json(app, &format!("/api/v1/agents/{id}"), token).await;
        if a["state"] == state {
            return;
        }
        assert!(Instant::now() < deadline, "never {state}: {a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn agent_forms_validate_keep_input_act_and_need_the_token() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = b.get_html("/agents").await;
    assert!(html.contains("No scripts to run as an agent yet."));
    let script_id = create_script(&app, &admin, "echo", readme_agent()).await;
    let (_, html) = b.get_html("/agents").await;
    assert!(html.contains("No agents yet.") && html.contains(r#"href="/agents/new""#));
    let (status, html) = b.get_html("/agents/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"<option value="{script_id}" selected>echo"#)));
    let csrf = csrf_in(&html);

    let form = |name: &'static str, args: &'static str, memory: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("script_id", script_id.clone()),
            ("args", args.to_owned()),
            ("restart_policy", "never".to_owned()),
            ("memory_mb", memory.to_owned()),
            ("stop_grace_seconds", "2".to_owned()),
        ]
    };
    for (fields, status, message) in [
        (form("echo one", "{}", "128"), 422, "name must be"),
        (form("echo-1", "[1]", "128"), 422, "enter a JSON object"),
        (form("echo-1", "{}", "lots"), 422, "enter a whole number"),
        (
            form("echo-1", "{}", "8"),
            422,
            "memory_mb must be 32 to 4096",
        ),
        (form("echo-1", r#"{"greeting": 3}"#, "128"), 422, "greeting"),
    ] {
        let resp = send(&mut b, "/agents/new", &fields).await;
        assert_eq!(resp.status().as_u16(), status, "{message}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
        assert!(
            html.contains(&format!(r#"value="{}""#, fields[1].1)),
            "name kept"
        );
        assert!(
            html.contains(r#"<option value="never" selected>"#),
            "policy kept"
        );
    }
    let mut no_token = form("echo-1", "{}", "128").to_vec();
    no_token.remove(0);
    let resp = send(&mut b, "/agents/new", &no_token).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let fields = form("echo-1", r#"{"greeting": "re"}"#, "128");
    let resp = send(&mut b, "/agents/new", &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    let id = page.trim_start_matches("/agents/").to_owned();
    let (status, html) = b.get_html(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-state="stopped""#) && html.contains("restart never"));

    // Settings: the stored values in the form, the script fixed, problems keep input.
    let edit = format!("{page}/edit");
    let (status, html) = b.get_html(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Agent settings") && html.contains(r#"value="echo-1""#));
    assert!(
        html.contains(r#"<option value="never" selected>"#)
            && !html.contains("<select id=\"script_id\"")
    );
    let mut settings = form("echo-1", r#"{"greeting": "re"}"#, "8").to_vec();
    settings[4].1 = "on-failure".to_owned();
    let resp = send(&mut b, &edit, &settings).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("memory_mb must be")
            && html.contains(r#"<option value="on-failure" selected>"#)
    );
    settings[5].1 = "256".to_owned();
    settings.push(("autostart", "true".to_owned()));
    let resp = send(&mut b, &edit, &settings[1..]).await;
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "settings need the token"
    );
    let resp = send(&mut b, &edit, &settings).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], page.as_str());
    let a = api_json(&app, &format!("/api/v1/agents/{id}"), &admin).await;
    assert_eq!(
        (a["restart_policy"].as_str(), a["memory_mb"].as_i64()),
        (Some("on-failure"), Some(256))
    );
    assert_eq!(a["autostart"], true);

    // A message to a stopped agent is refused with the reason; the text is kept.
    let resp = b
        .post(
            &format!("{page}/message"),
            &[("csrf", &csrf), ("body", r#"{"name": "early"}"#)],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("not running") && html.contains("early"),
        "{html}"
    );
    let resp = b.post(&format!("{page}/stop"), &[("csrf", &csrf)]).await;
    assert_eq!(
        resp.status(),
        StatusCode::CONFLICT,
        "stopping a stopped agent"
    );

    // Lifecycle and messages need the token.
    for action in ["start", "stop", "restart", "delete"] {
        let resp = b.post(&format!("{page}/{action}"), &[]).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let resp = b.post(&format!("{page}/message"), &[("body", "hi")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let resp = b.post(&format!("{page}/start"), &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    wait_state(&app, &admin, &id, "running").await;
    // The status card the page polls, alone.
    let (status, frag) = b.get_html(&format!("{page}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(frag.starts_with("<section") && frag.contains(r#"data-state="running""#));

    // An htmx submit gets the form back: cleared and "Sent.", or the problem.
    let resp = b
        .client
        .post(format!("{}{page}/message", app.base))
        .header(
            "cookie",
            format!("automa_session={}", b.cookies["automa_session"]),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("hx-request", "true")
        .body(crate::web::form_body(&[
            ("csrf", &csrf),
            ("body", r#"{"name": "hi"}"#),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let frag = resp.text().await.unwrap();
    assert!(
        frag.contains("Sent.") && frag.starts_with("<form"),
        "{frag}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = api_json(
            &app,
            &format!("/api/v1/agents/{id}/events?kind=event"),
            &admin,
        )
        .await;
        if events.as_array().is_some_and(|e| !e.is_empty()) {
            assert_eq!(events[0]["body"], json!({"reply": "re, hi"}));
            break;
        }
        assert!(Instant::now() < deadline, "no reply");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The reply is on the page, and the history stream serves it to the session.
    let (_, html) = b.get_html(&page).await;
    assert!(
        html.contains("{&quot;reply&quot;:&quot;re, hi&quot;}"),
        "{html}"
    );
    let resp = b.get(&format!("{page}/events?after=0")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    drop(resp);

    // Other users: no such agent.
    app.create_user(&admin, "user@example.org").await;
    let mut other = Browser::new(&app.base);
    other.login("user@example.org", USER_PASSWORD).await;
    assert_eq!(other.get_html(&page).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        other.get(&format!("{page}/events")).await.status(),
        StatusCode::NOT_FOUND
    );
    let other_csrf = other.csrf().await;
    let resp = other
        .post(&format!("{page}/stop"), &[("csrf", &other_csrf)])
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let resp = b.post(&format!("{page}/stop"), &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    wait_state(&app, &admin, &id, "stopped").await;
    let (_, html) = b.get_html("/agents").await;
    assert!(html.contains("echo-1") && html.contains(r#"data-state="stopped""#));
    let resp = b.post(&format!("{page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get_html(&page).await.0, StatusCode::NOT_FOUND);
}
