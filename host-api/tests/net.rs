//! `automa:host/net` called directly on a `HostContext`, against real peers on
//! 127.0.0.1: plain echo servers, and rustls servers whose certificates come from a CA
//! each test makes and passes as an extra trusted root.

#![allow(clippy::unwrap_used)]

use automa_host_api::bindings::automa::host::net::{Host, HostConnection, TlsOptions};
use automa_host_api::bindings::automa::host::types::Error;
use automa_host_api::ports::{AuditSink, ConnectionRecord, HostCallRecord, Nothing};
use automa_host_api::{Capabilities, Connection, HostContext, HttpRule, NetRule, TlsTrust};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use wasmtime::component::Resource;

/// A host call as audited, with its connection facts when it is a connection.
#[derive(Debug, Clone)]
struct Audited {
    operation: &'static str,
    target: String,
    outcome: &'static str,
    connection: Option<ConnectionRecord>,
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Audited>>);

impl AuditSink for Recorder {
    fn record(&self, call: HostCallRecord) {
        self.push(call, None);
    }

    fn connection(&self, call: HostCallRecord, connection: &ConnectionRecord) {
        self.push(call, Some(connection.clone()));
    }
}

impl Recorder {
    fn push(&self, call: HostCallRecord, connection: Option<ConnectionRecord>) {
        self.0.lock().unwrap().push(Audited {
            operation: call.operation,
            target: call.target,
            outcome: call.outcome,
            connection,
        });
    }

    fn connections(&self) -> Vec<Audited> {
        let records = self.0.lock().unwrap();
        let connections: Vec<Audited> = records
            .iter()
            .filter(|r| r.operation == "net.connect")
            .cloned()
            .collect();
        assert!(connections.iter().all(|r| r.connection.is_some()));
        connections
    }
}

fn context(caps: Capabilities) -> (HostContext, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let ctx = HostContext::new(
        Arc::new(caps),
        Arc::new(automa_host_api::ReqwestClient::new()),
        recorder.clone(),
        Arc::new(Nothing),
    );
    (ctx, recorder)
}

fn allow(addr: SocketAddr) -> Capabilities {
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule::parse(&addr.to_string()).unwrap()];
    caps
}

/// A handle to pass to a method call (the guest passes a borrow each time).
fn handle(conn: &Resource<Connection>) -> Resource<Connection> {
    Resource::new_borrow(conn.rep())
}

/// Echo everything on `stream` until the peer closes its side, then close.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = stream.shutdown().await;
}

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(echo(stream));
        }
    });
    addr
}

/// A server that accepts and then says nothing until the client goes away.
async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink).await;
            });
        }
    });
    addr
}

/// A CA and a server configuration with a leaf for `names`, signed by it.
struct TestPki {
    ca_pem: String,
    leaf: CertificateDer<'static>,
    server: Arc<rustls::ServerConfig>,
}

fn pki(names: &[&str]) -> TestPki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let leaf = CertificateParams::new(names)
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    TestPki {
        ca_pem: ca.pem(),
        leaf: leaf.der().clone(),
        server: Arc::new(server),
    }
}

/// A TLS echo server; with `starttls`, it first answers `STARTTLS\r\n` in plain text.
async fn tls_server(config: Arc<rustls::ServerConfig>, starttls: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if starttls {
                    let mut line = [0u8; 10];
                    if stream.read_exact(&mut line).await.is_err() || &line != b"STARTTLS\r\n" {
                        return;
                    }
                    if stream.write_all(b"220 go\r\n").await.is_err() {
                        return;
                    }
                }
                if let Ok(tls) = acceptor.accept(stream).await {
                    echo(tls).await;
                }
            });
        }
    });
    addr
}

fn tls(server_name: Option<&str>) -> Option<TlsOptions> {
    Some(TlsOptions {
        server_name: server_name.map(str::to_owned),
        alpn: vec!["h2".into(), "http/1.1".into()],
    })
}

async fn write_all(ctx: &mut HostContext, conn: &Resource<Connection>, mut data: &[u8]) {
    while !data.is_empty() {
        let n = ctx
            .write(handle(conn), data.to_vec(), Some(2_000))
            .await
            .unwrap();
        data = &data[n as usize..];
    }
}

async fn read_exactly(ctx: &mut HostContext, conn: &Resource<Connection>, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < len {
        let chunk = ctx.read(handle(conn), 65_536, Some(2_000)).await.unwrap();
        assert!(!chunk.is_empty(), "end of stream after {got:?}");
        got.extend(chunk);
    }
    got
}

