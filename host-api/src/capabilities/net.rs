//! Which TCP connections a script may open (`automa:host/net`), and the per-run caps.
//!
//! A connection is admitted by a `net` rule naming its host and port, or by an HTTP
//! rule for the same host and port that has no method or path restriction: a raw
//! connection cannot be held to a method or a path, so only `automa.http` may use
//! those rules.

use super::{Capabilities, HttpRule, host_ip, host_pattern_matches, is_non_public};
use serde::{Deserialize, Serialize};

/// Which TCP connections are allowed, and the caps on them in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetPolicy {
    /// A connection must match one rule (or an unrestricted HTTP rule).
    pub rules: Vec<NetRule>,
    /// Most connections opened in one run (refused attempts do not count).
    pub max_connections_per_run: u32,
    /// Most bytes sent plus received over all connections of one run.
    pub max_bytes_per_run: u64,
    /// Longest time one connection may stay open, in milliseconds.
    pub max_connection_ms: u64,
    /// Longest time a connect (resolution, TCP and TLS handshake) may take, in
    /// milliseconds; a script asking for more gets this.
    pub max_connect_timeout_ms: u32,
}

impl Default for NetPolicy {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            max_connections_per_run: 100,
            max_bytes_per_run: 100 * 1024 * 1024,
            max_connection_ms: 10 * 60 * 1000,
            max_connect_timeout_ms: 30_000,
        }
    }
}

/// One allowlist entry: a host (a name, an IP address, or `*.domain` for every
/// subdomain) and a port. In JSON either `"host:port"` or an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleRepr")]
pub struct NetRule {
    /// A host name, an IP address, or `*.example.com` for every subdomain.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Whether the host may resolve to a loopback, private or link-local address.
    /// A rule naming such an address (or `localhost`) allows it.
    #[serde(default)]
    pub allow_private: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RuleRepr {
    Text(String),
    Object {
        host: String,
        port: u16,
        #[serde(default)]
        allow_private: bool,
    },
}

impl TryFrom<RuleRepr> for NetRule {
    type Error = String;

    fn try_from(repr: RuleRepr) -> Result<Self, String> {
        match repr {
            RuleRepr::Text(spec) => Self::parse(&spec),
            RuleRepr::Object {
                host,
                port,
                allow_private,
            } => {
                let mut rule = Self::new(&host, port)?;
                rule.allow_private |= allow_private;
                Ok(rule)
            }
        }
    }
}

impl NetRule {
    /// Parse `HOST:PORT`, `[IPv6]:PORT` or `*.domain:PORT`. The port is required.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        let usage = "use HOST:PORT, e.g. db.example.com:5432, [::1]:6379 or *.example.com:443";
        let (host, port) = spec
            .rsplit_once(':')
            .ok_or_else(|| format!("invalid network allowlist entry {spec:?}: {usage}"))?;
        if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
            return Err(format!(
                "invalid network allowlist entry {spec:?}: write an IPv6 address in brackets ({usage})"
            ));
        }
        let port: u16 = port.parse().map_err(|_| {
            format!("invalid port {port:?} in network allowlist entry {spec:?}: {usage}")
        })?;
        Self::new(host, port)
    }

    /// A rule for `host` and `port`, checked; naming a non-public address (or
    /// `localhost`) allows private addresses.
    pub fn new(host: &str, port: u16) -> Result<Self, String> {
        let host = host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if port == 0 {
            return Err(format!("port 0 is not a valid port for {host:?}"));
        }
        check_host_pattern(&host)?;
        let allow_private = host == "localhost" || host_ip(&host).is_some_and(is_non_public);
        Ok(Self {
            host,
            port,
            allow_private,
        })
    }

    /// Whether this rule admits `host` (a name or an IP address) and `port`.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.port == port && host_pattern_matches(&self.host, host)
    }
}

/// A host name, an IP address or `*.` and a name; the error says what is wrong.
fn check_host_pattern(host: &str) -> Result<(), String> {
    if host_ip(host).is_some() {
        return Ok(());
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid host {host:?} in a network allowlist entry: use a host name, an IP \
             address or *.domain"
        ))
    }
}

/// The ports an HTTP rule stands for when it admits a raw connection.
fn http_rule_ports(rule: &HttpRule) -> Vec<u16> {
    match (rule.port, rule.scheme.as_deref()) {
        (Some(port), _) => vec![port],
        (None, Some("http")) => vec![80],
        (None, Some("https")) => vec![443],
        (None, _) => vec![80, 443],
    }
}

/// Why a connection is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetAdmission {
    /// Whether the host may resolve to a non-public address.
    pub allow_private: bool,
}

