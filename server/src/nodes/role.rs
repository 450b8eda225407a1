//! What a node does: everything (`automa serve`), only HTTP (`--role api`), or only
//! runs (`automa worker`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// HTTP API, dashboard and MCP, and runs jobs and agents: one machine.
    #[default]
    All,
    /// HTTP API, dashboard and MCP; runs nothing.
    Api,
    /// Runs jobs and agents; no HTTP listener (only `/healthz` and `/metrics` on an
    /// optional admin address).
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Worker => "worker",
        }
    }

    /// Whether this node claims jobs and runs agents.
    pub fn runs_work(self) -> bool {
        !matches!(self, Role::Api)
    }

    /// Whether this node serves the API, the dashboard and MCP.
    pub fn serves_http(self) -> bool {
        !matches!(self, Role::Worker)
    }
}
