//! Secrets (admin): write-only values, encrypted at rest; scripts read the ones
//! granted in their capabilities with `automa.secrets.get(name)`.

use super::{ApiJson, ApiPath};
use crate::audit::AuditEvent;
use crate::auth::extract::{AdminUser, ClientIp};
use crate::db::{self, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

const MAX_VALUE_BYTES: usize = 64 * 1024;

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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSecret {
    /// Letters, digits and `_`, starting with a letter (like an environment variable),
    /// 1 to 64 of them.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z][A-Za-z0-9_]*$")]
    pub name: String,
    /// The secret, at least one byte.
    #[schema(min_length = 1)]
    pub value: String,
}

/// Secret names and dates.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "secrets",
    responses((status = 200, body = Vec<SecretView>), (status = 403, body = ErrorBody)))]
async fn list_secrets(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<ApiJson<Vec<SecretView>>> {
    let rows = db::secrets::list(&state.db).await?;
    Ok(ApiJson(
        rows.into_iter()
            .map(|r| SecretView {
                name: r.name,
                created_by: r.created_by,
                created_at: rfc3339(r.created_at),
                updated_at: rfc3339(r.updated_at),
            })
            .collect(),
    ))
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
    let valid = !req.name.is_empty()
        && req.name.len() <= 64
        && req.name.starts_with(|c: char| c.is_ascii_alphabetic())
        && req
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(ApiError::Validation(
            "name must be 1 to 64 letters, digits or '_', starting with a letter".into(),
        ));
    }
    if req.value.is_empty() || req.value.len() > MAX_VALUE_BYTES {
        return Err(ApiError::Validation(format!(
            "value must be 1 to {MAX_VALUE_BYTES} bytes"
        )));
    }
    let sealed = crate::secrets::seal(&state.secrets_key, &req.name, &req.value)?;
    let created = db::secrets::put(&state.db, &req.name, &sealed, &p.user_id).await?;
    state
        .audit
        .append(
            AuditEvent::new(
                &p.user_id,
                if created {
                    "secret.create"
                } else {
                    "secret.update"
                },
            )
            .target(format!("secret:{}", req.name))
            .ip(ip),
        )
        .await?;
    let row = db::secrets::find(&state.db, &req.name)
        .await?
        .ok_or(ApiError::NotFound)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(SecretView {
            name: row.name,
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }),
    ))
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
    if !db::secrets::delete(&state.db, &name).await? {
        return Err(ApiError::NotFound);
    }
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "secret.delete")
                .target(format!("secret:{name}"))
                .ip(ip)
                .details(json!({})),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
