//! One open TCP connection of a script (the `connection` resource): plain or TLS,
//! reads and writes within deadlines, and its audit record when it goes away.

use super::tls;
use crate::HostError;
use crate::bindings::automa::host::net::{TlsInfo, TlsOptions};
use crate::ports::{AuditSink, ConnectionRecord, HostCallRecord};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The largest chunk one `read` returns, whatever the guest asks for.
const MAX_READ: usize = 256 * 1024;

pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// After the connection's lifetime ran out or a failed `start-tls`.
    Closed,
}

/// An open connection, held in the context's resource table.
pub struct Connection {
    stream: Stream,
    /// Plaintext read ahead by `readable` and not yet handed to the guest.
    pending: Vec<u8>,
    /// The peer closed its side.
    eof: bool,
    target: String,
    record: ConnectionRecord,
    local: Option<SocketAddr>,
    tls_info: Option<TlsInfo>,
    opened: Instant,
    /// The end of the connection's allowed lifetime.
    expires: Instant,
    lifetime_ms: u64,
    /// The kind of the error that ended or last broke the connection, and its text.
    failure: Option<(&'static str, String)>,
    audit: Arc<dyn AuditSink>,
}

/// What a connection needs to know about the run it belongs to.
pub(crate) struct Opened {
    pub host: String,
    pub port: u16,
    pub stream: Stream,
    pub tls_info: Option<TlsInfo>,
    pub opened: Instant,
    pub lifetime: Duration,
    pub audit: Arc<dyn AuditSink>,
}

impl Connection {
    pub(crate) fn new(opened: Opened) -> Self {
        let tcp = match &opened.stream {
            Stream::Plain(tcp) => Some(tcp),
            Stream::Tls(tls) => Some(tls.get_ref().0),
            Stream::Closed => None,
        };
        let peer = tcp.and_then(|t| t.peer_addr().ok());
        let local = tcp.and_then(|t| t.local_addr().ok());
        let tls = matches!(opened.stream, Stream::Tls(_));
        Self {
            stream: opened.stream,
            pending: Vec::new(),
            eof: false,
            target: target(&opened.host, opened.port),
            record: ConnectionRecord {
                host: opened.host,
                port: opened.port,
                address: peer,
                tls,
                bytes_sent: 0,
                bytes_received: 0,
            },
            local,
            tls_info: opened.tls_info,
            opened: opened.opened,
            expires: opened.opened + opened.lifetime,
            lifetime_ms: u64::try_from(opened.lifetime.as_millis()).unwrap_or(u64::MAX),
            failure: None,
            audit: opened.audit,
        }
    }

    /// The remote address, `ip:port` or `[ip]:port`.
    pub(crate) fn peer_address(&self) -> String {
        self.record
            .address
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// What the TLS handshake agreed on, for a TLS connection.
    pub(crate) fn tls_info(&self) -> Option<TlsInfo> {
        self.tls_info.clone()
    }

    /// The local address, `ip:port` or `[ip]:port`.
    pub(crate) fn local_address(&self) -> String {
        self.local.map(|a| a.to_string()).unwrap_or_default()
    }

    /// Time left of the connection's lifetime; limit-reached once it is over.
    fn lifetime_left(&mut self) -> Result<Duration, HostError> {
        let left = self.expires.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.expire());
        }
        Ok(left)
    }

    /// The lifetime ran out: close the stream, report limit-reached from now on.
    fn expire(&mut self) -> HostError {
        self.stream = Stream::Closed;
        let error = HostError::LimitReached(format!(
            "the connection to {} was open for {} ms, the longest allowed; it is closed",
            self.target, self.lifetime_ms
        ));
        self.failure = Some((error.kind(), error.to_string()));
        error
    }

    /// How long to wait: the script's timeout within the connection's lifetime, and
    /// whether the lifetime (not the script's timeout) is what bounds it.
    fn wait_for(&mut self, timeout_ms: Option<u32>) -> Result<(Duration, bool), HostError> {
        let left = self.lifetime_left()?;
        Ok(match timeout_ms {
            Some(ms) if Duration::from_millis(u64::from(ms)) < left => {
                (Duration::from_millis(u64::from(ms)), false)
            }
            _ => (left, true),
        })
    }

