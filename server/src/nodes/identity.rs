//! Which node this process is: its id (kept in the data dir, or set), and the lock that
//! makes sure one process at a time runs as that id on this machine.

use anyhow::Context;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The node id: `explicit` when set (several nodes sharing one data directory each
/// need their own), else the one kept in the data dir (created on first start), so a
/// restarted node finds the jobs it left running.
pub fn node_id(data_dir: &Path, explicit: Option<&str>) -> anyhow::Result<String> {
    if let Some(id) = explicit {
        let id = id.trim();
        let valid = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        anyhow::ensure!(
            valid,
            "node id {id:?}: use 1 to 64 letters, digits, '-', '_' or '.'"
        );
        return Ok(id.to_owned());
    }
    let path = data_dir.join("node_id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_owned();
        if !id.is_empty() {
            return Ok(id);
        }
    }
    let id = format!("node-{}", crate::db::new_id());
    std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}

/// An exclusive lock held for the life of the process; the kernel drops it when the
/// process dies (kill -9 included), so a lock that is free means no live holder.
pub struct ProcessLock {
    _file: File,
    pub path: PathBuf,
}

impl ProcessLock {
    /// Takes the lock at `path`, or says who holds it (`what` names the resource).
    pub fn acquire(path: PathBuf, what: &str) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                anyhow::bail!(
                    "{what} is in use by another Automa process ({}); stop it first",
                    holder.trim()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
        let _ = file.set_len(0);
        let _ =
            std::io::Write::write_all(&mut &file, format!("pid {}", std::process::id()).as_bytes());
        Ok(Self { _file: file, path })
    }
}

/// Where the lock of node `id` lives in the data dir.
pub fn node_lock_path(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join("run").join(format!("{id}.lock"))
}

/// The lock beside a SQLite database file (one process per SQLite database).
pub fn sqlite_lock_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite:")?;
    let rest = rest.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") || path.starts_with("memory") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.lock")))
}

/// This machine's name, for the node registry.
pub fn hostname() -> String {
    sysinfo::System::host_name().unwrap_or_else(|_| "unknown".into())
}
