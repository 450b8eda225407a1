//! The small traits through which host implementations reach the world. The server
//! and the CLI plug in their own stores, mailers and sinks.

use crate::HostError;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

/// A boxed, sendable future, so the port traits stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One HTTP exchange, already checked against the policy.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// The method, upper case.
    pub method: String,
    /// The URL.
    pub url: url::Url,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, possibly empty.
    pub body: Vec<u8>,
    /// Time left for this hop.
    pub timeout: Duration,
    /// The largest response body to accept.
    pub max_response_bytes: u64,
    /// The checked addresses to connect to: the client must not resolve the host again.
    pub addresses: Vec<SocketAddr>,
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct InboundResponse {
    /// The status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends one HTTP request without following redirects.
pub trait HttpClient: Send + Sync {
    /// Send `request` to one of its pinned addresses.
    fn send(&self, request: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, HostError>>;
}

/// An email to hand to the SMTP server.
#[derive(Debug, Clone)]
pub struct OutboundEmail {
    /// Primary recipients.
    pub to: Vec<String>,
    /// Carbon copies.
    pub cc: Vec<String>,
    /// Blind carbon copies.
    pub bcc: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Optional HTML body.
    pub html: Option<String>,
    /// Optional Reply-To.
    pub reply_to: Option<String>,
    /// Attachments as (file name, content type, bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// Delivers email.
pub trait Mailer: Send + Sync {
    /// Send one message.
    fn send(&self, email: OutboundEmail) -> BoxFuture<'_, Result<(), HostError>>;
}

/// Reads secret values. Grants are checked before this is asked.
pub trait SecretStore: Send + Sync {
    /// The value of `name`, if it exists.
    fn get(&self, name: &str) -> BoxFuture<'_, Result<Option<String>, HostError>>;
}

/// The per-script key-value store.
pub trait StateStore: Send + Sync {
    /// The JSON text under `key`.
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, HostError>>;
    /// Store JSON text under `key`.
    fn set(&self, key: &str, value: &str) -> BoxFuture<'_, Result<(), HostError>>;
    /// Remove `key`; true when it existed.
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<bool, HostError>>;
    /// All keys, sorted.
    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, HostError>>;
    /// Keys and bytes (keys plus values) stored under keys other than `except`: what
    /// the store quota is checked against before a set. The default reads every entry.
    fn usage<'a>(&'a self, except: &'a str) -> BoxFuture<'a, Result<StateUsage, HostError>> {
        Box::pin(async move {
            let mut usage = StateUsage::default();
            for key in self.keys().await? {
                if key != except {
                    let value = self.get(&key).await?.unwrap_or_default();
                    usage.keys += 1;
                    usage.bytes += (key.len() + value.len()) as u64;
                }
            }
            Ok(usage)
        })
    }
}

/// What a state store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateUsage {
    pub keys: u64,
    pub bytes: u64,
}

/// The link between a running agent instance and its supervisor.
pub trait AgentChannel: Send + Sync {
    /// The next message, waiting up to `timeout`; `None` on timeout or stop request.
    fn receive(&self, timeout: Duration) -> BoxFuture<'_, Option<String>>;
    /// Publish an event (JSON text).
    fn emit(&self, value_json: String);
    /// Set the status text and numbers.
    fn set_status(&self, text: String, metrics: Option<Value>);
    /// Whether a stop was requested.
    fn stop_requested(&self) -> bool;
    /// Resolves once a stop is requested.
    fn stopped(&self) -> BoxFuture<'_, ()>;
    /// The agent showed a sign of life (any agent call).
    fn heartbeat(&self);
}

/// Runs host plugins for a script. The grant is checked before this is asked; the
/// implementation finds the plugin, validates the arguments and invokes it.
pub trait PluginCaller: Send + Sync {
    /// Call `function` of `plugin` with a JSON object of arguments; the JSON result.
    fn call<'a>(
        &'a self,
        plugin: &'a str,
        function: &'a str,
        args_json: &'a str,
    ) -> BoxFuture<'a, Result<String, HostError>>;
    /// The plugin's manifest as JSON.
    fn describe<'a>(&'a self, plugin: &'a str) -> BoxFuture<'a, Result<String, HostError>>;
}

/// The record of one host call, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCallRecord {
    /// The interface and function, e.g. `http.send`.
    pub operation: &'static str,
    /// What it was aimed at: a URL, recipients, a secret name, a key.
    pub target: String,
    /// `ok`, or the kind of [`HostError`].
    pub outcome: &'static str,
    /// The error message, when it failed.
    pub detail: Option<String>,
    /// How long it took; for a connection, how long it was open.
    pub duration: Duration,
}

