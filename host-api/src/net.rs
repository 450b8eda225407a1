//! `automa:host/net`: outbound TCP connections, optionally TLS performed here, for
//! the guest's `socket` and `ssl` modules.
//!
//! A connect is checked against the script's `net` rules (and its unrestricted HTTP
//! rules), the host is resolved here with the same refusal of non-public addresses as
//! HTTP, and only the checked addresses are dialled. Per-run caps bound the number of
//! connections and the bytes moved; each connection has a longest lifetime. Refused
//! and failed connects are audited at once, open connections when they close.
//!
//! A TLS session (`tls-session`) is TLS on bytes for the script's own event loop: it
//! does no I/O, its ciphertext travels over the run's checked connections, so one
//! can only be started while a connection is open, and sessions count against the
//! connection cap.

mod connection;
mod tls;
mod tls_session;

pub use connection::Connection;
pub use tls::TlsTrust;
pub use tls_session::TlsSession;

use crate::bindings::automa::host::net::{
    Host, HostConnection, HostTlsSession, TlsInfo, TlsOptions, TlsRead, TlsStatus,
};
use crate::bindings::automa::host::types::Error as WitError;
use crate::ports::{ConnectionRecord, HostCallRecord};
use crate::resolve::resolve_checked;
use crate::{HostContext, HostError};
use connection::{Opened, Stream, target};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use wasmtime::component::{Resource, ResourceTable};

/// The run's open connections and what they used of the caps.
#[derive(Default)]
pub(crate) struct NetState {
    table: ResourceTable,
    connections: u32,
    /// Connections open now.
    open: u32,
    /// TLS sessions started.
    sessions: u32,
    bytes: u64,
}

impl Host for HostContext {
    async fn resolve(&mut self, host: String, port: u16) -> Result<Vec<String>, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = self.resolve_allowed(&host, port).await;
        self.audit("net.resolve", target(&host, port), started, &result);
        result
            .map(|addresses| addresses.iter().map(|a| a.ip().to_string()).collect())
            .map_err(Into::into)
    }

    async fn connect(
        &mut self,
        host: String,
        port: u16,
        tls: Option<TlsOptions>,
        timeout_ms: Option<u32>,
    ) -> Result<Resource<Connection>, WitError> {
        // The connection is audited when it closes (or here when it fails): the
        // record's room is waited for before anything is dialled, like every call.
        self.audit_ready().await?;
        let started = Instant::now();
        self.counters.total = self.counters.total.saturating_add(1);
        match self.open(&host, port, tls.as_ref(), timeout_ms).await {
            Ok(connection) => {
                let handle =
                    self.net.table.push(connection).map_err(|e| {
                        WitError::Failed(format!("cannot keep the connection: {e}"))
                    })?;
                self.net.open += 1;
                Ok(handle)
            }
            Err((error, address)) => {
                // Never opened: audited here, as the connection's only record.
                let call = HostCallRecord {
                    operation: "net.connect",
                    target: target(&host, port),
                    outcome: error.kind(),
                    detail: Some(error.to_string()),
                    duration: started.elapsed(),
                };
                let connection = ConnectionRecord {
                    host,
                    port,
                    address,
                    tls: tls.is_some(),
                    bytes_sent: 0,
                    bytes_received: 0,
                };
                self.audit.connection(call, &connection);
                Err(error.into())
            }
        }
    }

    async fn new_tls_session(
        &mut self,
        server_name: String,
        alpn: Vec<String>,
    ) -> Result<Resource<TlsSession>, WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let result = self.start_session(&server_name, &alpn);
        match result {
            Ok(session) => {
                self.counters.total = self.counters.total.saturating_add(1);
                self.net
                    .table
                    .push(session)
                    .map_err(|e| WitError::Failed(format!("cannot keep the TLS session: {e}")))
            }
            Err(error) => {
                // Never started: audited here; a started one when it is dropped.
                let result: Result<(), _> = Err(error.clone());
                self.audit("net.tls-session", server_name, started, &result);
                Err(error.into())
            }
        }
    }
}

