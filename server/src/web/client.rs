//! Pages act through the `/api/v1` handlers, in process: each call is a request to the
//! API router carrying a short-lived access token minted for the session's user. The
//! API thus stays bearer-only while the pages get exactly its authorization,
//! validation, auditing and error messages.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use tower::ServiceExt;

/// The API routes, built once (the router is cheap to clone).
fn api_routes() -> Router<AppState> {
    static ROUTES: OnceLock<Router<AppState>> = OnceLock::new();
    ROUTES
        .get_or_init(|| crate::api::router().split_for_parts().0)
        .clone()
}

/// An API error as the API reported it (kept for display next to forms).
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl Failure {
    /// The failure an API error answer (`{"error": {"code", "message"}}`) tells.
    fn of(status: StatusCode, body: &Value) -> Self {
        Self {
            status,
            code: body["error"]["code"].as_str().unwrap_or("error").to_owned(),
            message: body["error"]["message"]
                .as_str()
                .unwrap_or("request failed")
                .to_owned(),
        }
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f.status {
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::FORBIDDEN => ApiError::Forbidden("you may not do this"),
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized("session ended; log in again"),
            StatusCode::CONFLICT => ApiError::Conflict(f.message),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Validation(f.message),
            StatusCode::BAD_REQUEST => ApiError::BadRequest(f.message),
            s => ApiError::Internal(anyhow::anyhow!("API answered {s}: {}", f.message)),
        }
    }
}

pub struct Api {
    state: AppState,
    bearer: HeaderValue,
    ip: Option<String>,
}

impl Api {
    pub fn new(state: AppState, p: &Principal, ip: Option<String>) -> Result<Self, ApiError> {
        let token = state.jwt.issue(&p.user_id, p.user.auth_version)?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Self { state, bearer, ip })
    }

    /// Sends a request to the API and returns its response as is.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        accept: &'static str,
    ) -> Result<Response, ApiError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, self.bearer.clone())
            .header(header::ACCEPT, accept);
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let mut req = req
            .body(match body {
                Some(v) => Body::from(v.to_string()),
                None => Body::empty(),
            })
            .map_err(|e| ApiError::Internal(e.into()))?;
        // The API's audit records the browser's address.
        if let Some(ip) = self.ip.as_deref().and_then(|s| s.parse::<IpAddr>().ok()) {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 0)));
        }
        let router = api_routes().with_state(self.state.clone());
        router
            .oneshot(req)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))
    }

    /// A JSON call; an error status becomes a `Failure` with the API's message.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Result<Value, Failure>, ApiError> {
        let resp = self.send(method, path, body, "application/json").await?;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok(Ok(value));
        }
        Ok(Err(Failure::of(status, &value)))
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
