//! The signing key of audit checkpoints and what a checkpoint's signature covers.
//!
//! A real signature (Ed25519) rather than an HMAC: verifying needs only the public key,
//! which `automa audit verify` prints, so it can be kept elsewhere and given back with
//! `--public-key` by someone who holds no server secret. The key is generated once into
//! `<data-dir>/keys/audit.key` (hex seed, 0600) next to the JWT and secrets keys, so
//! `automa backup` carries it and nodes sharing the data dir sign with the same key; the
//! database never holds it, so whoever edits the database cannot sign a checkpoint.

use crate::db::audit_checkpoints::CheckpointRow;
use anyhow::{Context as _, bail};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use std::path::{Path, PathBuf};

/// Where a data dir keeps the checkpoint signing key.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("audit.key")
}

/// The signing key of `data_dir`, generated on first use.
pub fn signing_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    let path = key_path(data_dir);
    let mut problems = Vec::new();
    let bytes = match crate::auth::keys::load_or_create_file(&path, 32, &mut problems) {
        Ok(bytes) => bytes,
        // Another node sharing the data dir created it first.
        Err(_) if path.exists() => read_seed(&path)?,
        Err(e) => return Err(e),
    };
    for problem in problems {
        tracing::warn!(problem, "audit signing key");
    }
    seed(&bytes, &path)
}

/// The public key of `data_dir`'s signing key, `None` when none was made yet (nothing
/// was pruned there). Never creates one.
pub fn public_key(data_dir: &Path) -> anyhow::Result<Option<VerifyingKey>> {
    let path = key_path(data_dir);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(seed(&read_seed(&path)?, &path)?.verifying_key()))
}

fn read_seed(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    hex::decode(text.trim()).with_context(|| format!("key file {} is not hex", path.display()))
}

fn seed(bytes: &[u8], path: &Path) -> anyhow::Result<SigningKey> {
    let Ok(seed) = <[u8; 32]>::try_from(bytes) else {
        bail!(
            "key file {} must hold 32 bytes (64 hex characters)",
            path.display()
        );
    };
    Ok(SigningKey::from_bytes(&seed))
}

/// Parses a public key given as 64 hex characters (`--public-key`).
pub fn parse_public_key(text: &str) -> anyhow::Result<VerifyingKey> {
    let bytes = hex::decode(text.trim()).context("the public key is not hex")?;
    let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        bail!("the public key must be 32 bytes (64 hex characters)");
    };
    VerifyingKey::from_bytes(&bytes).context("not an Ed25519 public key")
}

/// What the signature covers: every field of the checkpoint but the key and signature,
/// behind a label so that no other signed text of the server can pass for one.
fn message(row: &CheckpointRow) -> Vec<u8> {
    serde_json::json!([
        "automa audit checkpoint v1",
        row.id,
        row.first_seq,
        row.last_seq,
        row.last_hash,
        row.pruned_rows,
        row.at,
    ])
    .to_string()
    .into_bytes()
}

/// Fills in `row`'s public key and signature.
pub fn sign(key: &SigningKey, row: &mut CheckpointRow) {
    row.public_key = hex::encode(key.verifying_key().as_bytes());
    row.signature = hex::encode(key.sign(&message(row)).to_bytes());
}

/// Why `row` is not a checkpoint signed by `key`; `None` when it is.
pub fn refusal(key: &VerifyingKey, row: &CheckpointRow) -> Option<String> {
    let expected = hex::encode(key.as_bytes());
    if row.public_key != expected {
        return Some(format!(
            "signed by key {}, not by the trusted key {expected}",
            row.public_key
        ));
    }
    let signature = hex::decode(&row.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .map(|b| Signature::from_bytes(&b));
    match signature {
        None => Some("its signature is not 64 hex-encoded bytes".into()),
        Some(s) if key.verify(&message(row), &s).is_err() => {
            Some("the signature does not match its fields (checkpoint edited or forged)".into())
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn row() -> CheckpointRow {
        CheckpointRow {
            id: 1,
            first_seq: 1,
            last_seq: 10,
            last_hash: "ab".repeat(32),
            pruned_rows: 10,
            at: 1_700_000_000_000,
            public_key: String::new(),
            signature: String::new(),
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let key = signing_key(dir.path()).unwrap();
        // The same key on the next use; the public key read back without creating.
        assert_eq!(signing_key(dir.path()).unwrap().to_bytes(), key.to_bytes());
        let public = public_key(dir.path()).unwrap().unwrap();
        assert_eq!(public, key.verifying_key());
        let mut signed = row();
        sign(&key, &mut signed);
        assert_eq!(refusal(&public, &signed), None);
        for edit in [
            (|r: &mut CheckpointRow| r.pruned_rows = 9) as fn(&mut CheckpointRow),
            |r| r.last_hash = "cd".repeat(32),
            |r| r.last_seq = 11,
            |r| {
                let flipped = if r.signature.starts_with('0') {
                    "1"
                } else {
                    "0"
                };
                r.signature.replace_range(0..1, flipped);
            },
        ] {
            let mut edited = signed.clone();
            edit(&mut edited);
            assert!(refusal(&public, &edited).is_some(), "{edited:?}");
        }
        let other = SigningKey::from_bytes(&[7; 32]);
        let mut forged = row();
        sign(&other, &mut forged);
        let why = refusal(&public, &forged).unwrap();
        assert!(why.contains("not by the trusted key"), "{why}");
        assert!(
            public_key(tempfile::tempdir().unwrap().path())
                .unwrap()
                .is_none()
        );
        assert_eq!(
            parse_public_key(&hex::encode(public.as_bytes())).unwrap(),
            public
        );
        assert!(parse_public_key("abcd").is_err());
    }
}
