//! A user's usage against their quotas: on the profile (one user) and on the users
//! page (every user, for admins).

use maud::{Markup, html};

/// What one user holds and the ceilings it counts against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageLine {
    pub user_id: String,
    pub email: String,
    pub running_jobs: u64,
    pub running_jobs_ceiling: u64,
    pub agents_running: u64,
    pub agents_ceiling: u64,
    pub memory_committed_mb: u64,
    pub memory_per_run_ceiling_mb: u64,
    pub scripts: u64,
    pub data_bytes: u64,
    pub data_bytes_max_script: u64,
    pub data_bytes_ceiling_per_script: u64,
    pub state_keys: u64,
    pub state_keys_max_script: u64,
    pub state_keys_ceiling_per_script: u64,
    pub state_bytes: u64,
    pub state_bytes_max_script: u64,
    pub state_bytes_ceiling_per_script: u64,
    pub job_cpu_seconds: f64,
    pub job_cpu_seconds_ceiling: u64,
    pub agent_cpu_seconds: f64,
    pub agent_cpu_seconds_per_minute_ceiling: u64,
}

/// Bytes as a short figure in binary units.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn seconds(s: f64) -> String {
    format!("{s:.1} s")
}

/// `used / ceiling`, marked when the ceiling is reached.
fn of(used: u64, ceiling: u64) -> Markup {
    html! {
        span.usage data-full=[(used >= ceiling).then_some("true")] { (used) " / " (ceiling) }
    }
}

/// The profile's card: one user's usage, each figure with its ceiling.
pub fn usage_card(u: &UsageLine) -> Markup {
    html! {
        section.card #usage {
            h2 { "Usage against quotas" }
            dl.facts {
                dt { "Running jobs" } dd #usage-running-jobs { (of(u.running_jobs, u.running_jobs_ceiling)) }
                dt { "Agents running" } dd #usage-agents { (of(u.agents_running, u.agents_ceiling)) }
                dt { "Memory committed" } dd #usage-memory { (u.memory_committed_mb) " MiB " span.muted { "(each run up to " (u.memory_per_run_ceiling_mb) " MiB)" } }
                dt { "Disk of /data" } dd #usage-data { (bytes(u.data_bytes)) " in " (u.scripts) " scripts " span.muted { "(fullest " (bytes(u.data_bytes_max_script)) " of " (bytes(u.data_bytes_ceiling_per_script)) " per script)" } }
                dt { "State" } dd #usage-state { (u.state_keys) " keys, " (bytes(u.state_bytes)) " " span.muted { "(per script up to " (u.state_keys_ceiling_per_script) " keys and " (bytes(u.state_bytes_ceiling_per_script)) "; fullest " (u.state_keys_max_script) " keys, " (bytes(u.state_bytes_max_script)) ")" } }
                dt { "CPU of jobs" } dd #usage-job-cpu { (seconds(u.job_cpu_seconds)) " " span.muted { "(each attempt up to " (u.job_cpu_seconds_ceiling) " s)" } }
                dt { "CPU of agents" } dd #usage-agent-cpu { (seconds(u.agent_cpu_seconds)) " " span.muted { "(each instance up to " (u.agent_cpu_seconds_per_minute_ceiling) " s per minute)" } }
            }
        }
    }
}

/// The users page's table: every user's usage, one row each.
pub fn usage_table(users: &[UsageLine]) -> Markup {
    html! {
        section.card #usage {
            h2 { "Usage against quotas" }
            div.scroll {
                table.list #usage-table {
                    thead { tr {
                        th { "User" } th { "Running jobs" } th { "Agents" } th { "Memory committed" }
                        th { "Disk of /data" } th { "State keys" } th { "State bytes" } th { "CPU jobs" } th { "CPU agents" }
                    } }
                    tbody {
                        @for u in users {
                            tr data-user=(u.user_id) {
                                td { a href={ "/users/" (u.user_id) } { (u.email) } }
                                td { (of(u.running_jobs, u.running_jobs_ceiling)) }
                                td { (of(u.agents_running, u.agents_ceiling)) }
                                td { (u.memory_committed_mb) " MiB" }
                                td { (bytes(u.data_bytes)) span.muted { " (max " (bytes(u.data_bytes_max_script)) " / " (bytes(u.data_bytes_ceiling_per_script)) ")" } }
                                td { (u.state_keys) span.muted { " (max " (u.state_keys_max_script) " / " (u.state_keys_ceiling_per_script) ")" } }
                                td { (bytes(u.state_bytes)) span.muted { " (max " (bytes(u.state_bytes_max_script)) " / " (bytes(u.state_bytes_ceiling_per_script)) ")" } }
                                td { (seconds(u.job_cpu_seconds)) }
                                td { (seconds(u.agent_cpu_seconds)) }
                            }
                        }
                    }
                }
            }
            p.muted { "Disk and state ceilings are per script (max: the fullest script); memory, CPU and running counts are the user's. An admin changes a user's ceilings on the API (PUT /api/v1/users/{id}/quotas)." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10 * 1024 * 1024), "10.0 MiB");
    }
}
