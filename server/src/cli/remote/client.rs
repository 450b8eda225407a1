//! A thin HTTP client over the public `/api/v1`: bearer token, JSON in and out, the API's
//! `{"error":{"code","message"}}` turned into a plain error, pages followed.

use anyhow::{Context as _, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::fmt;

/// An error answer of the API, shown as the server worded it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, HTTP {})",
            self.message,
            self.code,
            self.status.as_u16()
        )
    }
}

impl std::error::Error for ApiError {}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client for the server at `base` (scheme, host, port, optional path prefix).
    pub fn new(base: &str, token: Option<String>) -> anyhow::Result<Self> {
        let base = normalise_url(base)?;
        // reqwest is built without a default crypto provider: pick the tree's one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("automa-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self { http, base, token })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends a request with an optional JSON body and returns the JSON answer
    /// (`Value::Null` for an empty one).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut builder = self.request(method, path);
        if let Some(body) = body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let resp = builder.send().await.map_err(|e| self.unreachable(e))?;
        json_answer(resp).await
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::DELETE, path, None).await
    }

    /// Every item of a paginated list (`{"items":[...],"next_cursor":...}`).
    pub async fn list_all(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={}", encode(c)),
                None => format!("{path}{sep}limit=200"),
            };
            let page = self.get(&url).await?;
            if let Some(list) = page["items"].as_array() {
                items.extend(list.iter().cloned());
            }
            match page["next_cursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
    }

    /// One page of a sequence-numbered history (a job's log, an agent's events): its
    /// entries, and the path of the next page when the answer's `Link` header names
    /// one (its query joined to `path`, so a base URL with a prefix keeps it).
    pub async fn history_page(&self, path: &str) -> anyhow::Result<(Vec<Value>, Option<String>)> {
        let resp = self
            .request(Method::GET, path)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let link = resp
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let entries = match json_answer(resp).await? {
            Value::Array(entries) => entries,
            other => anyhow::bail!("expected a list of entries, the server answered {other}"),
        };
        let next = crate::api::seq_page::next_link(link.as_deref()).and_then(|target| {
            let query = target.split_once('?')?.1;
            let own = path.split_once('?').map_or(path, |(p, _)| p);
            Some(format!("{own}?{query}"))
        });
        Ok((entries, next))
    }

    /// A GET with `Accept: text/event-stream`, for the caller to read as SSE.
    pub async fn stream(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let resp = self
            .request(Method::GET, path)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if !resp.status().is_success() {
            return Err(api_error(resp).await);
        }
        Ok(resp)
    }

    fn unreachable(&self, e: reqwest::Error) -> anyhow::Error {
        anyhow::anyhow!("cannot reach the server at {}: {e}", self.base)
    }
}

async fn json_answer(resp: reqwest::Response) -> anyhow::Result<Value> {
    if !resp.status().is_success() {
        return Err(api_error(resp).await);
    }
    let bytes = resp.bytes().await.context("reading the answer")?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).context("the server's answer is not JSON")
}

async fn api_error(resp: reqwest::Response) -> anyhow::Error {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let error = parsed.as_ref().map(|v| &v["error"]);
    match error.and_then(|e| Some((e["code"].as_str()?, e["message"].as_str()?))) {
        Some((code, message)) => ApiError {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
        .into(),
        None => {
            let text = String::from_utf8_lossy(&body);
            let text = text.trim();
            let reason = status.canonical_reason().unwrap_or("error");
            if text.is_empty() {
                anyhow::anyhow!("the server answered HTTP {} {reason}", status.as_u16())
            } else {
                anyhow::anyhow!(
                    "the server answered HTTP {} {reason}: {text}",
                    status.as_u16()
                )
            }
        }
    }
}

/// `https://host/prefix/` → `https://host/prefix`; anything but http(s) is refused.
pub fn normalise_url(raw: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(raw.trim())
        .with_context(|| format!("{raw:?} is not a URL (e.g. https://automa.example.org)"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("the server URL must start with http:// or https://, got {raw:?}");
    }
    if url.host_str().is_none() {
        bail!("the server URL {raw:?} has no host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("the server URL {raw:?} must not have a query or fragment");
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
