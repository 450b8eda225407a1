//! `automa:host/state`: the script's small key-value store.

use crate::bindings::automa::host::state::Host;
use crate::bindings::automa::host::types::Error as WitError;
use crate::ports::StateStore;
use crate::{HostContext, HostError};
use std::sync::Arc;
use std::time::Instant;

const MAX_KEY_BYTES: usize = 256;
const MAX_VALUE_BYTES: usize = 1024 * 1024;

impl HostContext {
    fn state_store(&self) -> Result<Arc<dyn StateStore>, HostError> {
        self.state.clone().ok_or_else(|| match &self.plugin_name {
            Some(_) => {
                let (who, where_) = self.grantee();
                HostError::Denied(format!(
                    "{who} has no state; an admin can grant it state in {where_}"
                ))
            }
            None => HostError::Denied(
                "this run has no state store (state belongs to saved scripts)".into(),
            ),
        })
    }
}

/// `Ok` when storing `value` under `key` keeps the store within the run's quotas of
/// keys and bytes.
async fn within_quota(
    store: &dyn StateStore,
    limits: crate::CallLimits,
    key: &str,
    value: &str,
) -> Result<(), HostError> {
    let others = store.usage(key).await?;
    if others.keys >= limits.state_keys {
        return Err(HostError::LimitReached(format!(
            "the script's state holds its {} keys (the server's state_keys quota); delete some first",
            limits.state_keys
        )));
    }
    let bytes = others
        .bytes
        .saturating_add((key.len() + value.len()) as u64);
    if bytes > limits.state_bytes {
        return Err(HostError::TooLarge(format!(
            "the script's state would hold {bytes} bytes, over its {} bytes (the server's state_bytes quota)",
            limits.state_bytes
        )));
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), HostError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(HostError::InvalidInput(format!(
            "state keys must be 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

impl Host for HostContext {
    async fn get(&mut self, key: String) -> Result<Option<String>, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = match (self.call_budget().and(check_key(&key)), self.state_store()) {
            (Ok(()), Ok(store)) => store.get(&key).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        self.audit("state.get", key, started, &result);
        result.map_err(Into::into)
    }

    async fn set(&mut self, key: String, value: String) -> Result<(), WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = match (self.call_budget().and(check_key(&key)), self.state_store()) {
            (Ok(()), _) if value.len() > MAX_VALUE_BYTES => Err(HostError::TooLarge(format!(
                "state values are limited to {MAX_VALUE_BYTES} bytes"
            ))),
            (Ok(()), Ok(store)) => {
                match within_quota(store.as_ref(), self.limits, &key, &value).await {
                    Ok(()) => store.set(&key, &value).await,
                    Err(e) => Err(e),
                }
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        self.audit("state.set", key, started, &result);
        result.map_err(Into::into)
    }

    async fn delete(&mut self, key: String) -> Result<bool, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = match (self.call_budget().and(check_key(&key)), self.state_store()) {
            (Ok(()), Ok(store)) => store.delete(&key).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        self.audit("state.delete", key, started, &result);
        result.map_err(Into::into)
    }

    async fn keys(&mut self) -> Result<Vec<String>, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = match self.call_budget().and(self.state_store()) {
            Ok(store) => store.keys().await,
            Err(e) => Err(e),
        };
        self.audit("state.keys", String::new(), started, &result);
        result.map_err(Into::into)
    }
}
