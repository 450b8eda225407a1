//! The folder form of a server's scripts (`automa export` / `automa sync`): one
//! `NAME.py` per script and `automa.toml` with each script's settings, schedules and the
//! agents. The fields kept are the ones a user sets; everything the server derives
//! (ids, versions, times, state) stays out, so an export synced elsewhere and exported
//! again gives the same files.

use anyhow::{Context as _, bail};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const MANIFEST: &str = "automa.toml";

/// Script fields besides the source, in the order they are written.
pub const SCRIPT_FIELDS: [&str; 7] = [
    "description",
    "tags",
    "settings",
    "max_concurrency",
    "expose_as_tool",
    "requirements",
    "capabilities",
];
pub const SCHEDULE_FIELDS: [&str; 9] = [
    "kind",
    "cron",
    "every_seconds",
    "at",
    "timezone",
    "args",
    "enabled",
    "overlap",
    "catch_up",
];
/// Agent fields; `script` is the script's name (the API's `script_id`).
pub const AGENT_FIELDS: [&str; 11] = [
    "script",
    "args",
    "restart_policy",
    "max_quick_restarts",
    "backoff_seconds",
    "memory_mb",
    "autostart",
    "hang_timeout_seconds",
    "stop_grace_seconds",
    "cpu_seconds",
    "cpu_interval_seconds",
];
/// Agent fields the server may hold as `null` (TOML has none: left out of the folder);
/// one the server has and the folder leaves out is set back to `null` by a sync.
pub const NULLABLE_AGENT_FIELDS: [&str; 1] = ["cpu_seconds"];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub source: String,
    /// The SCRIPT_FIELDS given (a hand-written manifest may leave some out).
    pub fields: Map<String, Value>,
    pub schedules: Vec<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folder {
    pub scripts: BTreeMap<String, Script>,
    pub agents: BTreeMap<String, Map<String, Value>>,
}

/// The given `fields` of `object`, nulls left out (TOML has no null).
pub fn pick(object: &Value, fields: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for field in fields {
        if let Some(v) = object.get(*field).map(strip_nulls).filter(|v| !v.is_null()) {
            out.insert((*field).to_owned(), v);
        }
    }
    out
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

impl Folder {
    /// Writes `dir/NAME.py` per script and `dir/automa.toml`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut scripts = Map::new();
        for (name, script) in &self.scripts {
            std::fs::write(dir.join(format!("{name}.py")), &script.source)
                .with_context(|| format!("cannot write {name}.py"))?;
            let mut table = script.fields.clone();
            if !script.schedules.is_empty() {
                let list = script
                    .schedules
                    .iter()
                    .cloned()
                    .map(Value::Object)
                    .collect();
                table.insert("schedules".into(), Value::Array(list));
            }
            scripts.insert(name.clone(), Value::Object(table));
        }
        let mut root = Map::new();
        root.insert("scripts".into(), Value::Object(scripts));
        if !self.agents.is_empty() {
            let agents = self
                .agents
                .iter()
                .map(|(k, v)| (k.clone(), Value::Object(v.clone())))
                .collect();
            root.insert("agents".into(), Value::Object(agents));
        }
        let text = toml::to_string(&Value::Object(root)).context("writing automa.toml")?;
        let header = "# Scripts of an Automa server: `automa sync DIR` shows what would change on\n\
                      # the server, `automa sync DIR --apply` changes it; `automa export DIR` writes it.\n\n";
        std::fs::write(dir.join(MANIFEST), format!("{header}{text}"))
            .with_context(|| format!("cannot write {MANIFEST}"))?;
        Ok(())
    }

    /// Reads `dir/automa.toml` and the scripts' files; unknown keys are errors.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let root: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        let root = serde_json::to_value(root)?;
        let mut folder = Folder::default();
        for key in root.as_object().into_iter().flat_map(|m| m.keys()) {
            if key != "scripts" && key != "agents" {
                bail!(
                    "{MANIFEST}: unknown top-level key {key:?} (expected [scripts.NAME] or [agents.NAME])"
                );
            }
        }
        for (name, table) in root["scripts"].as_object().into_iter().flatten() {
            let table = table
                .as_object()
                .with_context(|| format!("{MANIFEST}: scripts.{name} must be a table"))?;
            let mut script = Script::default();
            let mut file = format!("{name}.py");
            for (key, value) in table {
                match key.as_str() {
                    "file" => {
                        file = value
                            .as_str()
                            .with_context(|| {
                                format!("{MANIFEST}: scripts.{name}.file must be a string")
                            })?
                            .to_owned();
                    }
                    "schedules" => {
                        for (i, s) in value.as_array().into_iter().flatten().enumerate() {
                            let s = s.as_object().with_context(|| {
                                format!("{MANIFEST}: scripts.{name}.schedules[{i}] must be a table")
                            })?;
                            check_keys(
                                s,
                                &SCHEDULE_FIELDS,
                                &format!("scripts.{name}.schedules[{i}]"),
                            )?;
                            script.schedules.push(s.clone());
                        }
                    }
                    k if SCRIPT_FIELDS.contains(&k) => {
                        script.fields.insert(key.clone(), value.clone());
                    }
                    _ => bail!(
                        "{MANIFEST}: unknown key scripts.{name}.{key} (known: file, schedules, {})",
                        SCRIPT_FIELDS.join(", ")
                    ),
                }
            }
            let source_path = dir.join(&file);
            script.source = std::fs::read_to_string(&source_path).with_context(|| {
                format!("scripts.{name}: cannot read {}", source_path.display())
            })?;
            folder.scripts.insert(name.clone(), script);
        }
        for (name, table) in root["agents"].as_object().into_iter().flatten() {
            let table = table
                .as_object()
                .with_context(|| format!("{MANIFEST}: agents.{name} must be a table"))?;
            check_keys(table, &AGENT_FIELDS, &format!("agents.{name}"))?;
            let script = table["script"].as_str().unwrap_or_default();
            if script.is_empty() {
                bail!("{MANIFEST}: agents.{name} needs script = \"NAME\"");
            }
            folder.agents.insert(name.clone(), table.clone());
        }
        Ok(folder)
    }
}

fn check_keys(table: &Map<String, Value>, known: &[&str], at: &str) -> anyhow::Result<()> {
    match table.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => bail!(
            "{MANIFEST}: unknown key {at}.{k} (known: {})",
            known.join(", ")
        ),
        None => Ok(()),
    }
}
