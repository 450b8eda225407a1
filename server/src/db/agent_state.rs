//! An agent's `state` column as a type: the one list of states, which of them mean
//! the agent is wanted running, and their stored spelling (also the API's).

use serde::Serialize;
use utoipa::ToSchema;

/// Where an agent is in its supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Stopped,
    Starting,
    Running,
    Backoff,
    Stopping,
    Exited,
    Fatal,
}

impl AgentState {
    pub const ALL: [AgentState; 7] = [
        AgentState::Stopped,
        AgentState::Starting,
        AgentState::Running,
        AgentState::Backoff,
        AgentState::Stopping,
        AgentState::Exited,
        AgentState::Fatal,
    ];

    /// Wanted running: by a node, or waiting for one (`is_active`).
    pub const ACTIVE: [AgentState; 4] = [
        AgentState::Starting,
        AgentState::Running,
        AgentState::Backoff,
        AgentState::Stopping,
    ];

    /// Active and not being stopped: a node that takes it starts it.
    pub const WAITING: [AgentState; 3] = [
        AgentState::Starting,
        AgentState::Running,
        AgentState::Backoff,
    ];

    /// The spelling stored in `agents.state`, shown by the API and named in the
    /// audit actions (`agent.<state>`).
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Stopped => "stopped",
            AgentState::Starting => "starting",
            AgentState::Running => "running",
            AgentState::Backoff => "backoff",
            AgentState::Stopping => "stopping",
            AgentState::Exited => "exited",
            AgentState::Fatal => "fatal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the agent is wanted running (by a node, or waiting for one).
    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

impl std::fmt::Display for AgentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::AgentState;

    #[test]
    fn every_state_reads_back_and_serializes_as_stored() {
        for state in AgentState::ALL {
            assert_eq!(AgentState::parse(state.as_str()), Some(state));
            let json = serde_json::to_value(state).expect("serializes");
            assert_eq!(json, state.as_str());
        }
        assert_eq!(AgentState::parse("Running"), None);
        assert_eq!(AgentState::parse("crashed"), None);
    }

    #[test]
    fn waiting_states_are_active_and_stopping_is_not_waiting() {
        for state in AgentState::WAITING {
            assert!(state.is_active(), "{state}");
        }
        assert!(AgentState::Stopping.is_active());
        assert!(!AgentState::WAITING.contains(&AgentState::Stopping));
        for idle in [AgentState::Stopped, AgentState::Exited, AgentState::Fatal] {
            assert!(!idle.is_active(), "{idle}");
        }
    }
}
