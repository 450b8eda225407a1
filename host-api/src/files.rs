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
        let total = self.artifact_bytes.saturating_add(data.len() as u64);
        if total > self.max_artifact_bytes {
            return Err(HostError::TooLarge(format!(
                "artifacts of this run would exceed {} bytes",
                self.max_artifact_bytes
            )));
        }
        let dir = cap_std::fs::Dir::open_ambient_dir(&dir, cap_std::ambient_authority())
            .map_err(|e| HostError::Failed(format!("artifacts directory: {e}")))?;
        dir.write(name, data)
            .map_err(|e| HostError::Failed(format!("writing artifact {name}: {e}")))?;
        self.artifact_bytes = total;
        Ok(())
    }
}
