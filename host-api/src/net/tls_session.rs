//! A client TLS session on bytes (the `tls-session` resource): rustls's
//! `ClientConnection` driven by ciphertext in and out, for TLS that runs inside the
//! script's own event loop (the guest's `ssl.MemoryBIO` / `SSLObject`, as asyncio's
//! and anyio's TLS use them).
//!
//! It does no I/O: the script carries its ciphertext over one of its connections,
//! each checked against the allowlist when it was opened. Trust is the same as for
//! `connect`'s TLS (webpki roots plus the admin's extra CAs, verification always on,
//! the certificate checked against the session's server name). Every buffer is
//! bounded, so a script feeding garbage or floods gets an error, never host memory
//! that grows with what it sends.

use super::tls::{self, TlsTrust};
use crate::HostError;
use crate::bindings::automa::host::net::{TlsInfo, TlsRead, TlsStatus};
use crate::ports::{AuditSink, HostCallRecord};
use rustls::ClientConnection;
use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::time::Instant;

/// The most bytes one call takes or returns.
pub(crate) const MAX_CHUNK: usize = 256 * 1024;

/// The most plaintext one `read` returns (more than the session ever holds).
const MAX_PLAINTEXT_READ: usize = 64 * 1024;

/// The bound of the session's outgoing ciphertext (and of plaintext written before the
/// handshake finished). rustls bounds the rest itself: at most 64 KiB of incomplete
/// records or handshake messages, and it stops taking ciphertext once about 16 KiB of
/// plaintext wait to be read.
const BUFFER_LIMIT: usize = 64 * 1024;

/// One client TLS session of a run, held in the context's resource table.
pub struct TlsSession {
    connection: ClientConnection,
    /// The name the certificate must match, as the script gave it.
    server_name: String,
    /// The first TLS failure; every later call reports it again.
    failure: Option<HostError>,
    /// `receive-eof` was called.
    eof: bool,
    info: Option<TlsInfo>,
    opened: Instant,
    received: u64,
    transmitted: u64,
    plaintext_read: u64,
    plaintext_written: u64,
    audit: Arc<dyn AuditSink>,
}

impl TlsSession {
    /// A session for `server_name` offering `alpn`, its ClientHello waiting.
    pub(crate) fn new(
        trust: &TlsTrust,
        server_name: &str,
        alpn: &[String],
        audit: Arc<dyn AuditSink>,
    ) -> Result<Self, HostError> {
        let (text, name) = tls::server_name(server_name)?;
        let config = trust.client_config(alpn)?;
        let mut connection = ClientConnection::new(config, name)
            .map_err(|e| HostError::Failed(format!("TLS setup for {text} failed: {e}")))?;
        connection.set_buffer_limit(Some(BUFFER_LIMIT));
        Ok(Self {
            connection,
            server_name: text,
            failure: None,
            eof: false,
            info: None,
            opened: Instant::now(),
            received: 0,
            transmitted: 0,
            plaintext_read: 0,
            plaintext_written: 0,
            audit,
        })
    }

