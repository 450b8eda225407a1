//! Checks run with `--environment production`: every problem is listed, so the operator
//! can fix them all at once.

use super::{Config, Environment};
use anyhow::bail;
use secrecy::ExposeSecret;

pub fn production_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if !config.listen.ip().is_loopback() && !config.behind_proxy {
        problems.push(format!(
            "listening on non-loopback address {} without TLS: put a TLS-terminating proxy in front and set --behind-proxy (AUTOMA_BEHIND_PROXY=true)",
            config.listen
        ));
    }
    for (name, value) in [
        ("jwt_secret", &config.jwt_secret),
        ("secrets_key", &config.secrets_key),
    ] {
        if let Some(v) = value
            && crate::auth::keys::is_weak_key(v.expose_secret())
        {
            problems.push(format!(
                "{name} is weak: use at least 32 random bytes (64 hex characters) and not a placeholder"
            ));
        }
    }
    if let Some(url) = &config.public_url
        && url.starts_with("http://")
        && !url.contains("://127.0.0.1")
        && !url.contains("://localhost")
    {
        problems.push(format!("public_url {url} is not https"));
    }
    problems
}

/// Fails with one readable message listing the production problems, if any.
pub fn check_production(config: &Config, key_problems: Vec<String>) -> anyhow::Result<()> {
    if config.environment != Environment::Production {
        return Ok(());
    }
    let mut problems = production_problems(config);
    problems.extend(key_problems);
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "refusing to start in production with insecure settings:\n  - {}",
            problems.join("\n  - ")
        )
    }
}
