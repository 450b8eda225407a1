//! The official MCP Python SDK's client (`mcp_client.py` beside this file) run against
//! a test server, for the test binaries that drive MCP (`tests/mcp`, and the cross-way
//! tests in `tests/ui`); each includes this file with `#[path]` beside `helpers`.

use crate::helpers::TestApp;
use serde_json::Value;
use std::path::PathBuf;

/// An agent that replies to each message until asked to stop; it checks for the stop
/// every second, so a stop ends it within its grace.
pub const ECHO_AGENT: &str = r#"import automa

def main(prefix: str = 'echo'):
    while not automa.agent.stop_requested():
        message = automa.agent.receive(timeout=1)
        if message is None:
            continue
        automa.agent.emit({'reply': prefix + ': ' + str(message['text'])})
"#;

/// The virtualenv's python with the `mcp` SDK (see scripts/test).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("AUTOMA_TEST_MCP_PYTHON") {
        return p.into();
    }
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-tools/mcp-venv/bin/python");
    assert!(
        p.exists(),
        "the MCP test client needs the Python `mcp` SDK: run scripts/test (or set AUTOMA_TEST_MCP_PYTHON)"
    );
    p
}

/// Runs mcp_client.py with `args` (`list`, `call TOOL JSON`, ...) and returns the JSON
/// it printed.
pub async fn client(app: &TestApp, token: &str, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/support/mcp_client.py");
    let out = tokio::process::Command::new(python())
        .arg(script)
        .arg(app.url("/mcp"))
        .arg(token)
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "MCP client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One tool call; `call.is_error` and `call.text`, or `call.exception` for a protocol error.
pub async fn call(app: &TestApp, token: &str, tool: &str, args: &str) -> Value {
    client(app, token, &["call", tool, args]).await
}

/// The JSON a tool call answered, which must have succeeded.
pub fn answer_of(out: &Value) -> Value {
    assert_eq!(out["call"]["is_error"], false, "{out}");
    serde_json::from_str(out["call"]["text"][0].as_str().unwrap()).unwrap()
}

/// One tool call that must succeed; the tool's JSON answer.
pub async fn answer(app: &TestApp, token: &str, tool: &str, args: &Value) -> Value {
    answer_of(&call(app, token, tool, &args.to_string()).await)
}
