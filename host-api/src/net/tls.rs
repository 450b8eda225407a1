//! TLS performed by the host for script connections: rustls with the ring provider,
//! the webpki roots plus the CA certificates an admin configures, SNI and certificate
//! verification always on (scripts have no way to turn verification off).

use crate::HostError;
use crate::bindings::automa::host::net::{TlsInfo, TlsOptions};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, RootCertStore};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The certificate authorities script connections trust: the webpki roots and the
/// admin's extra CAs (a server-level setting, not a script capability).
#[derive(Debug)]
pub struct TlsTrust {
    roots: Arc<RootCertStore>,
    extra: usize,
}

impl TlsTrust {
    /// The webpki roots only; built once per process and shared.
    pub fn webpki() -> Arc<Self> {
        static DEFAULT: OnceLock<Arc<TlsTrust>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Arc::new(Self {
                    roots: Arc::new(webpki_store()),
                    extra: 0,
                })
            })
            .clone()
    }

    /// The webpki roots plus every certificate in the PEM text `pem` (named `source` in
    /// errors). Fails when `pem` holds no certificate or one that is not a usable CA.
    pub fn with_extra_pem(pem: &[u8], source: &str) -> Result<Self, String> {
        let mut store = webpki_store();
        let extra = add_pem(&mut store, pem, source)?;
        Ok(Self {
            roots: Arc::new(store),
            extra,
        })
    }

    /// The webpki roots plus the certificates of every PEM file in `paths`; errors
    /// name the file.
    pub fn from_pem_files(paths: &[PathBuf]) -> Result<Self, String> {
        let mut store = webpki_store();
        let mut extra = 0;
        for path in paths {
            let source = path.display().to_string();
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA certificate file {source}: {e}"))?;
            extra += add_pem(&mut store, &pem, &source)?;
        }
        Ok(Self {
            roots: Arc::new(store),
            extra,
        })
    }

    /// How many certificates were added to the webpki roots.
    pub fn extra_certificates(&self) -> usize {
        self.extra
    }

    pub(super) fn client_config(&self, alpn: &[String]) -> Result<Arc<ClientConfig>, HostError> {
        if alpn.len() > 16 {
            return Err(HostError::InvalidInput(format!(
                "{} ALPN protocols offered; at most 16 are allowed",
                alpn.len()
            )));
        }
        if let Some(bad) = alpn.iter().find(|p| p.is_empty() || p.len() > 255) {
            return Err(HostError::InvalidInput(format!(
                "invalid ALPN protocol name {bad:?}: it must be 1 to 255 bytes"
            )));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| HostError::Failed(format!("TLS setup failed: {e}")))?
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Arc::new(config))
    }
}

fn webpki_store() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn add_pem(store: &mut RootCertStore, pem: &[u8], source: &str) -> Result<usize, String> {
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("invalid PEM in {source}: {e}"))?;
        store
            .add(cert)
            .map_err(|e| format!("a certificate in {source} cannot be a trusted CA: {e}"))?;
        added += 1;
    }
    if added == 0 {
        return Err(format!(
            "{source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(added)
}

/// The server name a certificate must match (and SNI), from a host name or an IP
/// address (brackets around IPv6 allowed); the text as used, and the name.
pub(super) fn server_name(text: &str) -> Result<(String, ServerName<'static>), HostError> {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_owned()).map_err(|_| {
        HostError::InvalidInput(format!(
            "invalid TLS server name {bare:?}: use a host name or an IP address"
        ))
    })?;
    Ok((bare.to_owned(), name))
}

/// Run a client handshake over `tcp` within `timeout`. `host` is the name the script
/// connected to, used when the options name no server; `target` is `host:port` for
/// messages.
pub(crate) async fn handshake(
    tcp: TcpStream,
    trust: &TlsTrust,
    options: &TlsOptions,
    host: &str,
    target: &str,
    timeout: Duration,
) -> Result<(TlsStream<TcpStream>, TlsInfo), HostError> {
    let (name_text, name) = server_name(options.server_name.as_deref().unwrap_or(host))?;
    let connector = TlsConnector::from(trust.client_config(&options.alpn)?);
    let stream = tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| {
            HostError::Timeout(format!(
                "the TLS handshake with {target} took longer than {} ms",
                timeout.as_millis()
            ))
        })?
        .map_err(|e| handshake_error(&e, target, &name_text))?;
    let info = info(stream.get_ref().1);
    Ok((stream, info))
}

/// Certificate problems start with "certificate verify failed", as OpenSSL says, so
/// the guest's `ssl` module can raise `SSLCertVerificationError` for them.
fn handshake_error(error: &std::io::Error, target: &str, name: &str) -> HostError {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(e) => tls_error(e, target, name),
        None => HostError::Failed(format!("TLS handshake with {target} failed: {error}")),
    }
}

/// A TLS failure with `target` (`host:port`, or the server name of a session) that
/// was reached as `name`.
fn tls_error(error: &rustls::Error, target: &str, name: &str) -> HostError {
    match error {
        e @ rustls::Error::InvalidCertificate(_) => HostError::Failed(format!(
            "certificate verify failed: {e} (connecting to {target} as {name:?})"
        )),
        e => HostError::Failed(format!("TLS handshake with {target} failed: {e}")),
    }
}

/// What the handshake of `session` agreed on.
pub(super) fn info(session: &ClientConnection) -> TlsInfo {
    let version = match session.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    // rustls names TLS 1.3 suites `TLS13_…`; their IANA names start `TLS_`.
    let cipher = session
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .map(|s| s.replacen("TLS13_", "TLS_", 1))
        .unwrap_or_default();
    TlsInfo {
        version,
        cipher,
        alpn: session
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        peer_certificate: session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|cert| cert.as_ref().to_vec()),
    }
}
