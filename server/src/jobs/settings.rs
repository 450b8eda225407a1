//! Per-script run settings, stored as JSON on the script.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest per-script retention period in days (ten years); 0 keeps forever.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// How a script's jobs run. Every field has a default, so `{}` is valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    /// Wall-clock limit of one attempt, 1 to 86400 seconds.
    #[schema(minimum = 1, maximum = 86400)]
    pub timeout_seconds: u64,
    /// Memory limit of the interpreter, 32 to 4096 MiB.
    #[schema(minimum = 32, maximum = 4096)]
    pub memory_mb: u64,
    /// CPU budget of one attempt, 1 to 86400 CPU seconds of the interpreter's thread
    /// CPU time (or, with `deterministic_cpu` on, of fuel: WebAssembly instructions,
    /// `automa_runtime::FUEL_PER_CPU_SECOND` to the second); an attempt that uses it
    /// ends `cpu_exceeded`. `null`: the owner's ceiling
    /// (`max_cpu_seconds` in `[quotas]`, or an admin's override for the user).
    #[schema(minimum = 1, maximum = 86400)]
    pub cpu_seconds: Option<u64>,
    /// Extra attempts after a failure, timeout or memory overrun (0 to 10).
    #[schema(maximum = 10)]
    pub retries: u32,
    /// Delay before the first retry; doubles each time, with jitter (1 to 3600 seconds).
    #[schema(minimum = 1, maximum = 3600)]
    pub retry_backoff_seconds: u64,
    /// Email the script's owner when a job ends in failure (needs SMTP settings).
    pub notify_on_failure: bool,
    /// Email the script's owner when a job succeeds.
    pub notify_on_success: bool,
    /// Also POST a JSON summary of the finished job to this public http(s) URL. Like the
    /// script's own HTTP calls, it needs an admin's grant: an HTTP rule of the script's
    /// capabilities must allow POST to it.
    pub notify_webhook: Option<String>,
    /// How long this script's finished jobs are kept, in days, instead of the server's
    /// `jobs_days` of `[retention]`: `null` for the server's period, `0` to keep them
    /// forever, else 1 to 3650. Likewise the three below.
    #[schema(minimum = 0, maximum = 3650)]
    pub jobs_days: Option<u32>,
    /// How long the log entries and stdout/stderr of this script's finished jobs are kept.
    #[schema(minimum = 0, maximum = 3650)]
    pub job_logs_days: Option<u32>,
    /// How long the artifact files of this script's finished jobs are kept.
    #[schema(minimum = 0, maximum = 3650)]
    pub artifacts_days: Option<u32>,
    /// How long the history of the agents running this script is kept.
    #[schema(minimum = 0, maximum = 3650)]
    pub agent_history_days: Option<u32>,
    /// Which interpreter runs the script and its agents: `default` (CPython 3.14, the
    /// standard library and pure-Python packages) or `data` (CPython 3.15 with numpy,
    /// pandas, scipy, scikit-learn, lxml, matplotlib and more; the server must offer it,
    /// `data_profile = true`).
    pub runtime: RuntimeProfile,
}

/// The interpreter a script runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeProfile {
    /// CPython 3.14 with the standard library and pure-Python packages.
    #[default]
    Default,
    /// CPython 3.15 with the scientific stack compiled in.
    Data,
}

impl From<RuntimeProfile> for automa_runtime::Profile {
    fn from(profile: RuntimeProfile) -> Self {
        match profile {
            RuntimeProfile::Default => automa_runtime::Profile::Default,
            RuntimeProfile::Data => automa_runtime::Profile::Data,
        }
    }
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            timeout_seconds: 60,
            memory_mb: 256,
            cpu_seconds: None,
            retries: 0,
            retry_backoff_seconds: 5,
            notify_on_failure: false,
            notify_on_success: false,
            notify_webhook: None,
            jobs_days: None,
            job_logs_days: None,
            artifacts_days: None,
            agent_history_days: None,
            runtime: RuntimeProfile::Default,
        }
    }
}

