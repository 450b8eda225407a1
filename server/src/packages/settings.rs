//! `[packages]` in the config file: the admin's limits on resolving script requirements.

use serde::{Deserialize, Serialize};

/// Limits of pip resolutions and package environments; every key is optional.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct PackageSettings {
    /// The Python whose pip resolves (default `$AUTOMA_PYTHON`, else `python3`).
    pub python: String,
    /// Resolutions running at once, server-wide; further saves wait.
    pub max_concurrent: usize,
    /// How long a save waits for a free resolution slot before it is refused.
    pub queue_timeout_secs: u64,
    /// How long one pip run may take.
    pub resolve_timeout_secs: u64,
    /// Largest single wheel.
    pub max_wheel_bytes: u64,
    /// Largest download of one resolution, all wheels together.
    pub max_download_bytes: u64,
    /// Largest unpacked environment.
    pub max_unpacked_bytes: u64,
    /// An environment no script version references is removed once it is this old
    /// (so a save in progress keeps the one it just made).
    pub unused_grace_secs: u64,
}

impl Default for PackageSettings {
    fn default() -> Self {
        Self {
            python: std::env::var("AUTOMA_PYTHON").unwrap_or_else(|_| "python3".into()),
            max_concurrent: 2,
            queue_timeout_secs: 120,
            resolve_timeout_secs: 300,
            max_wheel_bytes: 50 * 1024 * 1024,
            max_download_bytes: 200 * 1024 * 1024,
            max_unpacked_bytes: 500 * 1024 * 1024,
            unused_grace_secs: 3600,
        }
    }
}
