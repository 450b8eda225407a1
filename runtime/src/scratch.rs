//! Each run's `/tmp` when the caller gives none: a directory of its own under the system's
//! temporary directory, removed when the run ends.
//!
//! A process killed mid-run (kill -9, the OOM killer, a power cut) cannot remove its
//! directories, so their names carry the process id, and the first runtime a process
//! makes removes those of processes that are gone.

use std::path::Path;
use std::sync::Once;

const PREFIX: &str = "automa-run-";

/// A fresh scratch directory, named after this process.
pub(crate) fn create() -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir()
}

/// Remove the scratch directories of processes that no longer run, once per process.
pub(crate) fn sweep_once() {
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| sweep(&std::env::temp_dir()));
}

fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = 0usize;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = owner_pid(&name.to_string_lossy()) else {
            continue;
        };
        if is_running(pid) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) => {
                tracing::debug!(path = %entry.path().display(), %error, "a stale scratch directory stays")
            }
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            "removed the scratch directories of runs whose process died"
        );
    }
}

/// The process id in a scratch directory's name (`automa-run-<pid>-<random>`).
fn owner_pid(name: &str) -> Option<u32> {
    let (pid, _) = name.strip_prefix(PREFIX)?.split_once('-')?;
    pid.parse().ok()
}

/// Whether a process with this id exists (a reused id keeps a directory: only a leak).
fn is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return true; // no procfs: never guess
    }
    proc_dir.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_directories_of_dead_processes_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        // pid_max is at most 2^22 on Linux: this id cannot be running.
        let dead = tmp.path().join(format!("{PREFIX}4999999-abc"));
        let alive = tmp
            .path()
            .join(format!("{PREFIX}{}-def", std::process::id()));
        let other = tmp.path().join(format!("{PREFIX}legacy"));
        let file = tmp.path().join(format!("{PREFIX}4999998-file"));
        for dir in [&dead, &alive, &other] {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("f"), "x").unwrap();
        }
        std::fs::write(&file, "x").unwrap();
        sweep(tmp.path());
        assert!(!dead.exists());
        assert!(alive.exists() && other.exists() && file.exists());
    }

    #[test]
    fn a_scratch_directory_names_its_process() {
        let dir = create().unwrap();
        let name = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(owner_pid(&name), Some(std::process::id()));
    }
}