    fn check(&self) -> Result<(), HostError> {
        match &self.failure {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Remember the first failure of the session and return it.
    fn fail(&mut self, error: HostError) -> HostError {
        self.failure.get_or_insert(error).clone()
    }

    fn tls_failure(&mut self, error: &rustls::Error) -> HostError {
        let name = &self.server_name;
        let error = match error {
            rustls::Error::InvalidCertificate(_) => HostError::Failed(format!(
                "certificate verify failed: {error} (TLS session for {name:?})"
            )),
            _ if self.connection.is_handshaking() => {
                HostError::Failed(format!("TLS handshake with {name} failed: {error}"))
            }
            _ => HostError::Failed(format!("TLS session with {name} failed: {error}")),
        };
        self.fail(error)
    }

    /// Process what has been received; the state after it.
    fn process(&mut self) -> Result<TlsStatus, HostError> {
        self.check()?;
        match self.connection.process_new_packets() {
            Ok(io) => {
                if self.info.is_none() && !self.connection.is_handshaking() {
                    self.info = Some(tls::info(&self.connection));
                }
                Ok(TlsStatus {
                    handshaking: self.connection.is_handshaking(),
                    plaintext: clamp(io.plaintext_bytes_to_read()),
                    outgoing: clamp(io.tls_bytes_to_write()),
                    peer_closed: io.peer_has_closed(),
                    eof: self.eof,
                })
            }
            Err(e) => Err(self.tls_failure(&e)),
        }
    }

    /// Take ciphertext from the peer; how much was taken and the state after it.
    pub(crate) fn receive(&mut self, data: &[u8]) -> Result<(u32, TlsStatus), HostError> {
        self.check()?;
        if data.len() > MAX_CHUNK {
            return Err(HostError::InvalidInput(format!(
                "{} bytes given to a TLS session at once; at most {MAX_CHUNK} are taken per call",
                data.len()
            )));
        }
        if self.eof && !data.is_empty() {
            return Err(HostError::InvalidInput(format!(
                "ciphertext given to the TLS session for {} after its end of stream",
                self.server_name
            )));
        }
        let mut taken = 0;
        while taken < data.len() {
            let mut rest = &data[taken..];
            match self.connection.read_tls(&mut rest as &mut dyn Read) {
                // After the peer's close_notify nothing more is taken.
                Ok(0) => break,
                Ok(n) => {
                    taken += n;
                    self.received += n as u64;
                    self.process()?;
                }
                // Backpressure: the peer's plaintext waits to be read first.
                Err(e) if e.kind() == ErrorKind::Other => break,
                Err(e) => {
                    let error = HostError::Failed(format!(
                        "TLS with {} failed: the peer sent a record or handshake message \
                         larger than the 64 KiB allowed ({e})",
                        self.server_name
                    ));
                    return Err(self.fail(error));
                }
            }
        }
        let status = self.process()?;
        Ok((clamp(taken), status))
    }

    /// The peer's byte stream ended.
    pub(crate) fn receive_eof(&mut self) -> Result<TlsStatus, HostError> {
        self.check()?;
        if !self.eof {
            self.eof = true;
            let mut nothing: &[u8] = &[];
            // An empty read is how rustls learns of the end of stream.
            let _ = self.connection.read_tls(&mut nothing as &mut dyn Read);
        }
        self.process()
    }

    pub(crate) fn status(&mut self) -> Result<TlsStatus, HostError> {
        self.process()
    }

    /// Up to `max` bytes of ciphertext for the peer.
    pub(crate) fn transmit(&mut self, max: u32) -> Vec<u8> {
        let max = usize::try_from(max).unwrap_or(MAX_CHUNK).min(MAX_CHUNK);
        let mut out = Bounded {
            buf: Vec::new(),
            max,
        };
        while self.connection.wants_write() && out.buf.len() < max {
            match self.connection.write_tls(&mut out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        self.transmitted += out.buf.len() as u64;
        out.buf
    }

    /// Up to `max` bytes of the peer's plaintext.
    pub(crate) fn read(&mut self, max: u32) -> Result<TlsRead, HostError> {
        self.check()?;
        // The session holds at most about 40 KiB of plaintext at once: a buffer of
        // MAX_CHUNK for every read would mostly be zeroed for nothing.
        let max = usize::try_from(max)
            .unwrap_or(MAX_CHUNK)
            .clamp(1, MAX_PLAINTEXT_READ);
        let mut buf = vec![0u8; max];
        match self.connection.reader().read(&mut buf) {
            Ok(0) => Ok(TlsRead::Closed),
            Ok(n) => {
                buf.truncate(n);
                self.plaintext_read += n as u64;
                Ok(TlsRead::Data(buf))
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(TlsRead::WantMore),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(TlsRead::Truncated),
            Err(e) => Err(self.fail(HostError::Failed(format!(
                "reading from the TLS session with {} failed: {e}",
                self.server_name
            )))),
        }
    }

    /// Encrypt a prefix of `data` once the handshake is done; how much was taken.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<u32, HostError> {
        self.check()?;
        if self.connection.is_handshaking() {
            return Err(HostError::InvalidInput(format!(
                "the TLS handshake with {} is not done yet; finish it before writing",
                self.server_name
            )));
        }
        let data = &data[..data.len().min(MAX_CHUNK)];
        match self.connection.writer().write(data) {
            Ok(n) => {
                self.plaintext_written += n as u64;
                Ok(clamp(n))
            }
            Err(e) => Err(self.fail(HostError::Failed(format!(
                "writing to the TLS session with {} failed: {e}",
                self.server_name
            )))),
        }
    }

    /// Queue a close_notify for the peer.
    pub(crate) fn close(&mut self) {
        self.connection.send_close_notify();
    }

    pub(crate) fn info(&self) -> Option<TlsInfo> {
        self.info.clone()
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A writer that takes at most `max` bytes in all.
struct Bounded {
    buf: Vec<u8>,
    max: usize,
}

impl Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(self.max.saturating_sub(self.buf.len()));
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for TlsSession {
    /// Every session is audited once, when the script drops it or the run ends.
    fn drop(&mut self) {
        let (outcome, detail) = match self.failure.take() {
            Some(error) => (error.kind(), format!("{error}; ")),
            None => ("ok", String::new()),
        };
        let agreed = match &self.info {
            Some(info) => format!("{} {}", info.version, info.cipher),
            None => "no handshake".to_owned(),
        };
        let detail = format!(
            "{detail}memory-BIO TLS, {agreed}, {} bytes sent, {} received (plaintext; \
             {} and {} bytes of TLS records)",
            self.plaintext_written, self.plaintext_read, self.transmitted, self.received
        );
        self.audit.record(HostCallRecord {
            operation: "net.tls-session",
            target: self.server_name.clone(),
            outcome,
            detail: Some(detail),
            duration: self.opened.elapsed(),
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ports::AuditSink;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Calls(Mutex<Vec<HostCallRecord>>);

    impl AuditSink for Calls {
        fn record(&self, call: HostCallRecord) {
            self.0.lock().unwrap().push(call);
        }
    }

    fn session(name: &str) -> (TlsSession, Arc<Calls>) {
        let calls = Arc::new(Calls::default());
        let session = TlsSession::new(&TlsTrust::webpki(), name, &[], calls.clone()).unwrap();
        (session, calls)
    }

    #[test]
    fn a_client_hello_waits_at_once_and_garbage_fails_for_good() {
        let (mut s, calls) = session("example.com");
        let status = s.status().unwrap();
        assert!(status.handshaking && status.outgoing > 0);
        let hello = s.transmit(u32::MAX);
        assert_eq!(hello.len(), status.outgoing as usize);
        assert_eq!(hello[0], 0x16, "a handshake record");
        assert!(s.transmit(1024).is_empty());
        let error = s.receive(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("TLS handshake with example.com failed"),
            "{error}"
        );
        // The same failure from then on, and the alert for the peer waits.
        assert_eq!(s.status().unwrap_err(), error);
        assert_eq!(s.read(10).unwrap_err(), error);
        assert!(!s.transmit(1024).is_empty(), "an alert");
        drop(s);
        let calls = calls.0.lock().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(
            (calls[0].operation, calls[0].outcome),
            ("net.tls-session", "failed")
        );
    }

    /// A rustls server in memory for `localhost` (ALPN `http/1.1`), and the trust that
    /// knows its CA.
    fn localhost_server() -> (rustls::ServerConnection, TlsTrust) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let trust = TlsTrust::with_extra_pem(ca.pem().as_bytes(), "test CA").unwrap();
        (
            rustls::ServerConnection::new(Arc::new(config)).unwrap(),
            trust,
        )
    }

    /// Move the client's ciphertext to the server and the server's back, all of it.
    fn exchange(client: &mut TlsSession, server: &mut rustls::ServerConnection) {
        loop {
            let out = client.transmit(u32::MAX);
            let mut moved = !out.is_empty();
            deliver(server, &out);
            let mut back = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut back).unwrap();
            }
            let mut offset = 0;
            while offset < back.len() {
                moved = true;
                let (taken, _) = client.receive(&back[offset..]).unwrap();
                offset += taken as usize;
                if taken == 0 {
                    // Backpressure: the test reads nothing here, so this is a bug.
                    panic!("the client took nothing");
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Give the server `records`, reading (and dropping) its plaintext as it comes.
    fn deliver(server: &mut rustls::ServerConnection, records: &[u8]) {
        let mut rest = records;
        let mut sink = vec![0u8; 1 << 16];
        while !rest.is_empty() {
            server.read_tls(&mut rest).unwrap();
            server.process_new_packets().unwrap();
            while let Ok(n) = server.reader().read(&mut sink) {
                if n == 0 {
                    break;
                }
            }
        }
    }

    fn session_for(name: &str, trust: &TlsTrust) -> TlsSession {
        let alpn = ["h2".to_owned(), "http/1.1".to_owned()];
        TlsSession::new(trust, name, &alpn, Arc::new(Calls::default())).unwrap()
    }

    #[test]
    fn a_handshake_with_a_real_server_then_data_both_ways_within_bounds() {
        let (mut server, trust) = localhost_server();
        let mut client = session_for("localhost", &trust);
        exchange(&mut client, &mut server);
        let status = client.status().unwrap();
        assert!(!status.handshaking, "{status:?}");
        let info = client.info().unwrap();
        assert_eq!(
            (info.version.as_str(), info.alpn.as_deref()),
            ("TLSv1.3", Some("http/1.1"))
        );
        assert!(info.cipher.starts_with("TLS_"), "{}", info.cipher);
        assert!(info.peer_certificate.is_some());

        // 1 MB from the server, given to the client while it reads nothing: it stops
        // taking ciphertext once its plaintext buffer is full.
        let big = vec![7u8; 1 << 20];
        server.set_buffer_limit(None);
        let mut sent = 0;
        while sent < big.len() {
            sent += server.writer().write(&big[sent..]).unwrap();
        }
        let mut records = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut records).unwrap();
        }
        let (taken, status) = client.receive(&records[..MAX_CHUNK]).unwrap();
        assert!((taken as usize) < MAX_CHUNK, "took {taken}");
        assert!(status.plaintext < 64 * 1024, "{status:?}");
        let mut offset = taken as usize;
        let mut got = 0;
        while got < big.len() {
            match client.read(u32::MAX).unwrap() {
                TlsRead::Data(data) => got += data.len(),
                TlsRead::WantMore => {
                    let end = (offset + MAX_CHUNK).min(records.len());
                    let (taken, _) = client.receive(&records[offset..end]).unwrap();
                    offset += taken as usize;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((got, offset), (big.len(), records.len()));

        // 1 MB from the client: each write takes what the outgoing bound allows.
        let mut written = 0;
        let mut most = 0;
        while written < big.len() {
            let n = client.write(&big[written..]).unwrap() as usize;
            if n == 0 {
                let out = client.transmit(u32::MAX);
                most = most.max(out.len());
                deliver(&mut server, &out);
            }
            written += n;
        }
        assert!(most > 0 && most <= BUFFER_LIMIT + 4096, "{most}");

        // close_notify both ways.
        client.close();
        server.send_close_notify();
        exchange(&mut client, &mut server);
        assert!(matches!(client.read(10).unwrap(), TlsRead::Closed));
        assert!(client.status().unwrap().peer_closed);
        let mut rest = Vec::new();
        assert_eq!(server.reader().read_to_end(&mut rest).unwrap(), 0);
    }

    #[test]
    fn a_certificate_for_another_name_or_without_a_trusted_issuer_is_refused() {
        let (mut server, trust) = localhost_server();
        let mut client = session_for("other.example", &trust);
        let hello = client.transmit(u32::MAX);
        server.read_tls(&mut &hello[..]).unwrap();
        server.process_new_packets().unwrap();
        let mut back = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut back).unwrap();
        }
        let error = client.receive(&back).unwrap_err().to_string();
        assert!(
            error.contains("certificate verify failed") && error.contains("other.example"),
            "{error}"
        );
        let (mut server, _) = localhost_server();
        let mut client = session_for("localhost", &TlsTrust::webpki());
        let hello = client.transmit(u32::MAX);
        server.read_tls(&mut &hello[..]).unwrap();
        server.process_new_packets().unwrap();
        let mut back = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut back).unwrap();
        }
        let error = client.receive(&back).unwrap_err().to_string();
        assert!(error.contains("UnknownIssuer"), "{error}");
    }

    #[test]
    fn bounds_and_states() {
        let (mut s, _) = session("127.0.0.1");
        assert!(s.receive(&vec![0u8; MAX_CHUNK + 1]).is_err());
        assert!(s.write(b"early").is_err(), "before the handshake");
        assert!(matches!(s.read(10).unwrap(), TlsRead::WantMore));
        let status = s.receive_eof().unwrap();
        assert!(status.eof && status.handshaking);
        assert!(matches!(s.read(10).unwrap(), TlsRead::Truncated));
        assert!(s.receive(b"x").is_err(), "after the end of stream");
        let (mut s, _) = session("example.com");
        let _ = s.transmit(u32::MAX);
        // A record header announcing 16 MB: refused at once, never buffered.
        let error = s.receive(&[0x16, 0x03, 0x03, 0xff, 0xff]).unwrap_err();
        assert!(error.to_string().contains("failed"), "{error}");
        for bad in ["", "a b", "exa mple.com"] {
            assert!(
                TlsSession::new(&TlsTrust::webpki(), bad, &[], Arc::new(Calls::default())).is_err(),
                "{bad:?}"
            );
        }
    }
}
