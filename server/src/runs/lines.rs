//! How every run records what it writes: output cut into whole lines, and the values
//! of secrets replaced by a marker. A job's log and an agent's history both go through
//! this, so `print("a", 1)` is one entry (not four writes) and a secret split across
//! writes is still caught once its line is whole.

use automa_runtime::host::ports::OutputStream;
use serde_json::Value;
use std::sync::Mutex;

/// What a secret's value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// A line longer than this is recorded in pieces.
pub const MAX_PARTIAL_LINE: usize = 16 * 1024;

/// The line joiner and redactor of one run (or agent instance).
#[derive(Debug, Default)]
pub struct Lines {
    /// Output of stdout and stderr still waiting for its line end.
    partial: Mutex<[Vec<u8>; 2]>,
    /// Values never recorded: the run's secrets and those of plugins it called.
    redact: Mutex<Vec<String>>,
}

/// The name a stream is recorded under.
pub fn stream_name(stream: OutputStream) -> &'static str {
    match stream {
        OutputStream::Stdout => "stdout",
        OutputStream::Stderr => "stderr",
    }
}

fn index(stream: OutputStream) -> usize {
    match stream {
        OutputStream::Stdout => 0,
        OutputStream::Stderr => 1,
    }
}

impl Lines {
    /// A joiner that scrubs `redact` (empty values are ignored: they would match
    /// everywhere).
    pub fn new(redact: Vec<String>) -> Self {
        let lines = Self::default();
        lines.reset(redact);
        lines
    }

    /// Start over for a new instance: nothing pending, these secrets to scrub.
    pub fn reset(&self, redact: Vec<String>) {
        *self.partial.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
        let mut list = self.redact.lock().unwrap_or_else(|e| e.into_inner());
        list.clear();
        for secret in redact {
            push_unique(&mut list, &secret);
        }
    }

    /// From now on scrub `secret` too.
    pub fn also_redact(&self, secret: &str) {
        push_unique(
            &mut self.redact.lock().unwrap_or_else(|e| e.into_inner()),
            secret,
        );
    }

    /// Add a chunk written to `stream`; returns the text of the lines it completed
    /// (not yet scrubbed), or `None` while a line is still open.
    pub fn output(&self, stream: OutputStream, chunk: &[u8]) -> Option<String> {
        let ready = {
            let mut partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
            let buffer = &mut partial[index(stream)];
            buffer.extend_from_slice(chunk);
            let cut = if buffer.len() >= MAX_PARTIAL_LINE {
                char_boundary(buffer)
            } else {
                buffer
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1)
            };
            buffer.drain(..cut).collect::<Vec<u8>>()
        };
        (!ready.is_empty()).then(|| String::from_utf8_lossy(&ready).into_owned())
    }

    /// Output still waiting for its line end, per stream; call when the run is over.
    pub fn rest(&self) -> Vec<(OutputStream, String)> {
        let rest = {
            let mut partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
            [
                std::mem::take(&mut partial[0]),
                std::mem::take(&mut partial[1]),
            ]
        };
        rest.iter()
            .zip([OutputStream::Stdout, OutputStream::Stderr])
            .filter(|(bytes, _)| !bytes.is_empty())
            .map(|(bytes, stream)| (stream, String::from_utf8_lossy(bytes).into_owned()))
            .collect()
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn scrub(&self, mut text: String) -> String {
        let redact = self.redact.lock().unwrap_or_else(|e| e.into_inner());
        for secret in redact.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }

    /// `value` with every secret replaced in its strings and keys. Walking the value
    /// (rather than its JSON text) also catches secrets that JSON escapes.
    pub fn scrub_value(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.scrub(text)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.scrub_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.scrub(k), self.scrub_value(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// Where a too-long line is cut: at its end, unless that splits a UTF-8 character (its
/// start then waits for the rest instead of turning into U+FFFD).
fn char_boundary(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
        _ => bytes.len(),
    }
}

fn push_unique(list: &mut Vec<String>, secret: &str) {
    if !secret.is_empty() && !list.iter().any(|s| s == secret) {
        list.push(secret.to_owned());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_are_joined_into_lines_per_stream() {
        let lines = Lines::default();
        assert_eq!(lines.output(OutputStream::Stdout, b"secret is"), None);
        assert_eq!(lines.output(OutputStream::Stderr, b"warn"), None);
        assert_eq!(lines.output(OutputStream::Stdout, b" "), None);
        assert_eq!(
            lines.output(OutputStream::Stdout, b"v\nnext"),
            Some("secret is v\n".to_owned())
        );
        assert_eq!(
            lines.rest(),
            [
                (OutputStream::Stdout, "next".to_owned()),
                (OutputStream::Stderr, "warn".to_owned())
            ]
        );
        assert!(lines.rest().is_empty());
    }

    #[test]
    fn a_long_line_is_cut() {
        let lines = Lines::default();
        let long = vec![b'x'; MAX_PARTIAL_LINE];
        assert_eq!(
            lines.output(OutputStream::Stdout, &long).map(|t| t.len()),
            Some(MAX_PARTIAL_LINE)
        );
        // A character split by the cut is kept whole for the next piece.
        let mut long = vec![b'x'; MAX_PARTIAL_LINE - 1];
        long.extend_from_slice(&"é".as_bytes()[..1]);
        let first = lines.output(OutputStream::Stdout, &long).unwrap();
        assert!(first.len() == MAX_PARTIAL_LINE - 1 && !first.contains('\u{fffd}'));
        assert_eq!(
            lines.output(OutputStream::Stdout, &"é\n".as_bytes()[1..]),
            Some("é\n".to_owned())
        );
    }

    #[test]
    fn secrets_are_scrubbed_from_text_and_values() {
        let lines = Lines::new(vec!["s3cr\"et".into(), String::new()]);
        lines.also_redact("tok");
        assert_eq!(lines.scrub("a s3cr\"et b".into()), "a [REDACTED] b");
        assert_eq!(
            lines.scrub_value(json!({"k": ["s3cr\"et", 1], "tok": "x tok"})),
            json!({"k": ["[REDACTED]", 1], "[REDACTED]": "x [REDACTED]"})
        );
        assert_eq!(lines.scrub("nothing".into()), "nothing", "empty ignored");
        lines.reset(vec![]);
        assert_eq!(lines.scrub("tok".into()), "tok");
    }
}
