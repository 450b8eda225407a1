//! Each user's usage as Prometheus gauges, rendered at scrape time from
//! [`super::usage::collect`] (not kept in the process-wide recorder: every scrape is
//! then exactly what the API answers, and a deleted user's series goes away).
//!
//! Every series has a `user` (id) and an `email` label. That is one series per user and
//! gauge: bounded, as users are created by admins only (no self sign-up).

use super::usage::UserUsage;
use std::fmt::Write;

type Value = fn(&UserUsage) -> f64;

const MIB: f64 = 1024.0 * 1024.0;

/// Name, help and value of each gauge.
const GAUGES: &[(&str, &str, Value)] = &[
    ("user_running_jobs", "Jobs of the user running now.", |u| {
        u.running_jobs as f64
    }),
    (
        "user_running_jobs_ceiling",
        "Jobs of the user that may run at once.",
        |u| u.running_jobs_ceiling as f64,
    ),
    (
        "user_agents_running",
        "Agents of the user wanted running now (starting, running, backoff, stopping).",
        |u| u.agents_running as f64,
    ),
    (
        "user_agents_ceiling",
        "Agents of the user that may run at once.",
        |u| u.agents_ceiling as f64,
    ),
    (
        "user_memory_committed_bytes",
        "Sandbox memory the user's running jobs and agent instances hold.",
        |u| u.memory_committed_mb as f64 * MIB,
    ),
    (
        "user_memory_per_run_ceiling_bytes",
        "Memory one run of the user may have.",
        |u| u.memory_per_run_ceiling_mb as f64 * MIB,
    ),
    ("user_scripts", "Scripts of the user.", |u| u.scripts as f64),
    (
        "user_data_bytes",
        "Bytes the /data directories of the user's scripts hold together.",
        |u| u.data_bytes as f64,
    ),
    (
        "user_data_max_script_bytes",
        "Bytes the fullest /data of the user's scripts holds.",
        |u| u.data_bytes_max_script as f64,
    ),
    (
        "user_data_ceiling_per_script_bytes",
        "Bytes each script's /data may hold.",
        |u| u.data_bytes_ceiling_per_script as f64,
    ),
    (
        "user_state_keys",
        "Keys the state of the user's scripts holds together.",
        |u| u.state_keys as f64,
    ),
    (
        "user_state_keys_ceiling_per_script",
        "Keys each script's state may hold.",
        |u| u.state_keys_ceiling_per_script as f64,
    ),
    (
        "user_state_bytes",
        "Bytes (keys plus values) the state of the user's scripts holds together.",
        |u| u.state_bytes as f64,
    ),
    (
        "user_state_bytes_ceiling_per_script",
        "Bytes each script's state may hold.",
        |u| u.state_bytes_ceiling_per_script as f64,
    ),
    (
        "user_job_cpu_seconds",
        "CPU seconds the user's stored jobs used.",
        |u| u.job_cpu_seconds,
    ),
    (
        "user_job_cpu_seconds_ceiling",
        "CPU seconds one job attempt of the user may use.",
        |u| u.job_cpu_seconds_ceiling as f64,
    ),
    (
        "user_agent_cpu_seconds",
        "CPU seconds the instances of the user's agents used.",
        |u| u.agent_cpu_seconds,
    ),
    (
        "user_agent_cpu_seconds_per_minute_ceiling",
        "CPU seconds per minute each agent instance of the user may use.",
        |u| u.agent_cpu_seconds_per_minute_ceiling as f64,
    ),
];

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

/// The gauges of `users` in the Prometheus text format.
pub fn render(users: &[UserUsage]) -> String {
    let mut out = String::new();
    for (name, help, value) in GAUGES {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for u in users {
            let _ = writeln!(
                out,
                "{name}{{user=\"{}\",email=\"{}\"}} {}",
                label(&u.user_id),
                label(&u.email),
                value(u)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_gets_one_series_per_gauge_with_escaped_labels() {
        let users = [
            UserUsage {
                user_id: "u1".into(),
                email: "a\"b@example.org".into(),
                running_jobs: 2,
                memory_committed_mb: 3,
                ..UserUsage::default()
            },
            UserUsage {
                user_id: "u2".into(),
                email: "c@example.org".into(),
                ..UserUsage::default()
            },
        ];
        let text = render(&users);
        assert!(text.contains("user_running_jobs{user=\"u1\",email=\"a\\\"b@example.org\"} 2\n"));
        assert!(text.contains(
            "user_memory_committed_bytes{user=\"u1\",email=\"a\\\"b@example.org\"} 3145728\n"
        ));
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(series, GAUGES.len() * users.len());
    }
}
