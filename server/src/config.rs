//! Server configuration: defaults < TOML file < environment < command-line flags.
//! Flags and environment variables are merged by clap (`ServeArgs`); this module fills the
//! remaining gaps from the optional file and applies defaults.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Fully resolved configuration of one server instance.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `None`: SQLite file `automa.db` in `data_dir`.
    pub database_url: Option<String>,
    pub environment: Environment,
    /// Public base URL used in the printed setup link (defaults to `http://<listen>`).
    pub public_url: Option<String>,
    /// Set when a TLS-terminating reverse proxy sits in front of the server: trusts
    /// `X-Forwarded-For` for client IPs and allows non-loopback listening in production.
    pub behind_proxy: bool,
    /// HS256 signing key for access tokens; generated into `data_dir/keys/jwt.key` when unset.
    pub jwt_secret: Option<String>,
    /// Key for secrets at rest; generated into `data_dir/keys/secrets.key` when unset.
    pub secrets_key: Option<String>,
    pub access_token_ttl: Duration,
    pub login_max_failures: u32,
    pub lockout: Duration,
    pub body_limit_bytes: usize,
    /// Serve `/metrics` without authentication (otherwise an admin bearer token is needed).
    pub metrics_public: bool,
    /// How long verified bearer credentials are cached in memory.
    pub auth_cache_ttl: Duration,
    /// Job workers in this process: how many scripts run at once.
    pub workers: usize,
    /// What one job, agent or user may use of the host (`[quotas]`).
    pub quotas: crate::quotas::Quotas,
    /// Where the compiled Python runner is cached; `None`: `data_dir/cache`.
    pub cache_dir: Option<PathBuf>,
    /// A local directory of wheels pip may use (`--find-links`).
    pub pip_find_links: Option<PathBuf>,
    /// Resolve packages from `pip_find_links` only, never from the package index.
    pub pip_no_index: bool,
    /// Limits of pip resolutions and package environments (`[packages]`).
    pub packages: crate::packages::PackageSettings,
    /// The server's SMTP settings: email from scripts and job notifications.
    pub smtp: Option<automa_runtime::host::SmtpSettings>,
    /// PEM files of CA certificates that scripts' TLS connections (`automa:host/net`)
    /// trust besides the webpki roots.
    pub tls_extra_ca_certs: Vec<PathBuf>,
    /// An MCP session without a client request for this long is closed (tests shorten it).
    pub mcp_session_idle: Duration,
    /// How long finished jobs, job logs, artifacts and agent history are kept.
    pub retention: crate::retention::Retention,
    /// What this node does (`automa serve --role`, `automa worker`).
    pub role: crate::nodes::Role,
    /// This node's id among the nodes sharing the database [default: kept in the data dir].
    pub node_id: Option<String>,
    /// A node not heard from for this long is taken over by another.
    pub node_lease: Duration,
    /// Where a worker serves `/healthz` and `/metrics` (it has no other listener).
    pub admin_listen: Option<SocketAddr>,
}

/// A session without any request for this long is closed (the client must initialize
/// again); it keeps idle clients from holding memory forever. Kept here, not in `mcp`,
/// so the configuration depends on no feature module.
pub const MCP_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

impl Config {
    /// Defaults suitable for development and tests: loopback, random-free port 8080.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            database_url: None,
            environment: Environment::Development,
            public_url: None,
            behind_proxy: false,
            jwt_secret: None,
            secrets_key: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            login_max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            body_limit_bytes: 1024 * 1024,
            metrics_public: false,
            auth_cache_ttl: Duration::from_secs(5),
            workers: 8,
            quotas: crate::quotas::Quotas::default(),
            cache_dir: None,
            pip_find_links: None,
            pip_no_index: false,
            packages: crate::packages::PackageSettings::default(),
            smtp: None,
            tls_extra_ca_certs: Vec::new(),
            mcp_session_idle: MCP_SESSION_IDLE,
            retention: crate::retention::Retention::default(),
            role: crate::nodes::Role::All,
            node_id: None,
            node_lease: crate::nodes::DEFAULT_LEASE,
            admin_listen: None,
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("automa.db").display()
            ),
        }
    }

    pub fn setup_url(&self, token: &str) -> String {
        let base = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        format!("{}/setup?token={token}", base.trim_end_matches('/'))
    }
}

/// Shape of the optional TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub environment: Option<Environment>,
    pub log_format: Option<LogFormat>,
    pub public_url: Option<String>,
    pub behind_proxy: Option<bool>,
    pub jwt_secret: Option<String>,
    pub secrets_key: Option<String>,
    pub access_token_ttl_secs: Option<u64>,
    pub login_max_failures: Option<u32>,
    pub lockout_secs: Option<u64>,
    pub body_limit_bytes: Option<usize>,
    pub metrics_public: Option<bool>,
    /// `[quotas]`: job_log_lines, job_log_bytes, agent_log_lines_per_minute,
    /// agent_log_bytes_per_minute, host_calls_per_run, state_keys, state_bytes,
    /// events_per_page and the ceilings (see `crate::quotas::Quotas`).
    pub quotas: Option<crate::quotas::Quotas>,
    /// `[smtp]`: host, port, tls (none|starttls|tls), username, password, from.
    pub smtp: Option<automa_runtime::host::SmtpSettings>,
    /// PEM files of extra CA certificates for scripts' TLS connections.
    pub tls_extra_ca_certs: Option<Vec<PathBuf>>,
    /// `[packages]`: python, max_concurrent, queue_timeout_secs, resolve_timeout_secs,
    /// max_wheel_bytes, max_download_bytes, max_unpacked_bytes, unused_grace_secs.
    pub packages: Option<crate::packages::PackageSettings>,
    /// `[retention]`: jobs_days, job_logs_days, artifacts_days, agent_history_days,
    /// sweep_interval_secs.
    pub retention: Option<crate::retention::Retention>,
    pub role: Option<crate::nodes::Role>,
    pub node_id: Option<String>,
    pub node_lease_secs: Option<u64>,
    pub admin_listen: Option<SocketAddr>,
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }
}

/// Checks run with `--environment production`: returns every problem found, so the
/// operator can fix them all at once.
pub fn production_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if !config.listen.ip().is_loopback() && !config.behind_proxy {
        problems.push(format!(
            "listening on non-loopback address {} without TLS: put a TLS-terminating proxy in front and set --behind-proxy (AUTOMA_BEHIND_PROXY=true)",
            config.listen
        ));
    }
    for (name, value) in [
        ("jwt_secret", &config.jwt_secret),
        ("secrets_key", &config.secrets_key),
    ] {
        if let Some(v) = value
            && crate::auth::keys::is_weak_key(v)
        {
            problems.push(format!(
                "{name} is weak: use at least 32 random bytes (64 hex characters) and not a placeholder"
            ));
        }
    }
    if let Some(url) = &config.public_url
        && url.starts_with("http://")
        && !url.contains("://127.0.0.1")
        && !url.contains("://localhost")
    {
        problems.push(format!("public_url {url} is not https"));
    }
    problems
}

/// Fails with one readable message listing the production problems, if any.
pub fn check_production(config: &Config, key_problems: Vec<String>) -> anyhow::Result<()> {
    if config.environment != Environment::Production {
        return Ok(());
    }
    let mut problems = production_problems(config);
    problems.extend(key_problems);
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "refusing to start in production with insecure settings:\n  - {}",
            problems.join("\n  - ")
        )
    }
}
