//! Server keys: the JWT signing key and the secrets-at-rest key. Taken from config when
//! given, else generated once into `<data_dir>/keys/*.key` (hex, mode 0600).

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Loaded key material plus any permission problems found (reported in production).
pub struct Keys {
    pub jwt: Vec<u8>,
    pub secrets: Vec<u8>,
    pub problems: Vec<String>,
}

pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("OS random generator failed: {e}"))?;
    Ok(buf)
}

/// Placeholder-looking or short keys are refused in production.
pub fn is_weak_key(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.len() < 32
        || [
            "changeme",
            "change-me",
            "secret",
            "password",
            "example",
            "default",
        ]
        .iter()
        .any(|w| lower.contains(w))
        || v.chars().all(|c| c == v.chars().next().unwrap_or('0'))
}

fn decode_configured(value: &str) -> Vec<u8> {
    // Hex if it looks like hex, otherwise the raw bytes of the string.
    hex::decode(value.trim()).unwrap_or_else(|_| value.as_bytes().to_vec())
}

/// Creates `dir` (mode 0700 when newly created: it holds the database and keys).
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A data directory readable or writable by every local user is a production problem.
pub fn world_accessible(dir: &Path) -> Vec<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o007 != 0 {
                return vec![format!(
                    "data dir {} has mode {mode:o} (accessible to all users); run `chmod 700 {}`",
                    dir.display(),
                    dir.display()
                )];
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Vec::new()
}

pub fn load_or_create(
    data_dir: &Path,
    jwt: Option<&str>,
    secrets: Option<&str>,
) -> anyhow::Result<Keys> {
    let dir = data_dir.join("keys");
    let mut problems = Vec::new();
    let jwt = match jwt {
        Some(v) => decode_configured(v),
        None => load_or_create_file(&dir.join("jwt.key"), 64, &mut problems)?,
    };
    let secrets = match secrets {
        Some(v) => {
            let key = decode_configured(v);
            if key.len() != 32 {
                bail!("secrets_key must be exactly 32 bytes (64 hex characters)");
            }
            key
        }
        None => load_or_create_file(&dir.join("secrets.key"), 32, &mut problems)?,
    };
    Ok(Keys {
        jwt,
        secrets,
        problems,
    })
}

pub(crate) fn load_or_create_file(
    path: &PathBuf,
    len: usize,
    problems: &mut Vec<String>,
) -> anyhow::Result<Vec<u8>> {
    if path.exists() {
        check_perms(path, problems)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading key file {}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .with_context(|| format!("key file {} is not hex", path.display()))?;
        if bytes.len() < 32 {
            bail!("key file {} holds fewer than 32 bytes", path.display());
        }
        return Ok(bytes);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("OS random generator failed: {e}"))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts
        .open(path)
        .with_context(|| format!("creating key file {}", path.display()))?;
    file.write_all(hex::encode(&bytes).as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated new key file");
    Ok(bytes)
}

#[cfg(unix)]
fn check_perms(path: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        problems.push(format!(
            "key file {} has mode {mode:o}; run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_perms(_path: &Path, _problems: &mut Vec<String>) -> anyhow::Result<()> {
    Ok(())
}
