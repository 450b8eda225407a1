//! CSRF defence for every form POST, two layers:
//! - a synchronizer token: the hidden `csrf` field must equal the session's token (or,
//!   before login, the random `automa_csrf` cookie set with the form);
//! - the browser's own signals: `Sec-Fetch-Site` must be `same-origin` (or `none`, a
//!   user-typed navigation) and `Origin`, when sent, must be this server.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

/// A form that carries nothing but its token (revoke, delete and similar buttons).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf: Option<String>,
}

const REFUSED: &str = "the form could not be verified (missing or stale CSRF token, or a cross-site request); reload the page and try again";

pub fn verify(
    headers: &HeaderMap,
    state: &AppState,
    submitted: Option<&str>,
    expected: &str,
) -> Result<(), ApiError> {
    check_origin(headers, state)?;
    let ok = match submitted {
        Some(s) if !s.is_empty() && !expected.is_empty() => {
            bool::from(s.as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        tracing::info!("form refused: CSRF token mismatch");
        Err(ApiError::Forbidden(REFUSED))
    }
}

fn check_origin(headers: &HeaderMap, state: &AppState) -> Result<(), ApiError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        tracing::info!(site, "form refused: cross-site request");
        return Err(ApiError::Forbidden(REFUSED));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("null");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority == host);
    let public = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.trim_end_matches('/') == origin);
    if same_host || public {
        Ok(())
    } else {
        tracing::info!(origin, "form refused: foreign Origin");
        Err(ApiError::Forbidden(REFUSED))
    }
}