impl HostContext {
    /// The checked addresses of `host`, when a rule admits it and `port`.
    async fn resolve_allowed(
        &mut self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, HostError> {
        check_target(host, port)?;
        let admission = self
            .capabilities
            .net_admission(host, port)
            .ok_or_else(|| self.net_denied(host, port))?;
        let timeout =
            Duration::from_millis(u64::from(self.capabilities.net.max_connect_timeout_ms));
        resolve_checked(host, port, admission.allow_private, timeout).await
    }

    /// Check, resolve, dial and (with `tls`) handshake. On failure, the error and the
    /// address reached, if any.
    async fn open(
        &mut self,
        host: &str,
        port: u16,
        tls: Option<&TlsOptions>,
        timeout_ms: Option<u32>,
    ) -> Result<Connection, (HostError, Option<SocketAddr>)> {
        let policy = self.capabilities.net.clone();
        check_target(host, port).map_err(|e| (e, None))?;
        let admission = self
            .capabilities
            .net_admission(host, port)
            .ok_or_else(|| (self.net_denied(host, port), None))?;
        if self.net.connections >= policy.max_connections_per_run {
            return Err((
                HostError::LimitReached(format!(
                    "this run already opened {} network connections, the most allowed",
                    policy.max_connections_per_run
                )),
                None,
            ));
        }
        self.net.connections += 1;
        self.counters.net_connections = self.net.connections;
        let limit_ms = timeout_ms
            .unwrap_or(policy.max_connect_timeout_ms)
            .min(policy.max_connect_timeout_ms);
        let limit = Duration::from_millis(u64::from(limit_ms));
        let deadline = Instant::now() + limit;
        let addresses = resolve_checked(host, port, admission.allow_private, limit)
            .await
            .map_err(|e| (e, None))?;
        let target = target(host, port);
        let tcp = dial(&addresses, &target, deadline, limit_ms)
            .await
            .map_err(|e| (e, None))?;
        let address = tcp.peer_addr().ok();
        let opened = Instant::now();
        let (stream, tls_info) = match tls {
            Some(options) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let (stream, info) = tls::handshake(tcp, &self.tls, options, host, &target, left)
                    .await
                    .map_err(|e| (e, address))?;
                (Stream::Tls(Box::new(stream)), Some(info))
            }
            None => (Stream::Plain(tcp), None),
        };
        Ok(Connection::new(Opened {
            host: host.to_owned(),
            port,
            stream,
            tls_info,
            opened,
            lifetime: Duration::from_millis(policy.max_connection_ms),
            audit: self.audit.clone(),
        }))
    }

    /// A TLS session for `server_name`, when the run has a connection to carry it and
    /// has not used up its connection cap.
    fn start_session(
        &mut self,
        server_name: &str,
        alpn: &[String],
    ) -> Result<TlsSession, HostError> {
        self.call_budget()?;
        if self.net.open == 0 {
            let (who, where_) = self.grantee();
            return Err(HostError::Denied(format!(
                "a TLS session for {server_name} needs an open network connection to carry \
                 it, and this run has none: connect to an allowed host first (asyncio and \
                 anyio do). Which hosts {who} may reach is set in {where_}"
            )));
        }
        let cap = self.capabilities.net.max_connections_per_run;
        if self.net.sessions >= cap {
            return Err(HostError::LimitReached(format!(
                "this run already started {cap} TLS sessions, the most allowed (the same \
                 cap as for network connections)"
            )));
        }
        let session = TlsSession::new(&self.tls, server_name, alpn, self.audit.clone())?;
        self.net.sessions += 1;
        Ok(session)
    }

    fn net_denied(&self, host: &str, port: u16) -> HostError {
        let (who, where_) = self.grantee();
        let target = target(host, port);
        HostError::Denied(format!(
            "a network connection to {target} is not allowed: no entry of the network \
             allowlist of {who} matches it. An admin can grant it in {where_} (a net rule \
             {target}; for `automa run`: --allow-net {target})"
        ))
    }
}

/// A host name or an IP address and a port the guest may ask for at all.
fn check_target(host: &str, port: u16) -> Result<(), HostError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let valid = !bare.is_empty()
        && bare.len() <= 253
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'));
    if !valid {
        return Err(HostError::InvalidInput(format!(
            "invalid host {host:?}: use a host name (IDNA-encoded) or an IP address"
        )));
    }
    if port == 0 {
        return Err(HostError::InvalidInput(format!(
            "port 0 is not a port to connect to on {host}"
        )));
    }
    Ok(())
}

/// Connect to the first of `addresses` that answers before `deadline`.
async fn dial(
    addresses: &[SocketAddr],
    target: &str,
    deadline: Instant,
    limit_ms: u32,
) -> Result<TcpStream, HostError> {
    let mut last = None;
    for address in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, TcpStream::connect(address)).await {
            Err(_) => break,
            Ok(Ok(tcp)) => {
                // Request/response protocols write small pieces; Nagle would hold
                // them back waiting for an acknowledgement.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Ok(Err(e)) => last = Some((address, e)),
        }
    }
    match last {
        Some((address, e)) if Instant::now() < deadline => Err(HostError::Failed(match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("connection refused by {target} ({address})")
            }
            _ => format!("cannot connect to {target} ({address}): {e}"),
        })),
        _ => Err(HostError::Timeout(format!(
            "connecting to {target} took longer than {limit_ms} ms"
        ))),
    }
}

