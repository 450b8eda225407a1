//! `automa scripts list|show|push|pull|rm`.

use super::client::{ApiError, Client, encode};
use super::{Conn, Output, print_json, table};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScriptsArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: ScriptsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ScriptsCommand {
    /// List your scripts.
    List,
    /// Show one script's settings and current version.
    Show { name: String },
    /// Upload FILE as a new script, or as a new version of the script of that name.
    Push {
        file: PathBuf,
        /// Script name [default: the file name without `.py`].
        #[arg(long)]
        name: Option<String>,
        /// Description (set on create or changed on update).
        #[arg(long)]
        description: Option<String>,
    },
    /// Print a script's current source, or write it to FILE.
    Pull {
        name: String,
        #[arg(short = 'o', long = "file", value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Delete a script (its jobs' history stays).
    Rm { name: String },
}

pub fn main(args: ScriptsArgs) -> ExitCode {
    super::block_on("scripts", run(args))
}

async fn run(args: ScriptsArgs) -> anyhow::Result<ExitCode> {
    let client = args.conn.client()?;
    let output = args.conn.output;
    match args.command {
        ScriptsCommand::List => {
            let items = client.list_all("/api/v1/scripts").await?;
            if output == Output::Json {
                print_json(&Value::Array(items));
            } else {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|s| {
                        vec![
                            table::text(&s["name"]),
                            format!("v{}", s["version"]),
                            table::text(&s["id"]),
                            table::time(&s["updated_at"]),
                            table::text(&s["description"]),
                        ]
                    })
                    .collect();
                table::print(&["name", "version", "id", "updated", "description"], &rows);
            }
        }
        ScriptsCommand::Show { name } => {
            let id = resolve(&client, &name).await?;
            let script = client.get(&format!("/api/v1/scripts/{id}")).await?;
            if output == Output::Json {
                print_json(&script);
            } else {
                show(&script);
            }
        }
        ScriptsCommand::Push {
            file,
            name,
            description,
        } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = match name {
                Some(name) => name,
                None => name_from_file(&file)?,
            };
            let (script, what) = push(&client, &name, &source, description).await?;
            if output == Output::Json {
                print_json(&script);
            } else {
                println!("{name}: {what} (version {})", script["version"]);
            }
        }
        ScriptsCommand::Pull { name, file } => {
            let id = resolve(&client, &name).await?;
            let script = client.get(&format!("/api/v1/scripts/{id}")).await?;
            let source = script["source"].as_str().unwrap_or_default();
            match file {
                Some(path) => std::fs::write(&path, source)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{source}"),
            }
        }
        ScriptsCommand::Rm { name } => {
            let id = resolve(&client, &name).await?;
            client.delete(&format!("/api/v1/scripts/{id}")).await?;
            if output == Output::Json {
                print_json(&json!({"deleted": id}));
            } else {
                println!("{name}: deleted");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates the script or adds a version; says which (`created`, `updated`, `unchanged`).
async fn push(
    client: &Client,
    name: &str,
    source: &str,
    description: Option<String>,
) -> anyhow::Result<(Value, &'static str)> {
    match find(client, name).await? {
        None => {
            let mut body = json!({"name": name, "source": source});
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            Ok((client.post("/api/v1/scripts", &body).await?, "created"))
        }
        Some(existing) => {
            let id = existing["id"].as_str().unwrap_or_default().to_owned();
            let before = existing["version"].as_i64();
            let mut body = json!({"source": source});
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            let script = client
                .patch(&format!("/api/v1/scripts/{id}"), &body)
                .await?;
            let what = if script["version"].as_i64() == before {
                "unchanged"
            } else {
                "updated"
            };
            Ok((script, what))
        }
    }
}

fn name_from_file(file: &std::path::Path) -> anyhow::Result<String> {
    match file.file_stem().and_then(|s| s.to_str()) {
        Some(stem) if !stem.is_empty() => Ok(stem.to_owned()),
        _ => bail!(
            "cannot make a script name of {}: pass --name",
            file.display()
        ),
    }
}

/// The script called `name` among yours, if any.
pub async fn find(client: &Client, name: &str) -> anyhow::Result<Option<Value>> {
    let items = client
        .list_all(&format!("/api/v1/scripts?q={}", encode(name)))
        .await?;
    Ok(items.into_iter().find(|s| s["name"] == name))
}

/// A script's id from its name (or its id).
pub async fn resolve(client: &Client, name: &str) -> anyhow::Result<String> {
    if let Some(script) = find(client, name).await? {
        return Ok(script["id"].as_str().unwrap_or_default().to_owned());
    }
    match client
        .get(&format!("/api/v1/scripts/{}", encode(name)))
        .await
    {
        Ok(script) => Ok(script["id"].as_str().unwrap_or(name).to_owned()),
        Err(e)
            if e.downcast_ref::<ApiError>()
                .is_some_and(|a| a.status.as_u16() == 404) =>
        {
            bail!("no script named {name:?} (see `automa scripts list`)")
        }
        Err(e) => Err(e),
    }
}

fn show(s: &Value) {
    let field = |k: &str, v: String| println!("{:<14}{v}", format!("{k}:"));
    field("name", table::text(&s["name"]));
    field("id", table::text(&s["id"]));
    field("version", table::text(&s["version"]));
    field("description", table::text(&s["description"]));
    let tags: Vec<String> = s["tags"]
        .as_array()
        .map(|t| t.iter().map(table::text).collect())
        .unwrap_or_default();
    field(
        "tags",
        if tags.is_empty() {
            "-".into()
        } else {
            tags.join(", ")
        },
    );
    field("parameters", s["parameters"].to_string());
    field("settings", s["settings"].to_string());
    field("capabilities", s["capabilities"].to_string());
    field("created", table::time(&s["created_at"]));
    field("updated", table::time(&s["updated_at"]));
}
