//! Python's own network clients in the sandbox (`socket`, `ssl`, `http.client`,
//! `urllib.request`, `select`, asyncio's TLS over `ssl.MemoryBIO`) over
//! `automa:host/net`, against real peers on 127.0.0.1: a plain HTTP/1.1 server and
//! one behind rustls with a certificate from a CA the test makes and hands to the host
//! as an extra trusted root.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::RunStatus;
use automa_runtime::host::{Capabilities, NetRule, TlsTrust};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answer each HTTP/1.1 request with its path echoed in a body of `pad` extra bytes.
async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, pad: usize) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).into_owned();
            request.drain(..end + 4);
            let path = head.split(' ').nth(1).unwrap_or("?").to_owned();
            let body = format!("you asked for {path}{}", "x".repeat(pad));
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
}

async fn http_server(pad: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_http(stream, pad));
        }
    });
    addr
}

/// An HTTPS server for `localhost`, and the PEM of the CA that signed it.
async fn https_server() -> (SocketAddr, String) {
    https_server_padded(0).await
}

/// An HTTPS server for `localhost` whose answers carry `pad` extra bytes.
async fn https_server_padded(pad: usize) -> (SocketAddr, String) {
    let (acceptor, ca_pem) = common::tls::localhost_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_http(tls, pad).await;
                }
            });
        }
    });
    (addr, ca_pem)
}

fn allowing(rules: &[String]) -> Capabilities {
    let mut caps = Capabilities::default();
    caps.net.rules = rules.iter().map(|r| NetRule::parse(r).unwrap()).collect();
    caps
}

async fn run_with(
    source: &str,
    caps: Capabilities,
    ca_pem: Option<&str>,
) -> (automa_runtime::RunOutcome, Arc<common::Recorder>) {
    let recorder = Arc::new(common::Recorder::default());
    let mut request = common::request(source, caps, &recorder);
    if let Some(pem) = ca_pem {
        request.host.tls = Arc::new(TlsTrust::with_extra_pem(pem.as_bytes(), "test CA").unwrap());
    }
    let outcome = common::runtime().run(request).await;
    (outcome, recorder)
}

#[tokio::test]
async fn http_client_and_urllib_reach_an_allowed_host() {
    let addr = http_server(0).await;
    let port = addr.port();
    let script = format!(
        r#"
import http.client, urllib.request, json
conn = http.client.HTTPConnection("127.0.0.1", {port}, timeout=5)
conn.request("GET", "/one")
r = conn.getresponse()
print(r.status, r.read().decode())
conn.request("GET", "/two")  # the same connection, kept alive
print(conn.getresponse().read().decode())
conn.close()
print(urllib.request.urlopen("http://127.0.0.1:{port}/three?x=1", timeout=5).read().decode())
"#
    );
    let (outcome, recorder) = run_with(&script, allowing(&[addr.to_string()]), None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "200 you asked for /one\nyou asked for /two\nyou asked for /three?x=1\n"
    );
    let connects = recorder
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.operation == "net.connect")
        .count();
    assert_eq!(connects, 2, "one per connection, audited");
}

