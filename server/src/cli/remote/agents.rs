//! `automa agents list|status|start|stop|restart|logs|send`. `status` reads like
//! `supervisorctl status`: name, state, id and uptime on one line.

use super::client::{Client, encode};
use super::{Conn, Output, print_json, table};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct AgentsArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: AgentsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AgentsCommand {
    /// Every agent with its script, restarts and state.
    List,
    /// One line per agent (or the named ones): name, state, id, uptime.
    Status { names: Vec<String> },
    /// Start an agent (nothing happens when it runs).
    Start { name: String },
    /// Ask an agent to stop; it is ended after its grace period.
    Stop { name: String },
    /// Stop and start again.
    Restart { name: String },
    /// The agent's history: events, transitions and log lines; `-f` follows it.
    Logs {
        name: String,
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only entries of this kind (event, transition, stdout, stderr, log).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Deliver a JSON message to a running agent (`automa.agent.receive()`).
    Send { name: String, json: String },
}

pub fn main(args: AgentsArgs) -> ExitCode {
    super::block_on("agents", run(args))
}

async fn run(args: AgentsArgs) -> anyhow::Result<ExitCode> {
    let client = args.conn.client()?;
    let output = args.conn.output;
    match args.command {
        AgentsCommand::List => {
            let agents = client.list_all("/api/v1/agents").await?;
            if output == Output::Json {
                print_json(&Value::Array(agents));
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = agents
                .iter()
                .map(|a| {
                    vec![
                        table::text(&a["name"]),
                        table::state(&a["state"]),
                        table::text(&a["id"]),
                        uptime(a),
                        table::text(&a["restarts"]),
                        table::text(&a["restart_policy"]),
                        table::text(&a["status_text"]),
                    ]
                })
                .collect();
            table::print(
                &[
                    "name", "state", "id", "uptime", "restarts", "policy", "status",
                ],
                &rows,
            );
        }
        AgentsCommand::Status { names } => {
            let all = client.list_all("/api/v1/agents").await?;
            let mut chosen = Vec::new();
            for name in &names {
                match all.iter().find(|a| a["name"] == *name || a["id"] == *name) {
                    Some(a) => chosen.push(a.clone()),
                    None => bail!("no agent named {name:?} (see `automa agents list`)"),
                }
            }
            let agents = if names.is_empty() { all } else { chosen };
            if output == Output::Json {
                print_json(&Value::Array(agents));
            } else {
                print_status(&agents);
            }
        }
        AgentsCommand::Start { name } => act(&client, &name, "start", output).await?,
        AgentsCommand::Stop { name } => act(&client, &name, "stop", output).await?,
        AgentsCommand::Restart { name } => act(&client, &name, "restart", output).await?,
        AgentsCommand::Logs { name, follow, kind } => {
            let id = resolve(&client, &name).await?;
            logs(&client, &id, follow, kind, output).await?;
        }
        AgentsCommand::Send { name, json: body } => {
            let body: Value = serde_json::from_str(&body)
                .with_context(|| format!("the message must be JSON, got {body:?}"))?;
            let id = resolve(&client, &name).await?;
            client
                .post(
                    &format!("/api/v1/agents/{}/messages", encode(&id)),
                    &json!({"body": body}),
                )
                .await?;
            if output == Output::Json {
                print_json(&json!({"sent": true, "agent": id}));
            } else {
                println!("{name}: message sent");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn act(client: &Client, name: &str, action: &str, output: Output) -> anyhow::Result<()> {
    let id = resolve(client, name).await?;
    let agent = client
        .post(
            &format!("/api/v1/agents/{}/{action}", encode(&id)),
            &json!({}),
        )
        .await?;
    if output == Output::Json {
        print_json(&agent);
    } else {
        print_status(std::slice::from_ref(&agent));
    }
    Ok(())
}

/// `name   RUNNING   id 0195…, uptime 0:01:02`, as supervisorctl prints it.
fn print_status(agents: &[Value]) {
    let width = agents
        .iter()
        .map(|a| table::text(&a["name"]).len())
        .max()
        .unwrap_or(0)
        .max(16);
    for a in agents {
        let state = table::state(&a["state"]);
        let detail = if a["state"] == crate::db::agents::AgentState::Running.as_str() {
            format!("id {}, uptime {}", table::text(&a["id"]), uptime(a))
        } else {
            let why = a["state_reason"]
                .as_str()
                .or_else(|| a["last_exit"].as_str())
                .unwrap_or("");
            format!(
                "id {}{}",
                table::text(&a["id"]),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(", {why}")
                }
            )
        };
        println!("{:<width$} {state:<10} {detail}", table::text(&a["name"]));
    }
}

fn uptime(a: &Value) -> String {
    a["uptime_seconds"]
        .as_i64()
        .map(table::hms)
        .unwrap_or_else(|| "-".into())
}

/// An agent's id from its name (or its id).
async fn resolve(client: &Client, name: &str) -> anyhow::Result<String> {
    let all = client.list_all("/api/v1/agents").await?;
    all.iter()
        .find(|a| a["name"] == name || a["id"] == name)
        .and_then(|a| a["id"].as_str().map(str::to_owned))
        .with_context(|| format!("no agent named {name:?} (see `automa agents list`)"))
}

/// Prints history entries after `seq`; with `follow`, polls for new ones until Ctrl-C.
async fn logs(
    client: &Client,
    id: &str,
    follow: bool,
    kind: Option<String>,
    output: Output,
) -> anyhow::Result<()> {
    let mut after = 0;
    let mut all = Vec::new();
    loop {
        let mut path = format!("/api/v1/agents/{}/events?after={after}", encode(id));
        if let Some(k) = &kind {
            path.push_str(&format!("&kind={}", encode(k)));
        }
        // The history comes a page at a time: read on while a next page is named.
        let (entries, more) = client.history_page(&path).await?;
        for e in &entries {
            after = after.max(e["seq"].as_i64().unwrap_or(after));
        }
        if output == Output::Json && !follow {
            all.extend(entries);
            if more.is_none() {
                print_json(&Value::Array(all));
                return Ok(());
            }
            continue;
        }
        for e in &entries {
            if output == Output::Json {
                println!("{e}");
            } else {
                println!("{}", event_line(e));
            }
        }
        if more.is_some() {
            continue;
        }
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn event_line(e: &Value) -> String {
    let body = &e["body"];
    let text = match e["kind"].as_str().unwrap_or_default() {
        "log" => {
            let mut line = format!(
                "{} {}",
                body["level"].as_str().unwrap_or("info").to_uppercase(),
                body["message"].as_str().unwrap_or_default()
            );
            if let Some(fields) = body["fields"].as_object() {
                for (k, v) in fields {
                    line.push_str(&format!(" {k}={}", table::text(v)));
                }
            }
            line
        }
        "transition" => format!(
            "-> {}{}",
            table::state(&body["state"]),
            body["reason"]
                .as_str()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        _ => match body {
            Value::String(s) => s.trim_end().to_owned(),
            other => other
                .get("line")
                .or_else(|| other.get("text"))
                .and_then(Value::as_str)
                .map(|s| s.trim_end().to_owned())
                .unwrap_or_else(|| other.to_string()),
        },
    };
    format!(
        "{} {:<10} {text}",
        table::time(&e["at"]),
        table::text(&e["kind"])
    )
}
