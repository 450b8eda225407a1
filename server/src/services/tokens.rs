//! Personal API tokens of the caller: create (the token is answered once, only its
//! hash is stored), list, revoke; each authorized and audited once for every way in.

use super::Actor;
use crate::auth::{Principal, Scope, policy, tokens};
use crate::db::{self, now_ms, tokens::TokenRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde::Deserialize;
use utoipa::ToSchema;

/// Longest allowed token lifetime: ten years.
const MAX_EXPIRES_IN_SECS: u64 = 10 * 365 * 24 * 3600;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// 1 to 100 characters (surrounding spaces are trimmed first).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Defaults to `["read"]`. `admin` implies `write`, `write` implies `read`.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// Lifetime in seconds; omitted means no expiry. A token created with an expiring API
    /// token must expire no later than that token.
    pub expires_in_seconds: Option<u64>,
}

/// A new token: its stored row and the token itself, which exists only here.
pub struct Created {
    pub token: String,
    pub row: TokenRow,
}

/// The caller's tokens (revoked and expired ones included), a page after `cursor`.
pub async fn list(
    state: &AppState,
    p: &Principal,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<TokenRow>> {
    Ok(db::tokens::list_for_user(&state.db, &p.user_id, cursor, limit).await?)
}

/// Create a token for the caller, with no more rights and no longer life than the
/// caller's own credential allows (`token.create`).
pub async fn create(state: &AppState, actor: &Actor<'_>, req: CreateToken) -> ApiResult<Created> {
    let p = actor.principal;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::Validation(
            "name must be 1 to 100 characters".into(),
        ));
    }
    let mut scopes = if req.scopes.is_empty() {
        vec![Scope::Read]
    } else {
        req.scopes
    };
    scopes.sort();
    scopes.dedup();
    policy::check_grantable(p, &scopes)?;
    let now = now_ms();
    let expires_at = match req.expires_in_seconds {
        Some(0) => {
            return Err(ApiError::Validation(
                "expires_in_seconds must be positive".into(),
            ));
        }
        Some(s) if s > MAX_EXPIRES_IN_SECS => {
            return Err(ApiError::Validation(
                "expires_in_seconds is too large (max ten years)".into(),
            ));
        }
        Some(s) => Some(now + (s as i64) * 1000),
        None => None,
    };
    policy::check_mintable_expiry(p, expires_at, now)?;
    let generated = tokens::generate()?;
    let scopes_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let row = db::tokens::insert(
        &state.db,
        db::tokens::NewToken {
            user_id: &p.user_id,
            name,
            token_hash: &generated.hash,
            prefix: &generated.display_prefix,
            scopes: &scopes_text,
            expires_at,
        },
    )
    .await?;
    let entry = actor
        .audit("token.create", format!("token:{}", row.id))
        .details(
            serde_json::json!({"name": row.name, "scopes": scopes_text, "expires_at": expires_at}),
        );
    state.audit.append(entry).await?;
    Ok(Created {
        token: generated.token,
        row,
    })
}

/// Revoke one of the caller's tokens (others' answer not found); `token.revoke`.
pub async fn revoke(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<TokenRow> {
    let row = db::tokens::revoke(&state.db, &actor.principal.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.auth_cache.clear();
    let entry = actor
        .audit("token.revoke", format!("token:{}", row.id))
        .details(serde_json::json!({"name": row.name}));
    state.audit.append(entry).await?;
    Ok(row)
}