#[tokio::test]
async fn a_host_without_a_rule_is_refused_with_how_to_grant_it() {
    let addr = http_server(0).await;
    let script = format!(
        r#"
import socket, urllib.request, urllib.error
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
except PermissionError as e:
    print("refused:", e)
try:
    urllib.request.urlopen("http://127.0.0.1:{port}/", timeout=2)
except urllib.error.URLError as e:
    print("urllib:", type(e.reason).__name__)
"#,
        port = addr.port()
    );
    let (outcome, _) = run_with(&script, Capabilities::default(), None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let first = outcome.stdout.lines().next().unwrap();
    assert!(first.starts_with("refused:"), "{}", outcome.stdout);
    assert!(
        first.contains(&format!("127.0.0.1:{}", addr.port())),
        "{first}"
    );
    assert!(first.to_lowercase().contains("admin"), "{first}");
    assert!(
        outcome.stdout.contains("urllib: PermissionError"),
        "{}",
        outcome.stdout
    );
}

#[tokio::test]
async fn https_is_verified_by_the_host_with_the_extra_ca() {
    let (addr, ca_pem) = https_server().await;
    let port = addr.port();
    let script = format!(
        r#"
import socket, ssl, urllib.request
ctx = ssl.create_default_context()
with urllib.request.urlopen("https://localhost:{port}/secure", context=ctx, timeout=5) as r:
    print(r.status, r.read().decode())
with socket.create_connection(("localhost", {port}), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        print(tls.version(), tls.selected_alpn_protocol(), tls.getpeercert()["subjectAltName"])
        tls.sendall(b"GET /raw HTTP/1.1\r\nHost: localhost\r\n\r\n")
        print(tls.recv(100).split(b"\r\n")[0].decode())
try:
    ctx.wrap_socket(socket.create_connection(("localhost", {port}), timeout=5), server_hostname="wrong.example")
except ssl.SSLCertVerificationError as e:
    print("wrong name refused")
"#
    );
    let (outcome, _) = run_with(
        &script,
        allowing(&[format!("localhost:{port}")]),
        Some(&ca_pem),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "200 you asked for /secure\nTLSv1.3 None (('DNS', 'localhost'),)\nHTTP/1.1 200 OK\nwrong name refused\n"
    );

    // Without the CA the same server is not trusted.
    let (outcome, _) = run_with(
        &format!(
            "import urllib.request, urllib.error, ssl\ntry:\n    urllib.request.urlopen('https://localhost:{port}/', timeout=5)\nexcept urllib.error.URLError as e:\n    print(type(e.reason).__name__)\n"
        ),
        allowing(&[format!("localhost:{port}")]),
        None,
    )
    .await;
    assert_eq!(outcome.stdout, "SSLCertVerificationError\n", "{outcome:?}");
}

#[tokio::test]
async fn select_waits_for_data_and_caps_end_a_greedy_run() {
    let addr = http_server(20_000).await;
    let port = addr.port();
    let script = format!(
        r#"
import select, socket
s = socket.create_connection(("127.0.0.1", {port}), timeout=5)
print(select.select([s], [], [], 0)[0] == [])
s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
print(select.select([s], [], [], 5)[0] == [s])
got = b""
try:
    while len(got) < 30000:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
except OSError as e:
    print("capped:", "limit" in str(e).lower() or "bytes" in str(e).lower())
"#
    );
    let mut caps = allowing(&[addr.to_string()]);
    caps.net.max_bytes_per_run = 5_000;
    let (outcome, _) = run_with(&script, caps, None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "True\nTrue\ncapped: True\n");
}

#[tokio::test]
async fn asyncio_streams_use_the_host_connection_and_tls() {
    let plain = http_server(0).await;
    let (secure, ca_pem) = https_server().await;
    let script = format!(
        r#"
import asyncio, ssl

async def get(host, port, path, **kw):
    reader, writer = await asyncio.open_connection(host, port, **kw)
    writer.write(f"GET {{path}} HTTP/1.1\r\nHost: {{host}}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    body = await reader.readexactly(length)
    writer.close()
    await writer.wait_closed()
    return body.decode()

async def main():
    both = await asyncio.gather(
        get("127.0.0.1", {plain_port}, "/plain"),
        get("localhost", {secure_port}, "/tls", ssl=ssl.create_default_context()),
        asyncio.sleep(0.01, result="slept"),
    )
    print(both)

asyncio.run(main())
"#,
        plain_port = plain.port(),
        secure_port = secure.port()
    );
    let (outcome, _) = run_with(
        &script,
        allowing(&[plain.to_string(), format!("localhost:{}", secure.port())]),
        Some(&ca_pem),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "['you asked for /plain', 'you asked for /tls', 'slept']\n"
    );
}

/// A server that answers every connection with bytes that are not TLS, then closes.
async fn garbage_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut junk = b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec();
                junk.extend((0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
                let _ = stream.write_all(&junk).await;
            });
        }
    });
    addr
}

