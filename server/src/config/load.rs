//! Layering with figment: defaults (`Config::default`) < TOML file < environment <
//! command-line flags. Tables merge key by key, so a flag for one `[smtp]` key keeps the
//! file's other `[smtp]` keys. Each layer carries a name (the file's path, the variable,
//! "command-line flags") so an error says where the bad value came from.

use super::{Config, fields};
use anyhow::{Context, anyhow};
use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use std::path::PathBuf;

/// What the settings are read from, besides the defaults; later ones win.
#[derive(Default)]
pub struct Sources {
    /// The TOML file (`--config`, `AUTOMA_CONFIG`).
    pub file: Option<PathBuf>,
    /// The environment, as `std::env::vars()` gives it (passed in so tests need not
    /// change the process environment).
    pub env: Vec<(String, String)>,
    /// The command-line flags that were given, as settings keys (see [`flag_layer`]).
    pub flags: Dict,
    /// `--set KEY=VALUE`, for keys without a flag of their own; named flags win.
    pub sets: Vec<(String, String)>,
}

/// Environment variables that predate the `AUTOMA_<KEY>` rule, and the keys they set.
/// The rule's own names work too (`AUTOMA_SMTP__HOST`) and win over these.
const ENV_NAMES: &[(&str, &str)] = &[
    ("DATABASE_URL", "database_url"),
    ("AUTOMA_ACCESS_TOKEN_TTL", "access_token_ttl_secs"),
    ("AUTOMA_LOCKOUT", "lockout_secs"),
    ("AUTOMA_BODY_LIMIT", "body_limit_bytes"),
    ("AUTOMA_NODE_LEASE", "node_lease_secs"),
    ("AUTOMA_SMTP_HOST", "smtp.host"),
    ("AUTOMA_SMTP_PORT", "smtp.port"),
    ("AUTOMA_SMTP_TLS", "smtp.tls"),
    ("AUTOMA_SMTP_FROM", "smtp.from"),
    ("AUTOMA_SMTP_USERNAME", "smtp.username"),
    ("AUTOMA_SMTP_PASSWORD", "smtp.password"),
];

/// The settings key an environment variable sets: a name of [`ENV_NAMES`], or
/// `AUTOMA_<KEY>` / `AUTOMA_<TABLE>__<KEY>` whose first part is a settings key. Other
/// `AUTOMA_*` variables belong to other tools (`AUTOMA_URL`, `AUTOMA_TEST_*`) and are
/// not settings.
pub fn env_key(var: &str) -> Option<String> {
    if let Some((_, key)) = ENV_NAMES.iter().find(|(name, _)| *name == var) {
        return Some((*key).to_owned());
    }
    let key = var
        .strip_prefix("AUTOMA_")?
        .to_ascii_lowercase()
        .replace("__", ".");
    let top = key.split('.').next()?;
    fields::of::<Config>().contains(&top).then_some(key)
}

/// The flags layer from a `Serialize` struct of flags whose unset values are `None`,
/// `false`-less `Option<bool>`s or empty lists: those are dropped, so an absent flag
/// leaves the lower layers' value.
pub fn flag_layer(flags: &impl Serialize) -> anyhow::Result<Dict> {
    let value = Value::serialize(flags).context("reading the command-line flags")?;
    match prune(value) {
        Some(Value::Dict(_, dict)) => Ok(dict),
        _ => Ok(Dict::new()),
    }
}

/// Drops unset values (and tables or lists left empty) from the flags layer.
fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Empty(..) => None,
        Value::Dict(tag, dict) => {
            let dict: Dict = dict
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!dict.is_empty()).then_some(Value::Dict(tag, dict))
        }
        Value::Array(_, ref items) if items.is_empty() => None,
        other => Some(other),
    }
}

/// One layer and the name it goes by in error messages.
struct Layer {
    name: String,
    data: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone()).interpolater(|_: &Profile, keys: &[&str]| keys.join("."))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// One value at a dotted key, e.g. from `AUTOMA_SMTP__PORT=2525`. Values stay text and
