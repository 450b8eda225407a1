//! `automa serve` and `automa worker`: run the node until ctrl-c / SIGTERM.

use crate::app::Application;
use crate::config::{self, Config, Environment, LogFormat};
use anyhow::Context;
use secrecy::SecretString;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Precedence: command-line flag > environment variable > config file > default. The
/// flags are the common settings; every other key of the file has `--set KEY=VALUE`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Optional TOML config file.
    #[arg(long, env = "AUTOMA_CONFIG")]
    config: Option<PathBuf>,
    /// Print the effective configuration (defaults, file, environment and flags merged)
    /// as TOML with secrets masked, and exit.
    #[arg(long)]
    print_config: bool,
    /// Set any configuration key, e.g. `--set quotas.job_log_lines=5000` (repeatable;
    /// the named flags win over it).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    set: Vec<(String, String)>,
    #[command(flatten)]
    flags: SettingFlags,
}

/// The settings that have a flag of their own, named as the settings keys they set.
/// Unset flags serialize as nothing, so they leave the lower layers' values.
#[derive(Debug, clap::Args, Serialize)]
struct SettingFlags {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory (database, keys) [default: ./data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite:// or postgres://) [default: SQLite file in the data dir].
    #[arg(long, value_parser = secret)]
    #[serde(serialize_with = "config::secret_exposed")]
    database_url: Option<SecretString>,
    /// `production` refuses to start with insecure settings.
    #[arg(long, value_enum)]
    environment: Option<Environment>,
    /// Log format [default: text].
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
    /// Public base URL (for the setup link), e.g. https://automa.example.org.
    #[arg(long)]
    public_url: Option<String>,
    /// A TLS-terminating reverse proxy is in front: trust X-Forwarded-For, allow
    /// non-loopback listening in production (`--behind-proxy=false` turns it off).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    behind_proxy: Option<bool>,
    /// Serve /metrics without authentication.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    metrics_public: Option<bool>,
    /// JWT signing key (hex, >= 32 bytes) [default: generated in <data-dir>/keys].
    #[arg(long, value_parser = secret)]
    #[serde(serialize_with = "config::secret_exposed")]
    jwt_secret: Option<SecretString>,
    /// Secrets-at-rest key (hex, 32 bytes) [default: generated in <data-dir>/keys].
    #[arg(long, value_parser = secret)]
    #[serde(serialize_with = "config::secret_exposed")]
    secrets_key: Option<SecretString>,
    /// Access token lifetime, e.g. 15m [default: 15m].
    #[arg(long, value_parser = config::parse_duration)]
    #[serde(
        rename = "access_token_ttl_secs",
        serialize_with = "config::duration_opt"
    )]
    access_token_ttl: Option<Duration>,
    /// Failed logins before lockout [default: 5].
    #[arg(long)]
    login_max_failures: Option<u32>,
    /// Lockout duration, e.g. 15m [default: 15m].
    #[arg(long, value_parser = config::parse_duration)]
    #[serde(rename = "lockout_secs", serialize_with = "config::duration_opt")]
    lockout: Option<Duration>,
    /// Job workers: how many scripts run at once, 1 to 256 [default: 8].
    #[arg(long)]
    workers: Option<usize>,
    /// Sandbox instances (runs, agents, plugins) alive at once, 0 to 4096; 0: no
    /// pooling allocator [default: 1024].
    #[arg(long)]
    max_instances: Option<u32>,
    /// Cache of the compiled Python runner [default: <data-dir>/cache].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// A local directory of wheels for script dependencies (pip --find-links).
    #[arg(long)]
    pip_find_links: Option<PathBuf>,
    /// Resolve script dependencies from --pip-find-links only.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pip_no_index: Option<bool>,
    /// Offer the data runtime profile (numpy, pandas, ...): fetched and compiled once.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    data_profile: Option<bool>,
    /// A local copy of the pinned data-profile wheel (offline installs).
    #[arg(long)]
    data_profile_wheel: Option<PathBuf>,
    #[command(flatten)]
    smtp: SmtpFlags,
    /// A PEM file of CA certificates that scripts' TLS connections trust besides the
    /// public roots (e.g. an internal CA). Repeatable.
    #[arg(long = "tls-extra-ca-cert", value_name = "FILE", value_delimiter = ',')]
    tls_extra_ca_certs: Vec<PathBuf>,
    /// Maximum request body in bytes [default: 1048576].
    #[arg(long)]
    #[serde(rename = "body_limit_bytes")]
    body_limit: Option<usize>,
    /// What this node does: all (one machine), api (HTTP, dashboard, MCP; runs
    /// nothing) [default: all]. Several nodes need PostgreSQL.
    #[arg(long, value_enum)]
    role: Option<crate::nodes::Role>,
    /// This node's id among the nodes sharing the database [default: kept in
    /// <data-dir>/node_id]. Nodes sharing one data directory each need their own.
    #[arg(long)]
    node_id: Option<String>,
    /// A node not heard from for this long is taken over by another, e.g. 15s.
    #[arg(long, value_parser = config::parse_duration)]
    #[serde(rename = "node_lease_secs", serialize_with = "config::duration_opt")]
    node_lease: Option<Duration>,
    /// Where a worker serves /healthz and /metrics (a worker has no other listener).
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
}

