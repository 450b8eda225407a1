//! TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step skew). The caller stores the last
//! accepted step and refuses codes for that step or earlier (replay protection).

use totp_rs::{Builder, Secret, Totp};

pub const ISSUER: &str = "Automa";

pub fn new_secret() -> anyhow::Result<String> {
    let bytes = super::keys::random_bytes::<20>()?;
    Ok(Secret::from(bytes).to_base32())
}

fn build(secret_b32: &str, account: &str) -> anyhow::Result<Totp> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|e| anyhow::anyhow!("stored TOTP secret is invalid: {e}"))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("building TOTP: {e}"))
}

pub fn otpauth_url(secret_b32: &str, account: &str) -> anyhow::Result<String> {
    build(secret_b32, account)?
        .to_url()
        .map_err(|e| anyhow::anyhow!("TOTP url: {e}"))
}

/// Returns the matched time step for a valid code at `unix_secs`.
pub fn check(
    secret_b32: &str,
    account: &str,
    code: &str,
    unix_secs: u64,
) -> anyhow::Result<Option<u64>> {
    Ok(build(secret_b32, account)?.check(code.trim(), unix_secs))
}

const SEALED_PREFIX: &str = "enc:";

/// Encrypts a TOTP secret for storage with the server's secrets key; the user id is the
/// associated data, so a sealed secret cannot be copied onto another account.
pub fn seal_secret(key: &[u8], user_id: &str, secret_b32: &str) -> anyhow::Result<String> {
    let sealed = crate::secrets::seal(key, &format!("totp:{user_id}"), secret_b32)?;
    Ok(format!("{SEALED_PREFIX}{sealed}"))
}

/// Inverse of [`seal_secret`]. Values without the prefix are plaintext from before
/// encryption existed and are returned as they are.
pub fn open_secret(key: &[u8], user_id: &str, stored: &str) -> anyhow::Result<String> {
    match stored.strip_prefix(SEALED_PREFIX) {
        Some(sealed) => crate::secrets::open(key, &format!("totp:{user_id}"), sealed),
        None => Ok(stored.to_owned()),
    }
}

pub fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
