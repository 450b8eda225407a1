//! Where `automa login` keeps the server URL and personal API token:
//! `$XDG_CONFIG_HOME/automa/credentials.toml` (else `~/.config/automa/...`), mode 0600.
//! `AUTOMA_URL` / `AUTOMA_TOKEN` (or `--url` / `--token`) override the file.

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Credentials {
    pub url: String,
    pub token: String,
}

/// The credentials file's path.
pub fn path() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => bail!("neither XDG_CONFIG_HOME nor HOME is set: cannot find the config dir"),
        },
    };
    Ok(base.join("automa").join("credentials.toml"))
}

/// The stored credentials, or `None` when nobody has logged in.
pub fn load() -> anyhow::Result<Option<Credentials>> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let creds = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid credentials file", path.display()))?;
    Ok(Some(creds))
}

/// Writes the file with mode 0600 (its directory 0700): the token is a password.
pub fn save(creds: &Credentials) -> anyhow::Result<PathBuf> {
    let path = path()?;
    let dir = path.parent().context("credentials path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = toml::to_string(creds)?;
    write_private(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    if let Some(dir) = path.parent() {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An older file keeps its mode on open: tighten it either way.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