impl RunSettings {
    /// The problems with these settings, as one message; `None` when valid.
    pub fn problems(&self) -> Option<String> {
        let mut problems = Vec::new();
        if !(1..=86_400).contains(&self.timeout_seconds) {
            problems.push("timeout_seconds must be between 1 and 86400");
        }
        if !(32..=4096).contains(&self.memory_mb) {
            problems.push("memory_mb must be between 32 and 4096");
        }
        if self.cpu_seconds.is_some_and(|s| !(1..=86_400).contains(&s)) {
            problems.push("cpu_seconds must be between 1 and 86400 (or null)");
        }
        if self.retries > 10 {
            problems.push("retries must be at most 10");
        }
        if !(1..=3600).contains(&self.retry_backoff_seconds) {
            problems.push("retry_backoff_seconds must be between 1 and 3600");
        }
        if let Some(url) = &self.notify_webhook
            && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            problems.push("notify_webhook must be an http or https URL");
        }
        let mut problems: Vec<String> = problems.into_iter().map(str::to_owned).collect();
        for (name, days) in [
            ("jobs_days", self.jobs_days),
            ("job_logs_days", self.job_logs_days),
            ("artifacts_days", self.artifacts_days),
            ("agent_history_days", self.agent_history_days),
        ] {
            if let Some(days) = days.filter(|d| *d > MAX_RETENTION_DAYS) {
                problems.push(format!(
                    "{name} must be between 1 and {MAX_RETENTION_DAYS} days, 0 to keep forever, \
                     or null for the server's retention (got {days})"
                ));
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }

    /// Why `notify_webhook` may not be used with `caps`: the summary carries the job's
    /// error text out of the server, so it goes only where an admin allowed the script's
    /// HTTP requests to go. `None` when there is no webhook or it is granted.
    pub fn notify_webhook_refusal(
        &self,
        caps: &automa_runtime::host::Capabilities,
    ) -> Option<String> {
        let url = url::Url::parse(self.notify_webhook.as_deref()?).ok()?;
        if caps.http.rule_for("POST", &url).is_some() {
            return None;
        }
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or_default();
        Some(format!(
            "notify_webhook needs an HTTP grant: no HTTP rule of this script's capabilities \
             allows POST to {host}:{port}; an admin can add one (capabilities.http.rules)"
        ))
    }

    /// The limits of one attempt under the owner's `ceilings`: memory, wall-clock time,
    /// the CPU budget (the setting, or the ceiling when unset) and the disk quotas.
    pub fn limits(&self, ceilings: &crate::quotas::Ceilings) -> automa_runtime::Limits {
        let mut limits = crate::runs::limits(
            self.memory_mb,
            std::time::Duration::from_secs(self.timeout_seconds),
        );
        let cpu_seconds = self
            .cpu_seconds
            .unwrap_or(ceilings.cpu_seconds)
            .min(ceilings.cpu_seconds);
        limits.cpu = Some(std::time::Duration::from_secs(cpu_seconds));
        limits.disk = ceilings.disk_quotas();
        limits
    }

    /// Why these settings are over the owner's `ceilings`; `None` when within them.
    pub fn ceiling_refusal(&self, ceilings: &crate::quotas::Ceilings) -> Option<String> {
        ceilings.refusal_with_cpu(self.memory_mb, Some(self.timeout_seconds), self.cpu_seconds)
    }

    /// Delay before attempt `next_attempt` (2, 3, ...): exponential with ±25% jitter.
    pub fn backoff_ms(&self, next_attempt: i64) -> i64 {
        let exponent = u32::try_from((next_attempt - 2).clamp(0, 16)).unwrap_or(0);
        let base = self.retry_backoff_seconds.saturating_mul(1000) << exponent;
        let mut byte = [0u8; 1];
        let _ = getrandom::fill(&mut byte);
        let jitter = (f64::from(byte[0]) / 255.0 - 0.5) * 0.5;
        (base as f64 * (1.0 + jitter)) as i64
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::RunSettings;
    use automa_runtime::host::{Capabilities, HttpRule};

    #[test]
    fn notify_webhook_needs_an_http_grant() {
        let settings = RunSettings {
            notify_webhook: Some("https://hooks.example.com/x".into()),
            ..RunSettings::default()
        };
        let mut caps = Capabilities::default();
        let refusal = settings.notify_webhook_refusal(&caps).unwrap_or_default();
        assert!(refusal.contains("hooks.example.com:443"), "{refusal}");
        caps.http
            .rules
            .push(HttpRule::parse("hooks.example.com").unwrap());
        assert_eq!(settings.notify_webhook_refusal(&caps), None);
        assert_eq!(RunSettings::default().notify_webhook_refusal(&caps), None);
    }
}
