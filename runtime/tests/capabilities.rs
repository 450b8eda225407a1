//! Host capabilities against real servers on loopback: an axum HTTP server and an
//! aiosmtpd SMTP server.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../tests/support/smtp.rs"]
mod smtp;

use automa_runtime::RunStatus;
use automa_runtime::host::{Capabilities, EmailRule, HttpRule, SmtpMailer, SmtpSettings, SmtpTls};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{any, get};
use common::{Recorder, request, runtime};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    axum::Json(serde_json::json!({
        "method": method.as_str(),
        "content_type": content_type,
        "body": String::from_utf8_lossy(&body),
        "auth": headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap().to_owned()),
    }))
}

/// A real HTTP server on an ephemeral loopback port.
async fn http_server() -> SocketAddr {
    let app = Router::new()
        .route("/hello", get(|| async { "hello world" }))
        .route(
            "/json",
            get(|| async { axum::Json(serde_json::json!({"items": [1, 2, 3]})) }),
        )
        .route("/echo", any(echo))
        .route(
            "/status/{code}",
            get(
                |axum::extract::Path(code): axum::extract::Path<u16>| async move {
                    (StatusCode::from_u16(code).unwrap(), "status body")
                },
            ),
        )
        .route(
            "/redirect-local",
            get(|| async { Redirect::temporary("/hello") }),
        )
        .route(
            "/redirect-away",
            get(|| async { Redirect::temporary("http://denied.example/steal") }),
        )
        .route("/big", get(|| async { vec![b'x'; 2 * 1024 * 1024] }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn allow(addr: SocketAddr) -> Capabilities {
    let mut caps = Capabilities::default();
    caps.http
        .rules
        .push(HttpRule::parse(&addr.to_string()).unwrap());
    caps
}

async fn run_with(source: &str, caps: Capabilities) -> (automa_runtime::RunOutcome, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let outcome = runtime().run(request(source, caps, &recorder)).await;
    (outcome, recorder)
}

#[tokio::test]
async fn allowed_requests_work_through_sdk_and_requests_shim() {
    let addr = http_server().await;
    let source = format!(
        "import automa, requests\n\
base = 'http://{addr}'\n\
r = automa.http.get(base + '/hello')\n\
print(r.status_code, r.text, r.headers['Content-Type'])\n\
print(requests.get(base + '/json').json()['items'])\n\
e = requests.post(base + '/echo', json={{'a': 1}}).json()\n\
print(e['method'], e['content_type'], e['body'])\n\
e = requests.put(base + '/echo', data={{'k': 'v w'}}, auth=('u', 'p')).json()\n\
print(e['method'], e['content_type'], e['body'], e['auth'])\n\
with requests.Session() as s:\n    s.headers['X-Test'] = '1'\n    print(s.delete(base + '/echo').json()['method'])\n\
r = requests.get(base + '/status/404')\n\
try:\n    r.raise_for_status()\nexcept requests.HTTPError as err:\n    print('http error', err.response.status_code)\n\
print(requests.get(base + '/redirect-local').text)\n"
    );
    let (outcome, recorder) = run_with(&source, allow(addr)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "200 hello world text/plain; charset=utf-8\n[1, 2, 3]\nPOST application/json {\"a\": 1}\n\
PUT application/x-www-form-urlencoded k=v+w Basic dTpw\nDELETE\nhttp error 404\nhello world\n"
    );
    let calls = recorder.calls.lock().unwrap();
    assert!(
        calls
            .iter()
            .all(|c| c.operation == "http.send" && c.outcome == "ok")
    );
    // Seven calls: the redirect is followed inside one host call.
    assert_eq!(calls.len(), 7);
}

#[tokio::test]
async fn denied_host_raises_permission_error_naming_the_grant() {
    let addr = http_server().await;
    let source = format!(
        "import requests\n\
try:\n    requests.get('http://{addr}/hello')\nexcept PermissionError as e:\n    print(e)\n"
    );
    let (outcome, recorder) = run_with(&source, Capabilities::default()).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains(&format!("HTTP GET to {addr} is not allowed")),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains(&format!("--allow-http {addr}")),
        "{}",
        outcome.stdout
    );
    assert_eq!(recorder.calls.lock().unwrap()[0].outcome, "denied");
}

#[tokio::test]
async fn redirect_to_a_denied_host_is_refused() {
    let addr = http_server().await;
    let source = format!(
        "import automa\n\
try:\n    automa.http.get('http://{addr}/redirect-away')\nexcept PermissionError as e:\n    print(e)\n"
    );
    let (outcome, _) = run_with(&source, allow(addr)).await;
    assert!(
        outcome
            .stdout
            .contains("HTTP GET to denied.example:80 (reached by a redirect) is not allowed"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn names_resolving_to_loopback_are_refused_unless_allowed() {
    let addr = http_server().await;
    let mut caps = Capabilities::default();
    caps.http.rules.push(HttpRule {
        scheme: None,
        host: "localhost".into(),
        port: Some(addr.port()),
        methods: Vec::new(),
        path_prefix: None,
        allow_private: false,
    });
    let source = format!(
        "import automa\n\
try:\n    automa.http.get('http://localhost:{}/hello')\nexcept PermissionError as e:\n    print(e)\n",
        addr.port()
    );
    let (outcome, _) = run_with(&source, caps).await;
    assert!(outcome.stdout.contains("resolves to"), "{outcome:?}");
    assert!(
        outcome.stdout.contains("loopback, private or link-local"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn oversize_body_and_slow_server_are_clear_errors() {
    let addr = http_server().await;
    let mut caps = allow(addr);
    caps.http.max_response_bytes = 1024 * 1024;
    let source = format!(
        "import automa, requests\n\
try:\n    automa.http.get('http://{addr}/big')\nexcept automa.errors.TooLargeError as e:\n    print('too large:', e)\n\
try:\n    requests.get('http://{addr}/slow', timeout=0.3)\nexcept requests.Timeout as e:\n    print('timeout:', e)\n"
    );
    let (outcome, _) = run_with(&source, caps).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert!(
        lines[0].starts_with("too large:") && lines[0].contains("1048576"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("timeout:"), "{lines:?}");
}

#[tokio::test]
async fn email_goes_to_allowed_recipients_only() {
    let smtp = smtp::SmtpServer::start();
    let mut caps = Capabilities::default();
    caps.email
        .rules
        .push(EmailRule::parse("@example.com").unwrap());
    caps.email.max_per_run = 2;
    let source = "import automa\n\
automa.email.send('ops@example.com', 'Report', 'all good', attachments=[('r.csv', 'a,b\\n', 'text/csv')])\n\
try:\n    automa.email.send('someone@evil.net', 'x', 'y')\nexcept PermissionError as e:\n    print('denied:', e)\n\
automa.email.send(['a@example.com'], 'Second', 'text', html='<b>hi</b>')\n\
try:\n    automa.email.send('b@example.com', 'Third', 'over the cap')\nexcept automa.errors.LimitReachedError as e:\n    print('capped:', e)\n";
    let recorder = Arc::new(Recorder::default());
    let mut req = request(source, caps, &recorder);
    req.host.mailer = Some(Arc::new(
        SmtpMailer::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "automa@example.org".into(),
        })
        .unwrap(),
    ));
    let outcome = runtime().run(req).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("denied: sending email to someone@evil.net is not allowed"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("capped: "), "{}", outcome.stdout);
    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("Subject: Report") && messages[0].contains("filename=\"r.csv\""));
    assert!(messages[0].contains("RCPT ops@example.com"));
    assert!(messages[1].contains("Subject: Second") && messages[1].contains("<b>hi</b>"));
    let outcomes: Vec<_> = recorder
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.outcome)
        .collect();
    assert_eq!(outcomes, vec!["ok", "denied", "ok", "limit_reached"]);
}