impl Capabilities {
    /// Whether a connection to `host` and `port` is allowed, by a `net` rule or by an
    /// HTTP rule without method or path restrictions; `None` when it is not.
    pub fn net_admission(&self, host: &str, port: u16) -> Option<NetAdmission> {
        let by_net = self
            .net
            .rules
            .iter()
            .filter(|rule| rule.allows(host, port))
            .map(|rule| rule.allow_private);
        let by_http = self
            .http
            .rules
            .iter()
            .filter(|rule| rule.methods.is_empty() && rule.path_prefix.is_none())
            .filter(|rule| http_rule_ports(rule).contains(&port) && rule.host_matches(host))
            .map(|rule| rule.allow_private);
        // Any admitting rule that allows private addresses lets the host have them.
        by_net
            .chain(by_http)
            .reduce(|a, b| a || b)
            .map(|allow_private| NetAdmission { allow_private })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_forms() {
        let rule = NetRule::parse("DB.example.com:5432").unwrap();
        assert_eq!(
            (rule.host.as_str(), rule.port, rule.allow_private),
            ("db.example.com", 5432, false)
        );
        let v6 = NetRule::parse("[::1]:6379").unwrap();
        assert_eq!((v6.host.as_str(), v6.allow_private), ("::1", true));
        assert!(NetRule::parse("127.0.0.1:25").unwrap().allow_private);
        assert!(NetRule::parse("localhost:25").unwrap().allow_private);
        assert!(
            NetRule::parse("*.example.com:443")
                .unwrap()
                .allows("a.example.com", 443)
        );
        for bad in [
            "db.example.com",
            "db:0",
            "db:99999",
            "::1:5",
            "a b:1",
            "*.:1",
            ":1",
        ] {
            assert!(NetRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_match_host_and_port() {
        let rule = NetRule::parse("*.example.com:443").unwrap();
        assert!(rule.allows("A.B.example.com", 443));
        assert!(!rule.allows("example.com", 443));
        assert!(!rule.allows("a.example.com", 80));
        assert!(!rule.allows("a.example.com.evil.net", 443));
    }

    #[test]
    fn json_accepts_text_and_objects_and_old_capabilities_decode() {
        let caps: Capabilities = serde_json::from_str(
            r#"{"net": {"rules": ["db.example.com:5432",
                {"host": "10.0.0.5", "port": 6379},
                {"host": "cache.internal", "port": 11211, "allow_private": true}]}}"#,
        )
        .unwrap();
        assert_eq!(caps.net.rules.len(), 3);
        assert!(caps.net.rules[1].allow_private, "names a private address");
        assert!(caps.net.rules[2].allow_private);
        assert_eq!(caps.net.max_connections_per_run, 100);
        let err = serde_json::from_str::<Capabilities>(r#"{"net": {"rules": ["nope"]}}"#);
        assert!(err.is_err());
        let old: Capabilities =
            serde_json::from_str(r#"{"http": {"rules": [{"host": "a.example.com"}]}}"#).unwrap();
        assert_eq!(old.net, NetPolicy::default());
        let round: Capabilities =
            serde_json::from_str(&serde_json::to_string(&caps).unwrap()).unwrap();
        assert_eq!(round, caps);
    }

    #[test]
    fn http_rules_admit_their_host_and_port_unless_restricted() {
        let mut caps = Capabilities::default();
        caps.http.rules = vec![
            HttpRule::parse("api.example.com").unwrap(),
            HttpRule::parse("https://secure.example.com").unwrap(),
            HttpRule::parse("hooks.example.com:8443").unwrap(),
            HttpRule::parse("https://paths.example.com/v1/").unwrap(),
        ];
        let mut methods = HttpRule::parse("methods.example.com").unwrap();
        methods.methods = vec!["GET".into()];
        caps.http.rules.push(methods);
        assert!(caps.net_admission("api.example.com", 443).is_some());
        assert!(caps.net_admission("api.example.com", 80).is_some());
        assert!(caps.net_admission("api.example.com", 25).is_none());
        assert!(caps.net_admission("secure.example.com", 443).is_some());
        assert!(caps.net_admission("secure.example.com", 80).is_none());
        assert!(caps.net_admission("hooks.example.com", 8443).is_some());
        assert!(caps.net_admission("paths.example.com", 443).is_none());
        assert!(caps.net_admission("methods.example.com", 443).is_none());
        assert!(caps.net_admission("other.example.com", 443).is_none());
    }

    #[test]
    fn deny_by_default_and_private_follows_the_rule() {
        let mut caps = Capabilities::default();
        assert!(caps.net_admission("example.com", 443).is_none());
        caps.net.rules = vec![NetRule::parse("127.0.0.1:5432").unwrap()];
        assert_eq!(
            caps.net_admission("127.0.0.1", 5432),
            Some(NetAdmission {
                allow_private: true
            })
        );
        caps.net.rules = vec![NetRule::parse("db.example.com:5432").unwrap()];
        assert_eq!(
            caps.net_admission("DB.example.com", 5432),
            Some(NetAdmission {
                allow_private: false
            })
        );
    }
}
