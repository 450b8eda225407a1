//! `automa:host/log`: structured log lines and progress, forwarded to the run's events.

use crate::HostContext;
use crate::bindings::automa::host::log::{Host, Level};
use crate::bindings::automa::host::types;

const MAX_MESSAGE_BYTES: usize = 64 * 1024;

impl Host for HostContext {
    async fn write(&mut self, level: Level, message: String, fields_json: Option<String>) {
        // Past the run's host-call quota log lines are dropped (a log call has no error).
        if self.call_budget().is_err() {
            return;
        }
        self.counters.total = self.counters.total.saturating_add(1);
        let message = truncate(message);
        let fields = fields_json.and_then(|f| serde_json::from_str(&f).ok());
        self.events.log(level, &message, fields.as_ref());
    }

    async fn progress(&mut self, fraction: f32, message: Option<String>) {
        if self.call_budget().is_err() {
            return;
        }
        self.counters.total = self.counters.total.saturating_add(1);
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.events
            .progress(fraction, message.map(truncate).as_deref());
    }
}

impl types::Host for HostContext {}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(" [truncated]");
    }
    text
}
