//! Each run's `/tmp` when the caller gives none: a directory of its own under the system's
//! temporary directory.
//!
//! Making and removing a directory cost a run about a quarter of a millisecond of
//! filesystem work (ext4 allocates and frees an inode each time), and most runs never
//! write to `/tmp`. So a directory a run left as it was made (no entries, its size as
//! made) is kept for a later run instead of removed, its times set anew when it is
//! handed out: nothing one run wrote is seen by another. Any other is removed, as
//! before. What stays is the directory's birth time, which no call can set: a run can
//! tell that its `/tmp` was made for an earlier run, and when.
//!
//! A process killed mid-run (kill -9, the OOM killer, a power cut) cannot remove its
//! directories, so their names carry the process id, and the first runtime a process
//! makes removes those of processes that are gone.

use std::path::Path;
use std::sync::{Arc, Mutex, Once};

const PREFIX: &str = "automa-run-";

/// Empty scratch directories kept at most: more than the runs that end at once.
const KEPT_AT_MOST: usize = 16;

/// The empty scratch directories kept for the next runs.
#[derive(Default)]
pub(crate) struct ScratchDirs(Mutex<Vec<Dir>>);

/// A scratch directory and its size as made (on ext4 a directory grows with its entries
/// and never shrinks: an emptied one is not as it was made).
struct Dir {
    dir: tempfile::TempDir,
    len_as_made: u64,
}

/// A run's scratch directory; when dropped (after the run's instance is gone) it is
/// kept for another run if it is as it was made, and removed otherwise.
pub(crate) struct Scratch {
    dir: Option<Dir>,
    kept: Arc<ScratchDirs>,
}

impl ScratchDirs {
    /// An empty scratch directory: a kept one, its times set to now (a run can set its
    /// `/tmp`'s times through WASI, and they would tell the next when it was last
    /// used), or a new one named after this process.
    pub(crate) fn take(self: &Arc<Self>) -> std::io::Result<Scratch> {
        let kept = self.lock().pop();
        let dir = match kept {
            Some(dir) if reset_times(dir.dir.path()).is_ok() => dir,
            _ => create()?,
        };
        Ok(Scratch {
            dir: Some(dir),
            kept: self.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Dir>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Scratch {
    pub(crate) fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(Path::new(""), |dir| dir.dir.path())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        if dir.is_as_made() {
            let mut kept = self.kept.lock();
            if kept.len() < KEPT_AT_MOST {
                kept.push(dir);
                return;
            }
        }
        drop(dir); // removed with whatever is in it
    }
}

impl Dir {
    /// Whether it is still a directory of its size as made, with no entries (a
    /// symlink or an unreadable one is not). A run that made and removed many files
    /// leaves a larger directory, which the next could read (`st_size`) and which no
    /// quota counts.
    fn is_as_made(&self) -> bool {
        let path = self.dir.path();
        std::fs::symlink_metadata(path)
            .is_ok_and(|meta| meta.is_dir() && meta.len() == self.len_as_made)
            && std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
    }
}

fn reset_times(dir: &Path) -> std::io::Result<()> {
    let now = std::time::SystemTime::now();
    std::fs::File::open(dir)?.set_times(
        std::fs::FileTimes::new()
            .set_accessed(now)
            .set_modified(now),
    )
}

/// A fresh scratch directory, named after this process.
fn create() -> std::io::Result<Dir> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir()?;
    let len_as_made = std::fs::symlink_metadata(dir.path())?.len();
    Ok(Dir { dir, len_as_made })
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
    fn only_an_empty_directory_is_kept_for_the_next_run() {
        let dirs = Arc::new(ScratchDirs::default());
        let first = dirs.take().unwrap();
        let path = first.path().to_owned();
        std::fs::write(path.join("left"), "x").unwrap();
        std::fs::remove_file(path.join("left")).unwrap();
        // What a run could leave for the next to read.
        let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 20);
        std::fs::File::open(&path)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_modified(long_ago))
            .unwrap();
        drop(first);
        let second = dirs.take().unwrap();
        assert_eq!(second.path(), path, "an emptied directory is reused");
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let age = std::time::SystemTime::now()
            .duration_since(modified)
            .unwrap();
        assert!(
            age < std::time::Duration::from_secs(60),
            "its times are reset: {age:?}"
        );
        std::fs::create_dir(path.join("sub")).unwrap();
        drop(second);
        assert!(!path.exists(), "a directory left with an entry is removed");
        let third = dirs.take().unwrap();
        assert_ne!(third.path(), path);
        assert!(std::fs::read_dir(third.path()).unwrap().next().is_none());
    }

    #[test]
    fn a_directory_grown_by_a_run_is_not_kept() {
        let dirs = Arc::new(ScratchDirs::default());
        let first = dirs.take().unwrap();
        let path = first.path().to_owned();
        let as_made = std::fs::metadata(&path).unwrap().len();
        let names: Vec<_> = (0..600)
            .map(|i| path.join(format!("{}{i}", "y".repeat(200))))
            .collect();
        for name in &names {
            std::fs::write(name, "").unwrap();
        }
        for name in &names {
            std::fs::remove_file(name).unwrap();
        }
        let grown = std::fs::metadata(&path).unwrap().len() != as_made;
        drop(first);
        let second = dirs.take().unwrap();
        // ext4 keeps the grown size (the next run could read it); tmpfs gives it back.
        assert_eq!(second.path() == path, !grown, "grown: {grown}");
        assert_eq!(std::fs::metadata(second.path()).unwrap().len(), as_made);
    }

    #[test]
    fn no_more_than_the_bound_are_kept() {
        let dirs = Arc::new(ScratchDirs::default());
        let many: Vec<Scratch> = (0..KEPT_AT_MOST + 3)
            .map(|_| dirs.take().unwrap())
            .collect();
        let paths: Vec<_> = many.iter().map(|s| s.path().to_owned()).collect();
        drop(many);
        assert_eq!(dirs.lock().len(), KEPT_AT_MOST);
        assert_eq!(paths.iter().filter(|p| p.exists()).count(), KEPT_AT_MOST);
    }

    #[test]
    fn a_scratch_directory_names_its_process() {
        let dir = create().unwrap();
        let name = dir
            .dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(owner_pid(&name), Some(std::process::id()));
    }
}
