//! Authentication and authorization.
//!
//! - `password`: argon2id hashing/verification on blocking threads.
//! - `jwt`: short-lived HS256 access tokens issued by `POST /api/v1/auth/login`.
//! - `tokens`: personal API tokens (`atm_...`), stored only as SHA-256.
//! - `totp`: optional second factor.
//! - `rate_limit`: login throttling and lockout.
//! - `recheck`: rights re-checked while an event stream stays open.
//! - `cache`: short-lived in-memory cache of verified bearer credentials.
//! - `extract`: the extractors handlers use (`AuthUser`, `AdminUser` for bearer auth,
//!   `BrowserUser` for the session cookie of the web pages).
//! - `policy`: every authorization decision, in one place.
//! - `session`: browser cookie sessions and their CSRF tokens.

pub mod cache;
pub mod extract;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod policy;
pub mod rate_limit;
pub mod recheck;
pub mod session;
pub mod tokens;
pub mod totp;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "user" => Some(Self::User),
            _ => None,
        }
    }
}

/// Token scopes, ordered: `admin` implies `write`, `write` implies `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
    pub fn parse_list(s: &str) -> Vec<Self> {
        s.split_whitespace().filter_map(Self::parse).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// Short-lived JWT from the login endpoint: all scopes the role allows.
    AccessToken,
    /// Personal API token, with its expiry (ms since the epoch) if it has one.
    ApiToken {
        token_id: String,
        expires_at: Option<i64>,
    },
    /// Browser session cookie (web pages only).
    Session,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// Highest scope granted to this credential.
    pub scope: Scope,
    pub method: AuthMethod,
    /// The user's row as loaded at authentication (possibly from the 5 s cache; any
    /// change through the API clears the cache). Lets `GET /me` skip the database.
    pub user: std::sync::Arc<crate::db::users::UserRow>,
}

impl Principal {
    /// Admin power over everyone's resources: the admin role *and* a credential holding
    /// the `admin` scope. An admin's `read` or `write` token acts like a user's: on the
    /// admin's own resources only.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.scope >= Scope::Admin
    }

    /// When the credential ends, for API tokens that expire (ms since the epoch).
    /// Access tokens and sessions come from an interactive login and are not limited.
    pub fn token_expires_at(&self) -> Option<i64> {
        match self.method {
            AuthMethod::ApiToken { expires_at, .. } => expires_at,
            AuthMethod::AccessToken | AuthMethod::Session => None,
        }
    }
}
