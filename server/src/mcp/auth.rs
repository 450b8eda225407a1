//! Bearer authentication in front of rmcp, and the caller as tool handlers see it.

use crate::auth::Principal;
use crate::auth::extract::{authenticate, client_ip};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

/// The authenticated user of one MCP request and where it came from (for the audit log).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub ip: Option<String>,
}

impl Caller {
    /// rmcp puts the HTTP request parts into the request context; the middleware below
    /// put the caller into their extensions.
    pub fn from_context(context: &RequestContext<RoleServer>) -> Result<Self, McpError> {
        context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .cloned()
            // Unreachable behind `require_bearer`; refuse rather than act anonymously.
            .ok_or_else(|| McpError::invalid_request("not authenticated", None))
    }
}

/// Answers 401 (the API's JSON error body) before rmcp parses anything.
pub async fn require_bearer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    match authenticate(&parts, &state).await {
        Ok(principal) => {
            let ip = client_ip(&parts, &state);
            parts.extensions.insert(Caller { principal, ip });
            next.run(Request::from_parts(parts, body)).await
        }
        Err(err) => {
            tracing::debug!(error = %err, "MCP request refused");
            err.into_response()
        }
    }
}
