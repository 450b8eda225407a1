//! Webhooks: a secret URL per script that starts a run with the JSON body as its
//! arguments. The token is the credential, so the hook itself needs no login; only
//! its SHA-256 is stored, and rotating it voids the old URL.

use super::jobs::JobView;
use super::{ApiJson, ApiPath};
use crate::audit::{AuditEvent, Outcome};
use crate::auth::extract::{AuthUser, ClientIp};
use crate::auth::{keys, policy, tokens};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

const HOOK_PREFIX: &str = "whk_";

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
    let script = db::scripts::find(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(&p, &script.owner_id)?;
    let token = format!("{HOOK_PREFIX}{}", hex::encode(keys::random_bytes::<32>()?));
    db::scripts::set_webhook(&state.db, &id, Some(&tokens::hash(&token))).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "webhook.rotate")
                .target(format!("script:{id}"))
                .ip(ip),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(WebhookView {
            path: format!("/api/v1/hooks/{token}"),
            token,
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
    let script = db::scripts::find(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    policy::require_owner_or_admin(&p, &script.owner_id)?;
    db::scripts::set_webhook(&state.db, &id, None).await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "webhook.delete")
                .target(format!("script:{id}"))
                .ip(ip),
        )
        .await?;
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
    if !token.starts_with(HOOK_PREFIX) {
        return Err(ApiError::NotFound);
    }
    let script = db::scripts::find_by_webhook(&state.db, &tokens::hash(&token))
        .await?
        .ok_or(ApiError::NotFound)?;
    // Rights follow the owner: a disabled owner's hooks start nothing.
    let owner = db::users::find_by_id(&state.db, &script.owner_id).await?;
    if owner.is_none_or(|u| u.disabled) {
        state
            .audit
            .record(
                AuditEvent::new(format!("webhook:{}", script.id), "webhook.run")
                    .target(format!("script:{}", script.id))
                    .ip(ip)
                    .outcome(Outcome::Denied)
                    .details(json!({"reason": "the script's owner is disabled"})),
            )
            .await;
        return Err(ApiError::Gone(
            "this webhook's owner is disabled; it starts no runs".into(),
        ));
    }
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let version = db::scripts::version(&state.db, &script.id, script.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    let job = state
        .jobs
        .submit(&script, &version, &args, "webhook")
        .await?;
    state
        .audit
        .append(
            AuditEvent::new(format!("webhook:{}", script.id), "webhook.run")
                .target(format!("job:{}", job.id))
                .ip(ip),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job.into())))
}
