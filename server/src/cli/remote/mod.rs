//! The remote CLI: `automa login`, `scripts`, `jobs`, `agents`, `schedules` and
//! `automa run NAME` talk to a running server over its public `/api/v1`. Each group
//! lives in its own module; this one holds what they share (connection, output format,
//! exit codes).

pub mod agents;
pub mod client;
pub mod credentials;
pub mod jobs;
pub mod login;
pub mod manifest;
pub mod schedules;
pub mod scripts;
pub mod sync;
pub mod table;

use anyhow::bail;
use client::Client;
use std::process::ExitCode;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    Table,
    /// The API's JSON, for scripts and `jq`.
    Json,
}

/// Which server and how to print; on every remote command.
#[derive(Debug, Clone, clap::Args)]
pub struct Conn {
    /// Server URL [default: the one `automa login` stored].
    #[arg(long, env = "AUTOMA_URL", global = true, value_name = "URL")]
    pub url: Option<String>,
    /// API token [default: the one `automa login` stored].
    #[arg(long, env = "AUTOMA_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

impl Conn {
    /// A client for the chosen server. A stored token is only sent to the server it was
    /// issued by: with another `--url`, `--token` must come too.
    pub fn client(&self) -> anyhow::Result<Client> {
        let stored = credentials::load()?;
        let url = match (&self.url, &stored) {
            (Some(url), _) => client::normalise_url(url)?,
            (None, Some(c)) => client::normalise_url(&c.url)?,
            (None, None) => bail!(
                "not logged in: run `automa login URL` first, or set AUTOMA_URL and AUTOMA_TOKEN"
            ),
        };
        let token = match (&self.token, &stored) {
            (Some(token), _) => token.clone(),
            (None, Some(c))
                if client::normalise_url(&c.url).ok().as_deref() == Some(url.as_str()) =>
            {
                c.token.clone()
            }
            (None, _) => bail!("no token for {url}: run `automa login {url}` or set AUTOMA_TOKEN"),
        };
        Client::new(&url, Some(token))
    }
}

/// Runs one remote command on a small runtime; errors are printed plainly, exit 2.
pub fn block_on(
    what: &str,
    fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("automa {what}: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("automa {what}: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The exit code a finished job's status maps to (same as a local `automa run`).
pub fn exit_code_of(status: &str) -> ExitCode {
    ExitCode::from(match status {
        "succeeded" => 0,
        "timed_out" => 3,
        "memory_exceeded" => 4,
        "cpu_exceeded" => 5,
        "cancelled" => 130,
        _ => 1,
    })
}

/// Prints JSON as the API gave it, pretty.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// `KEY=VALUE` pairs into a JSON object; VALUE is JSON when it parses, else a string.
pub fn parse_args(pairs: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--arg expects KEY=VALUE, got {pair:?}");
        };
        if key.is_empty() {
            bail!("--arg expects KEY=VALUE, got an empty KEY in {pair:?}");
        }
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        map.insert(key.to_owned(), value);
    }
    Ok(serde_json::Value::Object(map))
}
