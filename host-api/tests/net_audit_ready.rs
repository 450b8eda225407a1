//! `automa:host/net` waits for room in the audit log like every audited host call:
//! when the sink cannot take a record, resolve, connect and new-tls-session fail
//! before they do anything (no lookup, no dial) and nothing goes unaudited.

#![allow(clippy::unwrap_used)]

use automa_host_api::bindings::automa::host::net::Host;
use automa_host_api::bindings::automa::host::types::Error;
use automa_host_api::ports::{AuditSink, BoxFuture, HostCallRecord, Nothing};
use automa_host_api::{Capabilities, HostContext, NetRule};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpListener;

/// An audit log that is full: never ready, and counting any record it is handed.
#[derive(Default)]
struct FullAudit(AtomicUsize);

impl AuditSink for FullAudit {
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Err("the audit queue is full".to_owned()) })
    }

    fn record(&self, _call: HostCallRecord) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn failed_for_audit(e: &Error) -> bool {
    matches!(e, Error::Failed(m) if m.contains("audit log cannot record this call"))
}

#[tokio::test]
async fn net_calls_fail_unmade_when_the_audit_log_has_no_room() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut caps = Capabilities::default();
    caps.net.rules = vec![NetRule::parse(&addr.to_string()).unwrap()];
    let audit = Arc::new(FullAudit::default());
    let mut ctx = HostContext::new(
        Arc::new(caps),
        Arc::new(automa_host_api::ReqwestClient::new()),
        audit.clone(),
        Arc::new(Nothing),
    );

    let resolved = ctx.resolve("127.0.0.1".into(), addr.port()).await;
    assert!(failed_for_audit(&resolved.unwrap_err()));
    let connected = ctx
        .connect("127.0.0.1".into(), addr.port(), None, Some(1000))
        .await;
    assert!(failed_for_audit(&connected.err().unwrap()));
    let session = ctx.new_tls_session("example.org".into(), Vec::new()).await;
    assert!(failed_for_audit(&session.err().unwrap()));

    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "nothing was dialled");
    assert_eq!(
        audit.0.load(Ordering::SeqCst),
        0,
        "no call ran to be audited"
    );
}