impl HostConnection for HostContext {
    async fn read(
        &mut self,
        this: Resource<Connection>,
        max: u32,
        timeout_ms: Option<u32>,
    ) -> Result<Vec<u8>, WitError> {
        let budget = self.net_budget();
        let (data, counted) = self
            .connection(&this)?
            .read(max, timeout_ms, budget)
            .await?;
        self.net.bytes += counted;
        Ok(data)
    }

    async fn write(
        &mut self,
        this: Resource<Connection>,
        data: Vec<u8>,
        timeout_ms: Option<u32>,
    ) -> Result<u32, WitError> {
        let budget = self.net_budget();
        let written = self
            .connection(&this)?
            .write(&data, timeout_ms, budget)
            .await?;
        self.net.bytes += u64::from(written);
        Ok(written)
    }

    async fn readable(&mut self, this: Resource<Connection>, timeout_ms: u32) -> bool {
        let budget = self.net_budget();
        let Ok(connection) = self.connection(&this) else {
            return true;
        };
        let (ready, counted) = connection.readable(timeout_ms, budget).await;
        self.net.bytes += counted;
        ready
    }

    async fn start_tls(
        &mut self,
        this: Resource<Connection>,
        options: TlsOptions,
        timeout_ms: Option<u32>,
    ) -> Result<TlsInfo, WitError> {
        let cap = self.capabilities.net.max_connect_timeout_ms;
        let timeout = Duration::from_millis(u64::from(timeout_ms.unwrap_or(cap).min(cap)));
        let trust = self.tls.clone();
        let connection = self.connection(&this)?;
        Ok(connection.start_tls(&trust, &options, timeout).await?)
    }

    async fn tls_info(&mut self, this: Resource<Connection>) -> Option<TlsInfo> {
        self.connection(&this).ok().and_then(|c| c.tls_info())
    }

    async fn shutdown_write(&mut self, this: Resource<Connection>) -> Result<(), WitError> {
        Ok(self.connection(&this)?.shutdown_write().await?)
    }

    async fn peer_address(&mut self, this: Resource<Connection>) -> String {
        self.connection(&this)
            .map(|c| c.peer_address())
            .unwrap_or_default()
    }

    async fn local_address(&mut self, this: Resource<Connection>) -> String {
        self.connection(&this)
            .map(|c| c.local_address())
            .unwrap_or_default()
    }

    async fn drop(&mut self, this: Resource<Connection>) -> wasmtime::Result<()> {
        // Dropping the connection closes it and writes its audit record.
        self.net.table.delete(this)?;
        self.net.open = self.net.open.saturating_sub(1);
        Ok(())
    }
}

impl HostTlsSession for HostContext {
    async fn receive(
        &mut self,
        this: Resource<TlsSession>,
        data: Vec<u8>,
    ) -> Result<(u32, TlsStatus), WitError> {
        Ok(self.session(&this)?.receive(&data)?)
    }

    async fn receive_eof(&mut self, this: Resource<TlsSession>) -> Result<TlsStatus, WitError> {
        Ok(self.session(&this)?.receive_eof()?)
    }

    async fn status(&mut self, this: Resource<TlsSession>) -> Result<TlsStatus, WitError> {
        Ok(self.session(&this)?.status()?)
    }

    async fn transmit(&mut self, this: Resource<TlsSession>, max: u32) -> Vec<u8> {
        self.session(&this)
            .map(|s| s.transmit(max))
            .unwrap_or_default()
    }

    async fn read(&mut self, this: Resource<TlsSession>, max: u32) -> Result<TlsRead, WitError> {
        Ok(self.session(&this)?.read(max)?)
    }

    async fn write(&mut self, this: Resource<TlsSession>, data: Vec<u8>) -> Result<u32, WitError> {
        Ok(self.session(&this)?.write(&data)?)
    }

    async fn close(&mut self, this: Resource<TlsSession>) {
        if let Ok(session) = self.session(&this) {
            session.close();
        }
    }

    async fn info(&mut self, this: Resource<TlsSession>) -> Option<TlsInfo> {
        self.session(&this).ok().and_then(|s| s.info())
    }

    async fn drop(&mut self, this: Resource<TlsSession>) -> wasmtime::Result<()> {
        // Dropping the session writes its audit record.
        self.net.table.delete(this)?;
        Ok(())
    }
}

impl HostContext {
    fn connection(&mut self, this: &Resource<Connection>) -> Result<&mut Connection, HostError> {
        self.net
            .table
            .get_mut(this)
            .map_err(|e| HostError::Failed(format!("no such connection: {e}")))
    }

    fn session(&mut self, this: &Resource<TlsSession>) -> Result<&mut TlsSession, HostError> {
        self.net
            .table
            .get_mut(this)
            .map_err(|e| HostError::Failed(format!("no such TLS session: {e}")))
    }

    /// Network bytes this run may still move.
    fn net_budget(&self) -> u64 {
        self.capabilities
            .net
            .max_bytes_per_run
            .saturating_sub(self.net.bytes)
    }
}
