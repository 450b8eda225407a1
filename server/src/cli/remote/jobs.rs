//! `automa jobs list|show|logs|cancel|retry`, and the remote side of `automa run NAME`:
//! queue a run, then wait for it or follow its log live over SSE.

use super::client::{Client, encode};
use super::{Conn, Output, exit_code_of, print_json, table};
use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: JobsCommand,
}

/// After queueing a job: return at once, wait for its outcome, or stream its log.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Wait {
    /// Wait for the job to finish; print its output and result; exit with its status.
    #[arg(long, conflicts_with = "follow")]
    pub wait: bool,
    /// Stream the job's log live (progress on stderr); exit with its status.
    #[arg(long, short = 'f')]
    pub follow: bool,
}

#[derive(Debug, clap::Subcommand)]
enum JobsCommand {
    /// Recent jobs, newest first.
    List {
        /// Only jobs of this script.
        #[arg(long)]
        script: Option<String>,
        /// Only jobs in this status (queued, running, succeeded, failed, ...).
        #[arg(long)]
        status: Option<String>,
        /// How many (1 to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One job: status, timings, result or error.
    Show { id: String },
    /// A job's log; `-f` follows it live until the job ends.
    Logs {
        id: String,
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Cancel a queued or running job.
    Cancel { id: String },
    /// Run a job's script again, same version and arguments.
    Retry {
        id: String,
        #[command(flatten)]
        wait: Wait,
    },
}

pub fn main(args: JobsArgs) -> ExitCode {
    super::block_on("jobs", run(args))
}

async fn run(args: JobsArgs) -> anyhow::Result<ExitCode> {
    let client = args.conn.client()?;
    let output = args.conn.output;
    match args.command {
        JobsCommand::List {
            script,
            status,
            limit,
        } => {
            let mut path = format!("/api/v1/jobs?limit={limit}");
            if let Some(name) = script {
                let id = super::scripts::resolve(&client, &name).await?;
                path.push_str(&format!("&script_id={}", encode(&id)));
            }
            if let Some(status) = status {
                path.push_str(&format!("&status={}", encode(&status)));
            }
            let page = client.get(&path).await?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if output == Output::Json {
                print_json(&Value::Array(items));
            } else {
                let names = script_names(&client).await?;
                let rows: Vec<Vec<String>> = items.iter().map(|j| job_row(j, &names)).collect();
                table::print(
                    &["id", "script", "state", "trigger", "started", "duration"],
                    &rows,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Show { id } => {
            let job = client.get(&format!("/api/v1/jobs/{}", encode(&id))).await?;
            if output == Output::Json {
                print_json(&job);
            } else {
                show(&job);
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Logs { id, follow } => {
            let path = format!("/api/v1/jobs/{}/logs", encode(&id));
            if follow {
                follow_log(&client, &id, output).await?;
                return Ok(ExitCode::SUCCESS);
            }
            // The log comes a page at a time; text is printed as each page arrives.
            let mut next = Some(path);
            let mut all = Vec::new();
            let mut progress = Progress::new();
            while let Some(page) = next {
                let (entries, following) = client.history_page(&page).await?;
                if output == Output::Json {
                    all.extend(entries);
                } else {
                    for entry in &entries {
                        print_entry(entry, &mut progress);
                    }
                }
                next = following;
            }
            if output == Output::Json {
                print_json(&Value::Array(all));
            } else {
                progress.finish();
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Cancel { id } => {
            let job = client
                .post(&format!("/api/v1/jobs/{}/cancel", encode(&id)), &json!({}))
                .await?;
            if output == Output::Json {
                print_json(&job);
            } else {
                println!("{id}: {}", table::state(&job["status"]));
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Retry { id, wait } => {
            let job = client.get(&format!("/api/v1/jobs/{}", encode(&id))).await?;
            let script_id = job["script_id"].as_str().context("the job has no script")?;
            let body = json!({"args": job["args"], "version": job["script_version"]});
            submit(&client, script_id, &body, wait, output).await
        }
    }
}

/// `automa run NAME`: queue a run of the server's script NAME.
pub async fn run_remote(
    conn: &Conn,
    name: &str,
    args: Value,
    version: Option<i64>,
    wait: Wait,
) -> anyhow::Result<ExitCode> {
    let client = conn.client()?;
    let id = super::scripts::resolve(&client, name).await?;
    let mut body = json!({"args": args});
    if let Some(v) = version {
        body["version"] = json!(v);
    }
    submit(&client, &id, &body, wait, conn.output).await
}

async fn submit(
    client: &Client,
    script_id: &str,
    body: &Value,
    wait: Wait,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let path = format!("/api/v1/scripts/{}/run", encode(script_id));
    if wait.wait {
        let job = client.post(&format!("{path}?wait=true"), body).await?;
        return Ok(finish(&job, output, true));
    }
    let job = client.post(&path, body).await?;
    let id = job["id"]
        .as_str()
        .context("the run answer has no job id")?
        .to_owned();
    if !wait.follow {
        if output == Output::Json {
            print_json(&job);
        } else {
            println!("{id}: {}", table::state(&job["status"]));
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("job {id} queued; following its log (Ctrl-C stops following, not the job)");
    follow_log(client, &id, output).await?;
    let job = client.get(&format!("/api/v1/jobs/{}", encode(&id))).await?;
    Ok(finish(&job, output, false))
}

/// Prints a finished job's outcome and maps its status to the exit code.
/// `with_output`: also print its stdout/stderr (not streamed before).
fn finish(job: &Value, output: Output, with_output: bool) -> ExitCode {
    let status = job["status"].as_str().unwrap_or("unknown");
    if output == Output::Json {
        print_json(job);
    } else {
        if with_output {
            if let Some(out) = job["stdout"].as_str() {
                print!("{out}");
            }
            if let Some(err) = job["stderr"].as_str() {
                eprint!("{err}");
            }
        }
        if !job["result"].is_null() {
            println!("{}", job["result"]);
        }
        if status != "succeeded" {
            let reason = job["error"]["message"]
                .as_str()
                .or_else(|| job["error"].as_str())
                .unwrap_or("");
            eprintln!(
                "job {} {}{}",
                table::text(&job["id"]),
                status.replace('_', " "),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            );
        }
    }
    if matches!(status, "queued" | "running") {
        // `?wait` gave up before the job ended.
        eprintln!("job {} is still {status}", table::text(&job["id"]));
        return ExitCode::from(2);
    }
    exit_code_of(status)
}

/// Streams a job's log (SSE: `log` events, then `end`) until the job is final.
async fn follow_log(client: &Client, id: &str, output: Output) -> anyhow::Result<()> {
    let resp = client
        .stream(&format!("/api/v1/jobs/{}/logs", encode(id)))
        .await?;
    let mut body = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut event = String::new();
    let mut data = String::new();
    let mut progress = Progress::new();
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk.context("the log stream broke off")?);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                // A blank line ends an event.
                match event.as_str() {
                    "log" => {
                        let entry: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                        if output == Output::Json {
                            println!("{entry}");
                        } else {
                            print_entry(&entry, &mut progress);
                        }
                    }
                    "end" => {
                        progress.finish();
                        return Ok(());
                    }
                    _ => {}
                }
                event.clear();
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
    }
    progress.finish();
    bail!("the log stream ended before the job did")
}

/// One log entry: output to stdout/stderr as the script wrote it, log lines with their
/// level and fields, progress as a bar.
fn print_entry(entry: &Value, progress: &mut Progress) {
    let message = entry["message"].as_str().unwrap_or_default();
    let message = message.strip_suffix('\n').unwrap_or(message);
    match entry["stream"].as_str().unwrap_or_default() {
        "stdout" => {
            progress.clear();
            println!("{message}");
        }
        "progress" => {
            let fraction = entry["fields"]["fraction"].as_f64().unwrap_or(0.0);
            progress.show(fraction, message);
        }
        "log" => {
            progress.clear();
            let level = entry["level"].as_str().unwrap_or("info").to_uppercase();
            let mut line = format!("{level:<7} {message}");
            if let Some(fields) = entry["fields"].as_object() {
                for (k, v) in fields {
                    line.push_str(&format!(" {k}={}", table::text(v)));
                }
            }
            eprintln!("{line}");
        }
        "system" => {
            progress.clear();
            eprintln!("[automa] {message}");
        }
        _ => {
            progress.clear();
            eprintln!("{message}");
        }
    }
}

/// A progress bar redrawn in place on a terminal; plain lines otherwise.
struct Progress {
    tty: bool,
    drawn: bool,
}

impl Progress {
    fn new() -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    fn show(&mut self, fraction: f64, message: &str) {
        let fraction = fraction.clamp(0.0, 1.0);
        let filled = (fraction * 30.0).round() as usize;
        let bar = format!(
            "[{}{}] {:>3.0}% {message}",
            "#".repeat(filled),
            "-".repeat(30 - filled),
            fraction * 100.0
        );
        if self.tty {
            eprint!("\r\x1b[2K{bar}");
            let _ = std::io::stderr().flush();
            self.drawn = true;
        } else {
            eprintln!("{bar}");
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }

    fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}

async fn script_names(client: &Client) -> anyhow::Result<HashMap<String, String>> {
    Ok(client
        .list_all("/api/v1/scripts")
        .await?
        .into_iter()
        .filter_map(|s| Some((s["id"].as_str()?.to_owned(), s["name"].as_str()?.to_owned())))
        .collect())
}

fn job_row(j: &Value, names: &HashMap<String, String>) -> Vec<String> {
    let script = j["script_id"].as_str().unwrap_or_default();
    vec![
        table::text(&j["id"]),
        names
            .get(script)
            .cloned()
            .unwrap_or_else(|| script.to_owned()),
        table::state(&j["status"]),
        table::text(&j["trigger"]),
        table::time(&j["started_at"]),
        table::millis(&j["duration_ms"]),
    ]
}

fn show(j: &Value) {
    let field = |k: &str, v: String| println!("{:<12}{v}", format!("{k}:"));
    field("id", table::text(&j["id"]));
    field("state", table::state(&j["status"]));
    field(
        "script",
        format!("{} v{}", table::text(&j["script_id"]), j["script_version"]),
    );
    field("trigger", table::text(&j["trigger"]));
    field("args", j["args"].to_string());
    field("attempt", format!("{}/{}", j["attempt"], j["max_attempts"]));
    field("created", table::time(&j["created_at"]));
    field("started", table::time(&j["started_at"]));
    field("finished", table::time(&j["finished_at"]));
    field("duration", table::millis(&j["duration_ms"]));
    if let Some(p) = j["progress"].as_f64() {
        field(
            "progress",
            format!(
                "{:.0}% {}",
                p * 100.0,
                j["progress_message"].as_str().unwrap_or("")
            ),
        );
    }
    if !j["result"].is_null() {
        field("result", j["result"].to_string());
    }
    if !j["error"].is_null() {
        field("error", j["error"].to_string());
    }
}
