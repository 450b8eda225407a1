//! Retention with a fake clock: jobs run on a real server, then `retention::sweep` is
//! called with a chosen "now". Old logs, artifacts, agent history and jobs go; recent
//! ones stay; the counts reach `/metrics`.

use crate::server;
use automa::retention::{Retention, Swept, sweep};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
const JOB: &str = "import automa\nprint('out')\nautoma.log.info('logged')\nopen('/artifacts/a.txt', 'w').write('x')\n";

pub(crate) async fn get(server: &server::Server, path: &str) -> (u16, Value) {
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
    let agent = &agent_with_history(&server, json!({})).await;

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
    assert!(deleted_total(&server, "jobs").await >= 2.0);
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

/// `retention_deleted_total{kind}` as `/metrics` shows it.
pub(crate) async fn deleted_total(server: &server::Server, kind: &str) -> f64 {
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
    let prefix = format!("retention_deleted_total{{kind=\"{kind}\"}} ");
    let line = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {metrics}"));
    line.parse().unwrap()
}

/// An agent of a new script with run `settings` (named after the count of scripts),
/// started and stopped: a few history events. Its id.
async fn agent_with_history(server: &server::Server, settings: Value) -> String {
    let (_, scripts) = get(server, "/api/v1/scripts").await;
    let name = format!("agent{}", scripts["items"].as_array().map_or(0, Vec::len));
    let script = server
        .api_post(
            "/api/v1/scripts",
            json!({"name": name, "settings": settings,
                   "source": "import automa\nwhile automa.agent.sleep(1):\n    pass\n"}),
        )
        .await;
    let agent = server
        .api_post(
            "/api/v1/agents",
            json!({"name": name, "script_id": script["id"], "stop_grace_seconds": 1}),
        )
        .await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    for step in ["start", "stop"] {
        server
            .api_post(&format!("/api/v1/agents/{agent}/{step}"), json!({}))
            .await;
    }
    agent
}

/// The database of `server`'s data dir, opened beside it.
pub(crate) async fn open_db(server: &server::Server) -> automa::db::Db {
    let path = server.data_dir().join("automa.db");
    automa::db::connect(&format!("sqlite://{}?mode=rw", path.display()))
        .await
        .unwrap()
}

/// Runs one job of `script` and waits for it; its id.
async fn run_job(server: &server::Server, script: &Value) -> String {
    let job = server
        .api_post(
            &format!(
                "/api/v1/scripts/{}/run?wait=true",
                script["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    job["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_script_keeps_its_work_shorter_or_longer_than_the_server() {
    let server = server::start().await;
    let create = |name: &str, settings: Value| {
        server.api_post(
            "/api/v1/scripts",
            json!({"name": name, "source": JOB, "settings": settings}),
        )
    };
    let short = create("short", json!({"jobs_days": 5})).await;
    let long = create("long", json!({"jobs_days": 200, "job_logs_days": 0})).await;
    let plain = create("plain", json!({})).await;
    assert_eq!(long["settings"]["jobs_days"], 200, "{long}");
    assert_eq!(long["settings"]["artifacts_days"], Value::Null, "{long}");
    let (short_job, long_job, plain_job) = (
        run_job(&server, &short).await,
        run_job(&server, &long).await,
        run_job(&server, &plain).await,
    );
    let agent = &agent_with_history(&server, json!({"agent_history_days": 0})).await;

    // Everything finished 40 days ago.
    let db = open_db(&server).await;
    let forty = 40 * DAY_MS;
    sqlx::query("UPDATE jobs SET created_at = created_at - $1, finished_at = finished_at - $1")
        .bind(forty)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE agent_events SET at = at - $1")
        .bind(forty)
        .execute(&db)
        .await
        .unwrap();
    let data = server.data_dir();
    let retention = Retention::default();
    let now = automa::db::now_ms();
    let swept = sweep(&db, &data, &retention, now).await.unwrap();
    assert_eq!(swept.jobs, 1, "only the 5-day script's job: {swept:?}");
    assert_eq!(swept.agent_events, 0, "the agent's script keeps forever");
    // The plain and long jobs' artifacts, and the short one's with its directory.
    assert_eq!(swept.artifacts, 3, "{swept:?}");

    let job = |id: String| {
        let server = &server;
        async move { get(server, &format!("/api/v1/jobs/{id}")).await }
    };
    let logs = |id: String| {
        let server = &server;
        async move {
            let (_, logs) = get(server, &format!("/api/v1/jobs/{id}/logs")).await;
            logs.as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(job(short_job.clone()).await.0, 404);
    assert!(!data.join("jobs").join(&short_job).exists());
    // The long one keeps its log forever, its artifacts only the server's 30 days.
    let (status, long_view) = job(long_job.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(long_view["stdout"], "out\n", "{long_view}");
    assert!(logs(long_job.clone()).await >= 2);
    assert!(!data.join("jobs").join(&long_job).join("artifacts").exists());
    // The plain one follows the server: kept, without log.
    let (status, plain_view) = job(plain_job.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(plain_view["stdout"], Value::Null, "{plain_view}");
    assert_eq!(logs(plain_job.clone()).await, 0);
    let (_, events) = get(&server, &format!("/api/v1/agents/{agent}/events")).await;
    let events = events.as_array().unwrap().len();
    assert!(events >= 2, "{events}");

    // 100 days on (140 old): past the server's 90 days, within the long script's 200.
    let swept = sweep(&db, &data, &retention, now + 100 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept.jobs, 1, "{swept:?}");
    assert_eq!(job(plain_job).await.0, 404);
    assert_eq!(job(long_job.clone()).await.0, 200);
    assert!(logs(long_job.clone()).await >= 2);
    let (_, after) = get(&server, &format!("/api/v1/agents/{agent}/events")).await;
    assert_eq!(after.as_array().unwrap().len(), events);

    // Back to the server's periods: the long job goes too.
    server
        .http
        .patch(format!(
            "{}/api/v1/scripts/{}",
            server.base,
            long["id"].as_str().unwrap()
        ))
        .bearer_auth(&server.admin)
        .json(&json!({"settings": {}}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let swept = sweep(&db, &data, &retention, now + 100 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept.jobs, 1, "{swept:?}");
    assert_eq!(job(long_job).await.0, 404);
    db.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_settings_out_of_range_are_refused_naming_the_field() {
    let server = server::start().await;
    let post = |settings: Value| {
        let server = &server;
        async move {
            let resp = server
                .http
                .post(format!("{}/api/v1/scripts", server.base))
                .bearer_auth(&server.admin)
                .json(&json!({"name": "x", "source": "print(1)\n", "settings": settings}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (
                status,
                body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    let (status, message) = post(json!({"jobs_days": 3651})).await;
    assert_eq!(status, 422, "{message}");
    assert!(
        message.contains("jobs_days must be between 1 and 3650 days, 0 to keep forever, or null"),
        "{message}"
    );
    let (status, message) = post(json!({"artifacts_days": 5000, "agent_history_days": 4000})).await;
    assert_eq!(status, 422);
    assert!(
        message.contains("artifacts_days") && message.contains("agent_history_days"),
        "{message}"
    );
    for bad in [
        json!({"job_logs_days": -1}),
        json!({"job_logs_days": "7"}),
        json!({"job_logs_days": 1.5}),
    ] {
        let (status, message) = post(bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {message}");
        assert!(message.contains("job_logs_days"), "{bad}: {message}");
    }
    // A valid script, then an update out of range: refused, the settings unchanged.
    let script = server
        .api_post(
            "/api/v1/scripts",
            json!({"name": "ok", "source": "print(1)\n", "settings": {"jobs_days": 0}}),
        )
        .await;
    let id = script["id"].as_str().unwrap();
    let resp = server
        .http
        .patch(format!("{}/api/v1/scripts/{id}", server.base))
        .bearer_auth(&server.admin)
        .json(&json!({"settings": {"jobs_days": 9999}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let (_, now) = get(&server, &format!("/api/v1/scripts/{id}")).await;
    assert_eq!(now["settings"]["jobs_days"], 0, "{now}");
    server.stop().await;
}
