//! Bearer authentication in front of rmcp, and the caller as tool handlers see it.

use crate::auth::Principal;
use crate::auth::extract::{authenticate, client_ip};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::Extensions;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

/// The authenticated user of one MCP request and where it came from (for the audit log).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub ip: Option<String>,
}

impl Caller {
    /// The caller acting, for the domain services.
    pub fn actor(&self) -> crate::services::Actor<'_> {
        crate::services::Actor::new(&self.principal, self.ip.clone())
    }

    /// rmcp puts the HTTP request parts into the request context; the middleware below
    /// put the caller into their extensions.
    pub fn from_context(context: &RequestContext<RoleServer>) -> Result<Self, McpError> {
        Self::from_extensions(&context.extensions)
            // Unreachable behind `require_bearer`; refuse rather than act anonymously.
            .ok_or_else(|| McpError::invalid_request("not authenticated", None))
    }

    pub fn from_extensions(extensions: &Extensions) -> Option<Self> {
        extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .cloned()
    }
}

/// The session header rmcp reads and sets (`Mcp-Session-Id`).
const SESSION_HEADER: &str = "mcp-session-id";

/// Answers 401 (the API's JSON error body) before rmcp parses anything, and keeps each
/// session to the user who opened it: a request naming a session that is not the
/// caller's gets 404, as for an unknown session (the client may initialize its own).
/// A request in the caller's own session is what keeps that session from expiring.
pub async fn require_bearer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let principal = match authenticate(&parts, &state).await {
        Ok(principal) => principal,
        Err(err) => {
            tracing::debug!(error = %err, "MCP request refused");
            return err.into_response();
        }
    };
    let user_id = principal.user_id.clone();
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    if let Some(id) = &session
        && !state.mcp.use_session(id, &user_id)
    {
        tracing::debug!(user = %user_id, "MCP request for a session that is not the caller's");
        return ApiError::NotFound.into_response();
    }
    let ip = client_ip(&parts, &state);
    parts.extensions.insert(Caller { principal, ip });
    let resp = next.run(Request::from_parts(parts, body)).await;
    // `initialize` without a session header: rmcp created a session; it is this user's.
    if session.is_none()
        && let Some(id) = resp
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
    {
        state.mcp.bind_session(id, &user_id);
    }
    resp
}
