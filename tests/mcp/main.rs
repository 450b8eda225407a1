//! The MCP endpoint driven by the official Python MCP SDK (a client no one here wrote)
//! against the real app on a random port. `scripts/test` installs the SDK into
//! `target/test-tools/mcp-venv` and exports `AUTOMA_TEST_MCP_PYTHON`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../support/mcp_client.rs"]
#[allow(dead_code)]
mod mcp_client;

mod agents;
mod endpoint;
mod sessions;
