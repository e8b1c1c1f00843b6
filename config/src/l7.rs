//! The layer-7 part of a service (issue 17, claim 2): named server pools,
//! the ordered rules that choose one from what the client's first data
//! asks for, and the limits of waiting for that data
//! (docs/config-reference.md, "pools, rules, first_data").

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The name of the pool of a service's servers that name no pool: it
/// takes the sessions no rule claims, with the service's own algorithm
/// and health check.
pub const DEFAULT_POOL: &str = "default";

/// `services[i].rules[k]`: when the first data matches, the session goes
/// to `pool`. Rules are tried in order; the first match wins.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// `[a-z0-9_-]{1,32}`, unique in the service: it names the rule in
    /// `slbctl rules` and `slbctl sessions`.
    pub name: String,
    /// A pool of the service, or [`DEFAULT_POOL`].
    pub pool: String,
    pub matcher: RuleMatch,
}

/// What a rule matches; every field given must match, at least one is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RuleMatch {
    /// An HTTP/1.x request head (TCP services).
    Http(HttpRule),
    /// A TLS ClientHello (TCP services).
    Tls(HelloMatch),
    /// A DNS query's question (UDP services).
    Dns(DnsRule),
    /// The ClientHello in a QUIC v1 Initial (UDP services).
    Quic(HelloMatch),
}

impl RuleMatch {
    /// `http`, `tls`, `dns` or `quic`: the key the rule is written under.
    pub fn kind(&self) -> &'static str {
        match self {
            RuleMatch::Http(_) => "http",
            RuleMatch::Tls(_) => "tls",
            RuleMatch::Dns(_) => "dns",
            RuleMatch::Quic(_) => "quic",
        }
    }
}

/// `rules[k].http`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpRule {
    /// An HTTP token, compared exactly (`GET`).
    pub method: Option<String>,
    /// `Host` without its port: a name (case-insensitive) or `*.suffix`
    /// (one or more labels before the suffix).
    pub host: Option<String>,
    /// Starts with `/`; compared with the request target's path as sent.
    pub path_prefix: Option<String>,
    /// A header's presence, or its exact value.
    pub header: Option<HeaderMatch>,
}

/// `rules[k].dns`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnsRule {
    /// A domain name; the query name equals it or ends in `.suffix`.
    pub suffix: Option<String>,
    /// The query type's number.
    pub qtype: Option<u16>,
}

/// `header`: `name` (case-insensitive) present, with `value` when set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HeaderMatch {
    pub name: String,
    pub value: Option<String>,
}

/// The ClientHello's server name and offered protocols (TLS and QUIC).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HelloMatch {
    /// The server name (SNI): a name or `*.suffix`.
    pub sni: Option<String>,
    /// A protocol the client offers (ALPN), compared exactly (`h2`).
    pub alpn: Option<String>,
}

/// `services[i].first_data`: how long and how much slbd waits for the
/// client's first data before it falls back to the default pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstData {
    /// From the handshake's ACK (TCP) or the first datagram (UDP); 10 ms
    /// to 5 s, default 200 ms.
    pub wait: Duration,
    /// Segments (TCP) or datagrams (UDP) of data, 1..=8, default 3.
    pub segments: u8,
    /// Bytes of data read, 64..=16384, default 4096.
    pub bytes: u16,
    /// What a request that cannot be read gets.
    pub malformed: Malformed,
}

impl Default for FirstData {
    fn default() -> FirstData {
        FirstData {
            wait: Duration::from_millis(200),
            segments: 3,
            bytes: 4096,
            malformed: Malformed::Default,
        }
    }
}

/// `first_data.malformed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// The default pool, by L4.
    Default,
    /// Refused as the service refuses (`refuse`: a reset, or a drop).
    Refuse,
}

impl Malformed {
    pub fn as_str(self) -> &'static str {
        match self {
            Malformed::Default => "default",
            Malformed::Refuse => "refuse",
        }
    }
}

/// DNS query types a rule may name; any other type is written as its
/// number.
pub const DNS_TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("PTR", 12),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
    ("SRV", 33),
    ("NAPTR", 35),
    ("DS", 43),
    ("DNSKEY", 48),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("CAA", 257),
    ("ANY", 255),
];

/// A DNS type's name from [`DNS_TYPES`], or its number.
pub fn dns_type_name(code: u16) -> String {
    DNS_TYPES
        .iter()
        .find(|(_, c)| *c == code)
        .map_or_else(|| code.to_string(), |(n, _)| (*n).to_string())
}
