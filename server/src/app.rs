//! Builds the application (state + router) and runs it on a bound listener.
//! `Application::build` binds before returning, so tests can use port 0 and ask `port()`.

use crate::audit::AuditLog;
use crate::auth::{cache::AuthCache, jwt::JwtKeys, keys, password, rate_limit::LoginThrottle};
use crate::config::{self, Config};
use crate::error::{ApiError, code_for_status, error_response};
use crate::jobs::{Jobs, JobsSetup};
use crate::state::{AppState, Inner};
use crate::{api, db, health, metrics};
use anyhow::Context;
use automa_runtime::{CancellationToken, Runtime, RuntimeConfig};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;

pub struct Application {
    /// The API listener, or a worker's admin listener; a worker may have none.
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    router: Router,
    state: AppState,
    /// Stops the job workers when the server stops.
    shutdown: CancellationToken,
    /// This process is the node (and, on SQLite, the database's only process).
    _locks: crate::nodes::NodeLocks,
}

impl Application {
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        keys::create_private_dir(&config.data_dir)?;
        let mut keys = keys::load_or_create(
            &config.data_dir,
            config.jwt_secret.as_ref().map(ExposeSecret::expose_secret),
            config.secrets_key.as_ref().map(ExposeSecret::expose_secret),
        )?;
        keys.problems
            .extend(keys::world_accessible(&config.data_dir));
        for problem in &keys.problems {
            tracing::warn!(problem = %problem, "insecure setting (refused with --environment production)");
        }
        config::check_production(&config, keys.problems)?;
        // Before the slow parts: a bad CA file is a configuration error to report at once.
        let tls = tls_trust(&config)?;

