//! `automa schedules list|add|enable|disable`.

use super::client::{Client, encode};
use super::{Conn, Output, parse_args, print_json, table};
use anyhow::bail;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SchedulesArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: SchedulesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SchedulesCommand {
    /// Every schedule with its next run.
    List {
        /// Only schedules of this script.
        #[arg(long)]
        script: Option<String>,
    },
    /// Schedule a script: exactly one of --cron, --every or --at.
    Add {
        script: String,
        /// A cron(5) pattern, e.g. "0 9 * * MON-FRI".
        #[arg(long, group = "when")]
        cron: Option<String>,
        /// A fixed interval, e.g. 15m, 1h.
        #[arg(long, group = "when", value_parser = humantime::parse_duration)]
        every: Option<Duration>,
        /// Once, at this RFC 3339 time.
        #[arg(long, group = "when")]
        at: Option<String>,
        /// IANA time zone of a cron pattern [default: UTC].
        #[arg(long)]
        timezone: Option<String>,
        /// An argument for `main()`: KEY=VALUE (VALUE parsed as JSON when it is JSON).
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Turn a schedule on.
    Enable { id: String },
    /// Turn a schedule off (it keeps its settings).
    Disable { id: String },
}

pub fn main(args: SchedulesArgs) -> ExitCode {
    super::block_on("schedules", run(args))
}

async fn run(args: SchedulesArgs) -> anyhow::Result<ExitCode> {
    let client = args.conn.client()?;
    let output = args.conn.output;
    match args.command {
        SchedulesCommand::List { script } => {
            let path = match script {
                Some(name) => {
                    let id = super::scripts::resolve(&client, &name).await?;
                    format!("/api/v1/schedules?script_id={}", encode(&id))
                }
                None => "/api/v1/schedules".to_owned(),
            };
            let items = client.list_all(&path).await?;
            if output == Output::Json {
                print_json(&Value::Array(items));
            } else {
                let names = names(&client).await?;
                let rows: Vec<Vec<String>> = items.iter().map(|s| row(s, &names)).collect();
                table::print(
                    &["id", "script", "state", "when", "next run", "last run"],
                    &rows,
                );
            }
        }
        SchedulesCommand::Add {
            script,
            cron,
            every,
            at,
            timezone,
            args,
            disabled,
        } => {
            let script_id = super::scripts::resolve(&client, &script).await?;
            let mut body = json!({
                "script_id": script_id,
                "args": parse_args(&args)?,
                "enabled": !disabled,
            });
            match (cron, every, at) {
                (Some(cron), None, None) => {
                    body["kind"] = json!("cron");
                    body["cron"] = json!(cron);
                }
                (None, Some(every), None) => {
                    body["kind"] = json!("interval");
                    body["every_seconds"] = json!(every.as_secs());
                }
                (None, None, Some(at)) => {
                    body["kind"] = json!("once");
                    body["at"] = json!(at);
                }
                _ => bail!("say when: one of --cron PATTERN, --every DURATION or --at TIME"),
            }
            if let Some(tz) = timezone {
                body["timezone"] = json!(tz);
            }
            let schedule = client.post("/api/v1/schedules", &body).await?;
            if output == Output::Json {
                print_json(&schedule);
            } else {
                println!(
                    "{}: {} {}, next run {}",
                    table::text(&schedule["id"]),
                    script,
                    when(&schedule),
                    table::time(&schedule["next_run_at"])
                );
            }
        }
        SchedulesCommand::Enable { id } => toggle(&client, &id, true, output).await?,
        SchedulesCommand::Disable { id } => toggle(&client, &id, false, output).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn toggle(client: &Client, id: &str, enabled: bool, output: Output) -> anyhow::Result<()> {
    let schedule = client
        .patch(
            &format!("/api/v1/schedules/{}", encode(id)),
            &json!({"enabled": enabled}),
        )
        .await?;
    if output == Output::Json {
        print_json(&schedule);
    } else {
        println!("{id}: {}", if enabled { "ENABLED" } else { "DISABLED" });
    }
    Ok(())
}

fn when(s: &Value) -> String {
    match s["kind"].as_str().unwrap_or_default() {
        "cron" => format!(
            "cron \"{}\" {}",
            table::text(&s["cron"]),
            table::text(&s["timezone"])
        ),
        "interval" => format!("every {}s", table::text(&s["every_seconds"])),
        "once" => format!("once at {}", table::time(&s["at"])),
        other => other.to_owned(),
    }
}

fn row(s: &Value, names: &HashMap<String, String>) -> Vec<String> {
    let script = s["script_id"].as_str().unwrap_or_default();
    vec![
        table::text(&s["id"]),
        names
            .get(script)
            .cloned()
            .unwrap_or_else(|| script.to_owned()),
        if s["enabled"] == true {
            "ENABLED"
        } else {
            "DISABLED"
        }
        .to_owned(),
        when(s),
        table::time(&s["next_run_at"]),
        table::time(&s["last_run_at"]),
    ]
}

async fn names(client: &Client) -> anyhow::Result<HashMap<String, String>> {
    Ok(client
        .list_all("/api/v1/scripts")
        .await?
        .into_iter()
        .filter_map(|s| Some((s["id"].as_str()?.to_owned(), s["name"].as_str()?.to_owned())))
        .collect())
}