    fn closed_error(&self) -> HostError {
        match &self.failure {
            Some((_, text)) => HostError::Failed(format!(
                "the connection to {} is closed ({text})",
                self.target
            )),
            None => HostError::Failed(format!("the connection to {} is closed", self.target)),
        }
    }

    fn broken(&mut self, action: &str, error: &std::io::Error) -> HostError {
        let error = HostError::Failed(format!("{action} {} failed: {error}", self.target));
        self.failure = Some((error.kind(), error.to_string()));
        error
    }

    /// Read up to `max` bytes (at most `budget`, the run's bytes left); empty at end
    /// of stream. Returns the bytes and how many of them count against the budget.
    pub(crate) async fn read(
        &mut self,
        max: u32,
        timeout_ms: Option<u32>,
        budget: u64,
    ) -> Result<(Vec<u8>, u64), HostError> {
        if max == 0 {
            return Err(HostError::InvalidInput(
                "read needs a maximum of at least 1 byte".into(),
            ));
        }
        let max = usize::try_from(max).unwrap_or(MAX_READ).min(MAX_READ);
        if !self.pending.is_empty() {
            let rest = self.pending.split_off(max.min(self.pending.len()));
            return Ok((std::mem::replace(&mut self.pending, rest), 0));
        }
        if self.eof {
            return Ok((Vec::new(), 0));
        }
        let (wait, by_lifetime) = self.wait_for(timeout_ms)?;
        let data = self.fill(max, wait, by_lifetime, budget).await?;
        let counted = data.len() as u64;
        Ok((data, counted))
    }