        let db = db::connect(&config.database_url()).await?;
        let role = config.role;
        let (node, locks) = crate::nodes::Node::join(
            &db,
            &crate::nodes::JoinSettings {
                data_dir: &config.data_dir,
                database_url: &config.database_url(),
                node_id: config.node_id.as_deref(),
                role,
                lease: config.node_lease,
                workers: if role.runs_work() { config.workers } else { 0 },
            },
        )
        .await?;
        let shutdown = CancellationToken::new();
        let signals = if db::is_postgres(&db) {
            crate::signals::Signals::shared(
                db.clone(),
                &config.database_url(),
                node.id(),
                shutdown.clone(),
            )
            .await
            .context("listening for the other nodes' signals")?
        } else {
            crate::signals::Signals::local()
        };
        let bind = if role.serves_http() {
            Some(config.listen)
        } else {
            config.admin_listen
        };
        let listener = match bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr}"))?,
            ),
            None => None,
        };
        let local_addr = match &listener {
            Some(listener) => listener.local_addr()?,
            None => SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        if role.serves_http() {
            config.listen = local_addr;
        }

        let setup_token = if db::users::count(&db).await? == 0 {
            let token = hex::encode(keys::random_bytes::<24>()?);
            tracing::warn!(
                setup_token = %token,
                setup_url = %config.setup_url(&token),
                "no users yet: create the first admin with POST /api/v1/setup (or `automa user create --admin`); this token is valid until the server restarts"
            );
            Some(token)
        } else {
            None
        };
        tokio::task::spawn_blocking(password::warm_up);

        let runtime = start_runtime(&config).await?;
        if config.data_profile && role.runs_work() {
            crate::packages::data_profile::prepare(
                runtime.clone(),
                crate::packages::data_profile::DataProfileSource {
                    wheel: config.data_profile_wheel.clone(),
                    cache_dir: cache_dir(&config),
                    pip: crate::packages::pip::Pip {
                        python: config.packages.python.clone(),
                        find_links: config.pip_find_links.clone(),
                        no_index: config.pip_no_index,
                    },
                },
            );
        }
        let audit = AuditLog::new(db.clone());
        // One queue of host-call records for jobs, agents and plugins alike.
        let host_calls = crate::audit::HostCalls::start(audit.clone());
        let plugins = crate::plugins::Plugins::new(
            db.clone(),
            runtime.clone(),
            keys.secrets.clone(),
            host_calls.clone(),
            &config.data_dir,
        );
        plugins.install_folder().await;
        let runs = crate::runs::Runs::new(crate::runs::RunsSetup {
            db: db.clone(),
            secrets_key: keys.secrets.clone(),
            quotas: config.quotas.clone(),
            data_dir: config.data_dir.clone(),
            packages: crate::packages::Packages::new(
                &config.data_dir,
                config.pip_find_links.clone(),
                config.pip_no_index,
                config.packages.clone(),
            )
            .compiled_by(runtime.clone()),
            mailer: mailer(&config)?,
            plugins,
            host_calls,
            tls,
        });
        let jobs = Jobs::new(JobsSetup {
            db: db.clone(),
            runtime,
            data_dir: config.data_dir.clone(),
            workers: if role.runs_work() { config.workers } else { 0 },
            runs: runs.clone(),
            node_id: node.id().to_owned(),
            signals: signals.clone(),
        })?;
        jobs.start(shutdown.clone()).await?;
        // Every node keeps the schedules: a compare-and-set fires each period once.
        crate::schedules::start(db.clone(), jobs.clone(), shutdown.clone());
        crate::retention::start(
            db.clone(),
            config.data_dir.clone(),
            config.retention.clone(),
            config.database_url().starts_with("sqlite:"),
            shutdown.clone(),
        );
        let agents = crate::agents::Agents::new(
            db.clone(),
            jobs.runtime().clone(),
            audit.clone(),
            runs,
            crate::agents::AgentsNode {
                node_id: node.id().to_owned(),
                runs_here: role.runs_work(),
                signals: signals.clone(),
            },
        );
        agents.boot(shutdown.clone()).await?;
        crate::nodes::spawn_lease(
            crate::nodes::LeaseWork {
                node: node.clone(),
                jobs: jobs.clone(),
                agents: agents.clone(),
                audit: audit.clone(),
            },
            shutdown.clone(),
        );
        let mcp = if signals.is_shared() {
            crate::mcp::McpHandle::shared(signals.clone())
        } else {
            crate::mcp::McpHandle::new()
        };
        follow_shared_changes(&signals, &mcp, &jobs, shutdown.clone());
        let state = AppState::new(Inner {
            jwt: JwtKeys::new(&keys.jwt, config.access_token_ttl),
            audit,
            jobs: jobs.clone(),
            agents,
            mcp,
            signals,
            node,
            throttle: LoginThrottle::new(config.login_max_failures, config.lockout),
            auth_cache: AuthCache::new(config.auth_cache_ttl),
            setup_token: tokio::sync::Mutex::new(setup_token),
            metrics: metrics::install(),
            secrets_key: keys.secrets,
            db,
            config,
        });
        let router = if role.serves_http() {
            router(state.clone())
        } else {
            admin_router(state.clone())
        };
        Ok(Self {
            listener,
            local_addr,
            router,
            state,
            shutdown,
            _locks: locks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The pending first-run setup token, if no user exists yet.
    pub async fn setup_token(&self) -> Option<String> {
        self.state.setup_token.lock().await.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until_stopped(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Some(listener) = self.listener.take() else {
            tracing::info!(node = %self.state.node.id(), "worker running (no listener)");
            shutdown.await;
            self.stop().await;
            return Ok(());
        };
        tracing::info!(addr = %self.local_addr, "listening");
        // MCP sessions and listen streams stay open until told: end them as shutdown
        // starts, or the graceful drain would wait for them.
        let mcp = self.state.mcp.clone();
        let shutdown = async move {
            shutdown.await;
            mcp.shutdown();
        };
        // Streamed answers (SSE: MCP sessions, live logs) go out in several small writes;
        // with Nagle each later one waited for the client's delayed ACK (~40 ms).
        let listener = listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "could not set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            self.router
                .clone()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
        Self::stop_parts(&self.state, &self.shutdown).await;
        Ok(())
    }

    async fn stop(self) {
        Self::stop_parts(&self.state, &self.shutdown).await;
    }

    /// Stop claiming, hand agents (and, on a cluster, running jobs) back, leave.
    async fn stop_parts(state: &AppState, shutdown: &CancellationToken) {
        shutdown.cancel();
        state.agents.shutdown().await;
        if state.signals.is_shared() && state.jobs.workers() > 0 {
            // The other nodes take the jobs at once instead of after the lease.
            let note = format!(
                "node {} shut down while this job was running",
                state.node.id()
            );
            if let Err(e) = state.jobs.hand_back_all(&note).await {
                tracing::warn!(error = format!("{e:#}"), "handing running jobs back");
            }
        }
        state.node.leave().await;
        // Audit records still queued (the last host calls of the runs) are written first.
        if !state.audit.flush(std::time::Duration::from_secs(10)).await {
            tracing::error!("audit records were still queued at shutdown");
        }
        state.db.close().await;
        tracing::info!("server stopped");
    }
}

/// An application dropped without running (or after) stops its workers, lease loop and
/// agents, so nothing of it goes on beside the next one built on the same data dir.
impl Drop for Application {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Changes made on other nodes that this node's caches and sessions must see.
fn follow_shared_changes(
    signals: &crate::signals::Signals,
    mcp: &crate::mcp::McpHandle,
    jobs: &Jobs,
    shutdown: CancellationToken,
) {
    use crate::signals::Signal;
    if !signals.is_shared() {
        return;
    }
    let mut changes = signals.subscribe();
    let (mcp, jobs) = (mcp.clone(), jobs.clone());
    tokio::spawn(async move {
        loop {
            let signal = tokio::select! {
                () = shutdown.cancelled() => return,
                signal = changes.recv() => signal,
            };
            match signal {
                Ok(Signal::ToolsChanged { owner }) => mcp.tools_changed_here(&owner),
                Ok(Signal::PluginsChanged) => jobs.plugins().forget_unused().await,
                Ok(Signal::Resync) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    mcp.tools_may_have_changed();
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// A worker's admin listener: health and metrics only.
fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::handler))
        .fallback(not_found)
        .with_state(state)
}

/// The CAs scripts' TLS connections trust: the webpki roots plus `tls_extra_ca_certs`.
/// A file that cannot be read or holds no usable CA stops the start, naming the file.
fn tls_trust(config: &Config) -> anyhow::Result<Arc<automa_runtime::host::TlsTrust>> {
    use automa_runtime::host::TlsTrust;
    if config.tls_extra_ca_certs.is_empty() {
        return Ok(TlsTrust::webpki());
    }
    let trust = TlsTrust::from_pem_files(&config.tls_extra_ca_certs)
        .map_err(|e| anyhow::anyhow!("tls_extra_ca_certs: {e}"))?;
    tracing::info!(
        certificates = trust.extra_certificates(),
        "scripts' TLS connections trust extra CA certificates"
    );
    Ok(Arc::new(trust))
}

/// The SMTP mailer, when the server has SMTP settings.
fn mailer(config: &Config) -> anyhow::Result<Option<Arc<dyn automa_runtime::host::ports::Mailer>>> {
    let Some(settings) = &config.smtp else {
        return Ok(None);
    };
    let mailer = automa_runtime::host::SmtpMailer::new(settings)
        .map_err(|e| anyhow::anyhow!("SMTP settings: {e}"))?;
    Ok(Some(Arc::new(mailer)))
}

/// Where compiled code is cached: `cache_dir`, else `<data-dir>/cache`.
fn cache_dir(config: &Config) -> std::path::PathBuf {
    config
        .cache_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("cache"))
}

/// The Python runtime, with the compiled runner cached in the data directory (the
/// first start compiles it, which takes seconds; later starts load it in milliseconds).
async fn start_runtime(config: &Config) -> anyhow::Result<Arc<Runtime>> {
    let cache_dir = cache_dir(config);
    let (max_instances, workers) = (config.max_instances, config.workers);
    let fuel = config.deterministic_cpu;
    let runtime = tokio::task::spawn_blocking(move || {
        Runtime::new(RuntimeConfig {
            cache_dir: Some(cache_dir),
            pooled_instances: max_instances,
            fuel,
            // The freed slots that keep their pages for the next run: one per worker,
            // and a few for agents and plugin instances; the rest give memory back.
            warm_slots: u32::try_from(workers).unwrap_or(u32::MAX).saturating_add(4),
            ..RuntimeConfig::default()
        })
    })
    .await
    .context("starting the Python runtime")?
    .map_err(|e| anyhow::anyhow!("starting the Python runtime: {e:#}"))?;
    Ok(Arc::new(runtime))
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let body_limit = state.config.body_limit_bytes;
    Router::new()
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::handler))
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .merge(crate::web::router())
        .merge(crate::mcp::router(state.clone()))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn(metrics::track))
        // One access-log line per request, in a span carrying the request id (taken from
        // the client's `x-request-id` or generated, and echoed in the response).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let path = crate::telemetry::loggable_path(req.uri().path());
                    tracing::info_span!("http", method = %req.method(), path = %path, request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(CatchPanicLayer::custom(|_| {
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error",
            )
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// API responses carry tokens and personal data: no shared or browser caching
/// (unless a handler set its own `Cache-Control`).
async fn no_store(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/v1/");
    let mut resp = next.run(req).await;
    if is_api && !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Turns any error response that is neither JSON nor an HTML page (axum's 405,
/// body-limit 413, ...) into the standard `{"error":{...}}` body, keeping headers such as `Allow`.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    // JSON errors stay as they are, and so do the web pages' HTML error pages.
    let keep = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if keep {
        return resp;
    }
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let (mut parts, _) = resp.into_parts();
    let mut fresh = error_response(status, code_for_status(status), &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in parts.headers.iter() {
        fresh.headers_mut().insert(k.clone(), v.clone());
    }
    fresh.into_response()
}
