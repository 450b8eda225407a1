//! `automa export DIR` writes the server's scripts, schedules and agents as a folder
//! ([`super::manifest`]); `automa sync DIR` shows what applying the folder would create,
//! change and remove on the server, and does it with `--apply`. Scripts and agents that
//! are only on the server are left alone unless `--prune`; a script's schedules follow
//! the folder. Capabilities are an admin's to change: the plan says so.

use super::client::{Client, encode};
use super::manifest::{
    AGENT_FIELDS, Folder, NULLABLE_AGENT_FIELDS, SCHEDULE_FIELDS, SCRIPT_FIELDS, Script, pick,
};
use super::{Conn, Output, print_json};
use anyhow::Context as _;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    conn: Conn,
    /// The folder to write (created; files of the same names are replaced).
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    conn: Conn,
    /// A folder written by `automa export` (or by hand): NAME.py files and automa.toml.
    dir: PathBuf,
    /// Make the changes (without it only the plan is shown).
    #[arg(long)]
    apply: bool,
    /// Also remove scripts and agents that are on the server but not in the folder.
    #[arg(long)]
    prune: bool,
}

pub fn export_main(args: ExportArgs) -> ExitCode {
    super::block_on("export", async move {
        let client = args.conn.client()?;
        let server = read_server(&client).await?;
        server.folder.write(&args.dir)?;
        eprintln!(
            "wrote {} scripts and {} agents to {}",
            server.folder.scripts.len(),
            server.folder.agents.len(),
            args.dir.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn sync_main(args: SyncArgs) -> ExitCode {
    super::block_on("sync", sync(args))
}

/// A field set of one resource, as in the manifest.
type Fields = Map<String, Value>;

/// The server's side: the folder it would export, plus ids to act on.
struct Server {
    folder: Folder,
    script_ids: BTreeMap<String, String>,
    /// Per script name: (schedule id, its fields).
    schedules: BTreeMap<String, Vec<(String, Fields)>>,
    agent_ids: BTreeMap<String, String>,
}

async fn read_server(client: &Client) -> anyhow::Result<Server> {
    let mut server = Server {
        folder: Folder::default(),
        script_ids: BTreeMap::new(),
        schedules: BTreeMap::new(),
        agent_ids: BTreeMap::new(),
    };
    let mut names = BTreeMap::new();
    for item in client.list_all("/api/v1/scripts").await? {
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        let name = item["name"].as_str().unwrap_or_default().to_owned();
        let full = client
            .get(&format!("/api/v1/scripts/{}", encode(&id)))
            .await?;
        let script = Script {
            source: full["source"].as_str().unwrap_or_default().to_owned(),
            fields: pick(&full, &SCRIPT_FIELDS),
            schedules: Vec::new(),
        };
        server.folder.scripts.insert(name.clone(), script);
        server.script_ids.insert(name.clone(), id.clone());
        names.insert(id, name);
    }
    for item in client.list_all("/api/v1/schedules").await? {
        let Some(name) = item["script_id"].as_str().and_then(|id| names.get(id)) else {
            continue;
        };
        let fields = pick(&item, &SCHEDULE_FIELDS);
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        if let Some(script) = server.folder.scripts.get_mut(name) {
            script.schedules.push(fields.clone());
        }
        server
            .schedules
            .entry(name.clone())
            .or_default()
            .push((id, fields));
    }
    for item in client.list_all("/api/v1/agents").await? {
        let name = item["name"].as_str().unwrap_or_default().to_owned();
        let mut with_script = item.clone();
        let script = item["script_id"]
            .as_str()
            .and_then(|id| names.get(id))
            .cloned()
            .unwrap_or_default();
        with_script["script"] = json!(script);
        server
            .folder
            .agents
            .insert(name.clone(), pick(&with_script, &AGENT_FIELDS));
        server
            .agent_ids
            .insert(name, item["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(server)
}

/// One step of the plan.
#[derive(Debug)]
enum Step {
    CreateScript {
        name: String,
        body: Value,
    },
    UpdateScript {
        name: String,
        id: String,
        changed: Vec<String>,
        body: Value,
    },
    RemoveScript {
        name: String,
        id: String,
    },
    CreateSchedule {
        script: String,
        fields: Map<String, Value>,
    },
    RemoveSchedule {
        script: String,
        id: String,
        fields: Map<String, Value>,
    },
    CreateAgent {
        name: String,
        fields: Map<String, Value>,
    },
    UpdateAgent {
        name: String,
        id: String,
        changed: Vec<String>,
        fields: Map<String, Value>,
    },
    RemoveAgent {
        name: String,
        id: String,
    },
}

/// Keys of `want` whose values differ in `have`.
fn changed(want: &Map<String, Value>, have: &Map<String, Value>) -> Vec<String> {
    want.iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

fn plan(folder: &Folder, server: &Server, prune: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    for (name, want) in &folder.scripts {
        match (server.folder.scripts.get(name), server.script_ids.get(name)) {
            (Some(have), Some(id)) => {
                let mut diff = Vec::new();
                if have.source != want.source {
                    diff.push("source".to_owned());
                }
                diff.extend(changed(&want.fields, &have.fields));
                if !diff.is_empty() {
                    let mut body = Map::new();
                    for k in &diff {
                        let v = if k == "source" {
                            json!(want.source)
                        } else {
                            want.fields[k].clone()
                        };
                        body.insert(k.clone(), v);
                    }
                    steps.push(Step::UpdateScript {
                        name: name.clone(),
                        id: id.clone(),
                        changed: diff,
                        body: Value::Object(body),
                    });
                }
            }
            _ => {
                let mut body = want.fields.clone();
                body.insert("name".into(), json!(name));
                body.insert("source".into(), json!(want.source));
                steps.push(Step::CreateScript {
                    name: name.clone(),
                    body: Value::Object(body),
                });
            }
        }
        // A wanted schedule matches an existing one when every field it names is equal.
        let mut existing: Vec<&(String, Fields)> = server
            .schedules
            .get(name)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        for fields in &want.schedules {
            match existing
                .iter()
                .position(|(_, have)| changed(fields, have).is_empty())
            {
                Some(i) => {
                    existing.remove(i);
                }
                None => steps.push(Step::CreateSchedule {
                    script: name.clone(),
                    fields: fields.clone(),
                }),
            }
        }
        for (id, fields) in existing {
            steps.push(Step::RemoveSchedule {
                script: name.clone(),
                id: id.clone(),
                fields: fields.clone(),
            });
        }
    }
    for (name, want) in &folder.agents {
        match (server.folder.agents.get(name), server.agent_ids.get(name)) {
            (Some(have), Some(id)) => {
                let mut diff = changed(want, have);
                let mut fields = want.clone();
                for key in NULLABLE_AGENT_FIELDS {
                    if have.contains_key(key) && !want.contains_key(key) {
                        diff.push(key.to_owned());
                        fields.insert(key.to_owned(), Value::Null);
                    }
                }
                if !diff.is_empty() {
                    steps.push(Step::UpdateAgent {
                        name: name.clone(),
                        id: id.clone(),
                        changed: diff,
                        fields,
                    });
                }
            }
            _ => steps.push(Step::CreateAgent {
                name: name.clone(),
                fields: want.clone(),
            }),
        }
    }
    if prune {
        for (name, id) in &server.agent_ids {
            if !folder.agents.contains_key(name) {
                steps.push(Step::RemoveAgent {
                    name: name.clone(),
                    id: id.clone(),
                });
            }
        }
        for (name, id) in &server.script_ids {
            if !folder.scripts.contains_key(name) {
                steps.push(Step::RemoveScript {
                    name: name.clone(),
                    id: id.clone(),
                });
            }
        }
    }
    steps
}

fn when(fields: &Map<String, Value>) -> String {
    let get = |k: &str| {
        fields
            .get(k)
            .map(super::table::text)
            .unwrap_or_else(|| "-".into())
    };
    match fields.get("kind").and_then(Value::as_str) {
        Some("cron") => format!("cron \"{}\"", get("cron")),
        Some("interval") => format!("every {}s", get("every_seconds")),
        Some("once") => format!("once at {}", get("at")),
        _ => get("kind"),
    }
}

/// A plan line: `+` create, `~` change, `-` remove; `needs an admin` on capabilities.
fn describe(step: &Step, admin: bool) -> (String, String, String, String) {
    let admin_note = |fields: &[String]| {
        if !admin && fields.iter().any(|f| f == "capabilities") {
            " (capabilities: needs an admin)".to_owned()
        } else {
            String::new()
        }
    };
    match step {
        Step::CreateScript { name, body } => {
            let has_caps = body.get("capabilities").is_some_and(|c| !c.is_null());
            let note = admin_note(&if has_caps {
                vec!["capabilities".into()]
            } else {
                vec![]
            });
            ("+".into(), "script".into(), name.clone(), note)
        }
        Step::UpdateScript { name, changed, .. } => (
            "~".into(),
            "script".into(),
            name.clone(),
            format!("{}{}", changed.join(", "), admin_note(changed)),
        ),
        Step::RemoveScript { name, .. } => {
            ("-".into(), "script".into(), name.clone(), String::new())
        }
        Step::CreateSchedule { script, fields } => {
            ("+".into(), "schedule".into(), script.clone(), when(fields))
        }
        Step::RemoveSchedule { script, fields, .. } => {
            ("-".into(), "schedule".into(), script.clone(), when(fields))
        }
        Step::CreateAgent { name, .. } => ("+".into(), "agent".into(), name.clone(), String::new()),
        Step::UpdateAgent { name, changed, .. } => {
            ("~".into(), "agent".into(), name.clone(), changed.join(", "))
        }
        Step::RemoveAgent { name, .. } => ("-".into(), "agent".into(), name.clone(), String::new()),
    }
}

async fn sync(args: SyncArgs) -> anyhow::Result<ExitCode> {
    let folder = Folder::read(&args.dir)?;
    let client = args.conn.client()?;
    let admin = client.get("/api/v1/me").await?["role"] == "admin";
    let server = read_server(&client).await?;
    // An agent's script must be in the folder or on the server.
    for (name, agent) in &folder.agents {
        let script = agent["script"].as_str().unwrap_or_default();
        if !folder.scripts.contains_key(script) && !server.script_ids.contains_key(script) {
            anyhow::bail!(
                "agents.{name}: no script named {script:?} in the folder or on the server"
            );
        }
    }
    let steps = plan(&folder, &server, args.prune);
    let lines: Vec<_> = steps.iter().map(|s| describe(s, admin)).collect();
    if args.conn.output == Output::Json {
        let list: Vec<Value> = lines
            .iter()
            .map(|(op, kind, name, detail)| {
                let action = match op.as_str() {
                    "+" => "create",
                    "~" => "change",
                    _ => "remove",
                };
                json!({"action": action, "kind": kind, "name": name, "detail": detail})
            })
            .collect();
        print_json(&json!({"applied": args.apply, "steps": list}));
    } else {
        for (op, kind, name, detail) in &lines {
            println!(
                "{op} {kind:<8} {name}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            );
        }
        let count = |op: &str| lines.iter().filter(|l| l.0 == op).count();
        let only_server = server
            .script_ids
            .keys()
            .filter(|n| !folder.scripts.contains_key(*n))
            .count()
            + server
                .agent_ids
                .keys()
                .filter(|n| !folder.agents.contains_key(*n))
                .count();
        if lines.is_empty() {
            println!("nothing to do: the server matches {}", args.dir.display());
        } else {
            println!(
                "{} to create, {} to change, {} to remove{}",
                count("+"),
                count("~"),
                count("-"),
                if args.apply {
                    ""
                } else {
                    "; run again with --apply to make these changes"
                }
            );
        }
        if !args.prune && only_server > 0 {
            println!(
                "{only_server} scripts or agents are only on the server (kept; --prune removes them)"
            );
        }
    }
    if args.apply {
        apply(&client, &server, steps).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn apply(client: &Client, server: &Server, steps: Vec<Step>) -> anyhow::Result<()> {
    let mut ids = server.script_ids.clone();
    let script_id = |ids: &BTreeMap<String, String>, name: &str| {
        ids.get(name)
            .cloned()
            .with_context(|| format!("no script named {name:?}"))
    };
    for step in steps {
        match step {
            Step::CreateScript { name, body } => {
                let created = client
                    .post("/api/v1/scripts", &body)
                    .await
                    .with_context(|| format!("creating script {name}"))?;
                ids.insert(name, created["id"].as_str().unwrap_or_default().to_owned());
            }
            Step::UpdateScript { name, id, body, .. } => {
                client
                    .patch(&format!("/api/v1/scripts/{}", encode(&id)), &body)
                    .await
                    .with_context(|| format!("changing script {name}"))?;
            }
            Step::RemoveSchedule { script, id, .. } => {
                client
                    .delete(&format!("/api/v1/schedules/{}", encode(&id)))
                    .await
                    .with_context(|| format!("removing a schedule of {script}"))?;
            }
            Step::CreateSchedule { script, fields } => {
                let mut body = fields;
                body.insert("script_id".into(), json!(script_id(&ids, &script)?));
                client
                    .post("/api/v1/schedules", &Value::Object(body))
                    .await
                    .with_context(|| format!("adding a schedule to {script}"))?;
            }
            Step::CreateAgent { name, fields } => {
                let body = agent_body(&ids, Some(&name), fields)?;
                client
                    .post("/api/v1/agents", &body)
                    .await
                    .with_context(|| format!("creating agent {name}"))?;
            }
            Step::UpdateAgent {
                name,
                id,
                changed,
                fields,
            } => {
                let only: Map<String, Value> = fields
                    .into_iter()
                    .filter(|(k, _)| changed.contains(k))
                    .collect();
                let body = agent_body(&ids, None, only)?;
                client
                    .patch(&format!("/api/v1/agents/{}", encode(&id)), &body)
                    .await
                    .with_context(|| format!("changing agent {name}"))?;
            }
            Step::RemoveAgent { name, id } => {
                client
                    .delete(&format!("/api/v1/agents/{}", encode(&id)))
                    .await
                    .with_context(|| format!("removing agent {name}"))?;
            }
            Step::RemoveScript { name, id } => {
                client
                    .delete(&format!("/api/v1/scripts/{}", encode(&id)))
                    .await
                    .with_context(|| format!("removing script {name}"))?;
            }
        }
    }
    eprintln!("applied");
    Ok(())
}

/// The API's agent body: `script` (a name) becomes `script_id`.
fn agent_body(
    ids: &BTreeMap<String, String>,
    name: Option<&str>,
    mut fields: Map<String, Value>,
) -> anyhow::Result<Value> {
    if let Some(script) = fields.remove("script") {
        let script = script.as_str().unwrap_or_default();
        let id = ids
            .get(script)
            .with_context(|| format!("no script named {script:?}"))?;
        fields.insert("script_id".into(), json!(id));
    }
    if let Some(name) = name {
        fields.insert("name".into(), json!(name));
    }
    Ok(Value::Object(fields))
}