    /// Read once from the stream into a new buffer, within `wait`.
    async fn fill(
        &mut self,
        max: usize,
        wait: Duration,
        by_lifetime: bool,
        budget: u64,
    ) -> Result<Vec<u8>, HostError> {
        if budget == 0 {
            return Err(budget_error(&self.target));
        }
        let size = usize::try_from(budget).unwrap_or(max).min(max);
        let mut buf = vec![0u8; size];
        let read = match &mut self.stream {
            Stream::Plain(s) => tokio::time::timeout(wait, s.read(&mut buf)).await,
            Stream::Tls(s) => tokio::time::timeout(wait, s.read(&mut buf)).await,
            Stream::Closed => return Err(self.closed_error()),
        };
        match read {
            Err(_) if by_lifetime => Err(self.expire()),
            Err(_) => Err(HostError::Timeout(format!(
                "reading from {} took longer than {} ms",
                self.target,
                wait.as_millis()
            ))),
            // A peer that closes without a TLS close-notify ends the stream like
            // any other close (as Python's `suppress_ragged_eofs` does).
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.eof = true;
                Ok(Vec::new())
            }
            Ok(Err(e)) => Err(self.broken("reading from", &e)),
            Ok(Ok(n)) => {
                if n == 0 {
                    self.eof = true;
                }
                buf.truncate(n);
                self.record.bytes_received += n as u64;
                Ok(buf)
            }
        }
    }

    /// Whether a read would return at once, waiting up to `timeout_ms`. Data read
    /// while waiting is kept for the next read; returns the bytes that counted.
    pub(crate) async fn readable(&mut self, timeout_ms: u32, budget: u64) -> (bool, u64) {
        if !self.pending.is_empty() || self.eof || matches!(self.stream, Stream::Closed) {
            return (true, 0);
        }
        if budget == 0 {
            // A read fails at once with limit-reached.
            return (true, 0);
        }
        let Ok((wait, by_lifetime)) = self.wait_for(Some(timeout_ms)) else {
            return (true, 0);
        };
        match self.fill(MAX_READ, wait, by_lifetime, budget).await {
            Ok(data) => {
                let counted = data.len() as u64;
                self.pending = data;
                (true, counted)
            }
            Err(HostError::Timeout(_)) => (false, 0),
            // Broken or expired: the next read reports it at once.
            Err(_) => (true, 0),
        }
    }

    /// Write some of `data` (at most `budget` bytes); how many were taken.
    pub(crate) async fn write(
        &mut self,
        data: &[u8],
        timeout_ms: Option<u32>,
        budget: u64,
    ) -> Result<u32, HostError> {
        if data.is_empty() {
            return Ok(0);
        }
        if budget == 0 {
            return Err(budget_error(&self.target));
        }
        let (wait, by_lifetime) = self.wait_for(timeout_ms)?;
        let take = usize::try_from(budget)
            .unwrap_or(data.len())
            .min(data.len());
        let data = &data[..take];
        let written = match &mut self.stream {
            Stream::Plain(s) => tokio::time::timeout(wait, write_some(s, data)).await,
            Stream::Tls(s) => tokio::time::timeout(wait, write_some(s.as_mut(), data)).await,
            Stream::Closed => return Err(self.closed_error()),
        };
        match written {
            Err(_) if by_lifetime => Err(self.expire()),
            Err(_) => Err(HostError::Timeout(format!(
                "writing to {} took longer than {} ms",
                self.target,
                wait.as_millis()
            ))),
            Ok(Err(e)) => Err(self.broken("writing to", &e)),
            Ok(Ok(n)) => {
                self.record.bytes_sent += n as u64;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }
        }
    }

    /// Close the writing side (after a TLS close-notify).
    pub(crate) async fn shutdown_write(&mut self) -> Result<(), HostError> {
        let (wait, by_lifetime) = self.wait_for(None)?;
        let done = match &mut self.stream {
            Stream::Plain(s) => tokio::time::timeout(wait, s.shutdown()).await,
            Stream::Tls(s) => tokio::time::timeout(wait, s.shutdown()).await,
            Stream::Closed => return Err(self.closed_error()),
        };
        match done {
            Err(_) if by_lifetime => Err(self.expire()),
            Err(_) => Err(HostError::Timeout(format!(
                "closing the writing side to {} took too long",
                self.target
            ))),
            Ok(Err(e)) => Err(self.broken("closing the writing side to", &e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Upgrade a plain connection to TLS within `timeout` (capped by the lifetime).
    pub(crate) async fn start_tls(
        &mut self,
        trust: &tls::TlsTrust,
        options: &TlsOptions,
        timeout: Duration,
    ) -> Result<TlsInfo, HostError> {
        match &self.stream {
            Stream::Plain(_) => {}
            Stream::Tls(_) => {
                return Err(HostError::InvalidInput(format!(
                    "the connection to {} already uses TLS",
                    self.target
                )));
            }
            Stream::Closed => return Err(self.closed_error()),
        }
        // Bytes that arrived before the handshake would be taken as protected data
        // (the STARTTLS injection attack): refuse instead.
        if !self.pending.is_empty() {
            return Err(HostError::Failed(format!(
                "{} sent {} bytes before the TLS handshake began; refusing to upgrade",
                self.target,
                self.pending.len()
            )));
        }
        let left = self.lifetime_left()?;
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(self.closed_error());
        };
        let host = self.record.host.clone();
        let result =
            tls::handshake(tcp, trust, options, &host, &self.target, timeout.min(left)).await;
        match result {
            Ok((stream, info)) => {
                self.stream = Stream::Tls(Box::new(stream));
                self.record.tls = true;
                self.tls_info = Some(info.clone());
                Ok(info)
            }
            Err(error) => {
                self.failure = Some((error.kind(), error.to_string()));
                Err(error)
            }
        }
    }
}

/// Write what the stream takes at once and push it out (TLS buffers records).
async fn write_some<S>(stream: &mut S, data: &[u8]) -> std::io::Result<usize>
where
    S: tokio::io::AsyncWrite + Unpin,
{
    let n = stream.write(data).await?;
    stream.flush().await?;
    Ok(n)
}

fn budget_error(target: &str) -> HostError {
    HostError::LimitReached(format!(
        "this run already moved the most network bytes allowed; nothing more can be sent \
         to or read from {target}"
    ))
}

/// `host:port`, with brackets around an IPv6 address.
pub(crate) fn target(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Drop for Connection {
    /// Every connection is audited once, when the script closes it or the run ends.
    fn drop(&mut self) {
        let (outcome, detail) = match self.failure.take() {
            Some((kind, text)) => (kind, Some(text)),
            None => ("ok", None),
        };
        let call = HostCallRecord {
            operation: "net.connect",
            target: self.target.clone(),
            outcome,
            detail,
            duration: self.opened.elapsed(),
        };
        self.audit.connection(call, &self.record);
    }
}
