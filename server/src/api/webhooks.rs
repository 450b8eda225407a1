//! Webhooks: a secret URL per script that starts a run with the JSON body as its
//! arguments; the operations are `services::webhooks`.

use super::jobs::JobView;
use super::{ApiJson, ApiPath};
use crate::auth::extract::{AuthUser, ClientIp};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, Actor};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rotate_webhook, delete_webhook))
        .routes(routes!(call_webhook))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// The token; shown only in this response.
    pub token: String,
    /// `POST` JSON to this path to start a run.
    pub path: String,
}

/// Create or rotate the script's webhook; the previous URL stops working.
#[utoipa::path(post, path = "/api/v1/scripts/{id}/webhook", tag = "webhooks",
    params(("id" = String, Path, description = "script id")),
    responses((status = 201, body = WebhookView), (status = 404, body = ErrorBody)))]
async fn rotate_webhook(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, ApiJson<WebhookView>)> {
    let hook = services::webhooks::rotate(&state, &Actor::new(&p, ip), &id).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(WebhookView {
            token: hook.token,
            path: hook.path,
        }),
    ))
}

/// Disable the script's webhook.
#[utoipa::path(delete, path = "/api/v1/scripts/{id}/webhook", tag = "webhooks",
    params(("id" = String, Path, description = "script id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    services::webhooks::delete(&state, &Actor::new(&p, ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a run of the hook's script with the JSON body (an object) as arguments.
#[utoipa::path(post, path = "/api/v1/hooks/{token}", tag = "webhooks", security(()),
    request_body(content = Object, description = "The run's arguments (a JSON object)"),
    params(("token" = String, Path, description = "the webhook token")),
    responses((status = 202, body = JobView), (status = 404, body = ErrorBody),
              (status = 410, description = "the script's owner is disabled", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn call_webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, ApiJson<JobView>)> {
    let job = services::webhooks::call(&state, &token, ip, &body).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job.try_into()?)))
}
