//! The hostile pass over several nodes on one PostgreSQL: real processes of the binary
//! (an API node and workers, see [`crate::cluster`]) attacked through the API node and
//! by editing the database under them. Floods of messages, cancels and restarts for
//! work held by a worker stay bounded and take effect; another user gets 404 for all of
//! it as on one node; a dead node whose row says its lease is live for an hour, or whose
//! lease overflows the arithmetic, is still taken over; a second process started with a
//! frozen worker's id does not leave two processes trading the id; a stale holder of an
//! agent writes nothing once the agent was claimed again; a worker whose database links
//! go silent (a blackhole, not a close) gets fresh ones and runs jobs again. Skipped
//! (passes) when `AUTOMA_TEST_POSTGRES_URL` is unset.

use crate::cluster::{
    Api, Cluster, ECHO_AGENT, LEASE, SLOW_FIRST, echoed, first_attempt_recorded, holder,
    running_agents_on, signal,
};
use crate::server_process::{ServerProcess, automa, login};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// An agent that never reads its mailbox.
const DEAF_AGENT: &str = "import automa\ndef main():\n    while not automa.agent.stop_requested():\n        automa.agent.sleep(0.5)\n";
const SLEEPER: &str = "import time\ndef main():\n    time.sleep(120)\n";
/// The API's bounds (agents::MAILBOX_BYTES, agents::MESSAGE_MAX_BYTES).
const MAILBOX_BYTES: usize = 4 << 20;
const MESSAGE_MAX_BYTES: usize = 64 << 10;

/// A message whose JSON is exactly `size` bytes: `{"t":"xxx…"}`.
fn message_of(size: usize) -> Value {
    json!({"body": {"t": "x".repeat(size - 8)}})
}

