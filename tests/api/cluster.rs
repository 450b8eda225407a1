//! Several nodes on one PostgreSQL database, as real processes of the binary: one API
//! node and worker nodes (`automa worker`) sharing a data directory, each with its own
//! node id and a short lease. Work is shared, kill -9 of a worker moves its jobs and
//! its agent to another node within the lease, cancels and messages cross nodes,
//! schedules fire once per period, concurrency limits hold across claimers. Skipped
//! (passes) when `AUTOMA_TEST_POSTGRES_URL` is unset. SQLite refuses a second node.

use crate::helpers::PgDatabase;
use crate::server_process::{ServerProcess, automa, create_admin, login};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) const EMAIL: &str = "ops@example.org";
pub(crate) const PASSWORD: &str = "a long enough password";
/// Short, so fail-over is quick to test.
pub(crate) const LEASE: &str = "3s";

/// A fresh database on the test cluster, and the shared data directory.
pub(crate) struct Cluster {
    pub(crate) url: String,
    pub(crate) data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub(crate) async fn new() -> Option<Self> {
        // Not dropped: a cluster test's nodes may still hold connections when it ends.
        let url = PgDatabase::create().await?.url;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        create_admin(&data, Some(url.as_str()), EMAIL, PASSWORD);
        Some(Self {
            url,
            data,
            _dir: dir,
        })
    }

    /// Starts `automa serve --role ROLE` or `automa worker` as node `id`.
    pub(crate) fn start(
        &self,
        command: &str,
        role: Option<&str>,
        id: &str,
        workers: u32,
    ) -> NodeProcess {
        self.start_via(&self.url, command, role, id, workers)
    }

    /// [`Cluster::start`] with the database reached at `url` (e.g. through a proxy).
    pub(crate) fn start_via(
        &self,
        url: &str,
        command: &str,
        role: Option<&str>,
        id: &str,
        workers: u32,
    ) -> NodeProcess {
        let mut cmd: Command = automa(command, Some(url));
        if let Some(role) = role {
            cmd.args(["--role", role]);
        }
        let listen_flag = if command == "worker" {
            "--admin-listen"
        } else {
            "--listen"
        };
        cmd.args(["--log-format", "json", listen_flag, "127.0.0.1:0"])
            .args(["--node-id", id, "--node-lease", LEASE])
            .args(["--workers", &workers.to_string(), "--data-dir"])
            .arg(&self.data);
        let process = ServerProcess::start(cmd);
        NodeProcess {
            base: process.base(),
            process,
        }
    }

    pub(crate) async fn db(&self) -> sqlx::AnyPool {
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }
}

/// A fresh cluster with an API node `api-1` and a worker `worker-1`, signed in.
pub(crate) struct TwoNodes {
    pub(crate) cluster: Cluster,
    /// Kept for the life of the test (killed when dropped).
    pub(crate) _api_node: NodeProcess,
    pub(crate) worker: NodeProcess,
    pub(crate) api: Api,
    pub(crate) db: sqlx::AnyPool,
}

impl Cluster {
    /// [`TwoNodes`], the worker with `workers` job workers; `None` without PostgreSQL.
    pub(crate) async fn api_and_worker(workers: u32) -> Option<TwoNodes> {
        let cluster = Self::new().await?;
        let api_node = cluster.start("serve", Some("api"), "api-1", 1);
        let worker = cluster.start("worker", None, "worker-1", workers);
        let api = Api::login(&api_node.base).await;
        let db = cluster.db().await;
        Some(TwoNodes {
            cluster,
            _api_node: api_node,
            worker,
            api,
            db,
        })
    }
}

/// A node process (killed when dropped) and its base URL.
pub(crate) struct NodeProcess {
    pub(crate) process: ServerProcess,
    pub(crate) base: String,
}

