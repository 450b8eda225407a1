//! First-run setup: while no user exists the server logs a one-time setup token; posting
//! it with an email and password creates the first admin. Refused once any user exists.

use super::{ApiJson, UserView, validate_email};
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{Role, extract::ClientIp, password};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status, setup))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetupStatus {
    /// True while no user exists and the first admin still has to be created.
    pub setup_required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The one-time token printed in the server log at first start.
    pub token: String,
    pub email: String,
    pub password: String,
}

/// Whether first-run setup is still pending.
#[utoipa::path(get, path = "/api/v1/setup", tag = "setup", security(()),
    responses((status = 200, body = SetupStatus)))]
async fn status(State(state): State<AppState>) -> ApiResult<ApiJson<SetupStatus>> {
    let count = db::users::count(&state.db).await?;
    Ok(ApiJson(SetupStatus {
        setup_required: count == 0,
    }))
}

/// Create the first administrator with the one-time setup token.
#[utoipa::path(post, path = "/api/v1/setup", tag = "setup", security(()),
    request_body = SetupRequest,
    responses(
        (status = 201, body = UserView),
        (status = 401, description = "wrong setup token", body = ErrorBody),
        (status = 409, description = "setup already done", body = ErrorBody),
        (status = 422, description = "invalid email or password", body = ErrorBody),
    ))]
async fn setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserView>)> {
    let user = complete_setup(&state, ip, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(user.into())))
}

/// Creates the first administrator if `req.token` is the pending setup token. Shared by
/// the API and the browser setup page.
pub async fn complete_setup(
    state: &AppState,
    ip: Option<String>,
    req: &SetupRequest,
) -> ApiResult<db::users::UserRow> {
    // Held for the whole request so two concurrent setups cannot both succeed.
    let mut guard = state.setup_token.lock().await;
    let expected = match guard.as_deref() {
        Some(t) if db::users::count(&state.db).await? == 0 => t.to_owned(),
        _ => {
            return Err(ApiError::Conflict(
                "setup has already been completed".into(),
            ));
        }
    };
    if !bool::from(req.token.as_bytes().ct_eq(expected.as_bytes())) {
        state
            .audit
            .record(
                AuditEvent::new("anonymous", "setup.complete")
                    .ip(ip)
                    .outcome(Outcome::Failure)
                    .details(serde_json::json!({"reason": "invalid setup token"})),
            )
            .await;
        return Err(ApiError::Unauthorized("invalid setup token"));
    }
    validate_email(&req.email)?;
    password::validate_new(&req.password).map_err(ApiError::Validation)?;
    let hash = password::hash(req.password.clone()).await?;
    let user = db::users::insert(&state.db, &req.email, &hash, Role::Admin.as_str()).await?;
    *guard = None;
    state
        .audit
        .append(
            AuditEvent::new(&user.id, "setup.complete")
                .target(format!("user:{}", user.id))
                .ip(ip)
                .details(serde_json::json!({"email": user.email, "role": "admin"})),
        )
        .await?;
    tracing::info!(email = %user.email, "first-run setup completed; admin created");
    Ok(user)
}
