//! The host directories a run may see, and where the guest sees them.

use std::path::PathBuf;

/// Directories mounted into a run. Anything not listed does not exist for the script.
#[derive(Debug, Clone, Default)]
pub struct Mounts {
    /// The script's persistent directory, read-write at `/data`.
    pub data: Option<PathBuf>,
    /// Scratch space at `/tmp`; when `None` the runtime makes one and removes it after.
    pub scratch: Option<PathBuf>,
    /// Where files written to `/artifacts` (or published) are kept with the job.
    pub artifacts: Option<PathBuf>,
    /// Directories an admin shared, at `/shared/<name>`.
    pub shared: Vec<SharedMount>,
    /// Pure-Python packages, read-only at `/packages` (put on `sys.path`).
    pub packages: Option<PathBuf>,
}

/// One admin-granted shared directory.
#[derive(Debug, Clone)]
pub struct SharedMount {
    /// The name under `/shared/`.
    pub name: String,
    /// The host directory.
    pub path: PathBuf,
    /// Whether the script may write to it.
    pub writable: bool,
}
