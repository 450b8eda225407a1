//! Every authorization decision lives here. Handlers call these functions (via the
//! extractors in `extract`) instead of comparing roles themselves.
//!
//! Rules:
//! - Safe methods (GET/HEAD) need scope `read`; anything else needs `write`.
//! - Admin endpoints need role `admin` and, for API tokens, scope `admin`.
//! - A non-admin asking for another user's resource gets 404, as if it did not exist.
//! - Another user's resources need the admin role *and* the `admin` scope
//!   ([`Principal::is_admin`]); an admin's `read`/`write` token gets 403 there.
//! - A token can only mint tokens with scopes it holds itself, expiring no later than
//!   itself.

use super::{Principal, Role, Scope};
use crate::error::ApiError;
use axum::http::Method;

pub fn required_scope(method: &Method) -> Scope {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        Scope::Read
    } else {
        Scope::Write
    }
}

pub fn check_scope(p: &Principal, needed: Scope) -> Result<(), ApiError> {
    if p.scope >= needed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this token lacks the scope this request needs",
        ))
    }
}

pub fn require_admin(p: &Principal) -> Result<(), ApiError> {
    if p.role != Role::Admin {
        return Err(ApiError::Forbidden("administrator role required"));
    }
    check_scope(p, Scope::Admin)
}

/// The refusal for someone else's resource: an admin whose credential lacks the `admin`
/// scope is told so (403); for anyone else it does not exist (404).
fn not_theirs(p: &Principal) -> ApiError {
    if p.role == Role::Admin {
        ApiError::Forbidden("acting on another user's resources needs a token with the admin scope")
    } else {
        ApiError::NotFound
    }
}

/// May `p` read user `target_id`? Everyone may read themselves; admins (with a credential
/// holding the `admin` scope) read everyone; for anyone else the user does not exist.
pub fn require_view_user(p: &Principal, target_id: &str) -> Result<(), ApiError> {
    if p.user_id == target_id || p.is_admin() {
        Ok(())
    } else {
        Err(not_theirs(p))
    }
}

/// For admin-only actions on a specific user: others' resources answer 404 to non-admins,
/// their own answers 403.
pub fn require_admin_on_user(p: &Principal, target_id: &str) -> Result<(), ApiError> {
    if p.is_admin() {
        return Ok(());
    }
    if p.role == Role::Admin {
        return check_scope(p, Scope::Admin);
    }
    if p.user_id == target_id {
        Err(ApiError::Forbidden("administrator role required"))
    } else {
        Err(ApiError::NotFound)
    }
}

/// Scopes a new token may receive: never more than the caller's credential holds, and
/// `admin` only for admins.
pub fn check_grantable(p: &Principal, requested: &[Scope]) -> Result<(), ApiError> {
    for s in requested {
        if *s > p.scope || (*s == Scope::Admin && p.role != Role::Admin) {
            return Err(ApiError::Forbidden("cannot grant a scope you do not hold"));
        }
    }
    Ok(())
}

/// The latest expiry (ms since the epoch) a token minted by `p` may have: an API token
/// mints only tokens that end no later than itself, so revoking or outliving it cannot
/// leave a longer-lived copy. `requested` is the asked-for expiry (`None`: never); `now`
/// the current time in ms.
pub fn check_mintable_expiry(
    p: &Principal,
    requested: Option<i64>,
    now: i64,
) -> Result<(), ApiError> {
    match (p.token_expires_at(), requested) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(ApiError::Validation(
            "this token expires, so a token it creates must expire too: \
             set expires_in_seconds to at most its remaining lifetime"
                .into(),
        )),
        (Some(limit), Some(at)) if at > limit => Err(ApiError::Validation(format!(
            "a token can only create tokens that expire no later than itself: \
             expires_in_seconds must be at most {}",
            ((limit - now) / 1000).max(0)
        ))),
        _ => Ok(()),
    }
}

/// Credential changes (password, TOTP) need an interactive login, not an API token.
pub fn require_interactive(p: &Principal) -> Result<(), ApiError> {
    match p.method {
        super::AuthMethod::AccessToken | super::AuthMethod::Session => Ok(()),
        super::AuthMethod::ApiToken { .. } => Err(ApiError::Forbidden(
            "this action needs an access token from /api/v1/auth/login, not an API token",
        )),
    }
}

/// Owned resources (scripts, jobs, agents, schedules): the owner and admins (with the
/// `admin` scope) may use them; other users are told they do not exist.
pub fn require_owner_or_admin(p: &Principal, owner_id: &str) -> Result<(), ApiError> {
    if p.user_id == owner_id || p.is_admin() {
        Ok(())
    } else {
        Err(not_theirs(p))
    }
}

/// Capabilities (network, email, secrets) are granted by admins only.
pub fn require_admin_to_grant(p: &Principal) -> Result<(), ApiError> {
    if p.is_admin() {
        Ok(())
    } else if p.role == Role::Admin {
        check_scope(p, Scope::Admin)
    } else {
        Err(ApiError::Forbidden(
            "only an admin can grant capabilities (HTTP, email, secrets) to a script",
        ))
    }
}
