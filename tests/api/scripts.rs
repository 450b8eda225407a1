//! Scripts and jobs through the HTTP API: create, run with arguments, results, logs,
//! validation from the signature, versions, cancel, concurrency, ownership.

use crate::helpers::{error_code, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const GREETER: &str = "\"\"\"Greets.\"\"\"\nimport automa\n\ndef main(name: str, times: int = 1):\n    \"\"\"Say hello.\"\"\"\n    for i in range(times):\n        print('hello', name)\n    automa.log.info('greeted', name=name)\n    automa.state.set('last', name)\n    return {'greeted': name, 'times': times}\n";

async fn create(app: &crate::helpers::TestApp, token: &str, body: Value) -> Value {
    let resp = app.send_json("POST", "/api/v1/scripts", token, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn create_run_and_read_result_and_logs() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script = create(
        &app,
        &admin,
        json!({"name": "greeter", "source": GREETER, "tags": ["demo"]}),
    )
    .await;
    let id = script["id"].as_str().unwrap();
    assert_eq!(script["version"], 1);
    assert_eq!(script["has_main"], true);
    assert_eq!(script["doc"], "Say hello.");
    assert_eq!(script["parameters"]["required"], json!(["name"]));
    assert_eq!(
        script["parameters"]["properties"]["times"]["type"],
        "integer"
    );

    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{id}/run?wait=true"),
            &admin,
            json!({"args": {"name": "Ada", "times": 2}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let job: Value = resp.json().await.unwrap();
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"], json!({"greeted": "Ada", "times": 2}));
    assert_eq!(job["stdout"], "hello Ada\nhello Ada\n");
    assert_eq!(job["script_version"], 1);
    assert!(job["duration_ms"].as_i64().is_some());

    let job_id = job["id"].as_str().unwrap();
    let logs: Value = app
        .get(&format!("/api/v1/jobs/{job_id}/logs"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let logs = logs.as_array().unwrap();
    let log_line = logs
        .iter()
        .find(|l| l["stream"] == "log")
        .expect("a log entry");
    assert_eq!(log_line["message"], "greeted");
    assert_eq!(log_line["fields"], json!({"name": "Ada"}));
    let stdout: String = logs
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(stdout, "hello Ada\nhello Ada\n");

    let list: Value = app
        .get(
            &format!("/api/v1/jobs?script_id={id}&status=succeeded"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let found: Value = app
        .get("/api/v1/scripts?q=GREET&tag=demo", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let none: Value = app
        .get("/api/v1/scripts?tag=other", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);

    let actions: Vec<String> = app
        .audit_actions_with(&admin, "host.state.set")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.contains(&"script.create".to_owned()), "{actions:?}");
    assert!(actions.contains(&"script.run".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"host.state.set".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn arguments_are_checked_against_the_signature() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script = create(&app, &admin, json!({"name": "greeter", "source": GREETER})).await;
    let id = script["id"].as_str().unwrap();
    for (args, needle) in [
        (json!({}), "missing required argument `name`"),
        (
            json!({"name": "x", "times": "two"}),
            "argument `times` must be integer, got string",
        ),
        (
            json!({"name": "x", "color": "red"}),
            "unknown argument `color`",
        ),
    ] {
        let resp = app
            .send_json(
                "POST",
                &format!("/api/v1/scripts/{id}/run"),
                &admin,
                json!({"args": args}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(needle),
            "{body}"
        );
    }
    let jobs: Value = app.get("/api/v1/jobs", &admin).await.json().await.unwrap();
    assert!(
        jobs["items"].as_array().unwrap().is_empty(),
        "no job was queued"
    );

    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "broken", "source": "def main(:\n  pass\n"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{body}"
    );
}

#[tokio::test]
async fn edits_make_versions_and_jobs_record_theirs() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script = create(
        &app,
        &admin,
        json!({"name": "v", "source": "def main():\n    return 1\n"}),
    )
    .await;
    let id = script["id"].as_str().unwrap();
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"source": "def main():\n    return 2\n", "description": "two"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["description"], "two");
    let versions: Value = app
        .get(&format!("/api/v1/scripts/{id}/versions"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let run = |body: Value| {
        let app = &app;
        let admin = &admin;
        async move {
            let resp = app
                .send_json(
                    "POST",
                    &format!("/api/v1/scripts/{id}/run?wait=true"),
                    admin,
                    body,
                )
                .await;
            resp.json::<Value>().await.unwrap()
        }
    };
    let latest = run(json!({})).await;
    assert_eq!(
        (latest["result"].clone(), latest["script_version"].clone()),
        (json!(2), json!(2))
    );
    let old = run(json!({"version": 1})).await;
    assert_eq!(
        (old["result"].clone(), old["script_version"].clone()),
        (json!(1), json!(1))
    );
}

#[tokio::test]
async fn other_users_scripts_and_jobs_are_not_found_and_capabilities_need_an_admin() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let (_, bob) = app.create_user(&admin, "bob@example.org").await;
    let script = create(
        &app,
        &alice,
        json!({"name": "mine", "source": "print('hi')\n"}),
    )
    .await;
    let id = script["id"].as_str().unwrap();
    let job = app.run_wait(&alice, id, json!({})).await;
    let job_id = job["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/scripts/{id}"),
        format!("/api/v1/jobs/{job_id}"),
        format!("/api/v1/jobs/{job_id}/logs"),
    ] {
        let resp = app.get(&path, &bob).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(resp).await, "not_found");
        assert_eq!(
            app.get(&path, &admin).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{id}/run"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let bobs: Value = app.get("/api/v1/scripts", &bob).await.json().await.unwrap();
    assert!(bobs["items"].as_array().unwrap().is_empty());

    let caps = json!({"http": {"rules": [{"host": "example.com"}]}});
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &alice,
            json!({"capabilities": caps}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"capabilities": caps}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(
        updated["capabilities"]["http"]["rules"][0]["host"],
        "example.com"
    );
}

#[tokio::test]
async fn admin_grants_net_rules_and_a_bad_rule_is_a_clear_422() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let caps = json!({"net": {
        "rules": ["DB.example.com:5432", {"host": "10.0.0.5", "port": 6379}],
        "max_connections_per_run": 5
    }});
    let script = create(
        &app,
        &admin,
        json!({"name": "netter", "source": "print(1)\n", "capabilities": caps}),
    )
    .await;
    let net = &script["capabilities"]["net"];
    assert_eq!(
        net["rules"],
        json!([
            {"host": "db.example.com", "port": 5432, "allow_private": false},
            {"host": "10.0.0.5", "port": 6379, "allow_private": true}
        ]),
        "{script}"
    );
    assert_eq!(net["max_connections_per_run"], 5);
    assert_eq!(
        net["max_bytes_per_run"],
        100 * 1024 * 1024,
        "defaults fill the rest"
    );

    let id = script["id"].as_str().unwrap();
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"capabilities": {"net": {"rules": ["db.example.com"]}}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = resp.text().await.unwrap();
    assert!(body.contains("HOST:PORT"), "{body}");
}

#[tokio::test]
async fn cancel_stops_a_running_job() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let script = create(
        &app,
        &admin,
        json!({"name": "spin", "source": "print('start', flush=True)\nwhile True:\n    pass\n"}),
    )
    .await;
    let id = script["id"].as_str().unwrap();
    let job: Value = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{id}/run"),
            &admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let job_id = job["id"].as_str().unwrap();
    let started = Instant::now();
    loop {
        let job: Value = app
            .get(&format!("/api/v1/jobs/{job_id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if job["status"] == "running" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never started: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/jobs/{job_id}/cancel"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let job: Value = resp.json().await.unwrap();
    assert_eq!(job["status"], "cancelled", "{job}");
    let resp = app
        .send_json(
            "POST",
            &format!("/api/v1/jobs/{job_id}/cancel"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn concurrency_limit_holds() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // Each job records when it ran; with max_concurrency 1 the intervals never overlap.
    let source = "import time\ndef main():\n    start = time.time()\n    time.sleep(0.2)\n    return [start, time.time()]\n";
    let script = create(
        &app,
        &admin,
        json!({"name": "serial", "source": source, "max_concurrency": 1}),
    )
    .await;
    let id = script["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(queue(&app, &admin, &id, json!({})).await);
    }
    let mut spans = Vec::new();
    for job_id in &ids {
        let job = ended(&app, &admin, job_id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        spans.push((
            job["result"][0].as_f64().unwrap(),
            job["result"][1].as_f64().unwrap(),
        ));
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in spans.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "overlapping runs: {spans:?}");
    }
}

/// A job is built from what its submit read only when a worker takes it at once; one
/// that waited in the queue runs with the script's settings as they are when claimed.
#[tokio::test]
async fn a_job_that_waited_runs_with_the_settings_of_when_it_starts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let source = "import time\ndef main(seconds):\n    time.sleep(seconds)\n    return seconds\n";
    let script = create(
        &app,
        &admin,
        json!({"name": "slow", "source": source, "max_concurrency": 1}),
    )
    .await;
    let id = script["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for seconds in [1.2, 2.5] {
        ids.push(queue(&app, &admin, &id, json!({"args": {"seconds": seconds}})).await);
    }
    // The second waits behind the first; meanwhile its time limit is lowered.
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"settings": {"timeout_seconds": 2}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut statuses = Vec::new();
    for job_id in &ids {
        statuses.push(ended(&app, &admin, job_id).await["status"].clone());
    }
    assert_eq!(statuses, ["succeeded", "timed_out"]);
}

/// Queue a run of script `id` with `body`; the job's id.
async fn queue(app: &crate::helpers::TestApp, token: &str, id: &str, body: Value) -> String {
    let job: Value = app
        .send_json("POST", &format!("/api/v1/scripts/{id}/run"), token, body)
        .await
        .json()
        .await
        .unwrap();
    job["id"].as_str().unwrap().to_owned()
}

/// The job once it has ended (within 30 s).
async fn ended(app: &crate::helpers::TestApp, token: &str, job_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job: Value = app
            .get(&format!("/api/v1/jobs/{job_id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if !["queued", "running"].contains(&job["status"].as_str().unwrap_or_default()) {
            return job;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn live_logs_stream_over_sse() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let source =
        "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.2)\n";
    let script = create(&app, &admin, json!({"name": "ticker", "source": source})).await;
    let id = script["id"].as_str().unwrap();
    let job: Value = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{id}/run"),
            &admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let job_id = job["id"].as_str().unwrap();
    let mut resp = app
        .client
        .get(app.url(&format!("/api/v1/jobs/{job_id}/logs")))
        .bearer_auth(&admin)
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !text.contains("event: end") {
        assert!(Instant::now() < deadline, "stream did not end: {text}");
        match tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("stream broke: {other:?}; got {text}"),
        }
    }
    for i in 0..3 {
        assert!(text.contains(&format!("tick {i}")), "{text}");
    }
    assert!(text.contains("\"status\":\"succeeded\""), "{text}");
}

#[tokio::test]
async fn admins_share_host_directories_read_only() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("readme.txt"), "shared notes").unwrap();
    let source = "def main():\n    text = open('/shared/docs/readme.txt').read()\n    try:\n        open('/shared/docs/new.txt', 'w')\n        wrote = True\n    except OSError:\n        wrote = False\n    return {'text': text, 'wrote': wrote}\n";
    let caps = json!({"shared_dirs": [{"name": "docs", "path": shared.path(), "writable": false}]});
    let script = create(
        &app,
        &admin,
        json!({"name": "reader", "source": source, "capabilities": caps}),
    )
    .await;
    let id = script["id"].as_str().unwrap();
    let job = app.run_wait(&admin, id, json!({})).await;
    assert_eq!(
        job["result"],
        json!({"text": "shared notes", "wrote": false}),
        "{job}"
    );
    assert!(!shared.path().join("new.txt").exists());
}
