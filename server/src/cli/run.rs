//! `automa run SCRIPT.py`: run one script in the sandbox from the command line. The
//! flags fill the same run inputs the server fills from a stored script
//! ([`crate::runs::RunInputs`]).
//!
//! `automa run NAME` (no `.py`, no `/`), or any target with `--remote`, runs the
//! server's script NAME instead ([`super::remote::jobs::run_remote`]).

use crate::runs::lines::Lines;
use crate::runs::{RunInputs, RunPorts};
use anyhow::{Context as _, bail};
use automa_runtime::host::ports::{
    AuditSink, ConnectionRecord, HostCallRecord, Mailer, MemoryState, OutputStream, RunEvents,
};
use automa_runtime::host::{
    Capabilities, EmailRule, HttpRule, LogLevel, NetRule, ReqwestClient, SmtpMailer, SmtpSettings,
    SmtpTls, TlsTrust,
};
use automa_runtime::{CancellationToken, Limits, RunOutcome, RunStatus, Runtime, RuntimeConfig};
use clap::Args;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `automa run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A local Python file (ends in `.py` or contains `/`), run here in the sandbox; or
    /// the name of a script on the server (see `automa login`), run there.
    script: PathBuf,
    /// Run the server's script of this name even if it looks like a local file.
    #[arg(long)]
    remote: bool,
    /// Remote runs: run this version of the script instead of the current one.
    #[arg(long, value_name = "N")]
    script_version: Option<i64>,
    #[command(flatten)]
    wait: super::remote::jobs::Wait,
    #[command(flatten)]
    conn: super::remote::Conn,
    /// An argument for `main()`: KEY=VALUE, where VALUE is parsed as JSON when it is
    /// valid JSON and taken as a string otherwise. Repeatable.
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    args: Vec<String>,
    /// Allow HTTP to HOST[:PORT] or to a URL prefix like https://api.example.com/v1/.
    /// Naming a loopback or private address allows it explicitly. Repeatable.
    #[arg(long = "allow-http", value_name = "HOST[:PORT]")]
    allow_http: Vec<String>,
    /// Allow TCP/TLS connections (sockets, database and mail clients) to HOST:PORT,
    /// *.DOMAIN:PORT or IP:PORT. Naming a loopback or private address allows it
    /// explicitly. Repeatable.
    #[arg(long = "allow-net", value_name = "HOST:PORT")]
    allow_net: Vec<String>,
    /// Trust the CA certificates in this PEM file for TLS connections, besides the
    /// public roots. Repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_certs: Vec<PathBuf>,
    /// Allow email to ADDRESS or to every address @DOMAIN. Repeatable.
    #[arg(long = "allow-email", value_name = "ADDRESS|@DOMAIN")]
    allow_email: Vec<String>,
    /// Grant the secret NAME, read from the environment variable of the same name.
    #[arg(long = "secret", value_name = "NAME")]
    secrets: Vec<String>,
    /// Wall-clock time limit, e.g. 30s, 500ms, 2m.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// CPU budget in CPU seconds of the interpreter's thread CPU time (of fuel with
    /// --deterministic-cpu); past it the run ends cpu_exceeded (exit code 5). No budget
    /// when left out.
    #[arg(long, value_name = "SECONDS", value_parser = parse_cpu_seconds)]
    cpu_seconds: Option<f64>,
    /// Count CPU in fuel (WebAssembly instructions): a budget is the same work on every
    /// machine and the outcome reports the fuel used; CPU-bound code runs 15-20% slower.
    #[arg(long)]
    deterministic_cpu: bool,
    /// Memory limit of the interpreter, e.g. 256MiB, 1GB.
    #[arg(long, default_value = "256MiB")]
    memory: bytesize::ByteSize,
    /// Keep at most this much of stdout and of stderr in the outcome.
    #[arg(long, default_value = "1MiB")]
    max_output: bytesize::ByteSize,
    /// Mount this directory read-write at /data.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Mount this directory read-write at /artifacts (and publish artifacts into it).
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// SMTP server for email, HOST:PORT.
    #[arg(long, env = "AUTOMA_SMTP", value_name = "HOST:PORT")]
    smtp: Option<String>,
    /// SMTP connection security.
    #[arg(long, env = "AUTOMA_SMTP_TLS", default_value = "starttls", value_parser = ["none", "starttls", "tls"])]
    smtp_tls: String,
    /// Sender address of email.
    #[arg(long, env = "AUTOMA_SMTP_FROM", default_value = "automa@localhost")]
    smtp_from: String,
    /// Where the compiled Python runtime is cached.
    #[arg(long, env = "AUTOMA_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Print one JSON outcome object instead of the script's output.
    #[arg(long)]
    json: bool,
}

/// Exit codes: 0 success, 1 script failed, 3 timed out, 4 memory exceeded,
/// 5 CPU budget used, 130 cancelled, 2 bad usage or setup.
pub fn main(mut args: RunArgs) -> ExitCode {
    if !runs_locally(&args) {
        return run_remote(args);
    }
    if args.wait.wait || args.wait.follow || args.script_version.is_some() {
        return usage_error(&anyhow::anyhow!(
            "--wait, --follow and --script-version are for scripts on the server; \
             {} is a local file (add --remote to run the server's script of that name)",
            args.script.display()
        ));
    }
    args.json |= args.conn.output == super::remote::Output::Json;
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return usage_error(&anyhow::Error::from(error)),
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(error) => usage_error(&error),
    }
}

/// A target ending in `.py` or holding a path separator is a local file.
fn runs_locally(args: &RunArgs) -> bool {
    let target = args.script.to_string_lossy();
    !args.remote && (target.ends_with(".py") || target.contains(std::path::MAIN_SEPARATOR))
}

fn run_remote(args: RunArgs) -> ExitCode {
    let local_only = [
        ("--allow-http", !args.allow_http.is_empty()),
        ("--allow-email", !args.allow_email.is_empty()),
        ("--allow-net", !args.allow_net.is_empty()),
        ("--ca-cert", !args.ca_certs.is_empty()),
        ("--secret", !args.secrets.is_empty()),
        ("--data", args.data.is_some()),
        ("--artifacts", args.artifacts.is_some()),
    ];
    if let Some((flag, _)) = local_only.iter().find(|(_, set)| *set) {
        return usage_error(&anyhow::anyhow!(
            "{flag} applies to local files only; a script on the server runs with the \
             grants an admin gave it"
        ));
    }
    let name = args.script.to_string_lossy().into_owned();
    let mut conn = args.conn.clone();
    if args.json {
        conn.output = super::remote::Output::Json;
    }
    super::remote::block_on("run", async move {
        let script_args = super::remote::parse_args(&args.args)?;
        super::remote::jobs::run_remote(&conn, &name, script_args, args.script_version, args.wait)
            .await
    })
}

fn usage_error(error: &anyhow::Error) -> ExitCode {
    eprintln!("automa run: {error:#}");
    ExitCode::from(2)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,automa_runtime=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.script)
        .with_context(|| format!("cannot read {}", args.script.display()))?;
    let script_args = parse_script_args(&args.args)?;
    let capabilities = capabilities(&args)?;
    let filename = args
        .script
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script.py".into());

    let inputs = RunInputs {
        source,
        filename,
        args: Value::Object(script_args),
        capabilities,
        secrets: args
            .secrets
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
            .collect(),
        packages: None,
        data_dir: args.data.clone(),
        artifacts_dir: args.artifacts.clone(),
        limits: Limits {
            memory_bytes: args.memory.as_u64(),
            timeout: args.timeout,
            max_output_bytes: usize::try_from(args.max_output.as_u64()).unwrap_or(usize::MAX),
            cpu: args.cpu_seconds.map(Duration::from_secs_f64),
            ..Limits::default()
        },
        profile: Default::default(),
    };
    let events = Arc::new(ConsoleEvents {
        quiet: args.json,
        lines: Lines::new(inputs.redaction()),
    });
    let mailer: Option<Arc<dyn Mailer>> = match &args.smtp {
        Some(smtp) => Some(Arc::new(mailer(smtp, &args.smtp_tls, &args.smtp_from)?)),
        None => None,
    };
    let ports = RunPorts {
        http: Arc::new(ReqwestClient::new()),
        mailer,
        audit: Arc::new(TracingAudit),
        events: events.clone(),
        state: Some(Arc::new(MemoryState::default())),
        plugins: None,
        agent: None,
        tls: if args.ca_certs.is_empty() {
            TlsTrust::webpki()
        } else {
            Arc::new(TlsTrust::from_pem_files(&args.ca_certs).map_err(anyhow::Error::msg)?)
        },
    };

    let cache_dir = args.cache_dir.clone().or_else(default_cache_dir);
    let deterministic_cpu = args.deterministic_cpu;
    let runtime = tokio::task::spawn_blocking(move || {
        Runtime::new(RuntimeConfig {
            cache_dir,
            fuel: deterministic_cpu,
            ..RuntimeConfig::default()
        })
    })
    .await
    .context("starting the runtime")??;

    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });

    let outcome = runtime.run(inputs.into_request(ports, cancel)).await;
    events.flush();
    report(&outcome, args.json)?;
    Ok(exit_code(outcome.status))
}

fn report(outcome: &RunOutcome, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let object = json!({
            "status": outcome.status,
            "result": outcome.result,
            "stdout": outcome.stdout,
            "stderr": outcome.stderr,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
            "peak_memory_bytes": outcome.peak_memory_bytes,
            "host_calls": outcome.host_calls,
            "cpu_time_ms": outcome.cpu_time_ms,
            "fuel_consumed": outcome.fuel_consumed,
        });
        println!("{}", serde_json::to_string_pretty(&object)?);
        return Ok(());
    }
    if let Some(error) = &outcome.error {
        let mut err = std::io::stderr().lock();
        if error.traceback.is_empty() {
            writeln!(err, "{}: {}", error.kind, error.message)?;
        } else {
            write!(err, "{}", error.traceback)?;
        }
    }
    if let Some(result) = outcome.result.as_ref().filter(|r| !r.is_null()) {
        println!("{result}");
    }
    Ok(())
}

fn exit_code(status: RunStatus) -> ExitCode {
    match status {
        RunStatus::Succeeded => ExitCode::SUCCESS,
        RunStatus::Failed => ExitCode::from(1),
        RunStatus::TimedOut => ExitCode::from(3),
        RunStatus::MemoryExceeded => ExitCode::from(4),
        RunStatus::CpuExceeded => ExitCode::from(5),
        RunStatus::Cancelled => ExitCode::from(130),
    }
}

fn parse_cpu_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of CPU seconds from 0 to 86400"
        )),
    }
}

/// `KEY=VALUE` pairs; VALUE is JSON when it parses as JSON, a string otherwise.
fn parse_script_args(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut map = Map::new();
    for pair in pairs {
        let Some((key, raw)) = pair.split_once('=') else {
            bail!("--arg {pair:?} must look like KEY=VALUE");
        };
        if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
            bail!("--arg key {key:?} must be a Python identifier");
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

fn capabilities(args: &RunArgs) -> anyhow::Result<Capabilities> {
    let mut capabilities = Capabilities::default();
    for spec in &args.allow_http {
        capabilities
            .http
            .rules
            .push(HttpRule::parse(spec).map_err(anyhow::Error::msg)?);
    }
    for spec in &args.allow_net {
        capabilities
            .net
            .rules
            .push(NetRule::parse(spec).map_err(anyhow::Error::msg)?);
    }
    for spec in &args.allow_email {
        capabilities
            .email
            .rules
            .push(EmailRule::parse(spec).map_err(anyhow::Error::msg)?);
    }
    capabilities.secrets = args.secrets.clone();
    Ok(capabilities)
}

fn mailer(smtp: &str, tls: &str, from: &str) -> anyhow::Result<SmtpMailer> {
    let (host, port) = smtp
        .rsplit_once(':')
        .with_context(|| format!("--smtp {smtp:?} must be HOST:PORT"))?;
    let port = port
        .parse()
        .with_context(|| format!("invalid SMTP port in {smtp:?}"))?;
    let tls = match tls {
        "none" => SmtpTls::None,
        "tls" => SmtpTls::Tls,
        _ => SmtpTls::Starttls,
    };
    SmtpMailer::new(&SmtpSettings {
        host: host.to_owned(),
        port,
        tls,
        username: std::env::var("AUTOMA_SMTP_USERNAME").ok(),
        password: std::env::var("AUTOMA_SMTP_PASSWORD").ok().map(Into::into),
        from: from.to_owned(),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}

fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("automa"))
}

/// Streams the script's output to the terminal a line at a time, scrubbed of the
/// granted secrets like a job's log.
struct ConsoleEvents {
    quiet: bool,
    lines: Lines,
}

impl ConsoleEvents {
    fn write(&self, stream: OutputStream, text: String) {
        let text = self.lines.scrub(text);
        let _ = match stream {
            OutputStream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            OutputStream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }

    /// Print output still waiting for its line end; call when the run is over.
    fn flush(&self) {
        for (stream, text) in self.lines.rest() {
            if !self.quiet {
                self.write(stream, text);
            }
        }
    }
}

impl RunEvents for ConsoleEvents {
    fn output(&self, stream: OutputStream, chunk: &[u8]) {
        if self.quiet {
            return;
        }
        if let Some(text) = self.lines.output(stream, chunk) {
            self.write(stream, text);
        }
    }

    fn log(&self, level: LogLevel, message: &str, fields: Option<&Value>) {
        if self.quiet {
            return;
        }
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        };
        let fields = fields
            .map(|f| format!(" {}", self.lines.scrub_value(f.clone())))
            .unwrap_or_default();
        eprintln!("[{level}] {}{fields}", self.lines.scrub(message.to_owned()));
    }

    fn progress(&self, fraction: f32, message: Option<&str>) {
        if !self.quiet {
            eprintln!(
                "[progress {:.0}%] {}",
                fraction * 100.0,
                self.lines.scrub(message.unwrap_or("").to_owned())
            );
        }
    }
}

/// Host calls of a CLI run go to the debug log (`RUST_LOG=automa=debug`).
struct TracingAudit;

impl AuditSink for TracingAudit {
    fn record(&self, call: HostCallRecord) {
        tracing::debug!(
            operation = call.operation,
            target = %call.target,
            outcome = call.outcome,
            duration_ms = call.duration.as_millis() as u64,
            "host call"
        );
    }

    fn connection(&self, call: HostCallRecord, connection: &ConnectionRecord) {
        tracing::debug!(
            operation = call.operation,
            target = %call.target,
            outcome = call.outcome,
            duration_ms = call.duration.as_millis() as u64,
            address = ?connection.address,
            tls = connection.tls,
            bytes_sent = connection.bytes_sent,
            bytes_received = connection.bytes_received,
            "connection"
        );
    }
}
