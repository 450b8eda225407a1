//! First-run setup: while no user exists the server logs a one-time setup token;
//! giving it with an email and password creates the first admin, once.

use super::users::validate_email;
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{Role, password};
use crate::db::{self, users::UserRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The one-time token printed in the server log at first start.
    pub token: String,
    pub email: String,
    pub password: String,
}

/// True while no user exists and the first admin still has to be created.
pub async fn required(state: &AppState) -> ApiResult<bool> {
    Ok(db::users::count(&state.db).await? == 0)
}

/// Create the first administrator if `req.token` is the pending setup token
/// (`setup.complete`, failed ones too).
pub async fn complete(
    state: &AppState,
    ip: Option<String>,
    req: &SetupRequest,
) -> ApiResult<UserRow> {
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
