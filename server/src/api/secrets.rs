//! Secrets (admin): write-only values, encrypted at rest; scripts read the ones
//! granted in their capabilities with `automa.secrets.get(name)`. Adapters over
//! `services::secrets`.

use super::{ApiJson, ApiPath};
use crate::auth::extract::{AdminUser, ClientIp};
use crate::db::{rfc3339, secrets::SecretRow};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, Actor, secrets::PutSecret};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets, put_secret))
        .routes(routes!(delete_secret))
}

/// A secret without its value: values are never shown back.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<SecretRow> for SecretView {
    fn from(r: SecretRow) -> Self {
        Self {
            name: r.name,
            created_by: r.created_by,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// Secret names and dates.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "secrets",
    responses((status = 200, body = Vec<SecretView>), (status = 403, body = ErrorBody)))]
async fn list_secrets(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
) -> ApiResult<ApiJson<Vec<SecretView>>> {
    let rows = services::secrets::list(&state, &p).await?;
    Ok(ApiJson(rows.into_iter().map(SecretView::from).collect()))
}

/// Create a secret, or replace its value (201 when new, 200 when replaced).
#[utoipa::path(post, path = "/api/v1/secrets", tag = "secrets", request_body = PutSecret,
    responses((status = 201, body = SecretView), (status = 200, body = SecretView),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_secret(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PutSecret>,
) -> ApiResult<(StatusCode, ApiJson<SecretView>)> {
    let saved = services::secrets::put(&state, &Actor::new(&p, ip), req).await?;
    let status = if saved.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(saved.row.into())))
}

/// Delete a secret. Scripts granted it get "not found" from then on.
#[utoipa::path(delete, path = "/api/v1/secrets/{name}", tag = "secrets",
    params(("name" = String, Path, description = "secret name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_secret(
    State(state): State<AppState>,
    AdminUser(p): AdminUser,
    ClientIp(ip): ClientIp,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    services::secrets::delete(&state, &Actor::new(&p, ip), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
