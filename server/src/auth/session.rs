//! Seam for browser sessions (the later UI issue): cookie `automa_session` (HttpOnly,
//! SameSite=Lax, Secure behind TLS) backed by a server-side session store, plus CSRF
//! protection (tower-http's `CsrfLayer` on Origin / Sec-Fetch-Site) for cookie-authenticated
//! unsafe methods. `extract::authenticate` is the single entry point: when sessions land,
//! it tries the session cookie after the bearer header and yields the same `Principal`,
//! so handlers and `policy` do not change.

/// Name of the future session cookie, reserved here so nothing else takes it.
pub const SESSION_COOKIE: &str = "automa_session";
