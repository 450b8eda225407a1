//! `automa:host/agent`: the mailbox, events, status and stop signal of an agent run.

use crate::bindings::automa::host::agent::Host;
use crate::bindings::automa::host::types::Error as WitError;
use crate::ports::AgentChannel;
use crate::{HostContext, HostError};
use std::sync::Arc;
use std::time::Duration;

const MAX_EVENT_BYTES: usize = 256 * 1024;

impl HostContext {
    fn agent_channel(&self) -> Result<Arc<dyn AgentChannel>, HostError> {
        self.agent.clone().ok_or_else(|| {
            HostError::Denied("automa.agent works only in an agent, not in a job".into())
        })
    }
}

impl Host for HostContext {
    async fn receive(&mut self, timeout_ms: u32) -> Result<Option<String>, WitError> {
        self.counters.total = self.counters.total.saturating_add(1);
        let channel = self.agent_channel()?;
        channel.heartbeat();
        let message = channel
            .receive(Duration::from_millis(u64::from(timeout_ms)))
            .await;
        channel.heartbeat();
        Ok(message)
    }

    async fn emit(&mut self, value_json: String) -> Result<(), WitError> {
        self.counters.total = self.counters.total.saturating_add(1);
        let channel = self.agent_channel()?;
        if value_json.len() > MAX_EVENT_BYTES {
            return Err(HostError::TooLarge(format!(
                "an event is limited to {MAX_EVENT_BYTES} bytes"
            ))
            .into());
        }
        channel.heartbeat();
        channel.emit(value_json);
        Ok(())
    }

    async fn set_status(
        &mut self,
        text: String,
        metrics_json: Option<String>,
    ) -> Result<(), WitError> {
        self.counters.total = self.counters.total.saturating_add(1);
        let channel = self.agent_channel()?;
        let metrics = match metrics_json {
            Some(m) => Some(serde_json::from_str(&m).map_err(|e| {
                WitError::from(HostError::InvalidInput(format!("status numbers: {e}")))
            })?),
            None => None,
        };
        channel.heartbeat();
        channel.set_status(text.chars().take(500).collect(), metrics);
        Ok(())
    }

    async fn sleep(&mut self, ms: u32) -> Result<bool, WitError> {
        self.counters.total = self.counters.total.saturating_add(1);
        let channel = self.agent_channel()?;
        channel.heartbeat();
        let slept = tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(u64::from(ms))) => true,
            () = channel.stopped() => false,
        };
        channel.heartbeat();
        Ok(slept)
    }

    async fn stop_requested(&mut self) -> Result<bool, WitError> {
        self.counters.total = self.counters.total.saturating_add(1);
        let channel = self.agent_channel()?;
        channel.heartbeat();
        Ok(channel.stop_requested())
    }
}