fn tls_sessions(recorder: &common::Recorder) -> Vec<(String, &'static str, String)> {
    recorder
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.operation == "net.tls-session")
        .map(|c| {
            (
                c.target.clone(),
                c.outcome,
                c.detail.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// asyncio's TLS is its own `sslproto` over `ssl.MemoryBIO` and `SSLObject`, whose
/// engine is the host's TLS session: the certificate verified with the extra CA, a
/// 300 kB answer through the session's bounded buffers, and each session audited.
#[tokio::test]
async fn asyncio_tls_runs_over_memory_bios_with_the_host_engine() {
    let (secure, ca_pem) = https_server_padded(300_000).await;
    let port = secure.port();
    let script = format!(
        r#"
import asyncio, ssl

async def get(path):
    ctx = ssl.create_default_context()
    reader, writer = await asyncio.open_connection("localhost", {port}, ssl=ctx)
    obj = writer.get_extra_info("ssl_object")
    writer.write(f"GET {{path}} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    body = await reader.readexactly(length)
    writer.close()
    await writer.wait_closed()
    return obj, body

async def upgraded():
    # STARTTLS-style: a plain connection, then asyncio's start_tls over memory BIOs.
    reader, writer = await asyncio.open_connection("localhost", {port})
    await writer.start_tls(ssl.create_default_context(), server_hostname="localhost")
    writer.write(b"GET /upgraded HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    version = writer.get_extra_info("ssl_object").version()
    writer.close()
    return head.split(b"\r\n")[0].decode(), version

async def main():
    (obj, body), (_, other) = await asyncio.gather(get("/one"), get("/two"))
    print(type(obj).__name__, isinstance(obj, ssl.SSLObject), obj.server_hostname)
    print(obj.version(), obj.cipher()[1], obj.cipher()[2] in (128, 256), obj.getpeercert()["subjectAltName"])
    print(len(body), body[:18].decode(), other[:18].decode())
    print(*await upgraded())

asyncio.run(main())

# The standard API by hand: a handshake needs the peer's bytes first.
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
import socket
with socket.create_connection(("localhost", {port}), timeout=5) as sock:
    obj = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        print("want read, hello of", outgoing.pending > 100)
    while True:
        sock.sendall(outgoing.read())
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            incoming.write(sock.recv(65536))
    obj.write(b"GET /manual HTTP/1.1\r\nHost: localhost\r\n\r\n")
    sock.sendall(outgoing.read())
    data = b""
    while b"/manual" not in data:
        try:
            data += obj.read(65536)
        except ssl.SSLWantReadError:
            incoming.write(sock.recv(65536))
    print(data.split(b"\r\n")[0].decode(), obj.pending() >= 0)
    try:
        obj.unwrap()
    except ssl.SSLWantReadError:
        sock.sendall(outgoing.read())
        print("close_notify sent")
    del obj  # the session ends (and is audited) with its SSLObject
"#
    );
    let (outcome, recorder) = run_with(
        &script,
        allowing(&[format!("localhost:{port}")]),
        Some(&ca_pem),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "SSLObject True localhost\n\
         TLSv1.3 TLSv1.3 True (('DNS', 'localhost'),)\n\
         300018 you asked for /one you asked for /two\n\
         HTTP/1.1 200 OK TLSv1.3\n\
         want read, hello of True\n\
         HTTP/1.1 200 OK True\n\
         close_notify sent\n"
    );
    let sessions = tls_sessions(&recorder);
    assert_eq!(sessions.len(), 4, "{sessions:?}");
    for (target, outcome, detail) in &sessions {
        assert_eq!((target.as_str(), *outcome), ("localhost", "ok"), "{detail}");
        assert!(detail.contains("TLSv1.3"), "{detail}");
    }
}

/// The memory-BIO path keeps the host's rules: a certificate for another name or from
/// an untrusted CA is refused, a destination without a rule is never reached, and a
/// TLS session needs an open connection.
#[tokio::test]
async fn memory_bio_tls_refuses_wrong_names_untrusted_certs_and_denied_destinations() {
    let (secure, ca_pem) = https_server().await;
    let port = secure.port();
    let unlisted = https_server().await.0.port();
    let script = format!(
        r#"
import asyncio, ssl

async def attempt(port, **kw):
    try:
        reader, writer = await asyncio.open_connection("localhost", port, ssl=ssl.create_default_context(), **kw)
        writer.close()
        await writer.wait_closed()
        return "connected"
    except ssl.SSLCertVerificationError as e:
        return f"cert refused ({{e.verify_code}}): {{e.reason}}"
    except PermissionError as e:
        return f"denied: {{type(e).__name__}} {{e}}"

async def main():
    print(await attempt({port}, server_hostname="wrong.example"))
    print(await attempt({port}))
    print(await attempt({unlisted}))

asyncio.run(main())
import gc
gc.collect()  # every connection is closed: none is left to carry a session
try:
    ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
except ssl.SSLError as e:
    print("no connection:", isinstance(e, PermissionError), "open network connection" in str(e))
try:
    ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
except ValueError as e:
    print(e)
"#
    );
    let caps = allowing(&[format!("localhost:{port}")]);
    let (outcome, _) = run_with(&script, caps.clone(), Some(&ca_pem)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(
        lines[0], "cert refused (62): CERTIFICATE_VERIFY_FAILED",
        "{}",
        outcome.stdout
    );
    assert_eq!(lines[1], "connected", "{}", outcome.stdout);
    assert!(
        lines[2].starts_with("denied: PermissionError")
            && lines[2].contains(&format!("localhost:{unlisted}")),
        "{}",
        outcome.stdout
    );
    assert_eq!(lines[3], "no connection: True True", "{}", outcome.stdout);
    assert_eq!(lines[4], "check_hostname requires server_hostname");

    // Without the extra CA the server's certificate has no trusted issuer.
    let (outcome, recorder) = run_with(&script, caps, None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(
        lines[1], "cert refused (20): CERTIFICATE_VERIFY_FAILED",
        "{}",
        outcome.stdout
    );
    let sessions = tls_sessions(&recorder);
    assert!(
        sessions
            .iter()
            .any(|(_, outcome, detail)| *outcome == "failed" && detail.contains("certificate")),
        "{sessions:?}"
    );
    assert!(
        sessions.iter().any(|(_, outcome, _)| *outcome == "denied"),
        "the refused session is audited: {sessions:?}"
    );
}

/// A peer (or a script) handing the TLS engine bytes that are not TLS gets an
/// `ssl.SSLError` at once, whatever their size; the host stays bounded.
#[tokio::test]
async fn garbage_handshake_bytes_raise_ssl_error() {
    let garbage = garbage_server().await;
    let port = garbage.port();
    let script = format!(
        r#"
import asyncio, socket, ssl

async def main():
    try:
        await asyncio.open_connection("127.0.0.1", {port}, ssl=ssl.create_default_context(), server_hostname="localhost")
    except ssl.SSLError as e:
        print("asyncio:", type(e).__name__, "corrupt" in str(e) or "invalid" in str(e).lower())

asyncio.run(main())

held = socket.create_connection(("127.0.0.1", {port}), timeout=5)
for junk in (b"\x16\x03\x03\xff\xff" + b"x" * 70000, bytes(range(256)) * 32768, b"\x17" * 1000):
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    incoming.write(junk)
    try:
        obj.do_handshake()
        print("handshake?!")
    except ssl.SSLError as e:
        print(len(junk), type(e).__name__, e.strerror.split(":")[0])
        try:
            obj.read(10)
        except ssl.SSLError as again:
            print("again", again is e)
"#
    );
    let (outcome, recorder) =
        run_with(&script, allowing(&[format!("127.0.0.1:{port}")]), None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "asyncio: SSLError True\n\
         70005 SSLError TLS handshake with localhost failed\n\
         again True\n\
         8388608 SSLError TLS handshake with localhost failed\n\
         again True\n\
         1000 SSLError TLS handshake with localhost failed\n\
         again True\n",
        "{outcome:?}"
    );
    let failed = tls_sessions(&recorder)
        .iter()
        .filter(|(_, outcome, _)| *outcome == "failed")
        .count();
    assert_eq!(failed, 4);
}

/// A run starts at most as many TLS sessions as it may open connections.
#[tokio::test]
async fn tls_sessions_are_capped_like_connections() {
    let addr = http_server(0).await;
    let script = format!(
        r#"
import socket, ssl
held = socket.create_connection(("127.0.0.1", {port}), timeout=5)
ctx = ssl.create_default_context()
sessions = [ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost") for _ in range(3)]
try:
    ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
except ssl.SSLError as e:
    print(isinstance(e, PermissionError), "3 TLS sessions" in str(e))
"#,
        port = addr.port()
    );
    let mut caps = allowing(&[addr.to_string()]);
    caps.net.max_connections_per_run = 3;
    let (outcome, _) = run_with(&script, caps, None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "True True\n");
}

/// Sockets of one run may listen on loopback for each other (paho-mqtt's wake-up
/// pair, `socket.socketpair()`): the bytes stay in the sandbox, and that opens
/// nothing on the network: a port on the host, and any other address, still needs a
/// rule, and a port the script stopped listening on is the host's again.
#[tokio::test]
async fn sockets_of_one_run_connect_to_each_other_inside_the_sandbox() {
    let host_port = http_server(0).await.port();
    let script = format!(
        r#"
import select, socket
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
print("listener readable before:", select.select([srv], [], [], 0)[0] == [])
c = socket.socket()
c.setblocking(False)
c.connect(("127.0.0.1", port))
print("listener readable after:", select.select([srv], [], [], 0)[0] == [srv])
s, peer = srv.accept()
print("peer:", peer == c.getsockname(), s.getpeername() == c.getsockname())
c.sendall(memoryview(b"xping")[1:])
print(s.recv(10))
s.sendall(b"pong")
print(select.select([c, s], [], [], 1)[0] == [c], c.recv(10))
try:
    c.recv(10)
except BlockingIOError:
    print("empty: BlockingIOError")
try:
    s.recv(10)
except OSError as e:
    print("would hang:", type(e).__name__, "no threads" in str(e))
c.close()
print("after close:", s.recv(10))
try:
    srv.accept()
except OSError as e:
    print("accept:", type(e).__name__)
for address in [("0.0.0.0", 0), ("", 0), ("10.0.0.1", 0)]:
    try:
        socket.socket().bind(address)
    except PermissionError as e:
        print("bind", address[0] or "any", "refused:", "only on 127.0.0.1" in str(e))
try:
    socket.create_connection(("127.0.0.1", {host_port}), timeout=2)
except PermissionError as e:
    print("host port:", "{host_port}" in str(e))
srv.close()
try:
    socket.create_connection(("127.0.0.1", port), timeout=2)
except PermissionError as e:
    print("closed listener:", str(port) in str(e))
a, b = socket.socketpair()
a.send(b"wake")
print("pair:", select.select([b], [], [], 1)[0] == [b], b.recv(100))
server = socket.create_server(("localhost", 0))
client = socket.create_connection(server.getsockname())
print("create_server:", server.accept()[1] == client.getsockname())
try:
    socket.create_server(("", 0))
except PermissionError as e:
    print("create_server on every address refused:", "only on 127.0.0.1" in str(e))
"#
    );
    let (outcome, recorder) = run_with(&script, Capabilities::default(), None).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "listener readable before: True\nlistener readable after: True\npeer: True True\n\
         b'ping'\nTrue b'pong'\nempty: BlockingIOError\nwould hang: OSError True\n\
         after close: b''\naccept: OSError\nbind 0.0.0.0 refused: True\nbind any refused: True\n\
         bind 10.0.0.1 refused: True\nhost port: True\nclosed listener: True\n\
         pair: True b'wake'\ncreate_server: True\ncreate_server on every address refused: True\n"
    );
    // Two refused connects reached the host (audited); the connections inside the
    // run did not.
    let calls = recorder.calls.lock().unwrap();
    let connects: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "net.connect")
        .map(|c| (c.target.clone(), c.outcome))
        .collect();
    assert_eq!(connects.len(), 2, "{connects:?}");
}
