//! Secrets at rest: XChaCha20-Poly1305 with the server's secrets key, a random nonce
//! per value, and the secret's name as associated data so a ciphertext cannot be
//! moved to another name.

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const NONCE_BYTES: usize = 24;

fn cipher(key: &[u8]) -> anyhow::Result<XChaCha20Poly1305> {
    XChaCha20Poly1305::new_from_slice(key)
        .map_err(|_| anyhow::anyhow!("the secrets key must be 32 bytes"))
}

/// Encrypt `value` for `name`; returns hex(nonce || ciphertext).
pub fn seal(key: &[u8], name: &str, value: &str) -> anyhow::Result<String> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("OS random generator failed: {e}"))?;
    let sealed = cipher(key)?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: value.as_bytes(),
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| anyhow::anyhow!("encrypting a secret failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(hex::encode(out))
}

/// Decrypt what [`seal`] produced for `name`.
pub fn open(key: &[u8], name: &str, sealed_hex: &str) -> anyhow::Result<String> {
    let bytes = hex::decode(sealed_hex).context("a stored secret is not hex")?;
    if bytes.len() < NONCE_BYTES {
        bail!("a stored secret is truncated");
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().context("nonce length")?;
    let plain = cipher(key)?
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: sealed,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| {
            anyhow::anyhow!("secret {name:?} cannot be decrypted with this secrets key")
        })?;
    String::from_utf8(plain).context("a stored secret is not UTF-8")
}

/// The values of the secrets `names`, decrypted; one that is missing or cannot be
/// decrypted is left out (the script or plugin then gets "not found").
pub async fn granted(
    db: &crate::db::Db,
    key: &[u8],
    names: &[String],
) -> std::collections::HashMap<String, String> {
    let mut values = std::collections::HashMap::new();
    for name in names {
        match crate::db::secrets::find(db, name).await {
            Ok(Some(row)) => match open(key, name, &row.ciphertext) {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(e) => {
                    tracing::error!(secret = %name, error = format!("{e:#}"), "secret unreadable")
                }
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(secret = %name, error = %e, "loading a secret"),
        }
    }
    values
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = [7u8; 32];
        let sealed = seal(&key, "api_token", "s3cr3t").unwrap();
        assert!(!sealed.contains(&hex::encode("s3cr3t")));
        assert_eq!(open(&key, "api_token", &sealed).unwrap(), "s3cr3t");
        assert!(open(&key, "other_name", &sealed).is_err());
        assert!(open(&[8u8; 32], "api_token", &sealed).is_err());
        assert_ne!(
            seal(&key, "api_token", "s3cr3t").unwrap(),
            sealed,
            "fresh nonce"
        );
    }
}
