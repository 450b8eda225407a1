//! Webhooks: a secret URL per script that starts a run with the JSON body as its
//! arguments. The token is the credential, so the hook itself needs no login; only its
//! SHA-256 is stored, and rotating it voids the old URL. Rights follow the owner: a
//! disabled owner's hooks start nothing.

use super::Actor;
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{keys, tokens};
use crate::db::{self, jobs::JobRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};

const HOOK_PREFIX: &str = "whk_";

/// A new webhook: its token (shown once) and the path to `POST` to.
pub struct Webhook {
    pub token: String,
    pub path: String,
}

/// Create or rotate the script's webhook; the previous URL stops working.
pub async fn rotate(state: &AppState, actor: &Actor<'_>, script_id: &str) -> ApiResult<Webhook> {
    super::scripts::load_owned(state, actor.principal, script_id).await?;
    let token = format!("{HOOK_PREFIX}{}", hex::encode(keys::random_bytes::<32>()?));
    db::scripts::set_webhook(&state.db, script_id, Some(&tokens::hash(&token))).await?;
    let entry = actor.audit("webhook.rotate", format!("script:{script_id}"));
    state.audit.append(entry).await?;
    Ok(Webhook {
        path: format!("/api/v1/hooks/{token}"),
        token,
    })
}

/// Disable the script's webhook.
pub async fn delete(state: &AppState, actor: &Actor<'_>, script_id: &str) -> ApiResult<()> {
    super::scripts::load_owned(state, actor.principal, script_id).await?;
    db::scripts::set_webhook(&state.db, script_id, None).await?;
    let entry = actor.audit("webhook.delete", format!("script:{script_id}"));
    state.audit.append(entry).await?;
    Ok(())
}

/// Start a run of the hook's script with `body`, the JSON text of its arguments (blank:
/// none), called from `ip`; audited as `webhook.run` by `webhook:<script id>`.
pub async fn call(
    state: &AppState,
    token: &str,
    ip: Option<String>,
    body: &[u8],
) -> ApiResult<JobRow> {
    if !token.starts_with(HOOK_PREFIX) {
        return Err(ApiError::NotFound);
    }
    let script = db::scripts::find_by_webhook(&state.db, &tokens::hash(token))
        .await?
        .ok_or(ApiError::NotFound)?;
    let by = format!("webhook:{}", script.id);
    let owner = db::users::find_by_id(&state.db, &script.owner_id).await?;
    if owner.is_none_or(|u| u.disabled) {
        let entry = AuditEvent::new(&by, "webhook.run")
            .target(format!("script:{}", script.id))
            .ip(ip)
            .outcome(Outcome::Denied)
            .details(json!({"reason": "the script's owner is disabled"}));
        state.audit.record(entry).await;
        return Err(ApiError::Gone(
            "this webhook's owner is disabled; it starts no runs".into(),
        ));
    }
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let version = db::scripts::version(&state.db, &script.id, script.current_version)
        .await?
        .ok_or(ApiError::NotFound)?;
    let job = state
        .jobs
        .submit(&script, &version, &args, "webhook")
        .await?;
    let entry = AuditEvent::new(&by, "webhook.run")
        .target(format!("job:{}", job.id))
        .ip(ip);
    state.audit.append(entry).await?;
    Ok(job)
}
