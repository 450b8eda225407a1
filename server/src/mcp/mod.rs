//! The Model Context Protocol endpoint `/mcp` (Streamable HTTP, rmcp).
//!
//! Every request is authenticated by Automa's own bearer auth before rmcp sees it
//! (`auth`); the caller travels in the request extensions, which rmcp hands to the
//! handler, per request, so a session bound to one user still checks every request.
//! Tool and resource lists are computed per request and always match the current
//! scripts; `sessions` tells clients when the tool list changed: legacy-protocol
//! clients get a session (the handler below lives as long as it), 2026-07-28 clients
//! stay stateless and listen with `subscriptions/listen`.

mod auth;
mod resources;
mod sessions;
mod tools;

use crate::state::AppState;
use axum::Router;
use axum::middleware;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig, SubscriptionFilter,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use std::sync::Arc;

pub use auth::Caller;
pub use sessions::McpHandle;

/// The `/mcp` route, behind bearer authentication.
pub fn router(state: AppState) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        // Sessions for clients that initialize (protocol before 2026-07-28), the only way
        // they can hear of list changes; 2026-07-28 requests are still served statelessly.
        .with_legacy_session_mode(true)
        // Applies to the stateless requests: a plain JSON answer when nothing streams.
        .with_json_response(true)
        // Server shutdown ends every session and open stream.
        .with_cancellation_token(state.mcp.shutdown_token())
        .with_allowed_hosts(allowed_hosts(&state))
        .with_max_request_body_bytes(state.config.body_limit_bytes);
    let handler_state = state.clone();
    let service = StreamableHttpService::new(
        // Called once per session (its handler lives as long as the session) and once
        // per stateless request.
        move || {
            Ok(AutomaMcp {
                state: handler_state.clone(),
                ended: sessions::SessionEnd::new(),
            })
        },
        state.mcp.sessions(),
        config,
    );
    state
        .mcp
        .spawn_sweeper(state.clone(), state.config.mcp_session_idle);
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

/// One handler per session or stateless request.
#[derive(Clone)]
pub struct AutomaMcp {
    state: AppState,
    /// Fires when the handler (so the session) is gone, ending its notifications.
    ended: Arc<sessions::SessionEnd>,
}

impl ServerHandler for AutomaMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
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

    /// A legacy client finished its handshake: its session now hears of tool changes.
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        match Caller::from_extensions(&context.extensions) {
            Some(caller) => self
                .state
                .mcp
                .notify_session(caller, context.peer, self.ended.token()),
            None => tracing::warn!("MCP initialized notification without a caller"),
        }
    }

    /// 2026-07-28 clients: only the tool list changes here.
    fn accepted_subscription_filter(
        &self,
        _requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(SubscriptionFilter::builder().tools_list_changed().build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let caller = Caller::from_context(context.request_context())?;
        let hub = &self.state.mcp;
        let mut changes = hub.subscribe();
        // Ends when the client cancels or disconnects (rmcp cancels the request).
        let stop = context.request_context().ct.clone();
        while hub.next_change(&mut changes, &caller, &stop).await {
            if let Err(err) = context.sink().notify_tool_list_changed().await {
                tracing::debug!(error = %err, "MCP subscription gone");
                break;
            }
        }
        Ok(())
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
