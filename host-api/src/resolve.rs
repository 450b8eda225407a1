//! Name resolution on the host with the refusal of non-public addresses, shared by
//! HTTP and raw connections: the addresses checked here are the only ones connected to,
//! so a DNS answer cannot change between the check and the connection.

use crate::HostError;
use crate::capabilities::is_non_public;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The addresses of `host` (a name or an IP address, IPv6 with or without brackets)
/// at `port`, within `timeout`. Unless `allow_private`, any loopback, private or
/// link-local answer refuses the whole name.
pub(crate) async fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, HostError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let lookup = tokio::net::lookup_host((bare, port));
            tokio::time::timeout(timeout, lookup)
                .await
                .map_err(|_| HostError::Timeout(format!("resolving {bare} took too long")))?
                .map_err(|e| HostError::Failed(format!("cannot resolve {bare}: {e}")))?
                .collect()
        }
    };
    if addresses.is_empty() {
        return Err(HostError::Failed(format!("{host}:{port} has no addresses")));
    }
    if !allow_private && let Some(bad) = addresses.iter().find(|a| is_non_public(a.ip())) {
        return Err(HostError::Denied(format!(
            "{bare} resolves to {}, a loopback, private or link-local address; such addresses \
             are refused unless an allowlist entry names them explicitly",
            bad.ip()
        )));
    }
    Ok(addresses)
}