/// `[smtp]` keys from flags; given ones replace only their own key of the file's table.
#[derive(Debug, clap::Args, Serialize)]
struct SmtpFlags {
    /// SMTP server for email from scripts and job notifications.
    #[arg(long = "smtp-host", id = "smtp_host")]
    host: Option<String>,
    /// SMTP port [default: 587].
    #[arg(long = "smtp-port", id = "smtp_port")]
    port: Option<u16>,
    /// SMTP security: none, starttls or tls [default: starttls].
    #[arg(long = "smtp-tls", id = "smtp_tls", value_parser = ["none", "starttls", "tls"])]
    tls: Option<String>,
    /// Sender address of all email.
    #[arg(long = "smtp-from", id = "smtp_from")]
    from: Option<String>,
    /// SMTP login name.
    #[arg(long = "smtp-username", id = "smtp_username")]
    username: Option<String>,
    /// SMTP password (better in the environment: AUTOMA_SMTP_PASSWORD).
    #[arg(long = "smtp-password", id = "smtp_password", value_parser = secret)]
    #[serde(serialize_with = "config::secret_exposed")]
    password: Option<SecretString>,
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

fn parse_set(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((key, v)) if !key.trim().is_empty() => Ok((key.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "{value:?} is not KEY=VALUE (e.g. quotas.job_log_lines=5000)"
        )),
    }
}

impl ServeArgs {
    /// Merges the flags with the process environment, the optional file and defaults.
    pub fn resolve(&self) -> anyhow::Result<Config> {
        config::load(&config::Sources {
            file: self.config.clone(),
            env: std::env::vars().collect(),
            flags: config::load::flag_layer(&self.flags)?,
            sets: self.set.clone(),
        })
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
    let resolved = args.resolve().and_then(|mut config| {
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
        Ok(config)
    });
    let config = match resolved {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if args.print_config {
        return match config.to_masked_toml() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let log_format = config.log_format;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::ServeArgs;
    use crate::config::{self, Config, Sources};
    use clap::Parser;
    use secrecy::ExposeSecret;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        serve: ServeArgs,
    }

    /// The configuration from a file, an environment and flags, as `automa serve` merges
    /// them (the environment passed in, not the test process's).
    fn resolve(file: &str, env: &[(&str, &str)], flags: &[&str]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("automa.toml");
        std::fs::write(&path, file)?;
        let args =
            Line::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))?.serve;
        config::load(&Sources {
            file: Some(path),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            flags: config::load::flag_layer(&args.flags)?,
            sets: args.set.clone(),
        })
    }

