//! `automa serve`: run the HTTP server until ctrl-c / SIGTERM.

use crate::app::Application;
use crate::config::{Config, Environment, FileConfig, LogFormat};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Precedence: command-line flag > environment variable > config file > default.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "AUTOMA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Data directory (database, keys) [default: ./data].
    #[arg(long, env = "AUTOMA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Optional TOML config file.
    #[arg(long, env = "AUTOMA_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL (sqlite:// or postgres://) [default: SQLite file in the data dir].
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// `production` refuses to start with insecure settings.
    #[arg(long, env = "AUTOMA_ENVIRONMENT", value_enum)]
    environment: Option<Environment>,
    /// Log format [default: text].
    #[arg(long, env = "AUTOMA_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Public base URL (for the setup link), e.g. https://automa.example.org.
    #[arg(long, env = "AUTOMA_PUBLIC_URL")]
    public_url: Option<String>,
    /// A TLS-terminating reverse proxy is in front: trust X-Forwarded-For, allow
    /// non-loopback listening in production.
    #[arg(long, env = "AUTOMA_BEHIND_PROXY")]
    behind_proxy: bool,
    /// Serve /metrics without authentication.
    #[arg(long, env = "AUTOMA_METRICS_PUBLIC")]
    metrics_public: bool,
    /// JWT signing key (hex, >= 32 bytes) [default: generated in <data-dir>/keys].
    #[arg(long, env = "AUTOMA_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Secrets-at-rest key (hex, 32 bytes) [default: generated in <data-dir>/keys].
    #[arg(long, env = "AUTOMA_SECRETS_KEY", hide_env_values = true)]
    secrets_key: Option<String>,
    /// Access token lifetime, e.g. 15m [default: 15m].
    #[arg(long, env = "AUTOMA_ACCESS_TOKEN_TTL")]
    access_token_ttl: Option<humantime::Duration>,
    /// Failed logins before lockout [default: 5].
    #[arg(long, env = "AUTOMA_LOGIN_MAX_FAILURES")]
    login_max_failures: Option<u32>,
    /// Lockout duration, e.g. 15m [default: 15m].
    #[arg(long, env = "AUTOMA_LOCKOUT")]
    lockout: Option<humantime::Duration>,
    /// Job workers: how many scripts run at once [default: 8].
    #[arg(long, env = "AUTOMA_WORKERS")]
    workers: Option<usize>,
    /// Cache of the compiled Python runner [default: <data-dir>/cache].
    #[arg(long, env = "AUTOMA_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// A local directory of wheels for script dependencies (pip --find-links).
    #[arg(long, env = "AUTOMA_PIP_FIND_LINKS")]
    pip_find_links: Option<PathBuf>,
    /// Resolve script dependencies from --pip-find-links only.
    #[arg(long, env = "AUTOMA_PIP_NO_INDEX")]
    pip_no_index: bool,
    /// SMTP server for email from scripts and job notifications.
    #[arg(long, env = "AUTOMA_SMTP_HOST")]
    smtp_host: Option<String>,
    /// SMTP port [default: 587].
    #[arg(long, env = "AUTOMA_SMTP_PORT")]
    smtp_port: Option<u16>,
    /// SMTP security: none, starttls or tls [default: starttls].
    #[arg(long, env = "AUTOMA_SMTP_TLS", value_parser = ["none", "starttls", "tls"])]
    smtp_tls: Option<String>,
    /// Sender address of all email.
    #[arg(long, env = "AUTOMA_SMTP_FROM")]
    smtp_from: Option<String>,
    /// SMTP login name.
    #[arg(long, env = "AUTOMA_SMTP_USERNAME")]
    smtp_username: Option<String>,
    /// SMTP password.
    #[arg(long, env = "AUTOMA_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// A PEM file of CA certificates that scripts' TLS connections trust besides the
    /// public roots (e.g. an internal CA). Repeatable; the env value is comma-separated.
    #[arg(
        long = "tls-extra-ca-cert",
        env = "AUTOMA_TLS_EXTRA_CA_CERTS",
        value_name = "FILE",
        value_delimiter = ','
    )]
    tls_extra_ca_certs: Vec<PathBuf>,
    /// Maximum request body in bytes [default: 1048576].
    #[arg(long, env = "AUTOMA_BODY_LIMIT")]
    body_limit: Option<usize>,
    /// What this node does: all (one machine), api (HTTP, dashboard, MCP; runs
    /// nothing) [default: all]. Several nodes need PostgreSQL.
    #[arg(long, env = "AUTOMA_ROLE", value_enum)]
    role: Option<crate::nodes::Role>,
    /// This node's id among the nodes sharing the database [default: kept in
    /// <data-dir>/node_id]. Nodes sharing one data directory each need their own.
    #[arg(long, env = "AUTOMA_NODE_ID")]
    node_id: Option<String>,
    /// A node not heard from for this long is taken over by another, e.g. 15s.
    #[arg(long, env = "AUTOMA_NODE_LEASE")]
    node_lease: Option<humantime::Duration>,
    /// Where a worker serves /healthz and /metrics (a worker has no other listener).
    #[arg(long, env = "AUTOMA_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
}

