//! What a script may do. Everything is denied unless a rule here allows it.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use url::Url;

mod net;
pub use net::{NetAdmission, NetPolicy, NetRule};

/// The capabilities one run holds. `Default` grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// Outbound HTTP.
    pub http: HttpPolicy,
    /// Outbound TCP connections, plain or TLS (`automa:host/net`).
    pub net: NetPolicy,
    /// Outbound email.
    pub email: EmailPolicy,
    /// Names of the secrets the script may read.
    pub secrets: Vec<String>,
    /// Host directories shared with the script, at `/shared/<name>`.
    pub shared_dirs: Vec<SharedDir>,
    /// Names of the host plugins the script may call.
    pub plugins: Vec<String>,
}

/// A host directory an admin shares with a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDir {
    /// The name under `/shared/` (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// The absolute host path.
    pub path: std::path::PathBuf,
    /// Whether the script may write to it.
    #[serde(default)]
    pub writable: bool,
}

/// Which HTTP requests are allowed, and the limits on each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpPolicy {
    /// A request must match one rule.
    pub rules: Vec<HttpRule>,
    /// Largest request body, in bytes.
    pub max_request_bytes: u64,
    /// Largest response body, in bytes.
    pub max_response_bytes: u64,
    /// Longest time one request may take, redirects included, in milliseconds.
    pub max_timeout_ms: u32,
    /// Most redirects followed for one request.
    pub max_redirects: u8,
    /// Most requests in one run.
    pub max_requests_per_run: u32,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            max_request_bytes: 10 * 1024 * 1024,
            max_response_bytes: 10 * 1024 * 1024,
            max_timeout_ms: 30_000,
            max_redirects: 5,
            max_requests_per_run: 1_000,
        }
    }
}

/// One allowlist entry: a host (or `*.domain`), optionally a scheme, port, methods
/// and path prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRule {
    /// `http` or `https`; `None` allows both.
    #[serde(default)]
    pub scheme: Option<String>,
    /// A host name, an IP address, or `*.example.com` for every subdomain.
    pub host: String,
    /// The port; `None` allows only the scheme's default port (80 or 443).
    #[serde(default)]
    pub port: Option<u16>,
    /// Allowed methods, upper case; empty allows all.
    #[serde(default)]
    pub methods: Vec<String>,
    /// A path prefix the request path must start with.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Whether the host may resolve to a loopback, private or link-local address.
    #[serde(default)]
    pub allow_private: bool,
}

impl HttpRule {
    /// Parse `HOST[:PORT]` or a URL prefix like `https://api.example.com:8443/v1`.
    /// Naming a loopback or private address (or `localhost`) explicitly allows it.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err("an HTTP allowlist entry cannot be empty".into());
        }
        let (scheme, url_text) = match spec.split_once("://") {
            Some((scheme, _)) => (Some(scheme.to_ascii_lowercase()), spec.to_owned()),
            None => (None, format!("http://{spec}")),
        };
        if let Some(s) = &scheme
            && s != "http"
            && s != "https"
        {
            return Err(format!(
                "unsupported scheme {s:?} in {spec:?}; use http or https"
            ));
        }
        let wildcard = url_text.contains("://*.");
        let parsed = Url::parse(&url_text.replacen("://*.", "://wildcard.", 1))
            .map_err(|e| format!("invalid HTTP allowlist entry {spec:?}: {e}"))?;
        let mut host = parsed
            .host_str()
            .ok_or_else(|| format!("no host in {spec:?}"))?
            .to_ascii_lowercase();
        if wildcard {
            host = host.replacen("wildcard.", "*.", 1);
        }
        let port = if scheme.is_some() {
            parsed.port()
        } else {
            // Without a scheme, an explicit port is whatever followed the colon.
            parsed
                .port_or_known_default()
                .filter(|_| spec.contains(':'))
        };
        let path_prefix = Some(parsed.path().to_owned()).filter(|p| p != "/" && !p.is_empty());
        let allow_private = host == "localhost" || host_ip(&host).is_some_and(is_non_public);
        Ok(Self {
            scheme,
            host,
            port,
            methods: Vec::new(),
            path_prefix,
            allow_private,
        })
    }

    /// Whether this rule allows `method` on `url`.
    pub fn allows(&self, method: &str, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Some(scheme) = &self.scheme
            && scheme != url.scheme()
        {
            return false;
        }
        let port = url.port_or_known_default();
        let port_ok = match self.port {
            Some(p) => port == Some(p),
            None => url.port().is_none(),
        };
        let method_ok =
            self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method));
        let path_ok = self
            .path_prefix
            .as_deref()
            .is_none_or(|prefix| url.path().starts_with(prefix));
        port_ok && method_ok && path_ok && self.host_matches(host)
    }

    fn host_matches(&self, host: &str) -> bool {
        host_pattern_matches(&self.host, host)
    }
}

