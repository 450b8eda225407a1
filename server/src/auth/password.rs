//! argon2id password hashing (argon2 0.6 defaults: m=19456 KiB, t=2, p=1). Hashing is CPU
//! heavy, so it always runs on the blocking pool.

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn validate_new(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!("password must be at most {MAX_PASSWORD_LEN} bytes"));
    }
    Ok(())
}

fn hash_sync(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(hash.to_string())
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_sync(&password))
        .await
        .context("password hashing task")?
}

/// A real hash of a random password, so unknown users cost the same time as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let pw = hex::encode(super::keys::random_bytes::<16>().unwrap_or([7u8; 16]));
        hash_sync(&pw).unwrap_or_default()
    })
}

/// Verifies `password` against `stored` or, when there is no user, against a dummy hash.
/// Returns true only for a real match.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let is_real = stored.is_some();
        let hash_text = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = match PasswordHash::new(&hash_text) {
            Ok(p) => p,
            Err(_) => return false,
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && is_real
    })
    .await
    .context("password verification task")
}

/// Computes the dummy hash ahead of the first login so that login is not slow once.
pub fn warm_up() {
    let _ = dummy_hash();
}