impl ServeArgs {
    /// Merges flags/env with the optional file and defaults.
    pub fn resolve(self) -> anyhow::Result<(Config, LogFormat)> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let mut c = Config::new(data_dir);
        if let Some(v) = self.listen.or(file.listen) {
            c.listen = v;
        }
        c.database_url = self.database_url.or(file.database_url);
        if let Some(v) = self.environment.or(file.environment) {
            c.environment = v;
        }
        c.public_url = self.public_url.or(file.public_url);
        c.behind_proxy = self.behind_proxy || file.behind_proxy.unwrap_or(false);
        c.metrics_public = self.metrics_public || file.metrics_public.unwrap_or(false);
        c.jwt_secret = self.jwt_secret.or(file.jwt_secret);
        c.secrets_key = self.secrets_key.or(file.secrets_key);
        if let Some(v) = self.access_token_ttl.map(Into::into).or(file
            .access_token_ttl_secs
            .map(std::time::Duration::from_secs))
        {
            c.access_token_ttl = v;
        }
        if let Some(v) = self.login_max_failures.or(file.login_max_failures) {
            c.login_max_failures = v;
        }
        if let Some(v) = self
            .lockout
            .map(Into::into)
            .or(file.lockout_secs.map(std::time::Duration::from_secs))
        {
            c.lockout = v;
        }
        if let Some(v) = self.body_limit.or(file.body_limit_bytes) {
            c.body_limit_bytes = v;
        }
        if let Some(v) = self.workers {
            c.workers = v.clamp(1, 256);
        }
        if let Some(quotas) = file.quotas {
            c.quotas = quotas;
        }
        c.cache_dir = self.cache_dir;
        c.pip_find_links = self.pip_find_links;
        c.pip_no_index = self.pip_no_index;
        c.packages = file.packages.unwrap_or_default();
        c.smtp = match self.smtp_host {
            Some(host) => Some(automa_runtime::host::SmtpSettings {
                host,
                port: self.smtp_port.unwrap_or(587),
                tls: match self.smtp_tls.as_deref() {
                    Some("none") => automa_runtime::host::SmtpTls::None,
                    Some("tls") => automa_runtime::host::SmtpTls::Tls,
                    _ => automa_runtime::host::SmtpTls::Starttls,
                },
                username: self.smtp_username,
                password: self.smtp_password,
                from: self
                    .smtp_from
                    .context("--smtp-from (AUTOMA_SMTP_FROM) is needed with --smtp-host")?,
            }),
            None => file.smtp,
        };
        c.tls_extra_ca_certs = if self.tls_extra_ca_certs.is_empty() {
            file.tls_extra_ca_certs.unwrap_or_default()
        } else {
            self.tls_extra_ca_certs
        };
        if let Some(retention) = file.retention {
            c.retention = retention;
        }
        if let Some(role) = self.role.or(file.role) {
            c.role = role;
        }
        c.node_id = self.node_id.or(file.node_id);
        if let Some(lease) = self
            .node_lease
            .map(Into::into)
            .or(file.node_lease_secs.map(std::time::Duration::from_secs))
        {
            anyhow::ensure!(
                lease >= std::time::Duration::from_secs(1),
                "node_lease must be at least 1s"
            );
            c.node_lease = lease;
        }
        c.admin_listen = self.admin_listen.or(file.admin_listen);
        let log_format = self
            .log_format
            .or(file.log_format)
            .unwrap_or(LogFormat::Text);
        Ok((c, log_format))
    }
}

pub fn main(args: ServeArgs) -> ExitCode {
    start(args, None)
}

/// `automa worker`: a node that runs jobs and agents and serves no API.
pub fn worker_main(args: ServeArgs) -> ExitCode {
    start(args, Some(crate::nodes::Role::Worker))
}

fn start(args: ServeArgs, forced: Option<crate::nodes::Role>) -> ExitCode {
    let resolved = args.resolve().and_then(|(mut config, format)| {
        if let Some(role) = forced {
            anyhow::ensure!(
                config.role == crate::nodes::Role::All || config.role == role,
                "`automa worker` is the worker role; --role {} does not apply",
                config.role.as_str()
            );
            config.role = role;
        } else {
            anyhow::ensure!(
                config.role != crate::nodes::Role::Worker,
                "use `automa worker` to start a worker"
            );
        }
        Ok((config, format))
    });
    let (config, log_format) = match resolved {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    crate::telemetry::init(log_format);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "server failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        data_dir = %config.data_dir.display(),
        database = %crate::db::redact_url(&config.database_url()),
        environment = ?config.environment,
        "starting automa"
    );
    let app = Application::build(config)
        .await
        .context("starting server")?;
    app.run_until_stopped(shutdown_signal()).await
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "listening for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; draining connections");
}
