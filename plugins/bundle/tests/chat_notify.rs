//! Runs `chat_notify_test.py`: the chat-notify plugin's Python on native Python, with
//! stand-ins for the generated bindings (argument checks, the request it sends, the
//! secret fallback, errors and the log line).

use std::path::Path;
use std::process::Command;

#[test]
fn chat_notify_app_on_native_python() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("AUTOMA_TEST_PYTHON").unwrap_or_else(|| "python3".into());
    let output = Command::new(&python)
        .arg(bundle.join("tests/chat_notify_test.py"))
        .env("PYTHONPATH", bundle.join("../chat-notify"))
        // No __pycache__ next to app.py: build.rs watches that folder.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python:?}: {e}"));
    assert!(
        output.status.success(),
        "chat_notify_test.py failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