impl HttpPolicy {
    /// The first rule allowing `method` on `url`.
    pub fn rule_for(&self, method: &str, url: &Url) -> Option<&HttpRule> {
        self.rules.iter().find(|rule| rule.allows(method, url))
    }
}

/// Which recipients email may go to, and how much may be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailPolicy {
    /// Every recipient must match one rule.
    pub rules: Vec<EmailRule>,
    /// Most messages in one run.
    pub max_per_run: u32,
    /// Largest message (bodies and attachments), in bytes.
    pub max_message_bytes: u64,
}

impl Default for EmailPolicy {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            max_per_run: 10,
            max_message_bytes: 10 * 1024 * 1024,
        }
    }
}

/// One allowed recipient: an exact address or every address at a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum EmailRule {
    /// Exactly this address (case-insensitive).
    Address(String),
    /// Any address at this domain, written `@example.com`.
    Domain(String),
}

impl EmailRule {
    /// Parse `someone@example.com` or `@example.com`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim().to_ascii_lowercase();
        match spec.split_once('@') {
            Some(("", domain)) if !domain.is_empty() => Ok(Self::Domain(domain.to_owned())),
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
                Ok(Self::Address(spec))
            }
            _ => Err(format!(
                "invalid email allowlist entry {spec:?}: use name@example.com or @example.com"
            )),
        }
    }

    /// Whether `address` matches.
    pub fn allows(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        match self {
            Self::Address(a) => *a == address,
            Self::Domain(d) => address
                .rsplit_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain == d),
        }
    }
}

impl EmailPolicy {
    /// Whether every rule-check passes for `address`.
    pub fn allows(&self, address: &str) -> bool {
        self.rules.iter().any(|rule| rule.allows(address))
    }
}

/// Whether `host` matches a rule's host: the same name or IP, or for `*.domain` any
/// subdomain (not the domain itself). Case and IPv6 brackets do not matter.
fn host_pattern_matches(pattern: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let rule = pattern.trim_start_matches('[').trim_end_matches(']');
    match rule.strip_prefix("*.") {
        Some(domain) => host.ends_with(&format!(".{domain}")),
        None => host == rule.to_ascii_lowercase(),
    }
}

