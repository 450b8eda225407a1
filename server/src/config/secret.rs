//! How secret settings serialize: masked. Serialized settings are read by people
//! (`--print-config`); the secret itself only leaves through `ExposeSecret` where it is
//! used.

use secrecy::{ExposeSecret, SecretString};
use serde::Serializer;

/// What a set secret shows as (the same word `secrecy`'s `Debug` uses).
pub const MASK: &str = "[REDACTED]";

pub fn masked<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str(MASK),
        None => s.serialize_none(),
    }
}

/// A database URL shows all but its password, so an operator can still see which
/// database the server uses.
pub fn url<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(url) => s.serialize_str(&crate::db::redact_url(url.expose_secret())),
        None => s.serialize_none(),
    }
}

/// The flags layer hands its secrets on to the merge unmasked (in memory only).
pub fn exposed<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(v.expose_secret()),
        None => s.serialize_none(),
    }
}
