//! Structured logging setup for long-running commands (`serve`).

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs a global subscriber; `RUST_LOG` overrides the default `info` level.
/// Safe to call more than once (later calls are no-ops).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
