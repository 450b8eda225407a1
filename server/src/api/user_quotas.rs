//! A user's resource ceilings: the server's `[quotas]` with an admin's overrides for
//! that user. Admins set them; a user reads their own. Adapters over
//! `services::users`.

use super::{ApiJson, ApiPath};
use crate::auth::{extract::AdminUser, extract::AuthUser, extract::ClientIp};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{
    self, Actor,
    users::{QuotaOverrides, Quotas},
};
use crate::state::AppState;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_quotas, put_quotas))
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

impl From<Quotas> for QuotasView {
    fn from(q: Quotas) -> Self {
        let c = q.applied;
        Self {
            memory_mb: c.memory_mb,
            timeout_seconds: c.timeout_seconds,
            agents: c.agents,
            running_jobs: c.running_jobs,
            cpu_seconds: c.cpu_seconds,
            agent_cpu_seconds_per_minute: c.agent_cpu_seconds_per_minute,
            data_mb: c.data_mb,
            artifacts_mb: c.artifacts_mb,
            tmp_mb: c.tmp_mb,
            overrides: q.overrides,
        }
    }
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
    Ok(ApiJson(
        services::users::quotas(&state, &p, &id).await?.into(),
    ))
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
    let quotas = services::users::set_quotas(&state, &Actor::new(&p, ip), &id, body).await?;
    Ok(ApiJson(quotas.into()))
}
