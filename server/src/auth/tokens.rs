//! Personal API tokens: `atm_` followed by 64 hex characters (256 random bits). Only the
//! SHA-256 of the whole token is stored; it is shown to the user once, at creation.

use sha2::{Digest, Sha256};

pub const PREFIX: &str = "atm_";

pub struct GeneratedToken {
    pub token: String,
    pub hash: String,
    /// Shown in listings so users can tell tokens apart.
    pub display_prefix: String,
}

pub fn generate() -> anyhow::Result<GeneratedToken> {
    let bytes = super::keys::random_bytes::<32>()?;
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    Ok(GeneratedToken {
        hash: hash(&token),
        display_prefix: token.chars().take(PREFIX.len() + 8).collect(),
        token,
    })
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn looks_like_api_token(s: &str) -> bool {
    s.starts_with(PREFIX)
}