/// What one TCP connection of a script did, audited once when it closes (or when it
/// was refused or failed to open).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionRecord {
    /// The host the script asked for, as given.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The address connected to, once resolved and reached.
    pub address: Option<SocketAddr>,
    /// Whether TLS was used (from the start or after `start-tls`).
    pub tls: bool,
    /// Bytes the script sent (plaintext, for TLS).
    pub bytes_sent: u64,
    /// Bytes the script received (plaintext, for TLS).
    pub bytes_received: u64,
}

impl ConnectionRecord {
    /// One line for logs: `tls to 1.2.3.4:443, 120 bytes sent, 4096 received`.
    pub fn summary(&self) -> String {
        let kind = if self.tls { "tls" } else { "plain" };
        let address = match self.address {
            Some(address) => format!(" to {address}"),
            None => String::new(),
        };
        format!(
            "{kind}{address}, {} bytes sent, {} received",
            self.bytes_sent, self.bytes_received
        )
    }
}

/// The disk budget of a directory the run writes through WASI too (its `/artifacts`):
/// what the host writes there counts against the same quota as the script's own files.
pub trait DiskSpace: Send + Sync {
    /// Count `bytes` more, or `false` (nothing counted) when they do not fit.
    fn charge(&self, bytes: u64) -> bool;
    /// Count `bytes` less.
    fn release(&self, bytes: u64);
    /// What a new file costs besides its bytes.
    fn entry_bytes(&self) -> u64;
}

/// Receives a record of every host call a script makes.
pub trait AuditSink: Send + Sync {
    /// Wait until the record of the next call can be kept, bounded in time; an error
    /// says why not, and the call then fails without running. By default always ready.
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    /// Record one call. Must not block.
    fn record(&self, call: HostCallRecord);

    /// Record one TCP connection (`net.connect`): `call` says how it ended and how long
    /// it was open, `connection` what it reached and carried. Must not block. By
    /// default the facts are summed up in the call's detail; a sink that stores
    /// structured details should keep `connection` as such.
    fn connection(&self, mut call: HostCallRecord, connection: &ConnectionRecord) {
        let summary = connection.summary();
        call.detail = Some(match call.detail.take() {
            Some(error) => format!("{error}; {summary}"),
            None => summary,
        });
        self.record(call);
    }
}

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// The script's stdout.
    Stdout,
    /// The script's stderr.
    Stderr,
}

/// Receives what a run produces while it runs: output, log lines and progress.
pub trait RunEvents: Send + Sync {
    /// A chunk of stdout or stderr, as written.
    fn output(&self, _stream: OutputStream, _chunk: &[u8]) {}
    /// A structured log line.
    fn log(&self, _level: crate::LogLevel, _message: &str, _fields: Option<&Value>) {}
    /// A progress report.
    fn progress(&self, _fraction: f32, _message: Option<&str>) {}
    /// From now on, replace `secret` with a marker in everything recorded (a plugin's
    /// secret, which the calling run must not see).
    fn also_redact(&self, _secret: &str) {}
}

/// Ports that do nothing: deny-all defaults for the optional ones.
pub struct Nothing;

impl AuditSink for Nothing {
    fn record(&self, _call: HostCallRecord) {}
}

impl RunEvents for Nothing {}

impl SecretStore for Nothing {
    fn get(&self, _name: &str) -> BoxFuture<'_, Result<Option<String>, HostError>> {
        Box::pin(async { Ok(None) })
    }
}

/// Secrets held in memory, e.g. decrypted by the server for one run.
#[derive(Debug, Default)]
pub struct MapSecrets(pub HashMap<String, String>);

impl SecretStore for MapSecrets {
    fn get(&self, name: &str) -> BoxFuture<'_, Result<Option<String>, HostError>> {
        let value = self.0.get(name).cloned();
        Box::pin(async move { Ok(value) })
    }
}

/// A state store in memory: for one-off CLI runs and tests.
#[derive(Debug, Default)]
pub struct MemoryState(Mutex<BTreeMap<String, String>>);

impl MemoryState {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, String>) -> R) -> Result<R, HostError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| HostError::Failed("state store poisoned".into()))?;
        Ok(f(&mut map))
    }
}

impl StateStore for MemoryState {
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, HostError>> {
        let value = self.with(|m| m.get(key).cloned());
        Box::pin(async move { value })
    }
    fn set(&self, key: &str, value: &str) -> BoxFuture<'_, Result<(), HostError>> {
        let done = self.with(|m| {
            m.insert(key.to_owned(), value.to_owned());
        });
        Box::pin(async move { done })
    }
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<bool, HostError>> {
        let done = self.with(|m| m.remove(key).is_some());
        Box::pin(async move { done })
    }
    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, HostError>> {
        let keys = self.with(|m| m.keys().cloned().collect());
        Box::pin(async move { keys })
    }
}
