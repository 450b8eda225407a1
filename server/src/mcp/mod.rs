//! The Model Context Protocol endpoint `/mcp` (Streamable HTTP, rmcp).
//!
//! Every request is authenticated by Automa's own bearer auth before rmcp sees it
//! (`auth`); the caller travels in the request extensions, which rmcp hands to the
//! handler. The server is stateless: each request builds a fresh handler, so tool and
//! resource lists are computed per request and always match the current scripts.

mod auth;
mod resources;
mod tools;

use crate::state::AppState;
use axum::Router;
use axum::middleware;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use std::sync::Arc;

pub use auth::Caller;

/// The `/mcp` route, behind bearer authentication.
pub fn router(state: AppState) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        // No sessions: nothing per client lives in memory, any server process can answer,
        // and a session id can never carry one user's identity to another.
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(allowed_hosts(&state))
        .with_max_request_body_bytes(state.config.body_limit_bytes);
    let handler_state = state.clone();
    let service = StreamableHttpService::new(
        move || {
            Ok(AutomaMcp {
                state: handler_state.clone(),
            })
        },
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(state, auth::require_bearer))
}

/// rmcp refuses other `Host` headers (DNS rebinding). Besides loopback, accept the
/// listen address and the public URL's host, so a server behind a proxy answers too.
fn allowed_hosts(state: &AppState) -> Vec<String> {
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    hosts.push(state.config.listen.ip().to_string());
    hosts.push(state.config.listen.to_string());
    if let Some(public) = &state.config.public_url
        && let Ok(url) = url::Url::parse(public)
        && let Some(host) = url.host_str()
    {
        hosts.push(host.to_owned());
        if let Some(port) = url.port() {
            hosts.push(format!("{host}:{port}"));
        }
    }
    hosts
}

/// One handler per request; all it holds is the shared application state.
#[derive(Clone)]
pub struct AutomaMcp {
    state: AppState,
}

impl ServerHandler for AutomaMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("automa", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Automa runs sandboxed Python scripts and agents. Scripts exposed as tools are \
             listed by name; run_script, get_job, list_scripts and the agent tools work on \
             everything the authenticated user may see.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = Caller::from_context(&context)?;
        let tools = tools::list(&self.state, &caller).await?;
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = Caller::from_context(&context)?;
        tools::call(&self.state, &caller, request)
            .await
            .map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let caller = Caller::from_context(&context)?;
        let items = resources::list(&self.state, &caller).await?;
        Ok(ListResourcesResult::with_all_items(items))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Caller::from_context(&context)?;
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let caller = Caller::from_context(&context)?;
        resources::read(&self.state, &caller, &request.uri)
            .await
            .map(Into::into)
    }
}

/// Internal failures reach the client as a generic protocol error; details go to the log.
fn internal(err: impl std::fmt::Display) -> McpError {
    tracing::error!(error = %err, "MCP request failed");
    McpError::internal_error("internal error", None)
}