/// the extraction reads them as the key's type (numbers, booleans).
fn single(name: String, key: &str, value: &str) -> Layer {
    let data = match figment::util::nest(key, Value::from(value.to_owned())) {
        Value::Dict(_, dict) => dict,
        _ => Dict::new(),
    };
    Layer { name, data }
}

/// The figment of all layers, lowest first.
fn layers(sources: &Sources) -> anyhow::Result<Figment> {
    let mut figment = Figment::new();
    if let Some(path) = &sources.file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let mut data = Toml::string(&text)
            .data()
            .map_err(|e| anyhow!("parsing config file {}: {e}", path.display()))?;
        figment = figment.merge(Layer {
            name: format!("config file {}", path.display()),
            data: data.remove(&Profile::Default).unwrap_or_default(),
        });
    }
    let mut env: Vec<(bool, &str, String, &str)> = sources
        .env
        .iter()
        // An empty variable is an unset one (as an `EnvironmentFile=` line `X=` means).
        .filter(|(_, value)| !value.is_empty())
        .filter_map(|(var, value)| {
            let key = env_key(var)?;
            let legacy = ENV_NAMES.iter().any(|(name, _)| name == var);
            Some((!legacy, var.as_str(), key, value.as_str()))
        })
        .collect();
    // Older names first, so `AUTOMA_SMTP__HOST` wins over `AUTOMA_SMTP_HOST`.
    env.sort();
    for (_, var, key, value) in env {
        figment = figment.merge(single(format!("environment variable {var}"), &key, value));
    }
    for (key, value) in &sources.sets {
        figment = figment.merge(single(format!("command-line flag --set {key}"), key, value));
    }
    if !sources.flags.is_empty() {
        figment = figment.merge(Layer {
            name: "command-line flags".into(),
            data: sources.flags.clone(),
        });
    }
    Ok(figment)
}

/// The effective configuration, or one error listing every bad key with its layer.
pub fn load(sources: &Sources) -> anyhow::Result<Config> {
    let figment = layers(sources)?;
    // Lossy: environment values are text, read as the number or boolean the key wants.
    let config: Config = figment.extract_lossy().map_err(|e| {
        anyhow!(
            "invalid configuration:\n  - {}",
            explain(&figment, e).join("\n  - ")
        )
    })?;
    validate(&figment, &config)?;
    Ok(config)
}

/// Where a key's value came from, for messages.
fn layer_of(figment: &Figment, key: &str) -> String {
    figment
        .find_metadata(key)
        .map_or_else(|| "the defaults".to_owned(), |m| m.name.to_string())
}

fn explain(figment: &Figment, error: figment::Error) -> Vec<String> {
    error
        .into_iter()
        .map(|e| {
            let path = e.path.join(".");
            match &e.kind {
                figment::error::Kind::UnknownField(name, expected) => {
                    // figment's path ends at the unknown key itself.
                    let key = if e.path.last() == Some(name) || path.is_empty() {
                        if path.is_empty() {
                            name.clone()
                        } else {
                            path.clone()
                        }
                    } else {
                        format!("{path}.{name}")
                    };
                    format!(
                        "unknown key `{key}` in {} (known keys here: {})",
                        layer_of(figment, &key),
                        expected.join(", ")
                    )
                }
                kind if path.is_empty() => format!("{kind}"),
                kind => format!("`{path}` in {}: {kind}", layer_of(figment, &path)),
            }
        })
        .collect()
}

/// Ranges serde cannot express.
fn validate(figment: &Figment, config: &Config) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    if !(1..=256).contains(&config.workers) {
        problems.push(format!(
            "`workers` in {}: {} is out of range, must be 1 to 256",
            layer_of(figment, "workers"),
            config.workers
        ));
    }
    if config.max_instances > 4096 {
        problems.push(format!(
            "`max_instances` in {}: {} is out of range, must be 0 to 4096",
            layer_of(figment, "max_instances"),
            config.max_instances
        ));
    }
    if config.node_lease < std::time::Duration::from_secs(1) {
        problems.push(format!(
            "`node_lease_secs` in {}: must be at least 1s",
            layer_of(figment, "node_lease_secs")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "invalid configuration:\n  - {}",
            problems.join("\n  - ")
        ))
    }
}
