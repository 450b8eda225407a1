//! The loopback peers the network cases talk to: an HTTP/1.1 JSON echo server, the
//! same behind rustls with a certificate from a CA made here, and aiosmtpd.

#[path = "../../../tests/support/smtp.rs"]
mod smtp;

use super::harness::Setup;
use automa_runtime::host::{Capabilities, NetRule};
use serde_json::json;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct Peers {
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub ca_pem: String,
    pub smtp: smtp::SmtpServer,
    /// A port nothing listens on and no rule grants.
    pub denied: u16,
}

impl Peers {
    pub async fn start() -> Self {
        let (https, ca_pem) = https_server().await;
        let denied = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            http: http_server().await,
            https,
            ca_pem,
            smtp: smtp::SmtpServer::start(),
            denied,
        }
    }

    /// Rules for the three peers (not `denied`), the CA, and a prelude naming them.
    pub fn setup(&self) -> Setup {
        let mut caps = Capabilities::default();
        caps.net.rules = [
            format!("127.0.0.1:{}", self.http.port()),
            format!("localhost:{}", self.https.port()),
            format!("127.0.0.1:{}", self.smtp.port),
        ]
        .iter()
        .map(|r| NetRule::parse(r).unwrap())
        .collect();
        // Both interpreters write the CA where their ssl module reads it: natively it
        // is what verifies; in the sandbox the host verifies with the same CA.
        let prelude = format!(
            "HTTP = 'http://127.0.0.1:{}'\nHTTPS = 'https://localhost:{}'\nSMTP_PORT = {}\nDENIED = 'http://127.0.0.1:{}'\nimport tempfile as _t\nwith _t.NamedTemporaryFile('w', suffix='.pem', delete=False) as _f:\n    _f.write({:?})\nCA_FILE = _f.name\n",
            self.http.port(),
            self.https.port(),
            self.smtp.port,
            self.denied,
            self.ca_pem
        );
        Setup {
            prelude,
            caps,
            ca_pem: Some(self.ca_pem.clone()),
        }
    }
}

/// Answers every request with a JSON echo of it; `/status/N` answers status N and
/// `/redirect` sends the client to `/json?from=redirect`. Connections are kept alive.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buffered = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffered[..end]).into_owned();
            let header = |name: &str| {
                head.lines().skip(1).find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_owned())
                })
            };
            let length: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if buffered.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&buffered[end + 4..end + 4 + length]);
                let mut words = head.split(' ');
                let method = words.next().unwrap_or("?").to_owned();
                let path = words.next().unwrap_or("?").to_owned();
                let answer = respond(&method, &path, &body, header("content-type"));
                buffered.drain(..end + 4 + length);
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffered.extend_from_slice(&buf[..n]),
        }
    }
}

fn respond(method: &str, path: &str, body: &str, content_type: Option<String>) -> String {
    let (status, extra) = if let Some(code) = path.strip_prefix("/status/") {
        (code.parse().unwrap_or(500), String::new())
    } else if path == "/redirect" {
        (302, "Location: /json?from=redirect\r\n".to_owned())
    } else {
        (200, String::new())
    };
    let payload = json!({
        "method": method,
        "path": path,
        "body": body,
        "content_type": content_type,
    })
    .to_string();
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
}

async fn http_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// The echo server behind TLS for `localhost`, and the PEM of the CA that signed it.
async fn https_server() -> (SocketAddr, String) {
    let (acceptor, ca_pem) = crate::common::tls::localhost_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve(tls).await;
                }
            });
        }
    });
    (addr, ca_pem)
}

/// The prelude and rule for a PostgreSQL server given as
/// `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`.
pub fn postgres_setup(url: &str) -> Setup {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .expect("a postgres:// URL");
    let (auth, rest) = rest.split_once('@').expect("USER@ in the URL");
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let (authority, database) = rest.split_once('/').unwrap_or((rest, "postgres"));
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "5432"));
    let database = database.split('?').next().unwrap_or("postgres");
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule::parse(&format!("{host}:{port}")).unwrap()];
    let password = if password.is_empty() {
        "None".to_owned()
    } else {
        format!("{password:?}")
    };
    Setup {
        prelude: format!(
            "PG_USER = {user:?}\nPG_HOST = {host:?}\nPG_PORT = {port}\nPG_DATABASE = {database:?}\nPG_PASSWORD = {password}\n"
        ),
        caps,
        ca_pem: None,
    }
}
