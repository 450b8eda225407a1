//! `automa:host/http`: allowlisted outbound HTTP with private-address protection.
//!
//! Every hop (the first request and each redirect) is checked against the allowlist,
//! its host is resolved here, and non-public addresses are refused unless the matching
//! rule allows them. The client then connects only to the checked addresses, so a DNS
//! answer cannot change between the check and the connection.

use crate::bindings::automa::host::http::{Header, Host, Request, Response};
use crate::bindings::automa::host::types::Error as WitError;
use crate::ports::{BoxFuture, HttpClient, InboundResponse, OutboundRequest};
use crate::{HostContext, HostError};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use url::Url;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Host for HostContext {
    async fn send(&mut self, req: Request) -> Result<Response, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let target = format!("{} {}", req.method, audit_url(&req.url));
        let result = self.send_http(req).await;
        self.audit("http.send", target, started, &result);
        result.map_err(Into::into)
    }
}

impl HostContext {
    async fn send_http(&mut self, req: Request) -> Result<Response, HostError> {
        let policy = self.capabilities.http.clone();
        let mut method = req.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(HostError::InvalidInput(format!(
                "unsupported HTTP method {:?}; use one of {}",
                req.method,
                METHODS.join(", ")
            )));
        }
        let mut url = Url::parse(&req.url)
            .map_err(|e| HostError::InvalidInput(format!("invalid URL {:?}: {e}", req.url)))?;
        let mut body = req.body.unwrap_or_default();
        if body.len() as u64 > policy.max_request_bytes {
            return Err(HostError::TooLarge(format!(
                "request body of {} bytes exceeds the limit of {} bytes",
                body.len(),
                policy.max_request_bytes
            )));
        }
        let mut headers: Vec<(String, String)> =
            req.headers.into_iter().map(|h| (h.name, h.value)).collect();
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        {
            headers.push((
                "User-Agent".into(),
                concat!("automa/", env!("CARGO_PKG_VERSION")).into(),
            ));
        }
        let limit_ms = req
            .timeout_ms
            .unwrap_or(policy.max_timeout_ms)
            .min(policy.max_timeout_ms);
        let deadline = Instant::now() + Duration::from_millis(u64::from(limit_ms));

        for hop in 0..=policy.max_redirects {
            if self.counters.http_requests >= policy.max_requests_per_run {
                return Err(HostError::LimitReached(format!(
                    "this run already sent {} HTTP requests, the most allowed",
                    policy.max_requests_per_run
                )));
            }
            if !matches!(url.scheme(), "http" | "https") {
                return Err(HostError::InvalidInput(format!(
                    "unsupported URL scheme {:?}; use http or https",
                    url.scheme()
                )));
            }
            let rule = policy
                .rule_for(&method, &url)
                .ok_or_else(|| denied_message(&self.grantee(), &method, &url, hop > 0))?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let addresses = resolve(&url, rule.allow_private, remaining).await?;
            self.counters.http_requests += 1;
            let answer = self
                .http
                .send(OutboundRequest {
                    method: method.clone(),
                    url: url.clone(),
                    headers: headers.clone(),
                    body: body.clone(),
                    timeout: deadline.saturating_duration_since(Instant::now()),
                    max_response_bytes: policy.max_response_bytes,
                    addresses,
                })
                .await?;
            match redirect_target(&url, &answer) {
                Some(next) if req.follow_redirects => {
                    if answer.status == 303
                        || (matches!(answer.status, 301 | 302) && method == "POST")
                    {
                        method = "GET".into();
                        body.clear();
                    }
                    if !keeps_credentials(&url, &next) {
                        headers.retain(|(n, _)| !is_credential_header(n));
                    }
                    url = next;
                }
                _ => return Ok(to_wit(answer, &url)),
            }
        }
        Err(HostError::Failed(format!(
            "too many redirects (more than {})",
            policy.max_redirects
        )))
    }
}

fn to_wit(answer: InboundResponse, url: &Url) -> Response {
    Response {
        status: answer.status,
        headers: answer
            .headers
            .into_iter()
            .map(|(name, value)| Header { name, value })
            .collect(),
        body: answer.body,
        url: url.to_string(),
    }
}

/// Whether credentials written for `from` may follow a redirect to `to`: only to the
/// same host and port, and never from https down to plain http (where anyone on the path
/// could read them). An http → https upgrade on the default ports keeps them.
fn keeps_credentials(from: &Url, to: &Url) -> bool {
    let downgrade = from.scheme() == "https" && to.scheme() != "https";
    // `port()` is `None` for a scheme's default port, so 80 → 443 counts as the same.
    !downgrade && from.host_str() == to.host_str() && from.port() == to.port()
}

fn is_credential_header(name: &str) -> bool {
    ["authorization", "proxy-authorization", "cookie"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

fn redirect_target(current: &Url, answer: &InboundResponse) -> Option<Url> {
    if !matches!(answer.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = answer
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))?;
    current.join(&location.1).ok()
}

fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn denied_message(
    (who, where_): &(String, String),
    method: &str,
    url: &Url,
    redirected: bool,
) -> HostError {
    let target = host_port(url);
    let via = if redirected {
        " (reached by a redirect)"
    } else {
        ""
    };
    HostError::Denied(format!(
        "HTTP {method} to {target}{via} is not allowed: no entry of the HTTP allowlist of \
         {who} matches it. An admin can grant it in {where_} (for `automa run`: \
         --allow-http {target})"
    ))
}

/// The URL without query string or credentials: what the audit log may keep.
fn audit_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.to_string()
        }
        Err(_) => raw.chars().take(200).collect(),
    }
}

async fn resolve(
    url: &Url,
    allow_private: bool,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, HostError> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| HostError::InvalidInput(format!("no port for {url}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| HostError::InvalidInput(format!("no host in {url}")))?;
    crate::resolve::resolve_checked(host, port, allow_private, timeout).await
}

/// The real HTTP client: reqwest over rustls, no proxy, no automatic redirects.
#[derive(Debug, Default, Clone)]
pub struct ReqwestClient;

impl ReqwestClient {
    /// A client; installs the ring crypto provider as the process default if none is.
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self
    }

    async fn exchange(request: OutboundRequest) -> Result<InboundResponse, HostError> {
        let host = request.url.host_str().unwrap_or_default().to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .resolve_to_addrs(&host, &request.addresses)
            .timeout(request.timeout)
            .build()
            .map_err(|e| HostError::Failed(format!("HTTP client: {e}")))?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| HostError::InvalidInput(e.to_string()))?;
        let mut builder = client.request(method, request.url.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let mut response = builder.send().await.map_err(map_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            if (body.len() + chunk.len()) as u64 > request.max_response_bytes {
                return Err(HostError::TooLarge(format!(
                    "response body exceeds the limit of {} bytes",
                    request.max_response_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(InboundResponse {
            status,
            headers,
            body,
        })
    }
}

impl HttpClient for ReqwestClient {
    fn send(&self, request: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, HostError>> {
        Box::pin(Self::exchange(request))
    }
}

fn map_error(error: reqwest::Error) -> HostError {
    if error.is_timeout() {
        return HostError::Timeout("the HTTP request took longer than its time limit".into());
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    HostError::Failed(message)
}
