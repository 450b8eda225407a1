//! `automa:host/files`: publishing artifacts of the run.

use crate::bindings::automa::host::files::Host;
use crate::bindings::automa::host::types::Error as WitError;
use crate::{HostContext, HostError};
use std::time::Instant;

impl Host for HostContext {
    async fn publish_artifact(
        &mut self,
        name: String,
        data: Vec<u8>,
        _content_type: Option<String>,
    ) -> Result<(), WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = self.write_artifact(&name, &data);
        self.audit("files.publish-artifact", name, started, &result);
        result.map_err(Into::into)
    }

    async fn mounts(&mut self) -> Vec<String> {
        self.mounts.clone()
    }
}

impl HostContext {
    fn write_artifact(&mut self, name: &str, data: &[u8]) -> Result<(), HostError> {
        let valid = !name.is_empty()
            && name.len() <= 200
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid {
            return Err(HostError::InvalidInput(format!(
                "invalid artifact name {name:?}: use letters, digits, '.', '-' and '_' (no \
                 directories), not starting with '.'"
            )));
        }
        let dir = self
            .artifacts_dir
            .clone()
            .ok_or_else(|| HostError::Denied("this run has no artifacts directory".into()))?;
        let size = data.len() as u64;
        let total = self.artifact_bytes.saturating_add(size);
        if total > self.max_artifact_bytes {
            return Err(no_space(format!(
                "artifacts of this run would exceed {} bytes",
                self.max_artifact_bytes
            )));
        }
        let dir = cap_std::fs::Dir::open_ambient_dir(&dir, cap_std::ambient_authority())
            .map_err(|e| HostError::Failed(format!("artifacts directory: {e}")))?;
        // Counted against /artifacts' disk quota like a file the script writes there:
        // the new size (and entry, for a new file) instead of the old file's.
        let space = self.artifacts_space.clone();
        let (grow, shrink) = match dir.symlink_metadata(name) {
            Ok(meta) if meta.is_file() => (size, meta.len()),
            _ => (
                size.saturating_add(space.as_ref().map_or(0, |s| s.entry_bytes())),
                0,
            ),
        };
        let charged = grow.saturating_sub(shrink);
        if let Some(space) = &space
            && !space.charge(charged)
        {
            return Err(no_space(format!(
                "{name} ({size} bytes) does not fit in the run's /artifacts quota"
            )));
        }
        if let Err(e) = dir.write(name, data) {
            if let Some(space) = &space {
                space.release(charged);
            }
            return Err(HostError::Failed(format!("writing artifact {name}: {e}")));
        }
        if let Some(space) = &space {
            space.release(shrink.saturating_sub(grow));
        }
        self.artifact_bytes = total;
        Ok(())
    }
}

/// A publish that does not fit: the guest raises it as `OSError` ENOSPC, as a write
/// under `/artifacts` past the quota does (the SDK maps `too-large` from publish).
fn no_space(why: String) -> HostError {
    HostError::TooLarge(format!("No space left on device: {why}"))
}
