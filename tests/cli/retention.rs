//! Retention with a fake clock: jobs run on a real server, then `retention::sweep` is
//! called with a chosen "now". Old logs, artifacts, agent history and jobs go; recent
//! ones stay; the counts reach `/metrics`.

use crate::server;
use automa::retention::{Retention, Swept, sweep};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
const JOB: &str = "import automa\nprint('out')\nautoma.log.info('logged')\nopen('/artifacts/a.txt', 'w').write('x')\n";

async fn get(server: &server::Server, path: &str) -> (u16, Value) {
    let resp = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn sweep_removes_what_is_old_and_keeps_what_is_recent() {
    let server = server::start().await;
    let script = server
        .api_post("/api/v1/scripts", json!({"name": "j", "source": JOB}))
        .await;
    let run = format!(
        "/api/v1/scripts/{}/run?wait=true",
        script["id"].as_str().unwrap()
    );
    let old = server.api_post(&run, json!({})).await;
    let recent = server.api_post(&run, json!({})).await;
    let (old, recent) = (old["id"].as_str().unwrap(), recent["id"].as_str().unwrap());

    // An agent's history: a few transitions.
    let agent_script = server
        .api_post(
            "/api/v1/scripts",
            json!({"name": "a", "source": "import automa\nwhile automa.agent.sleep(1):\n    pass\n"}),
        )
        .await;
    let agent = server
        .api_post(
            "/api/v1/agents",
            json!({"name": "a", "script_id": agent_script["id"], "stop_grace_seconds": 1}),
        )
        .await;
    let agent = agent["id"].as_str().unwrap();
    server
        .api_post(&format!("/api/v1/agents/{agent}/start"), json!({}))
        .await;
    server
        .api_post(&format!("/api/v1/agents/{agent}/stop"), json!({}))
        .await;

    let data = server.data_dir();
    let db = automa::db::connect(&format!(
        "sqlite://{}?mode=rw",
        data.join("automa.db").display()
    ))
    .await
    .unwrap();
    // Age one job and the agent's first event by 40 days.
    let forty = 40 * DAY_MS;
    sqlx::query("UPDATE jobs SET created_at = created_at - $1, finished_at = finished_at - $1 WHERE id = $2")
        .bind(forty)
        .bind(old)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE agent_events SET at = at - $1 WHERE agent_id = $2 AND seq = 1")
        .bind(forty)
        .bind(agent)
        .execute(&db)
        .await
        .unwrap();
    let (_, events) = get(&server, &format!("/api/v1/agents/{agent}/events")).await;
    let events_before = events.as_array().unwrap().len();
    assert!(events_before >= 2, "{events}");
    assert!(
        data.join("jobs")
            .join(old)
            .join("artifacts/a.txt")
            .is_file()
    );

    let retention = Retention::default();
    let now = automa::db::now_ms();
    let swept = sweep(&db, &data, &retention, now).await.unwrap();
    assert_eq!(swept.jobs, 0, "jobs are kept 90 days");
    assert!(swept.job_logs >= 2, "{swept:?}");
    assert_eq!(swept.artifacts, 1, "{swept:?}");
    assert_eq!(swept.agent_events, 1, "{swept:?}");

    // The old job is still listed, without its log, output and artifacts.
    let (status, job) = get(&server, &format!("/api/v1/jobs/{old}")).await;
    assert_eq!(status, 200);
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["stdout"], Value::Null, "{job}");
    let (_, logs) = get(&server, &format!("/api/v1/jobs/{old}/logs")).await;
    assert_eq!(logs, json!([]));
    assert!(!data.join("jobs").join(old).join("artifacts").exists());
    // The recent one keeps everything.
    let (_, job) = get(&server, &format!("/api/v1/jobs/{recent}")).await;
    assert_eq!(job["stdout"], "out\n", "{job}");
    let (_, logs) = get(&server, &format!("/api/v1/jobs/{recent}/logs")).await;
    assert!(logs.as_array().unwrap().len() >= 2, "{logs}");
    let (_, artifacts) = get(&server, &format!("/api/v1/jobs/{recent}/artifacts")).await;
    assert_eq!(artifacts[0]["name"], "a.txt", "{artifacts}");
    let (_, events) = get(&server, &format!("/api/v1/agents/{agent}/events")).await;
    assert_eq!(events.as_array().unwrap().len(), events_before - 1);

    // Nothing more to do at the same time.
    assert_eq!(
        sweep(&db, &data, &retention, now).await.unwrap(),
        Swept::default()
    );

    // 0 keeps forever: nothing goes even far in the future.
    let forever = Retention {
        jobs_days: 0,
        job_logs_days: 0,
        artifacts_days: 0,
        agent_history_days: 0,
        ..Retention::default()
    };
    let swept = sweep(&db, &data, &forever, now + 1000 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept, Swept::default());

    // 100 days on: both jobs and their files are gone.
    let swept = sweep(&db, &data, &retention, now + 100 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept.jobs, 2, "{swept:?}");
    assert_eq!(swept.artifacts, 1, "the recent job's artifact: {swept:?}");
    let (status, _) = get(&server, &format!("/api/v1/jobs/{recent}")).await;
    assert_eq!(status, 404);
    assert!(!data.join("jobs").join(recent).exists());
    assert!(!data.join("jobs").join(old).exists());

    // Counted in /metrics.
    let metrics = server
        .http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jobs_line = metrics
        .lines()
        .find(|l| l.starts_with("retention_deleted_total{kind=\"jobs\"}"))
        .unwrap_or_else(|| panic!("{metrics}"));
    let count: f64 = jobs_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 2.0, "{jobs_line}");
    server.stop().await;
}

#[test]
fn example_config_and_retention_keys_parse() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/config.toml");
    let from_file = |file: &std::path::Path| {
        automa::config::load(&automa::config::Sources {
            file: Some(file.to_owned()),
            ..Default::default()
        })
    };
    let config = from_file(&example).unwrap();
    assert_eq!(config.retention, Retention::default());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[retention]\njob_days = 3\n").unwrap();
    let error = format!("{:#}", from_file(&bad).unwrap_err());
    assert!(
        error.contains("unknown key `retention.job_days`"),
        "{error}"
    );
}
