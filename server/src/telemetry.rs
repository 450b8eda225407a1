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

/// Paths whose last segment is a credential: a webhook URL's token lets anyone start
/// runs, so it never reaches the log.
const SECRET_PATH_PREFIXES: [&str; 1] = ["/api/v1/hooks/"];

/// The request path as the access log may keep it: credentials in the path are masked
/// (`/api/v1/hooks/whk_…` becomes `/api/v1/hooks/***`).
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATH_PREFIXES
        .iter()
        .find(|prefix| path.starts_with(*prefix) && path.len() > prefix.len())
    {
        Some(prefix) => format!("{prefix}***").into(),
        None => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn webhook_tokens_are_masked() {
        assert_eq!(
            loggable_path("/api/v1/hooks/whk_secret"),
            "/api/v1/hooks/***"
        );
        assert_eq!(
            loggable_path("/api/v1/hooks/whk_secret/x"),
            "/api/v1/hooks/***"
        );
        assert_eq!(loggable_path("/api/v1/hooks/"), "/api/v1/hooks/");
        assert_eq!(loggable_path("/api/v1/scripts/abc"), "/api/v1/scripts/abc");
    }
}
