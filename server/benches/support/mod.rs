//! What the server benchmarks share: a real app on a random port with a signed-in admin.
// Each benchmark compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use automa::app::Application;
use automa::config::Config;
use serde_json::{Value, json};

/// A running server and an admin's access token.
pub struct BenchApp {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl BenchApp {
    /// Start the app on a fresh data dir (the compiled runner is cached across runs).
    /// `AUTOMA_DETERMINISTIC_CPU` set: CPU budgets counted in fuel, for comparison.
    pub async fn start() -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir()?;
        let mut config = Config::new(dir.path().join("data"));
        config.listen = "127.0.0.1:0".parse()?;
        config.deterministic_cpu = std::env::var_os("AUTOMA_DETERMINISTIC_CPU").is_some();
        config.cache_dir = Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/automa-bench-cache"),
        );
        let app = Application::build(config).await?;
        let setup = app.setup_token().await.unwrap_or_default();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let client = reqwest::Client::new();
        let credentials = json!({"email": "bench@example.org", "password": "benchmark password"});
        let mut setup_body = credentials.clone();
        setup_body["token"] = json!(setup);
        client
            .post(format!("{base}/api/v1/setup"))
            .json(&setup_body)
            .send()
            .await?;
        let login: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&credentials)
            .send()
            .await?
            .json()
            .await?;
        let token = login["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("login failed: {login}"))?
            .to_owned();
        Ok(Self {
            base,
            token,
            client,
            _dir: dir,
        })
    }

    /// Send JSON with the admin's token; the answer as JSON.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let resp = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        Ok(resp.json().await?)
    }
}
