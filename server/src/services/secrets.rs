//! Secrets (admin): write-only values, sealed with the secrets key; their names and
//! dates are all anyone reads back. One place for the API, the dashboard and MCP.

use super::Actor;
use crate::auth::{Principal, policy};
use crate::db::{self, secrets::SecretRow};
use crate::error::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::state::AppState;

const MAX_VALUE_BYTES: usize = 64 * 1024;

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

/// A stored secret (its sealed value stays in the row, never in an answer) and
/// whether this call created it.
pub struct Saved {
    pub row: SecretRow,
    pub created: bool,
}

/// Every secret, by name.
pub async fn list(state: &AppState, p: &Principal) -> ApiResult<Vec<SecretRow>> {
    policy::require_admin(p)?;
    Ok(db::secrets::list(&state.db).await?)
}

/// Create a secret or replace its value (`secret.create` or `secret.update`).
pub async fn put(state: &AppState, actor: &Actor<'_>, req: PutSecret) -> ApiResult<Saved> {
    let p = actor.principal;
    policy::require_admin(p)?;
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
    let action = if created {
        "secret.create"
    } else {
        "secret.update"
    };
    let entry = actor.audit(action, format!("secret:{}", req.name));
    state.audit.append(entry).await?;
    let row = db::secrets::find(&state.db, &req.name)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Saved { row, created })
}

/// Delete a secret; scripts granted it get "not found" from then on.
pub async fn delete(state: &AppState, actor: &Actor<'_>, name: &str) -> ApiResult<()> {
    policy::require_admin(actor.principal)?;
    if !db::secrets::delete(&state.db, name).await? {
        return Err(ApiError::NotFound);
    }
    let entry = actor
        .audit("secret.delete", format!("secret:{name}"))
        .details(json!({}));
    state.audit.append(entry).await?;
    Ok(())
}