    #[test]
    fn a_scalar_comes_from_the_file_then_the_environment_then_a_flag() {
        let file = "login_max_failures = 7\n";
        assert_eq!(resolve(file, &[], &[]).unwrap().login_max_failures, 7);
        let env = [("AUTOMA_LOGIN_MAX_FAILURES", "8")];
        assert_eq!(resolve(file, &env, &[]).unwrap().login_max_failures, 8);
        let flags = ["--login-max-failures", "9"];
        assert_eq!(resolve(file, &env, &flags).unwrap().login_max_failures, 9);
        // Durations: seconds in the file, human durations in the environment and flags.
        let file = "lockout_secs = 60\n";
        let lockout = |env: &[(&str, &str)], flags: &[&str]| {
            resolve(file, env, flags).unwrap().lockout.as_secs()
        };
        assert_eq!(lockout(&[], &[]), 60);
        assert_eq!(lockout(&[("AUTOMA_LOCKOUT", "2m")], &[]), 120);
        assert_eq!(
            lockout(&[("AUTOMA_LOCKOUT", "2m")], &["--lockout", "3m"]),
            180
        );
    }

    #[test]
    fn one_smtp_key_from_a_layer_keeps_the_others_of_the_file() {
        let file = "[smtp]\nhost = \"smtp.file\"\nport = 25\nfrom = \"a@example.org\"\nusername = \"robot\"\n";
        let smtp = |env: &[(&str, &str)], flags: &[&str]| {
            resolve(file, env, flags)
                .unwrap()
                .smtp
                .expect("smtp settings")
        };
        let from_file = smtp(&[], &[]);
        assert_eq!((from_file.host.as_str(), from_file.port), ("smtp.file", 25));
        // Both the old variable names and the `__` ones set one key each.
        let env = smtp(
            &[
                ("AUTOMA_SMTP_PORT", "2525"),
                ("AUTOMA_SMTP__PASSWORD", "pw"),
            ],
            &[],
        );
        assert_eq!((env.host.as_str(), env.port), ("smtp.file", 2525));
        assert_eq!(env.username.as_deref(), Some("robot"));
        assert_eq!(env.password.as_ref().map(|p| p.expose_secret()), Some("pw"));
        let flag = smtp(&[("AUTOMA_SMTP_PORT", "2525")], &["--smtp-port", "587"]);
        assert_eq!((flag.host.as_str(), flag.port), ("smtp.file", 587));
        assert_eq!(flag.from, "a@example.org");
        // No `[smtp]` in the file: the flags alone make one, the port defaults to 587.
        let only_flags = resolve(
            "",
            &[],
            &["--smtp-host", "h", "--smtp-from", "f@example.org"],
        )
        .unwrap()
        .smtp
        .expect("smtp settings");
        assert_eq!(only_flags.port, 587);
        let error = format!("{:#}", resolve("", &[], &["--smtp-host", "h"]).unwrap_err());
        assert!(
            error.contains("missing field `from`") && error.contains("smtp"),
            "{error}"
        );
    }

