//! `/`: the dashboard.

use super::host;
use super::page::{Viewer, html, when};
use crate::db::{self, now_ms};
use crate::error::PageError;
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::components::chart::Bar;
use automa_ui::pages::dashboard::{DashboardView, JobLine, UpcomingLine, page};
use axum::extract::State;
use axum::response::Response;

const HOUR_MS: i64 = 3_600_000;
const FAILED: [&str; 5] = [
    "failed",
    "timed_out",
    "memory_exceeded",
    "cpu_exceeded",
    "interrupted",
];

pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let p = &viewer.principal;
    let owner = (!p.is_admin()).then_some(p.user_id.as_str());
    let now = now_ms();
    // 24 whole clock hours, the last one the current (so the bars line up with the
    // `HH:00` labels under them).
    let since = now.div_euclid(HOUR_MS) * HOUR_MS - 23 * HOUR_MS;
    let stamps = db::dashboard::jobs_since(&state.db, owner, since).await?;
    let (queued, running) = db::dashboard::active_counts(&state.db, owner).await?;
    let failures = db::dashboard::recent_jobs(&state.db, owner, true, 8).await?;
    let upcoming = db::dashboard::upcoming(&state.db, owner, 8).await?;
    let data_dir = state.config.data_dir.clone();
    let host_view = tokio::task::spawn_blocking(move || host::snapshot(&data_dir))
        .await
        .unwrap_or_default();

    let mut by_status: Vec<(String, u64)> = Vec::new();
    let mut hourly: Vec<Bar> = (0..24)
        .map(|i| Bar {
            label: when(since + i * HOUR_MS),
            tick: hour_tick(since + i * HOUR_MS),
            ..Bar::default()
        })
        .collect();
    for s in &stamps {
        match by_status.iter_mut().find(|(st, _)| *st == s.status) {
            Some((_, n)) => *n += 1,
            None => by_status.push((s.status.clone(), 1)),
        }
        let slot = ((s.created_at - since) / HOUR_MS).clamp(0, 23) as usize;
        let bar = &mut hourly[slot];
        if s.status == "succeeded" {
            bar.ok += 1;
        } else if FAILED.contains(&s.status.as_str()) {
            bar.failed += 1;
        } else {
            bar.other += 1;
        }
    }
    by_status.sort_by_key(|s| std::cmp::Reverse(s.1));
    let count = |pred: &dyn Fn(&str) -> bool| {
        by_status
            .iter()
            .filter(|(s, _)| pred(s))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let failed = count(&|s| FAILED.contains(&s));
    let finished = failed + count(&|s| s == "succeeded");
    let view = DashboardView {
        total: stamps.len() as u64,
        failure_rate: (finished > 0).then(|| failed as f64 / finished as f64),
        by_status,
        queued: queued.max(0) as u64,
        running: running.max(0) as u64,
        hourly,
        upcoming: upcoming
            .into_iter()
            .map(|u| UpcomingLine {
                script_id: u.script_id,
                script_name: u.script_name,
                kind: u.kind,
                when: when(u.next_run_at),
            })
            .collect(),
        failures: failures.into_iter().map(job_line).collect(),
        host: host_view,
    };
    Ok(html(page(&viewer.ctx(Nav::Dashboard), &view)))
}

/// `HH:MM` (UTC, like the labels) of the start of an hour slot, under the chart.
fn hour_tick(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}

pub fn job_line(j: db::dashboard::JobWithScript) -> JobLine {
    JobLine {
        id: j.id,
        script_id: j.script_id,
        script_name: j.script_name,
        status: j.status,
        when: when(j.created_at),
    }
}