/// The slowest of `n` `GET /api/v1/me` while something else floods the API node.
async fn slowest_me(api: &Api, n: usize) -> Duration {
    let mut worst = Duration::ZERO;
    for _ in 0..n {
        let asked = Instant::now();
        let (status, _) = api.send(Method::GET, "/api/v1/me", None).await;
        assert_eq!(status, StatusCode::OK);
        worst = worst.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worst
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_at_and_over_the_limits_and_a_flood_stay_bounded_across_nodes() {
    let Some(nodes) = Cluster::api_and_worker(2).await else {
        return;
    };
    let (api, db) = (&nodes.api, &nodes.db);
    let deaf = api.script("deaf", DEAF_AGENT, json!({})).await;
    let (agent, _) = api
        .started_agent(json!({"name": "deaf", "script_id": deaf}))
        .await;
    assert_eq!(
        holder(db, "agents", &agent).await.as_deref(),
        Some("worker-1")
    );
    let path = format!("/api/v1/agents/{agent}/messages");
    // At the limit it crosses; one byte over is refused with the reason.
    let (status, body) = api
        .send(Method::POST, &path, Some(message_of(MESSAGE_MAX_BYTES)))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = api
        .send(Method::POST, &path, Some(message_of(MESSAGE_MAX_BYTES + 1)))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("64 KiB"),
        "{body}"
    );

    // A flood at an agent that never reads: what is accepted is bounded by the mailbox
    // (in the database, waiting for the worker, and in the worker's memory), the rest
    // is refused as full, and the API answers meanwhile.
    let size = 60_000;
    let accepted = Arc::new(AtomicUsize::new(0));
    let full = Arc::new(AtomicUsize::new(0));
    let flooding = Arc::new(AtomicBool::new(true));
    let mut senders = Vec::new();
    for _ in 0..6 {
        let (client, base, token) = (api.client.clone(), api.base.clone(), api.token.clone());
        let (accepted, full, path) = (accepted.clone(), full.clone(), path.clone());
        senders.push(tokio::spawn(async move {
            for _ in 0..40 {
                let resp = client
                    .post(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .json(&message_of(size))
                    .send()
                    .await
                    .unwrap();
                match resp.status() {
                    StatusCode::ACCEPTED => accepted.fetch_add(1, Ordering::SeqCst),
                    StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS => {
                        full.fetch_add(1, Ordering::SeqCst)
                    }
                    other => panic!("a message answered {other}"),
                };
                // Room for the worker to move what waits into the mailbox.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    let watcher = {
        let flooding = flooding.clone();
        let api = Api {
            client: api.client.clone(),
            base: api.base.clone(),
            token: api.token.clone(),
        };
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            while flooding.load(Ordering::SeqCst) {
                worst = worst.max(slowest_me(&api, 1).await);
            }
            worst
        })
    };
    for sender in senders {
        sender.await.unwrap();
    }
    flooding.store(false, Ordering::SeqCst);
    let worst = watcher.await.unwrap();
    let (accepted, full) = (accepted.load(Ordering::SeqCst), full.load(Ordering::SeqCst));
    eprintln!(
        "240 messages of {size} bytes at a deaf agent on a worker: {accepted} accepted, {full} refused as full; slowest GET /me {worst:?}"
    );
    // At most a mailbox's bytes waiting in the database and a mailbox's in the
    // worker's memory (plus the one at the limit sent first).
    assert!(
        (accepted + 1) * size <= 2 * MAILBOX_BYTES,
        "{accepted} messages of {size} bytes accepted for an agent that reads none"
    );
    assert!(full > 0, "nothing was refused");
    assert!(worst < Duration::from_secs(2), "GET /me took {worst:?}");
    let (queued,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(LENGTH(body)), 0) AS BIGINT) FROM agent_messages WHERE agent_id = $1",
    )
    .bind(&agent)
    .fetch_one(db)
    .await
    .unwrap();
    assert!(
        queued as usize <= MAILBOX_BYTES,
        "{queued} bytes queued in the database"
    );
    // Stopped, it takes no more.
    api.post(&format!("/api/v1/agents/{agent}/stop"), json!({}))
        .await;
    let (status, _) = api.send(Method::POST, &path, Some(message_of(100))).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// `POST path` with an empty body, on its own task; its status.
fn spawn_post(api: &Api, path: String) -> tokio::task::JoinHandle<StatusCode> {
    let (client, base, token) = (api.client.clone(), api.base.clone(), api.token.clone());
    tokio::spawn(async move {
        let resp = client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&json!({}));
        resp.send().await.unwrap().status()
    })
}

/// A second user of the API node.
async fn other_user(admin: &Api, email: &str) -> Api {
    let password = "another long enough password";
    admin
        .post(
            "/api/v1/users",
            json!({"email": email, "password": password}),
        )
        .await;
    let token = login(&admin.client, &admin.base, email, password).await;
    Api {
        client: admin.client.clone(),
        base: admin.base.clone(),
        token,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_gets_404_and_floods_of_cancels_and_restarts_take_effect_once() {
    let Some(nodes) = Cluster::api_and_worker(6).await else {
        return;
    };
    let (api, db) = (&nodes.api, &nodes.db);
    let sleeper = api
        .script_with(
            json!({"name": "sleeper", "source": SLEEPER, "max_concurrency": 4,
            "settings": {"timeout_seconds": 600, "memory_mb": 64}}),
        )
        .await;
    let echo = api.script("echo", ECHO_AGENT, json!({})).await;
    let (agent, _) = api
        .started_agent(json!({"name": "echo", "script_id": echo, "stop_grace_seconds": 1}))
        .await;
    let mut jobs = Vec::new();
    // Four: a user's default share of running jobs (small, so the worker's sandbox
    // memory holds them all).
    for _ in 0..4 {
        jobs.push(api.run(&sleeper).await);
    }
    for job in &jobs {
        api.until(
            &format!("/api/v1/jobs/{job}"),
            Duration::from_secs(60),
            |j| j["status"] == "running",
        )
        .await;
        assert_eq!(holder(db, "jobs", job).await.as_deref(), Some("worker-1"));
    }

    // User B sees none of it through the API node, as on a single node.
    let b = other_user(api, "b@example.org").await;
    let job = &jobs[0];
    let attempts = [
        (Method::GET, format!("/api/v1/jobs/{job}"), None),
        (Method::GET, format!("/api/v1/jobs/{job}/logs"), None),
        (
            Method::POST,
            format!("/api/v1/jobs/{job}/cancel"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/agents/{agent}"), None),
        (Method::GET, format!("/api/v1/agents/{agent}/events"), None),
        (
            Method::POST,
            format!("/api/v1/agents/{agent}/stop"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/agents/{agent}/restart"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/agents/{agent}/start"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/agents/{agent}/messages"),
            Some(json!({"body": "from b"})),
        ),
        (Method::DELETE, format!("/api/v1/agents/{agent}"), None),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = b.send(method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    // The node registry is the admins'; garbage under it is a clear 404 or 405.
    let (status, _) = b.send(Method::GET, "/api/v1/nodes", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in [
        "/api/v1/nodes/worker-1",
        "/api/v1/nodes/%00%ff",
        "/api/v1/nodes/..%2f..%2fetc",
        "/api/v1/nodes?after=%27;DROP%20TABLE%20nodes;--&limit=-1",
    ] {
        let (status, answer) = api.send(Method::GET, path, None).await;
        assert!(
            matches!(
                status,
                StatusCode::OK | StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
            ),
            "GET {path}: {status} {answer}"
        );
        assert!(
            status == StatusCode::OK || answer["error"]["code"].is_string(),
            "GET {path}: {answer}"
        );
    }
    let (status, _) = api.send(Method::DELETE, "/api/v1/nodes", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let statuses: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, error FROM jobs ORDER BY id")
            .fetch_all(db)
            .await
            .unwrap();
    assert!(
        statuses.iter().all(|(status, _)| status == "running"),
        "user B's requests changed user A's jobs: {statuses:?}"
    );
    let row = api.get(&format!("/api/v1/agents/{agent}")).await;
    assert_eq!(row["state"], "running", "{row}");

    // Forty cancels of each running job at once through the API node, and twenty
    // restarts of the agent: every job ends cancelled, soon, and one instance runs.
    let asked = Instant::now();
    let mut floods = Vec::new();
    for job in &jobs {
        for _ in 0..40 {
            floods.push(spawn_post(api, format!("/api/v1/jobs/{job}/cancel")));
        }
    }
    for _ in 0..20 {
        floods.push(spawn_post(api, format!("/api/v1/agents/{agent}/restart")));
    }
    let worst = slowest_me(api, 10).await;
    for flood in floods {
        let status = flood.await.unwrap();
        assert!(
            !status.is_server_error(),
            "a flooded request answered {status}"
        );
    }
    for job in &jobs {
        api.until(
            &format!("/api/v1/jobs/{job}"),
            Duration::from_secs(15),
            |j| j["status"] == "cancelled",
        )
        .await;
    }
    eprintln!(
        "160 cancels and 20 restarts through the API node: all 4 jobs cancelled on the worker after {:?}; slowest GET /me {worst:?}",
        asked.elapsed()
    );
    assert!(worst < Duration::from_secs(2), "GET /me took {worst:?}");
    api.until(
        &format!("/api/v1/agents/{agent}"),
        Duration::from_secs(60),
        |a| a["state"] == "running",
    )
    .await;
    // Past the lease's renewal: the worker reports what it runs.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let instances = running_agents_on(db, "worker-1").await;
    assert_eq!(instances, 1, "restarts left {instances} instances");
    // And it still answers: a message crosses and comes back.
    echoed(api, db, &agent, "after the flood").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_nodes_whose_rows_say_live_for_ever_are_still_taken_over() {
    let Some(mut nodes) = Cluster::api_and_worker(2).await else {
        return;
    };
    let (api, db) = (&nodes.api, &nodes.db);
    let slow = api
        .script(
            "slow",
            SLOW_FIRST,
            json!({"retries": 1, "retry_backoff_seconds": 1}),
        )
        .await;
    let job = api.run(&slow).await;
    api.until(
        &format!("/api/v1/jobs/{job}"),
        Duration::from_secs(60),
        |j| j["status"] == "running",
    )
    .await;
    first_attempt_recorded(db, &slow).await;
    // worker-1 dies, and its row is edited to a heartbeat an hour ahead of the
    // database's clock (a clock stepped back, or a hand): no live node wrote that.
    nodes.worker.process.kill();
    sqlx::query(
        "UPDATE nodes SET heartbeat_at = CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) + 3600000 \
         WHERE id = 'worker-1'",
    )
    .execute(db)
    .await
    .unwrap();
    // A ghost whose lease would overflow any sum with its heartbeat.
    sqlx::query(
        "INSERT INTO nodes (id, instance, role, version, hostname, state, started_at, heartbeat_at, lease_ms) \
         VALUES ('ghost', 'g', 'worker', '0', 'nowhere', 'alive', 0, \
         CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT), 9223372036854775807)",
    )
    .execute(db)
    .await
    .unwrap();
    let _w2 = nodes.cluster.start("worker", None, "worker-2", 2);
    let retried = api
        .until(
            &format!("/api/v1/jobs/{job}"),
            Duration::from_secs(45),
            |j| j["status"] == "succeeded",
        )
        .await;
    assert_eq!(retried["node"], "worker-2", "{retried}");
    assert_eq!(retried["attempt"], 2, "{retried}");
    // New work still runs, and the registry still answers, the ghost not live.
    let quick = api
        .script("quick", "def main():\n    return 7\n", json!({}))
        .await;
    let next = api.run(&quick).await;
    api.until(
        &format!("/api/v1/jobs/{next}"),
        Duration::from_secs(30),
        |j| j["status"] == "succeeded",
    )
    .await;
    let nodes = api.get("/api/v1/nodes").await;
    for node in nodes["items"].as_array().unwrap() {
        if node["id"] == "ghost" || node["id"] == "worker-1" {
            assert_eq!(node["live"], false, "{node}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twin_of_a_frozen_worker_leaves_one_process_as_that_node() {
    let Some(mut nodes) = Cluster::api_and_worker(2).await else {
        return;
    };
    let (api, db) = (&nodes.api, &nodes.db);
    let echo = api.script("echo", ECHO_AGENT, json!({})).await;
    let (agent, _) = api
        .started_agent(json!({"name": "echo", "script_id": echo, "restart_policy": "always"}))
        .await;
    // Frozen, its lease not renewed: a second process with the same id (another data
    // directory, so no lock file stops it) joins, as it would after a crash.
    signal(&nodes.worker, "STOP");
    let other = tempfile::tempdir().unwrap();
    let mut cmd = automa("worker", Some(&nodes.cluster.url));
    cmd.args(["--log-format", "json", "--admin-listen", "127.0.0.1:0"])
        .args([
            "--node-id",
            "worker-1",
            "--node-lease",
            LEASE,
            "--workers",
            "2",
            "--data-dir",
        ])
        .arg(other.path());
    let mut twin = ServerProcess::start(cmd);
    api.until(
        &format!("/api/v1/agents/{agent}"),
        Duration::from_secs(60),
        |a| a["state"] == "running",
    )
    .await;
    signal(&nodes.worker, "CONT");
    // The thawed one finds its id run by a live process: it must not take it back.
    let deadline = Instant::now() + Duration::from_secs(20);
    let exited = loop {
        if let Some(status) = nodes.worker.process.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the thawed worker still runs beside its twin"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!exited.success(), "{exited}");
    assert!(
        twin.child.try_wait().unwrap().is_none(),
        "the twin exited too"
    );
    // The row stays the twin's: no more changes of instance.
    let instance = |db: sqlx::AnyPool| async move {
        let (i,): (String,) = sqlx::query_as("SELECT instance FROM nodes WHERE id = 'worker-1'")
            .fetch_one(&db)
            .await
            .unwrap();
        i
    };
    let settled = instance(db.clone()).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        instance(db.clone()).await,
        settled,
        "the node row changed hands again"
    );
    let row = api.get(&format!("/api/v1/agents/{agent}")).await;
    assert_eq!(row["state"], "running", "{row}");
    echoed(api, db, &agent, "to the twin").await;
    twin.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_holders_agent_writes_are_refused_after_a_take_over() {
    use automa::db::agents::{self, AgentState, EventRow};
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let api = Api::login(&api_node.base).await;
    let echo = api.script("echo", ECHO_AGENT, json!({})).await;
    let agent = api
        .post("/api/v1/agents", json!({"name": "echo", "script_id": echo}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = automa::db::connect(&cluster.url).await.unwrap();
    let now = automa::db::nodes::db_now(&db).await.unwrap();
    // Node a claims it (its supervision holds claim `stale`), loses it to a take-over,
    // and claims it again: a new supervision on the same node.
    let stale = agents::claim(&db, &agent, "a", "first", now, false)
        .await
        .unwrap()
        .expect("claimed");
    assert!(
        agents::move_off(&db, &agent, "a", AgentState::Starting, "taken over")
            .await
            .unwrap()
    );
    let fresh = agents::claim(&db, &agent, "a", "again", now, false)
        .await
        .unwrap()
        .expect("claimed again");
    assert_ne!(stale, fresh);
    let before = agents::find(&db, &agent).await.unwrap().unwrap();
    let held = agents::Held {
        id: &agent,
        node: "a",
        claim: stale,
    };
    assert!(
        !agents::set_state_held(&db, &held, AgentState::Fatal, "stale", false)
            .await
            .unwrap()
    );
    agents::record_exit(&db, &held, "exited failed", true)
        .await
        .unwrap();
    agents::set_status(&db, &held, "stale status", None)
        .await
        .unwrap();
    agents::set_heartbeat(&db, &held, 42).await.unwrap();
    agents::add_cpu_time(&db, &held, 1_000).await.unwrap();
    let row = EventRow {
        seq: 1,
        at: 1,
        kind: "event".into(),
        body: "\"stale\"".into(),
    };
    agents::append_events(&db, &held, std::slice::from_ref(&row))
        .await
        .unwrap();
    agents::release(&db, &held).await.unwrap();
    let after = agents::find(&db, &agent).await.unwrap().unwrap();
    assert_eq!(after.state, before.state);
    assert_eq!(after.restarts, before.restarts);
    assert_eq!(after.last_exit, before.last_exit);
    assert_eq!(after.status_text, before.status_text);
    assert_eq!(after.last_heartbeat_at, before.last_heartbeat_at);
    assert_eq!(after.cpu_time_ms, before.cpu_time_ms);
    assert_eq!(
        after.node_id.as_deref(),
        Some("a"),
        "the stale release let go of it"
    );
    assert!(
        agents::events(&db, &agent, 0, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The current claim writes.
    let held = agents::Held {
        id: &agent,
        node: "a",
        claim: fresh,
    };
    assert!(
        agents::set_state_held(&db, &held, AgentState::Running, "now", true)
            .await
            .unwrap()
    );
    agents::append_events(&db, &held, &[row]).await.unwrap();
    agents::set_heartbeat(&db, &held, 42).await.unwrap();
    let after = agents::find(&db, &agent).await.unwrap().unwrap();
    assert_eq!(after.state, "running");
    assert_eq!(after.last_heartbeat_at, Some(42));
    assert_eq!(
        agents::events(&db, &agent, 0, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A TCP proxy to PostgreSQL: `blackhole` makes every connection open now go silent
/// (nothing forwarded either way, nothing closed) while new ones work.
struct Proxy {
    port: u16,
    epoch: Arc<std::sync::atomic::AtomicU64>,
    silenced: Arc<AtomicUsize>,
    /// The local port of each connection to PostgreSQL (its backend's `client_port`)
    /// and the epoch it was opened in.
    upstream_ports: Arc<std::sync::Mutex<Vec<(u16, u64)>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let epoch = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let silenced = Arc::new(AtomicUsize::new(0));
        let upstream_ports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (epochs, silent, ports) = (epoch.clone(), silenced.clone(), upstream_ports.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let born = epochs.load(Ordering::SeqCst);
                if let Ok(local) = server.local_addr() {
                    ports.lock().unwrap().push((local.port(), born));
                }
                let (epochs, silent) = (epochs.clone(), silent.clone());
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let alive = |e: &std::sync::atomic::AtomicU64| e.load(Ordering::SeqCst) == born;
                    let up = pump(&mut cr, &mut sw, &epochs, born);
                    let down = pump(&mut sr, &mut cw, &epochs, born);
                    tokio::join!(up, down);
                    if !alive(&epochs) {
                        // Blackholed: hold both sockets open, forward nothing, for ever.
                        silent.fetch_add(1, Ordering::SeqCst);
                        let _held = (cr, cw, sr, sw);
                        std::future::pending::<()>().await;
                    }
                });
            }
        });
        Self {
            port,
            epoch,
            silenced,
            upstream_ports,
        }
    }

    fn blackhole(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether `port` is one of this proxy's connections, opened before a blackhole
    /// (`Some(true)`) or after (`Some(false)`).
    fn silenced_port(&self, port: u16) -> Option<bool> {
        let now = self.epoch.load(Ordering::SeqCst);
        let ports = self.upstream_ports.lock().unwrap();
        ports
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, born)| *born < now)
    }
}

/// Copies `from` to `to` until either ends or the proxy's epoch moves past `born`.
async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    epoch: &std::sync::atomic::AtomicU64,
    born: u64,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let read = tokio::time::timeout(Duration::from_millis(100), from.read(&mut buf)).await;
        if epoch.load(Ordering::SeqCst) != born {
            return;
        }
        match read {
            Err(_) => continue,
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_database_links_go_silent_gets_fresh_ones_and_runs_jobs_again() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let mut upstream = url::Url::parse(&cluster.url).unwrap();
    let target = format!(
        "{}:{}",
        upstream.host_str().unwrap(),
        upstream.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(target).await;
    upstream.set_host(Some("127.0.0.1")).unwrap();
    upstream.set_port(Some(proxy.port)).unwrap();
    let api_node = cluster.start("serve", Some("api"), "api-1", 1);
    let _worker = cluster.start_via(upstream.as_str(), "worker", None, "worker-1", 2);
    let api = Api::login(&api_node.base).await;
    let quick = api
        .script("quick", "def main():\n    return 7\n", json!({}))
        .await;
    let first = api.run(&quick).await;
    let done = api
        .until(
            &format!("/api/v1/jobs/{first}"),
            Duration::from_secs(60),
            |j| j["status"] == "succeeded",
        )
        .await;
    assert_eq!(done["node"], "worker-1");

    proxy.blackhole();
    let silenced = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        proxy.silenced.load(Ordering::SeqCst) > 0,
        "no connection was blackholed"
    );
    let job = api.run(&quick).await;
    // The worker's listening link is replaced by one through a fresh connection, and
    // the silent one's backend is ended (it would pin PostgreSQL's notification queue).
    let watcher = cluster.db().await;
    let deadline = Instant::now() + Duration::from_secs(50);
    loop {
        let listening: Vec<(Option<i32>,)> = sqlx::query_as(
            "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE 'LISTEN%'",
        )
        .fetch_all(&watcher)
        .await
        .unwrap();
        let mine: Vec<bool> = listening
            .iter()
            .filter_map(|(p,)| p.and_then(|p| proxy.silenced_port(u16::try_from(p).ok()?)))
            .collect();
        if mine.contains(&false) && !mine.contains(&true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker's listening links after the blackhole (true: silenced): {mine:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "the worker listens through a fresh link {:.1}s after the blackhole",
        silenced.elapsed().as_secs_f64()
    );
    let ran = api
        .until(
            &format!("/api/v1/jobs/{job}"),
            Duration::from_secs(50),
            |j| j["status"] == "succeeded",
        )
        .await;
    assert_eq!(ran["node"], "worker-1", "{ran}");
    eprintln!(
        "after a blackhole of its {} database connections the worker had run the job queued after it {:.1}s later (checked once its link was fresh)",
        proxy.silenced.load(Ordering::SeqCst),
        silenced.elapsed().as_secs_f64()
    );
    // Wake-ups again: a job queued now starts within a second or two, not at a poll.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for _ in 0..3 {
        let queued = Instant::now();
        let job = api.run(&quick).await;
        api.until(
            &format!("/api/v1/jobs/{job}"),
            Duration::from_secs(10),
            |j| j["status"] == "succeeded",
        )
        .await;
        assert!(
            queued.elapsed() < Duration::from_secs(3),
            "{:?}",
            queued.elapsed()
        );
    }
}
