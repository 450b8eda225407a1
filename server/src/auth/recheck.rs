//! Rights re-checked during a long response. An event stream is authorized once, when
//! it opens, but may stay open for hours: every few seconds it asks whether its caller
//! still has the rights it was opened with (account enabled and unchanged, API token not
//! revoked or expired), and ends when not.

use super::{AuthMethod, Principal};
use crate::db::{self, now_ms};
use crate::state::AppState;
use std::time::{Duration, Instant};

/// How often an open stream re-checks its caller.
pub const RECHECK_EVERY: Duration = Duration::from_secs(2);

/// The caller of a long response and when their rights were last confirmed.
pub struct Recheck {
    principal: Principal,
    last: Instant,
}

impl Recheck {
    /// Starts from a principal that was just authenticated.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            last: Instant::now(),
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// True at most once per [`RECHECK_EVERY`]: time to check the caller (and the
    /// resource) again.
    pub fn due(&mut self) -> bool {
        if self.last.elapsed() < RECHECK_EVERY {
            return false;
        }
        self.last = Instant::now();
        true
    }
}

/// Whether `p`'s credential still stands: the user exists and is enabled, their
/// password, role and status are as when it was checked (`auth_version`), and an API
/// token is neither revoked nor expired. A database error counts as no.
pub async fn still_authorized(state: &AppState, p: &Principal) -> bool {
    let Ok(Some(user)) = db::users::find_by_id(&state.db, &p.user_id).await else {
        return false;
    };
    if user.disabled || user.role != p.user.role {
        return false;
    }
    match &p.method {
        AuthMethod::AccessToken | AuthMethod::Session => user.auth_version == p.user.auth_version,
        AuthMethod::ApiToken { token_id, .. } => {
            match db::tokens::find_by_id(&state.db, token_id).await {
                Ok(Some(token)) => {
                    token.revoked_at.is_none() && token.expires_at.is_none_or(|at| at > now_ms())
                }
                _ => false,
            }
        }
    }
}
