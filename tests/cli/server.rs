//! A real server on a random port for the remote CLI tests, and the CLI binary run
//! against it with its own config dir (so `automa login` never touches the real one).

use automa::app::Application;
use automa::config::Config;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use tempfile::TempDir;
use tokio::io::AsyncWriteExt as _;

pub const EMAIL: &str = "admin@example.org";
pub const PASSWORD: &str = "correct horse battery";

pub struct Server {
    pub base: String,
    pub admin: String,
    pub http: reqwest::Client,
    /// The server's data dir (removed with the server).
    pub dir: TempDir,
    /// `XDG_CONFIG_HOME` of the CLI runs.
    pub config: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache")
}

/// A server on a fresh data dir with first-run setup done; `admin` is a session token.
pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    start_on(dir, true).await
}

/// A server on `dir/data`; with `setup`, the admin account is created first.
pub async fn start_on(dir: TempDir, setup: bool) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.cache_dir = Some(cache_dir());
    let app = Application::build(config).await.expect("app builds");
    let setup_token = app.setup_token().await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    if setup {
        let resp = http
            .post(format!("{base}/api/v1/setup"))
            .json(&json!({"token": setup_token.unwrap(), "email": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    }
    let resp: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = resp["access_token"].as_str().unwrap().to_owned();
    Server {
        base,
        admin,
        http,
        dir,
        config: tempfile::tempdir().unwrap(),
        stop: Some(stop),
        task: Some(task),
    }
}

impl Server {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `automa ARGS` against this server's config dir, `stdin` piped in.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> Output {
        cli_with(self.config.path(), args, stdin, &[]).await
    }

    /// A POST to the API as the admin session.
    pub async fn api_post(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{path}: {:?}",
            resp.text().await
        );
        resp.json().await.unwrap()
    }

    /// Stops the server and waits until it has stopped; hands back its dirs.
    pub async fn stop(mut self) -> (TempDir, TempDir) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), task).await;
        }
        (self.dir, self.config)
    }

    /// `automa login` with the admin's email and password; asserts it worked.
    pub async fn login(&self) {
        let out = self
            .cli(
                &["login", &self.base, "--email", EMAIL],
                &format!("{PASSWORD}\n"),
            )
            .await;
        assert!(out.status.success(), "{}", show(&out));
    }
}

/// Runs the binary with `XDG_CONFIG_HOME=config` and no inherited AUTOMA_* settings.
pub async fn cli_with(config: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_automa"));
    command
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env("AUTOMA_CACHE_DIR", cache_dir())
        .env_remove("AUTOMA_URL")
        .env_remove("AUTOMA_TOKEN")
        .env_remove("AUTOMA_DATA_DIR")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("the CLI finished within 2 minutes")
    .unwrap()
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