fn host_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Loopback, private, link-local, shared, unspecified, multicast, reserved or otherwise
/// not a public unicast address: such targets are refused unless a rule allows them.
/// IPv6 prefixes that carry or reach an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible
/// and -translated) are refused as a whole, since the gateway behind them may reach a
/// private IPv4 network; an IPv4-mapped address is judged by its IPv4 address.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                // 240.0.0.0/4: reserved.
                || a >= 240
                // 100.64.0.0/10: shared address space (carrier-grade NAT).
                || (a == 100 && (64..128).contains(&b))
                // 198.18.0.0/15: benchmarking.
                || (a == 198 && (b == 18 || b == 19))
                // 192.0.0.0/24: IETF protocol assignments; 192.88.99.0/24: 6to4 relays.
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 88 && c == 99)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                // ::/96 IPv4-compatible, ::ffff:0:0/96 IPv4-translated.
                || s[..6] == [0; 6]
                || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0)
                // 64:ff9b::/96 NAT64, 64:ff9b:1::/48 local-use NAT64.
                || (s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1))
                // 2002::/16 6to4, 2001::/32 Teredo, 2001:db8::/32 documentation.
                || s[0] == 0x2002
                || (s[0] == 0x2001 && (s[1] == 0 || s[1] == 0xdb8))
                // 100::/64 discard-only.
                || (s[0] == 0x100 && s[1..4] == [0; 3])
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn host_rule_allows_default_ports_only() {
        let rule = HttpRule::parse("api.example.com").unwrap();
        assert!(rule.allows("GET", &url("https://api.example.com/x")));
        assert!(rule.allows("GET", &url("http://api.example.com/x")));
        assert!(!rule.allows("GET", &url("https://api.example.com:8443/x")));
        assert!(!rule.allows("GET", &url("https://evil.example.com/")));
        assert!(!rule.allows("GET", &url("https://api.example.com.evil.net/")));
        assert!(!rule.allow_private);
    }

    #[test]
    fn explicit_port_and_loopback() {
        let rule = HttpRule::parse("127.0.0.1:8080").unwrap();
        assert_eq!(rule.port, Some(8080));
        assert!(rule.allow_private);
        assert!(rule.allows("POST", &url("http://127.0.0.1:8080/hook")));
        assert!(!rule.allows("POST", &url("http://127.0.0.1:8081/hook")));
    }

    #[test]
    fn url_rule_limits_scheme_and_path() {
        let rule = HttpRule::parse("https://api.example.com/v1/").unwrap();
        assert!(rule.allows("GET", &url("https://api.example.com/v1/items")));
        assert!(!rule.allows("GET", &url("https://api.example.com/v2/items")));
        assert!(!rule.allows("GET", &url("http://api.example.com/v1/items")));
    }

    #[test]
    fn wildcard_matches_subdomains_not_apex() {
        let rule = HttpRule::parse("*.example.com").unwrap();
        assert!(rule.allows("GET", &url("https://a.example.com/")));
        assert!(rule.allows("GET", &url("https://a.b.example.com/")));
        assert!(!rule.allows("GET", &url("https://example.com/")));
        assert!(!rule.allows("GET", &url("https://badexample.com/")));
    }

    #[test]
    fn non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_non_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(!is_non_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn reserved_and_transition_addresses_are_not_public() {
        for ip in [
            // 240.0.0.0/4 and the other special IPv4 blocks.
            "240.0.0.1",
            "250.1.2.3",
            "255.255.255.255",
            "192.0.0.8",
            "192.88.99.1",
            "198.18.0.1",
            // IPv4-mapped addresses of private IPv4 addresses.
            "::ffff:10.0.0.1",
            "::ffff:192.168.1.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            // NAT64, whatever it embeds.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::808:808",
            "64:ff9b:1::a00:1",
            // 6to4 and Teredo.
            "2002:7f00:1::1",
            "2002:808:808::1",
            "2001::1",
            // IPv4-compatible and -translated.
            "::7f00:1",
            "::a00:1",
            "::808:808",
            "::ffff:0:a00:1",
            // Site-local, documentation, discard-only.
            "fec0::1",
            "feff::1",
            "2001:db8::1",
            "100::1",
        ] {
            assert!(is_non_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "::ffff:8.8.8.8",
            "1.1.1.1",
            "223.255.255.1",
            "2a00:1450:4001::1",
            "2001:4860::8888",
            "64:ff9c::1",
        ] {
            assert!(!is_non_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn email_rules() {
        let domain = EmailRule::parse("@Example.com").unwrap();
        assert!(domain.allows("Ops@example.com"));
        assert!(!domain.allows("ops@example.com.evil"));
        assert!(!domain.allows("@example.com"));
        let exact = EmailRule::parse("boss@example.com").unwrap();
        assert!(exact.allows("BOSS@example.com"));
        assert!(!exact.allows("other@example.com"));
        assert!(EmailRule::parse("nonsense").is_err());
    }
}
