//! Disk housekeeping of the package store: sizes of a work tree while pip downloads,
//! and removal of environments (and leftovers of interrupted saves) nothing uses.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Total size of the files under `dir`, and the largest file's name and size.
pub fn tree_size(dir: &Path) -> (u64, Option<(String, u64)>) {
    let mut total = 0;
    let mut largest: Option<(String, u64)> = None;
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
                if largest.as_ref().is_none_or(|(_, size)| meta.len() > *size) {
                    largest = Some((entry.file_name().to_string_lossy().into_owned(), meta.len()));
                }
            }
        }
    }
    (total, largest)
}

/// Mark an environment as just used, so a sweep running now leaves it alone.
pub fn touch(dir: &Path) {
    if let Ok(file) = std::fs::File::open(dir) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn older_than(path: &Path, grace: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= grace)
}

/// Remove unreferenced environments, half-made ones and stale pip work dirs older than
/// `grace`. Returns how many environments went.
pub fn remove_unused(root: &Path, referenced: &[String], grace: Duration) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(root.join("envs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let unused = name.contains(".partial-") || !referenced.contains(&name);
        if unused && older_than(&path, grace) {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    removed += 1;
                    tracing::info!(env = %name, "removed an unused package environment");
                }
                Err(e) => {
                    tracing::warn!(env = %name, error = %e, "cannot remove a package environment")
                }
            }
        }
    }
    // Work dirs are removed when a save ends; these are left by a crash.
    let stale = grace.max(Duration::from_secs(3600));
    for entry in std::fs::read_dir(root.join("work"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if older_than(&entry.path(), stale) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_unreferenced_environments_go() {
        let root = tempfile::tempdir().unwrap();
        for env in ["aaa", "bbb", "ccc.partial-x"] {
            std::fs::create_dir_all(root.path().join("envs").join(env).join("pkg")).unwrap();
        }
        assert_eq!(
            remove_unused(root.path(), &["aaa".into()], Duration::from_secs(3600)),
            0
        );
        assert_eq!(
            remove_unused(root.path(), &["aaa".into()], Duration::ZERO),
            2
        );
        assert!(root.path().join("envs/aaa/pkg").is_dir());
        assert!(!root.path().join("envs/bbb").exists());
        let (total, largest) = tree_size(root.path());
        assert_eq!((total, largest), (0, None));
    }
}