    #[test]
    fn settings_that_had_only_flags_come_from_the_file_and_the_environment_too() {
        let file = "workers = 3\ncache_dir = \"/tmp/automa-cache\"\npip_find_links = \"/srv/wheels\"\npip_no_index = true\n";
        let c = resolve(file, &[], &[]).unwrap();
        assert_eq!(c.workers, 3);
        assert_eq!(
            c.cache_dir.as_deref(),
            Some(std::path::Path::new("/tmp/automa-cache"))
        );
        assert_eq!(
            c.pip_find_links.as_deref(),
            Some(std::path::Path::new("/srv/wheels"))
        );
        assert!(c.pip_no_index);
        let env = [("AUTOMA_WORKERS", "4"), ("AUTOMA_PIP_NO_INDEX", "false")];
        let c = resolve(file, &env, &[]).unwrap();
        assert_eq!((c.workers, c.pip_no_index), (4, false));
        // A flag given without a value switches on; `=false` switches off.
        assert!(resolve("", &[], &["--pip-no-index"]).unwrap().pip_no_index);
        assert!(
            !resolve(file, &[], &["--pip-no-index=false"])
                .unwrap()
                .pip_no_index
        );
        // Tables have no flags of their own: the environment and --set reach every key.
        let env = [
            ("AUTOMA_QUOTAS__JOB_LOG_LINES", "50"),
            ("AUTOMA_RETENTION__JOBS_DAYS", "7"),
        ];
        let c = resolve("", &env, &["--set", "packages.max_concurrent=5"]).unwrap();
        assert_eq!(c.quotas.job_log_lines, 50);
        assert_eq!(c.retention.jobs_days, 7);
        assert_eq!(c.packages.max_concurrent, 5);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_naming_the_key_and_the_layer() {
        let error = |file: &str, env: &[(&str, &str)], flags: &[&str]| {
            format!("{:#}", resolve(file, env, flags).unwrap_err())
        };
        let typo = error("workrs = 3\n", &[], &[]);
        assert!(
            typo.contains("unknown key `workrs` in config file"),
            "{typo}"
        );
        let nested = error(
            "[smtp]\nhost = \"h\"\nfrom = \"f\"\npasword = \"x\"\n",
            &[],
            &[],
        );
        assert!(nested.contains("unknown key `smtp.pasword`"), "{nested}");
        let env = error("", &[("AUTOMA_QUOTAS__JOB_LOG_LINE", "5")], &[]);
        assert!(
            env.contains("unknown key `quotas.job_log_line` in environment variable AUTOMA_QUOTAS__JOB_LOG_LINE"),
            "{env}"
        );
        let bad = error("", &[("AUTOMA_WORKERS", "many")], &[]);
        assert!(
            bad.contains("`workers` in environment variable AUTOMA_WORKERS"),
            "{bad}"
        );
        let range = error("workers = 0\n", &[], &[]);
        assert!(
            range.contains("`workers` in config file") && range.contains("1 to 256"),
            "{range}"
        );
        let pool = error("", &[("AUTOMA_MAX_INSTANCES", "5000")], &[]);
        assert!(
            pool.contains("`max_instances` in environment variable AUTOMA_MAX_INSTANCES")
                && pool.contains("0 to 4096"),
            "{pool}"
        );
        // Other tools' variables share the prefix and are not settings.
        let others = [
            ("AUTOMA_URL", "http://x"),
            ("AUTOMA_TEST_PYTHON", "/usr/bin/python3"),
        ];
        assert!(resolve("", &others, &[]).is_ok());
    }

    #[test]
    fn secrets_never_print() {
        let file = "jwt_secret = \"jwt-0123456789abcdef0123456789abcdef\"\ndatabase_url = \"postgres://automa:db-pass-42@db/automa\"\n[smtp]\nhost = \"h\"\nfrom = \"f@example.org\"\npassword = \"smtp-pass-42\"\n";
        let env = [("AUTOMA_SECRETS_KEY", "secrets-0123456789abcdef0123456789")];
        let c = resolve(file, &env, &[]).unwrap();
        for shown in [format!("{c:?}"), c.to_masked_toml().unwrap()] {
            for secret in ["jwt-0123", "db-pass-42", "smtp-pass-42", "secrets-0123"] {
                assert!(!shown.contains(secret), "{secret} shown in {shown}");
            }
            assert!(shown.contains("[REDACTED]"), "{shown}");
        }
        // What the server uses is the real value.
        assert!(c.database_url().contains("db-pass-42"));
        assert!(
            c.to_masked_toml()
                .unwrap()
                .contains("postgres://automa:***@db/automa")
        );
    }
}