#[tokio::test]
async fn plain_echo_readable_shutdown_and_audit_on_close() {
    let addr = echo_server().await;
    let (mut ctx, audit) = context(allow(addr));
    let conn = ctx
        .connect("127.0.0.1".into(), addr.port(), None, Some(2_000))
        .await
        .unwrap();
    assert_eq!(ctx.peer_address(handle(&conn)).await, addr.to_string());
    assert!(
        ctx.local_address(handle(&conn))
            .await
            .starts_with("127.0.0.1:")
    );
    assert!(ctx.tls_info(handle(&conn)).await.is_none());
    assert!(!ctx.readable(handle(&conn), 50).await, "nothing sent yet");

    write_all(&mut ctx, &conn, b"hello").await;
    assert!(ctx.readable(handle(&conn), 2_000).await, "the echo arrives");
    assert!(ctx.readable(handle(&conn), 0).await, "data stays buffered");
    assert_eq!(ctx.read(handle(&conn), 2, None).await.unwrap(), b"he");
    assert_eq!(ctx.read(handle(&conn), 100, None).await.unwrap(), b"llo");
    assert!(!ctx.readable(handle(&conn), 50).await, "drained");

    ctx.shutdown_write(handle(&conn)).await.unwrap();
    assert!(
        ctx.readable(handle(&conn), 2_000).await,
        "peer close is readable"
    );
    assert!(ctx.read(handle(&conn), 100, None).await.unwrap().is_empty());
    assert!(audit.connections().is_empty(), "audited when it closes");

    HostConnection::drop(&mut ctx, conn).await.unwrap();
    let records = audit.connections();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.outcome, "ok");
    assert_eq!(record.target, addr.to_string());
    let conn = record.connection.as_ref().unwrap();
    assert_eq!(conn.address, Some(addr));
    assert!(!conn.tls);
    assert_eq!((conn.bytes_sent, conn.bytes_received), (5, 5));
    assert_eq!(ctx.counters().net_connections, 1);
}

#[tokio::test]
async fn connection_left_open_is_audited_when_the_run_ends() {
    let addr = echo_server().await;
    let (mut ctx, audit) = context(allow(addr));
    let conn = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
        .unwrap();
    write_all(&mut ctx, &conn, b"abc").await;
    drop(ctx);
    let records = audit.connections();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].connection.as_ref().unwrap().bytes_sent, 3);
}

#[tokio::test]
async fn denied_host_names_target_and_how_to_grant_and_is_audited() {
    let addr = echo_server().await;
    let (mut ctx, audit) = context(Capabilities::default());
    let Err(Error::Denied(message)) = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
    else {
        panic!("expected a denial");
    };
    let target = format!("127.0.0.1:{}", addr.port());
    assert!(message.contains(&target), "{message}");
    assert!(message.contains("the script's capabilities"), "{message}");
    assert!(
        message.contains(&format!("--allow-net {target}")),
        "{message}"
    );
    let records = audit.connections();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, "denied");
    assert_eq!(records[0].connection.as_ref().unwrap().address, None);
    assert!(matches!(
        ctx.resolve("127.0.0.1".into(), addr.port()).await,
        Err(Error::Denied(_))
    ));
    assert_eq!(ctx.counters().net_connections, 0, "denials do not count");
}

#[tokio::test]
async fn name_resolving_to_loopback_needs_a_rule_that_names_it() {
    let addr = echo_server().await;
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule {
        host: "localhost".into(),
        port: addr.port(),
        allow_private: false,
    }];
    let (mut ctx, _) = context(caps);
    let Err(Error::Denied(message)) = ctx
        .connect("localhost".into(), addr.port(), None, None)
        .await
    else {
        panic!("expected a refusal");
    };
    assert!(message.contains("resolves to"), "{message}");
    assert!(matches!(
        ctx.resolve("localhost".into(), addr.port()).await,
        Err(Error::Denied(_))
    ));

    // `localhost:PORT` as an admin writes it allows the loopback answer.
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule::parse(&format!("localhost:{}", addr.port())).unwrap()];
    let (mut ctx, _) = context(caps);
    let addresses = ctx.resolve("localhost".into(), addr.port()).await.unwrap();
    assert!(
        addresses.iter().any(|a| a == "127.0.0.1" || a == "::1"),
        "{addresses:?}"
    );
}