pub(crate) struct Api {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Api {
    pub(crate) async fn login(base: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let token = login(&client, base, EMAIL, PASSWORD).await;
        Self {
            client,
            base: base.to_owned(),
            token,
        }
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.send(reqwest::Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await;
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    pub(crate) async fn script(&self, name: &str, source: &str, settings: Value) -> String {
        self.script_with(json!({"name": name, "source": source, "settings": settings}))
            .await
    }

    pub(crate) async fn script_with(&self, body: Value) -> String {
        let script = self.post("/api/v1/scripts", body).await;
        script["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn run(&self, script: &str) -> String {
        let job = self
            .post(&format!("/api/v1/scripts/{script}/run"), json!({}))
            .await;
        job["id"].as_str().unwrap().to_owned()
    }

    /// Creates an agent from `body`, starts it and waits until it runs; its id and
    /// its running state.
    pub(crate) async fn started_agent(&self, body: Value) -> (String, Value) {
        let agent = self.post("/api/v1/agents", body).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.post(&format!("/api/v1/agents/{agent}/start"), json!({}))
            .await;
        let running = self
            .until(
                &format!("/api/v1/agents/{agent}"),
                Duration::from_secs(60),
                |a| a["state"] == "running",
            )
            .await;
        (agent, running)
    }

    /// Polls until `done` holds for the value at `path`.
    pub(crate) async fn until(
        &self,
        path: &str,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let value = self.get(path).await;
            if done(&value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{path} never got there: {value}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Polls the number `sql` (one `$1`, bound to `bind`) answers until `done` holds.
pub(crate) async fn count_until(
    db: &sqlx::AnyPool,
    sql: &str,
    bind: &str,
    within: Duration,
    done: impl Fn(i64) -> bool,
) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(bind)
            .fetch_one(db)
            .await
            .unwrap();
        if done(n) {
            return n;
        }
        assert!(Instant::now() < deadline, "{sql} ({bind}) stayed at {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until a `SLOW_FIRST` job's first attempt has recorded itself in the script's
/// state: killed before that, its retry would count as a first attempt and sleep too.
pub(crate) async fn first_attempt_recorded(db: &sqlx::AnyPool, script: &str) {
    count_until(
        db,
        "SELECT COUNT(*) FROM script_state WHERE script_id = $1 AND key = 'attempts'",
        script,
        Duration::from_secs(60),
        |n| n == 1,
    )
    .await;
}

/// How many agents node `id` said it runs at its last heartbeat.
pub(crate) async fn running_agents_on(db: &sqlx::AnyPool, id: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT running_agents FROM nodes WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    n
}

/// Sends `text` to an [`ECHO_AGENT`] through `api` and waits for its one reply.
pub(crate) async fn echoed(api: &Api, db: &sqlx::AnyPool, agent: &str, text: &str) {
    api.post(
        &format!("/api/v1/agents/{agent}/messages"),
        json!({"body": {"text": text}}),
    )
    .await;
    let sql = format!(
        "SELECT COUNT(*) FROM agent_events WHERE agent_id = $1 AND kind = 'event' \
         AND body LIKE '%{text}%'"
    );
    count_until(db, &sql, agent, Duration::from_secs(30), |n| n == 1).await;
}

/// The node that holds `id`'s row in `table` (`worker_id` for jobs, `node_id` for agents).
pub(crate) async fn holder(db: &sqlx::AnyPool, table: &str, id: &str) -> Option<String> {
    let column = if table == "jobs" {
        "worker_id"
    } else {
        "node_id"
    };
    let row: (Option<String>,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {column} FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap();
    row.0
}

#[tokio::test]
async fn three_nodes_share_three_hundred_jobs_each_run_once() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let _w1 = cluster.start("worker", None, "worker-1", 4);
    let _w2 = cluster.start("worker", None, "worker-2", 4);
    let api = Api::login(&api_node.base).await;
    // Several at once: with the default of one running job per script, the node that
    // ends a job claims the next before any other node is woken, and takes nearly all.
    let script = api
        .script_with(json!({"name": "tick", "max_concurrency": 8,
            "source": "def main():\n    print('ran')\n    return 1\n"}))
        .await;
    let mut jobs = Vec::new();
    for _ in 0..300 {
        jobs.push(api.run(&script).await);
    }
    let db = cluster.db().await;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (done,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'")
                .fetch_one(&db)
                .await
                .unwrap();
        if done == 300 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of 300 jobs succeeded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each ran once (first attempt, one line of output) and the work was shared.
    let rows: Vec<(String, i64, Option<String>)> =
        sqlx::query_as("SELECT worker_id, attempt, stdout FROM jobs")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 300);
    assert!(
        rows.iter()
            .all(|(_, attempt, out)| *attempt == 1 && out.as_deref() == Some("ran\n"))
    );
    for worker in ["worker-1", "worker-2"] {
        let share = rows.iter().filter(|(w, _, _)| w == worker).count();
        assert!(share >= 30, "{worker} ran only {share} of 300 jobs");
    }
    assert!(
        rows.iter().all(|(w, _, _)| w != "api-1"),
        "the API node ran a job"
    );
    // The registry knows all three.
    let nodes = api.get("/api/v1/nodes").await;
    let live: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["live"] == true)
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(live.len(), 3, "{nodes}");
}

/// Sleeps on its first attempt only (the attempt count is kept in state).
pub(crate) const SLOW_FIRST: &str = "import automa, time\ndef main():\n    n = automa.state.get('attempts', 0) + 1\n    automa.state.set('attempts', n)\n    if n == 1:\n        time.sleep(60)\n    return n\n";

pub(crate) const ECHO_AGENT: &str = "import automa\ndef main():\n    while not automa.agent.stop_requested():\n        message = automa.agent.receive(timeout=1)\n        if message is not None:\n            automa.agent.emit({'reply': message['text']})\n";

#[tokio::test]
async fn kill_nine_of_a_worker_moves_its_job_and_agent_to_another_node() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let w1 = cluster.start("worker", None, "worker-1", 2);
    let api = Api::login(&api_node.base).await;
    let db = cluster.db().await;
    let script = api
        .script(
            "slow",
            SLOW_FIRST,
            json!({"retries": 1, "retry_backoff_seconds": 1}),
        )
        .await;
    let agent_script = api.script("echo", ECHO_AGENT, json!({})).await;
    let agent = api
        .post(
            "/api/v1/agents",
            json!({"name": "echo", "script_id": agent_script, "restart_policy": "always"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(&format!("/api/v1/agents/{agent}/start"), json!({}))
        .await;
    let job = api.run(&script).await;
    api.until(
        &format!("/api/v1/jobs/{job}"),
        Duration::from_secs(60),
        |j| j["status"] == "running",
    )
    .await;
    api.until(
        &format!("/api/v1/agents/{agent}"),
        Duration::from_secs(60),
        |a| a["state"] == "running",
    )
    .await;
    assert_eq!(holder(&db, "jobs", &job).await.as_deref(), Some("worker-1"));
    assert_eq!(
        holder(&db, "agents", &agent).await.as_deref(),
        Some("worker-1")
    );
    first_attempt_recorded(&db, &script).await;

    // A second worker joins; then the first is killed with SIGKILL.
    let _w2 = cluster.start("worker", None, "worker-2", 2);
    let mut w1 = w1;
    w1.process.kill();
    let killed = Instant::now();

    let retried = api
        .until(
            &format!("/api/v1/jobs/{job}"),
            Duration::from_secs(60),
            |j| j["status"] == "succeeded",
        )
        .await;
    assert_eq!(retried["attempt"], 2, "{retried}");
    assert_eq!(retried["result"], 2);
    assert_eq!(retried["node"], "worker-2", "{retried}");
    let job_moved = killed.elapsed();
    api.until(
        &format!("/api/v1/agents/{agent}"),
        Duration::from_secs(60),
        |a| a["state"] == "running",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while holder(&db, "agents", &agent).await.as_deref() != Some("worker-2") {
        assert!(
            Instant::now() < deadline,
            "the agent never moved to worker-2"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "fail-over after kill -9: job done on another node after {:.1}s, agent running again after {:.1}s (lease {LEASE})",
        job_moved.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
    let (log,): (String,) = sqlx::query_as(
        "SELECT message FROM job_logs WHERE job_id = $1 AND message LIKE 'node worker-1 stopped answering%'",
    )
    .bind(&job)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(log.contains("it will be retried"), "{log}");

    // The killed node comes back: it must not run a second copy of the agent.
    let _w1_again = cluster.start("worker", None, "worker-1", 2);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        holder(&db, "agents", &agent).await.as_deref(),
        Some("worker-2")
    );
    assert_eq!(
        running_agents_on(&db, "worker-1").await,
        0,
        "the restarted node runs a second copy of the agent"
    );

    // A message sent through the API node reaches the agent on worker-2.
    echoed(&api, &db, &agent, "across nodes").await;
    // A stop through the API node ends it on worker-2.
    api.post(&format!("/api/v1/agents/{agent}/stop"), json!({}))
        .await;
    let stopped = api.get(&format!("/api/v1/agents/{agent}")).await;
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    drop(api_node);
}

#[tokio::test]
async fn cancel_crosses_nodes_and_concurrency_limits_hold_across_claimers() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let _w1 = cluster.start("worker", None, "worker-1", 4);
    let _w2 = cluster.start("worker", None, "worker-2", 4);
    let _w3 = cluster.start("serve", None, "all-3", 4);
    let api = Api::login(&api_node.base).await;
    let db = cluster.db().await;

    let sleeper = api
        .script(
            "sleeper",
            "import time\ndef main():\n    time.sleep(120)\n",
            json!({}),
        )
        .await;
    let job = api.run(&sleeper).await;
    api.until(
        &format!("/api/v1/jobs/{job}"),
        Duration::from_secs(60),
        |j| j["status"] == "running",
    )
    .await;
    let asked = Instant::now();
    api.post(&format!("/api/v1/jobs/{job}/cancel"), json!({}))
        .await;
    api.until(
        &format!("/api/v1/jobs/{job}"),
        Duration::from_secs(10),
        |j| j["status"] == "cancelled",
    )
    .await;
    eprintln!(
        "a cancel asked on the API node ended the job on its worker in {:?}",
        asked.elapsed()
    );

    // Twelve claimers on three nodes, one script with max_concurrency 2.
    let limited = api
        .script_with(json!({"name": "limited", "max_concurrency": 2,
            "source": "import time\ndef main():\n    time.sleep(0.4)\n"}))
        .await;
    let mut jobs = Vec::new();
    for _ in 0..16 {
        jobs.push(api.run(&limited).await);
    }
    let mut most = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (running, done): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE status = 'running'), COUNT(*) FILTER (WHERE status = 'succeeded') \
             FROM jobs WHERE script_id = $1",
        )
        .bind(&limited)
        .fetch_one(&db)
        .await
        .unwrap();
        most = most.max(running);
        if done == 16 {
            break;
        }
        assert!(Instant::now() < deadline, "{done} of 16 done");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        most <= 2,
        "{most} jobs of a max_concurrency 2 script ran at once"
    );
    // The same from the recorded times: no instant had three runs in progress.
    let spans: Vec<(i64, i64)> =
        sqlx::query_as("SELECT started_at, finished_at FROM jobs WHERE script_id = $1")
            .bind(&limited)
            .fetch_all(&db)
            .await
            .unwrap();
    for (start, _) in &spans {
        let overlapping = spans
            .iter()
            .filter(|(s, f)| s <= start && start < f)
            .count();
        assert!(overlapping <= 2, "{overlapping} runs overlapped at {start}");
    }
}

#[tokio::test]
async fn a_schedule_fires_once_per_period_across_three_nodes() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let n1 = cluster.start("serve", None, "all-1", 2);
    let _n2 = cluster.start("serve", None, "all-2", 2);
    let _n3 = cluster.start("serve", None, "all-3", 2);
    let api = Api::login(&n1.base).await;
    let db = cluster.db().await;
    let script = api
        .script("tock", "def main():\n    return 1\n", json!({}))
        .await;
    api.post(
        "/api/v1/schedules",
        json!({"script_id": script, "kind": "interval", "every_seconds": 1}),
    )
    .await;
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let elapsed = window.elapsed().as_secs_f64();
    let (fired,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE script_id = $1")
        .bind(&script)
        .fetch_one(&db)
        .await
        .unwrap();
    // Three schedulers, each due every second: once per period is about `elapsed`.
    assert!(fired >= 5, "only {fired} runs in {elapsed:.1}s");
    assert!(
        fired as f64 <= elapsed + 2.0,
        "{fired} runs in {elapsed:.1}s: some period fired more than once"
    );
}

#[tokio::test]
async fn sqlite_refuses_a_second_node_and_the_worker_role() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut serve = automa("serve", None);
    serve
        .args([
            "--log-format",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data);
    let mut first = ServerProcess::start(serve);
    let second = automa("serve", None)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--node-id",
            "other",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("SQLite serves one node"), "{err}");
    first.kill();

    let worker = automa("worker", None)
        .args(["--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!worker.status.success());
    let err = String::from_utf8_lossy(&worker.stderr);
    assert!(err.contains("needs PostgreSQL"), "{err}");
}

#[tokio::test]
async fn a_worker_killed_and_restarted_within_its_lease_runs_its_agent_again_once() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let worker = cluster.start("worker", None, "worker-1", 2);
    let api = Api::login(&api_node.base).await;
    let db = cluster.db().await;
    let agent_script = api.script("echo", ECHO_AGENT, json!({})).await;
    let (agent, first) = api
        .started_agent(
            json!({"name": "echo", "script_id": agent_script, "restart_policy": "always"}),
        )
        .await;
    let mut worker = worker;
    worker.process.kill();
    // Back at once, long before its lease lapses: its agent comes back by its policy.
    let _again = cluster.start("worker", None, "worker-1", 2);
    api.until(
        &format!("/api/v1/agents/{agent}"),
        Duration::from_secs(60),
        |a| a["state"] == "running" && a["started_at"] != first["started_at"],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (running,): (i64,) =
        sqlx::query_as("SELECT CAST(SUM(running_agents) AS BIGINT) FROM nodes")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(running, 1, "one instance of the agent, on one node");
    assert_eq!(
        holder(&db, "agents", &agent).await.as_deref(),
        Some("worker-1")
    );
}

#[tokio::test]
async fn a_second_process_with_a_live_node_id_is_refused() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let _worker = cluster.start("worker", None, "worker-1", 1);
    let other = tempfile::tempdir().unwrap();
    let twin = automa("worker", Some(&cluster.url))
        .args(["--node-id", "worker-1", "--node-lease", LEASE, "--data-dir"])
        .arg(other.path())
        .output()
        .unwrap();
    assert!(!twin.status.success());
    let err = String::from_utf8_lossy(&twin.stderr);
    assert!(err.contains("in use by a live node"), "{err}");
}

/// Sends `signal` (e.g. `STOP`) to a node process.
pub(crate) fn signal(node: &NodeProcess, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), node.process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_stop_outlives_a_frozen_holder_and_a_joining_worker_leaves_stopped_agents_alone() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let w1 = cluster.start("worker", None, "worker-1", 2);
    let api = Api::login(&api_node.base).await;
    let db = cluster.db().await;
    let agent_script = api.script("echo", ECHO_AGENT, json!({})).await;
    let mut agents = Vec::new();
    for name in ["kept", "halted"] {
        let (agent, _) = api
            .started_agent(json!({"name": name, "script_id": agent_script,
                "restart_policy": "always", "autostart": true, "stop_grace_seconds": 1}))
            .await;
        agents.push(agent);
    }
    let (kept, halted) = (agents[0].clone(), agents[1].clone());
    // Stopped by hand: a worker joining later must not start it again for `autostart`.
    api.post(&format!("/api/v1/agents/{halted}/stop"), json!({}))
        .await;

    // The holder freezes, a stop is asked of it through the API node, then it dies
    // before it could act: the stop must hold, not the restart policy.
    signal(&w1, "STOP");
    let stopper = {
        let (client, base, token) = (api.client.clone(), api.base.clone(), api.token.clone());
        let path = format!("{base}/api/v1/agents/{kept}/stop");
        tokio::spawn(async move { client.post(path).bearer_auth(token).send().await })
    };
    count_until(
        &db,
        "SELECT stop_requested FROM agents WHERE id = $1",
        &kept,
        Duration::from_secs(30),
        |asked| asked == 1,
    )
    .await;
    let mut w1 = w1;
    w1.process.kill();
    let _w2 = cluster.start("worker", None, "worker-2", 2);

    let stopped = api
        .until(
            &format!("/api/v1/agents/{kept}"),
            Duration::from_secs(60),
            |a| a["state"] == "stopped",
        )
        .await;
    assert!(
        stopped["state_reason"]
            .as_str()
            .is_some_and(|r| r.contains("a stop was asked for")),
        "{stopped}"
    );
    let _ = stopper.await;
    // Long enough for worker-2 to have placed and started anything it would start.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for agent in [&kept, &halted] {
        let row = api.get(&format!("/api/v1/agents/{agent}")).await;
        assert_eq!(row["state"], "stopped", "{row}");
        assert_ne!(
            holder(&db, "agents", agent).await.as_deref(),
            Some("worker-2"),
            "{row}"
        );
    }
    let (running,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(running_agents), 0) AS BIGINT) FROM nodes WHERE id = 'worker-2'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(running, 0, "worker-2 started an agent that was stopped");
}
