use automa::app::Application;
use automa::config::Config;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const ADMIN_EMAIL: &str = "admin@example.org";
pub const ADMIN_PASSWORD: &str = "correct horse battery";
pub const USER_PASSWORD: &str = "user password 123";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub setup_token: Option<String>,
    pub dir: TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if std::env::var_os("TEST_LOG").is_some() {
        automa::telemetry::init(automa::config::LogFormat::Text);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    // One compiled runner for every test, instead of a compile per temp data dir.
    config.cache_dir = Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache"));
    tweak(&mut config);
    let app = Application::build(config).await.expect("app builds");
    let setup_token = app.setup_token().await;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        base,
        client: Client::new(),
        setup_token,
        dir,
    }
}

/// A server on `data` that stops when the returned sender fires; with its setup token.
pub async fn serve_on(data: &std::path::Path) -> (String, Stopper, Option<String>) {
    if std::env::var_os("TEST_LOG").is_some() {
        automa::telemetry::init(automa::config::LogFormat::Text);
    }
    let mut config = Config::new(data);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.cache_dir = Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache"));
    let app = Application::build(config).await.unwrap();
    let token = app.setup_token().await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    (base, Stopper { stop, task }, token)
}

/// Stops a server started by [`serve_on`] and waits until it has stopped.
pub struct Stopper {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Stopper {
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        // Open keep-alive connections can hold a graceful shutdown; don't wait forever.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), self.task).await;
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_json(&self, method: &str, path: &str, token: &str, body: Value) -> Response {
        self.client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Run a script with `POST /scripts/{id}/run?wait=true`; the finished job as JSON.
    pub async fn run_wait(&self, token: &str, script_id: &str, body: Value) -> Value {
        self.send_json(
            "POST",
            &format!("/api/v1/scripts/{script_id}/run?wait=true"),
            token,
            body,
        )
        .await
        .json()
        .await
        .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str, totp: Option<&str>) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password, "totp": totp}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login_token(&self, email: &str, password: &str) -> String {
        let resp = self.login(email, password, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "login as {email}");
        let body: Value = resp.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Runs first-run setup and returns an admin access token.
    pub async fn setup_admin(&self) -> String {
        let resp = self
            .client
            .post(self.url("/api/v1/setup"))
            .json(&json!({
                "token": self.setup_token.clone().unwrap(),
                "email": ADMIN_EMAIL,
                "password": ADMIN_PASSWORD,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        self.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a plain user as admin; returns (user id, user access token).
    pub async fn create_user(&self, admin: &str, email: &str) -> (String, String) {
        let resp = self
            .send_json(
                "POST",
                "/api/v1/users",
                admin,
                json!({"email": email, "password": USER_PASSWORD, "role": "user"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        let id = body["id"].as_str().unwrap().to_owned();
        (id, self.login_token(email, USER_PASSWORD).await)
    }

    /// The audit entries once `done` holds for them (host calls reach the audit log
    /// through a queue), or as they are after 10 s.
    pub async fn audit_until(&self, admin: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let entries = self.audit_actions(admin).await;
            if done(&entries) || std::time::Instant::now() > deadline {
                return entries;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub async fn audit_actions(&self, admin: &str) -> Vec<Value> {
        let resp = self.get("/api/v1/audit?limit=200", admin).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        body["items"].as_array().unwrap().clone()
    }

    /// The audit log once it holds `action`: a run's host-call records are written by
    /// the audit queue shortly after the run ends.
    pub async fn audit_actions_with(&self, admin: &str, action: &str) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let entries = self.audit_actions(admin).await;
            if entries.iter().any(|e| e["action"] == action) || std::time::Instant::now() > deadline
            {
                return entries;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Asserts the standard error body and returns its code.
pub async fn error_code(resp: Response) -> String {
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "content-type was {ct:?}"
    );
    let body: Value = resp.json().await.unwrap();
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    assert!(
        body["error"]["message"].is_string(),
        "error.message in {body}"
    );
    code
}

/// A database of its own on the PostgreSQL server that `AUTOMA_TEST_POSTGRES_URL` names
/// (a user who may create databases); `None` when the variable is unset (the test is
/// then skipped and passes). [`PgDatabase::drop`] removes it.
pub struct PgDatabase {
    admin: sqlx::AnyPool,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var("AUTOMA_TEST_POSTGRES_URL") else {
            eprintln!("AUTOMA_TEST_POSTGRES_URL not set: skipping the PostgreSQL test");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("automa_t_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::AnyPool::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        Some(Self {
            admin,
            name,
            url: url.to_string(),
        })
    }

    pub async fn drop(self) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await;
    }
}