#[tokio::test]
async fn http_rule_admits_same_host_and_port_unless_restricted() {
    let addr = echo_server().await;
    let mut caps = Capabilities::default();
    caps.http.rules = vec![HttpRule::parse(&addr.to_string()).unwrap()];
    let (mut ctx, _) = context(caps.clone());
    let conn = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
        .unwrap();
    write_all(&mut ctx, &conn, b"via http rule").await;
    assert_eq!(read_exactly(&mut ctx, &conn, 13).await, b"via http rule");

    caps.http.rules = vec![HttpRule::parse(&format!("http://{addr}/api/")).unwrap()];
    let (mut ctx, _) = context(caps);
    assert!(matches!(
        ctx.connect("127.0.0.1".into(), addr.port(), None, None)
            .await,
        Err(Error::Denied(_))
    ));
}

#[tokio::test]
async fn tls_with_extra_ca_right_name_and_wrong_name() {
    let pki = pki(&["localhost", "echo.test"]);
    let addr = tls_server(pki.server.clone(), false).await;
    let (mut ctx, audit) = context(allow(addr));
    ctx.tls = Arc::new(TlsTrust::with_extra_pem(pki.ca_pem.as_bytes(), "test CA").unwrap());

    let conn = ctx
        .connect(
            "127.0.0.1".into(),
            addr.port(),
            tls(Some("echo.test")),
            Some(5_000),
        )
        .await
        .unwrap();
    let info = ctx.tls_info(handle(&conn)).await.unwrap();
    assert_eq!(info.version, "TLSv1.3");
    assert!(info.cipher.starts_with("TLS_"), "{}", info.cipher);
    assert_eq!(info.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(info.peer_certificate.as_deref(), Some(pki.leaf.as_ref()));
    write_all(&mut ctx, &conn, b"secret hello").await;
    assert!(ctx.readable(handle(&conn), 2_000).await);
    assert_eq!(read_exactly(&mut ctx, &conn, 12).await, b"secret hello");
    ctx.shutdown_write(handle(&conn)).await.unwrap();
    assert!(ctx.read(handle(&conn), 100, None).await.unwrap().is_empty());
    HostConnection::drop(&mut ctx, conn).await.unwrap();
    let record = audit.connections().pop().unwrap();
    let conn = record.connection.unwrap();
    assert!(conn.tls);
    assert_eq!((conn.bytes_sent, conn.bytes_received), (12, 12));

    let Err(Error::Failed(message)) = ctx
        .connect(
            "127.0.0.1".into(),
            addr.port(),
            tls(Some("wrong.test")),
            Some(5_000),
        )
        .await
    else {
        panic!("a wrong server name must fail");
    };
    assert!(
        message.starts_with("certificate verify failed"),
        "{message}"
    );
    let record = audit.connections().pop().unwrap();
    assert_eq!(record.outcome, "failed");
    assert_eq!(record.connection.unwrap().address, Some(addr));

    // Without the extra CA the same server is not trusted.
    let (mut ctx, _) = context(allow(addr));
    let Err(Error::Failed(message)) = ctx
        .connect(
            "127.0.0.1".into(),
            addr.port(),
            tls(Some("echo.test")),
            Some(5_000),
        )
        .await
    else {
        panic!("an unknown CA must fail");
    };
    assert!(
        message.starts_with("certificate verify failed"),
        "{message}"
    );
}

#[tokio::test]
async fn start_tls_upgrades_a_plain_connection() {
    let pki = pki(&["localhost"]);
    let addr = tls_server(pki.server.clone(), true).await;
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule::parse(&format!("localhost:{}", addr.port())).unwrap()];
    let (mut ctx, audit) = context(caps);
    ctx.tls = Arc::new(TlsTrust::with_extra_pem(pki.ca_pem.as_bytes(), "test CA").unwrap());
    let conn = ctx
        .connect("localhost".into(), addr.port(), None, Some(5_000))
        .await
        .unwrap();
    write_all(&mut ctx, &conn, b"STARTTLS\r\n").await;
    assert_eq!(read_exactly(&mut ctx, &conn, 8).await, b"220 go\r\n");
    let options = TlsOptions {
        server_name: None,
        alpn: Vec::new(),
    };
    let info = ctx
        .start_tls(handle(&conn), options.clone(), Some(5_000))
        .await
        .unwrap();
    assert!(info.version.starts_with("TLSv1."));
    assert_eq!(info.alpn, None);
    assert!(ctx.tls_info(handle(&conn)).await.is_some());
    write_all(&mut ctx, &conn, b"over tls").await;
    assert_eq!(read_exactly(&mut ctx, &conn, 8).await, b"over tls");
    assert!(matches!(
        ctx.start_tls(handle(&conn), options, None).await,
        Err(Error::InvalidInput(m)) if m.contains("already uses TLS")
    ));
    HostConnection::drop(&mut ctx, conn).await.unwrap();
    let conn = audit.connections().pop().unwrap().connection.unwrap();
    assert!(conn.tls, "upgraded connections are audited as TLS");
    assert_eq!((conn.bytes_sent, conn.bytes_received), (18, 16));
}

