//! A user's resource ceilings: the server's `[quotas]` with an admin's overrides for
//! that user. Admins set them; a user reads their own.

use super::{ApiJson, ApiPath};
use crate::audit::AuditEvent;
use crate::auth::{extract::AdminUser, extract::AuthUser, extract::ClientIp, policy};
use crate::db::{self, user_quotas::UserQuotaRow};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::quotas::Ceilings;
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_quotas, put_quotas))
}

/// An admin's overrides; `null` (or left out) means the server's ceiling.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaOverrides {
    /// Memory of one run, 32 to 65536 MiB.
    #[schema(minimum = 32, maximum = 65536)]
    pub memory_mb: Option<i64>,
    /// Wall-clock limit of one job attempt, 1 to 86400 seconds.
    #[schema(minimum = 1, maximum = 86400)]
    pub timeout_seconds: Option<i64>,
    /// Agents running at once, 0 to 10000.
    #[schema(minimum = 0, maximum = 10000)]
    pub agents: Option<i64>,
    /// Jobs running at once, 1 to 10000.
    #[schema(minimum = 1, maximum = 10000)]
    pub running_jobs: Option<i64>,
    /// CPU budget of one job attempt, 1 to 86400 CPU seconds.
    #[schema(minimum = 1, maximum = 86400)]
    pub cpu_seconds: Option<i64>,
    /// CPU seconds per minute of each agent instance, 1 to 60.
    #[schema(minimum = 1, maximum = 60)]
    pub agent_cpu_seconds_per_minute: Option<i64>,
    /// Disk of each script's `/data`, 1 to 1048576 MiB.
    #[schema(minimum = 1, maximum = 1048576)]
    pub data_mb: Option<i64>,
    /// Disk of each job's `/artifacts`, 1 to 1048576 MiB.
    #[schema(minimum = 1, maximum = 1048576)]
    pub artifacts_mb: Option<i64>,
    /// Disk of each run's `/tmp`, 1 to 1048576 MiB.
    #[schema(minimum = 1, maximum = 1048576)]
    pub tmp_mb: Option<i64>,
}

/// What applies to the user, and which of it an admin set for them.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotasView {
    pub memory_mb: u64,
    pub timeout_seconds: u64,
    pub agents: u64,
    pub running_jobs: u64,
    pub cpu_seconds: u64,
    pub agent_cpu_seconds_per_minute: u64,
    pub data_mb: u64,
    pub artifacts_mb: u64,
    pub tmp_mb: u64,
    pub overrides: QuotaOverrides,
}

fn view(state: &AppState, row: UserQuotaRow) -> QuotasView {
    let c = Ceilings::of(state.jobs.quotas(), &row);
    QuotasView {
        memory_mb: c.memory_mb,
        timeout_seconds: c.timeout_seconds,
        agents: c.agents,
        running_jobs: c.running_jobs,
        cpu_seconds: c.cpu_seconds,
        agent_cpu_seconds_per_minute: c.agent_cpu_seconds_per_minute,
        data_mb: c.data_mb,
        artifacts_mb: c.artifacts_mb,
        tmp_mb: c.tmp_mb,
        overrides: QuotaOverrides {
            memory_mb: row.memory_mb,
            timeout_seconds: row.timeout_seconds,
            agents: row.agents,
            running_jobs: row.running_jobs,
            cpu_seconds: row.cpu_seconds,
            agent_cpu_seconds_per_minute: row.agent_cpu_seconds_per_minute,
            data_mb: row.data_mb,
            artifacts_mb: row.artifacts_mb,
            tmp_mb: row.tmp_mb,
        },
    }
}

fn problems(o: &QuotaOverrides) -> Option<String> {
    let checks = [
        ("memory_mb", o.memory_mb, 32, 65_536),
        ("timeout_seconds", o.timeout_seconds, 1, 86_400),
        ("agents", o.agents, 0, 10_000),
        ("running_jobs", o.running_jobs, 1, 10_000),
        ("cpu_seconds", o.cpu_seconds, 1, 86_400),
        (
            "agent_cpu_seconds_per_minute",
            o.agent_cpu_seconds_per_minute,
            1,
            60,
        ),
        ("data_mb", o.data_mb, 1, 1 << 20),
        ("artifacts_mb", o.artifacts_mb, 1, 1 << 20),
        ("tmp_mb", o.tmp_mb, 1, 1 << 20),
    ];
    let bad: Vec<String> = checks
        .iter()
        .filter(|(_, v, lo, hi)| v.is_some_and(|v| v < *lo || v > *hi))
        .map(|(name, _, lo, hi)| format!("{name} must be between {lo} and {hi} (or null)"))
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// A user's ceilings. Admins see anyone's; users only their own (others answer 404).
#[utoipa::path(get, path = "/api/v1/users/{id}/quotas", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = QuotasView), (status = 404, body = ErrorBody)))]
async fn get_quotas(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<QuotasView>> {
    policy::require_view_user(&p, &id)?;
    db::users::find_by_id(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let row = db::user_quotas::find(&state.db, &id).await?;
    Ok(ApiJson(view(&state, row)))
}

/// Set a user's overrides of the server's ceilings (admin): memory per run, timeout,
/// agents, running jobs, CPU budget per job attempt and disk of `/data`, `/artifacts`
/// and `/tmp`. Replaces every override; `null` restores the server's.
#[utoipa::path(put, path = "/api/v1/users/{id}/quotas", tag = "users",
    params(("id" = String, Path, description = "user id")),
    request_body = QuotaOverrides,
    responses((status = 200, body = QuotasView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_quotas(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<QuotaOverrides>,
) -> ApiResult<ApiJson<QuotasView>> {
    db::users::find_by_id(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(problem) = problems(&body) {
        return Err(ApiError::Validation(problem));
    }
    let row = UserQuotaRow {
        memory_mb: body.memory_mb,
        timeout_seconds: body.timeout_seconds,
        agents: body.agents,
        running_jobs: body.running_jobs,
        cpu_seconds: body.cpu_seconds,
        agent_cpu_seconds_per_minute: body.agent_cpu_seconds_per_minute,
        data_mb: body.data_mb,
        artifacts_mb: body.artifacts_mb,
        tmp_mb: body.tmp_mb,
    };
    db::user_quotas::set(&state.db, &id, &row).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "user.quotas")
                .target(format!("user:{id}"))
                .details(serde_json::to_value(&body).map_err(anyhow::Error::from)?)
                .ip(ip),
        )
        .await?;
    Ok(ApiJson(view(&state, row)))
}
