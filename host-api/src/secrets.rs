//! `automa:host/secrets`: granted secrets only.

use crate::bindings::automa::host::secrets::Host;
use crate::bindings::automa::host::types::Error as WitError;
use crate::{HostContext, HostError};
use std::time::Instant;

impl Host for HostContext {
    async fn get(&mut self, name: String) -> Result<String, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = self.read_secret(&name).await;
        self.audit("secrets.get", name, started, &result);
        result.map_err(Into::into)
    }
}

impl HostContext {
    async fn read_secret(&mut self, name: &str) -> Result<String, HostError> {
        if !self
            .capabilities
            .secrets
            .iter()
            .any(|granted| granted == name)
        {
            let (who, where_) = self.grantee();
            return Err(HostError::Denied(format!(
                "the secret {name:?} is not granted to {who}; an admin can grant it in {where_}"
            )));
        }
        let value = self
            .secrets
            .get(name)
            .await?
            .ok_or_else(|| HostError::NotFound(format!("no secret named {name:?}")))?;
        if !value.is_empty() && !self.revealed_secrets.contains(&value) {
            self.revealed_secrets.push(value.clone());
        }
        Ok(value)
    }
}