#[tokio::test]
async fn byte_cap_and_connection_cap_reach_limit() {
    let addr = echo_server().await;
    let mut caps = allow(addr);
    caps.net.max_bytes_per_run = 10;
    caps.net.max_connections_per_run = 1;
    let (mut ctx, audit) = context(caps);
    let conn = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
        .unwrap();
    assert_eq!(
        ctx.write(handle(&conn), b"1234".to_vec(), None)
            .await
            .unwrap(),
        4
    );
    assert_eq!(read_exactly(&mut ctx, &conn, 4).await, b"1234");
    // 8 of 10 bytes used: only two more are taken.
    assert_eq!(
        ctx.write(handle(&conn), b"abcdef".to_vec(), None)
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        ctx.write(handle(&conn), b"x".to_vec(), None).await,
        Err(Error::LimitReached(_))
    ));
    assert!(matches!(
        ctx.read(handle(&conn), 100, Some(1_000)).await,
        Err(Error::LimitReached(_))
    ));
    assert!(
        ctx.readable(handle(&conn), 10).await,
        "a read returns at once"
    );

    let Err(Error::LimitReached(message)) = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
    else {
        panic!("the second connection is over the cap");
    };
    assert!(message.contains("1 network connections"), "{message}");
    assert_eq!(audit.connections()[0].outcome, "limit_reached");
}

#[tokio::test]
async fn read_timeout_connection_lifetime_and_refused_port() {
    let addr = silent_server().await;
    let mut caps = allow(addr);
    caps.net.max_connection_ms = 600;
    let (mut ctx, audit) = context(caps);
    let conn = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
        .unwrap();
    let started = Instant::now();
    assert!(matches!(
        ctx.read(handle(&conn), 10, Some(100)).await,
        Err(Error::Timeout(_))
    ));
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(!ctx.readable(handle(&conn), 50).await);
    // Without a timeout a read waits for the rest of the connection's lifetime.
    let Err(Error::LimitReached(message)) = ctx.read(handle(&conn), 10, None).await else {
        panic!("the lifetime ends the read");
    };
    assert!(message.contains("600 ms"), "{message}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(matches!(
        ctx.write(handle(&conn), b"x".to_vec(), None).await,
        Err(Error::LimitReached(_) | Error::Failed(_))
    ));
    HostConnection::drop(&mut ctx, conn).await.unwrap();
    assert_eq!(audit.connections()[0].outcome, "limit_reached");

    // A port nobody listens on.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let (mut ctx, _) = context(allow(closed));
    let Err(Error::Failed(message)) = ctx
        .connect("127.0.0.1".into(), closed.port(), None, Some(2_000))
        .await
    else {
        panic!("nothing listens there");
    };
    assert!(message.contains("connection refused"), "{message}");
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let addr = echo_server().await;
    let (mut ctx, _) = context(allow(addr));
    for host in ["", "a b", "host/path", "evil\0"] {
        assert!(
            matches!(
                ctx.connect(host.into(), addr.port(), None, None).await,
                Err(Error::InvalidInput(_))
            ),
            "{host:?}"
        );
    }
    let conn = ctx
        .connect("127.0.0.1".into(), addr.port(), None, None)
        .await
        .unwrap();
    assert!(matches!(
        ctx.read(handle(&conn), 0, None).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(ctx.write(handle(&conn), Vec::new(), None).await.unwrap(), 0);
    assert!(TlsTrust::with_extra_pem(b"not pem", "x.pem").is_err());
    let missing = TlsTrust::from_pem_files(&["/nonexistent/ca.pem".into()]).unwrap_err();
    assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
}
