//! Credential headers do not follow a redirect to another host or port, or from https
//! down to http. A real loopback HTTP server answers the redirects and reports which
//! credential headers reached its `/echo`; the https hop is played by a client port that
//! sends it over plain HTTP to the same server (the host side cannot tell the difference).
#![allow(clippy::unwrap_used)]

use automa_host_api::bindings::automa::host::http::{Header, Host, Request};
use automa_host_api::ports::{BoxFuture, HttpClient, InboundResponse, Nothing, OutboundRequest};
use automa_host_api::{Capabilities, HostContext, HostError, HttpRule, ReqwestClient};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `/echo` (which credential headers arrived) and redirects `/go?to=<url>`.
async fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let answer = match target.strip_prefix("/go?to=") {
                    Some(to) => format!(
                        "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\n\
                         connection: close\r\n\r\n"
                    ),
                    None => {
                        let seen: Vec<&str> = ["authorization", "proxy-authorization", "cookie"]
                            .into_iter()
                            .filter(|h| head.contains(&format!("\r\n{h}:")))
                            .collect();
                        let body = seen.join(",");
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    addr
}

/// The real client, except that an https hop goes over plain HTTP to the loopback server.
struct TlsPlayedByLoopback(ReqwestClient);

impl HttpClient for TlsPlayedByLoopback {
    fn send(
        &self,
        mut request: OutboundRequest,
    ) -> BoxFuture<'_, Result<InboundResponse, HostError>> {
        if request.url.scheme() == "https" {
            request.url.set_scheme("http").unwrap();
        }
        self.0.send(request)
    }
}

fn context(allowed: &[String]) -> HostContext {
    let mut caps = Capabilities::default();
    for entry in allowed {
        caps.http.rules.push(HttpRule::parse(entry).unwrap());
    }
    HostContext::new(
        Arc::new(caps),
        Arc::new(TlsPlayedByLoopback(ReqwestClient::new())),
        Arc::new(Nothing),
        Arc::new(Nothing),
    )
}

/// Which credential headers reached `/echo` after starting at `start`.
async fn credentials_after(ctx: &mut HostContext, start: String) -> String {
    let header = |name: &str, value: &str| Header {
        name: name.into(),
        value: value.into(),
    };
    let response = ctx
        .send(Request {
            method: "GET".into(),
            url: start,
            headers: vec![
                header("Authorization", "Bearer secret"),
                header("Proxy-Authorization", "Basic c2VjcmV0"),
                header("Cookie", "session=secret"),
            ],
            body: None,
            timeout_ms: Some(5_000),
            follow_redirects: true,
        })
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    String::from_utf8(response.body).unwrap()
}

#[tokio::test]
async fn credentials_stay_with_their_origin() {
    let a = server().await;
    let b = server().await;
    let port = a.port();
    let mut ctx = context(&[a.to_string(), format!("localhost:{port}"), b.to_string()]);
    let all = "authorization,proxy-authorization,cookie";

    // Same host and port: they follow.
    let same = format!("http://{a}/go?to=/echo");
    assert_eq!(credentials_after(&mut ctx, same).await, all);

    // https → http on the same host and port: dropped.
    let downgrade = format!("https://{a}/go?to=http://{a}/echo");
    assert_eq!(credentials_after(&mut ctx, downgrade).await, "");

    // Another host name for the same server: dropped.
    let other_host = format!("http://{a}/go?to=http://localhost:{port}/echo");
    assert_eq!(credentials_after(&mut ctx, other_host).await, "");

    // Another port on the same host: dropped.
    let other_port = format!("http://{a}/go?to=http://{b}/echo");
    assert_eq!(credentials_after(&mut ctx, other_port).await, "");

    // An https start that stays https keeps them.
    let stays = format!("https://{a}/go?to=https://{a}/echo");
    assert_eq!(credentials_after(&mut ctx, stays).await, all);
}
