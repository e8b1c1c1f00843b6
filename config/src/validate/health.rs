//! `services[i].health`: the kind of check, its own fields, and the timers
//! every kind shares. A field of another kind is an error naming it, so a
//! typo in `kind` does not silently drop the check the operator wrote.

use std::time::Duration;

use super::checker::Checker;
use crate::document::{HealthDoc, HealthKindDoc};
use crate::model::{DnsCheck, DnsType, Health, HealthKind, OnDown, Protocol, UdpCheck};

const INTERVAL_MIN_MS: u64 = 100;
const INTERVAL_MAX_MS: u64 = 3_600_000;
const TIMEOUT_DEFAULT_MS: u64 = 500;

pub(super) fn health(
    c: &mut Checker,
    service: &str,
    doc: Option<&HealthDoc>,
    protocol: Protocol,
    service_port: u16,
) -> Health {
    let default_doc = HealthDoc::default();
    let doc = doc.unwrap_or(&default_doc);
    let p = format!("{service}.health");
    // Without a kind: TCP services get a connect probe, UDP ones (nothing to
    // connect to) an ARP/ND reachability check.
    let kind = doc.kind.unwrap_or(match protocol {
        Protocol::Tcp => HealthKindDoc::Tcp,
        Protocol::Udp => HealthKindDoc::Arp,
    });
    fields_of_other_kinds(c, &p, doc, kind);
    let port = |c: &mut Checker, default: u16| {
        c.field(format_args!("{p}.port"), doc.port, default.into(), 1, 65535) as u16
    };
    let kind = match kind {
        HealthKindDoc::Tcp => HealthKind::Tcp {
            port: port(c, service_port),
        },
        HealthKindDoc::Udp => HealthKind::Udp(UdpCheck {
            port: port(c, service_port),
            send: bytes(c, &p, "send", &doc.send, &doc.send_hex).unwrap_or_default(),
            expect: bytes(c, &p, "expect", &doc.expect, &doc.expect_hex).and_then(|e| {
                if e.is_empty() {
                    c.err(
                        format_args!("{p}.expect"),
                        "must not be empty (leave it out to accept any reply)",
                    );
                    return None;
                }
                Some(e)
            }),
        }),
        HealthKindDoc::Dns => HealthKind::Dns(DnsCheck {
            port: port(c, 53),
            name: dns_name(c, &p, doc.query_name.as_deref()),
            query_type: doc.query_type.unwrap_or(DnsType::A),
        }),
        HealthKindDoc::Arp => HealthKind::Arp,
        HealthKindDoc::None => HealthKind::Off,
    };
    let interval = c.field(
        format_args!("{p}.interval_ms"),
        doc.interval_ms,
        1000,
        INTERVAL_MIN_MS,
        INTERVAL_MAX_MS,
    );
    // The default timeout must fit a short interval too.
    let default_timeout = TIMEOUT_DEFAULT_MS.min(interval / 2);
    let timeout = match doc.timeout_ms {
        None => default_timeout,
        Some(0) => {
            c.err(format_args!("{p}.timeout_ms"), "must be at least 1 (got 0)");
            default_timeout
        }
        Some(t) if t >= interval => {
            c.err(
                format_args!("{p}.timeout_ms"),
                format!("must be less than interval_ms ({interval}) (got {t})"),
            );
            default_timeout
        }
        Some(t) => t,
    };
    let rise = c.field(format_args!("{p}.rise"), doc.rise, 2, 1, 10) as u8;
    let fall = c.field(format_args!("{p}.fall"), doc.fall, 3, 1, 10) as u8;
    Health {
        kind,
        interval: Duration::from_millis(interval),
        timeout: Duration::from_millis(timeout),
        rise,
        fall,
        on_down: doc.on_down.unwrap_or(OnDown::Keep),
    }
}

/// Each kind's own fields: one given with another kind is an error.
fn fields_of_other_kinds(c: &mut Checker, p: &str, doc: &HealthDoc, kind: HealthKindDoc) {
    use HealthKindDoc as K;
    let fields: [(&str, bool, &[K]); 7] = [
        ("port", doc.port.is_some(), &[K::Tcp, K::Udp, K::Dns]),
        ("send", doc.send.is_some(), &[K::Udp]),
        ("send_hex", doc.send_hex.is_some(), &[K::Udp]),
        ("expect", doc.expect.is_some(), &[K::Udp]),
        ("expect_hex", doc.expect_hex.is_some(), &[K::Udp]),
        ("query_name", doc.query_name.is_some(), &[K::Dns]),
        ("query_type", doc.query_type.is_some(), &[K::Dns]),
    ];
    for (name, given, kinds) in fields {
        if given && !kinds.contains(&kind) {
            let names: Vec<String> = kinds.iter().map(|k| format!("{:?}", k.as_str())).collect();
            let only = match names.split_last() {
                Some((last, [])) => format!("kind {last}"),
                Some((last, rest)) => format!("kinds {} and {last}", rest.join(", ")),
                None => String::new(),
            };
            c.err(
                format_args!("{p}.{name}"),
                format!("applies only to {only}"),
            );
        }
    }
}

/// The name a `dns` check queries, without its trailing dot (RFC 1035
/// section 2.3.4: labels of at most 63 octets, a name of at most 255 on
/// the wire, 253 characters written out).
fn dns_name(c: &mut Checker, p: &str, name: Option<&str>) -> String {
    let Some(name) = name else {
        c.err(
            format_args!("{p}.query_name"),
            "is required with kind \"dns\"",
        );
        return String::new();
    };
    let bare = name.strip_suffix('.').unwrap_or(name);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if bare.is_empty() || bare.len() > 253 || !bare.split('.').all(label_ok) {
        c.err(
            format_args!("{p}.query_name"),
            format!(
                "must be a domain name: labels of 1 to 63 letters, digits, '-' or '_', \
                 at most 253 characters (got {name:?})"
            ),
        );
        return String::new();
    }
    bare.to_string()
}

/// Bytes given as text (`name`) or hex (`name_hex`), at most
/// [`UdpCheck::MAX_BYTES`]; `None` when neither is given or on an error.
fn bytes(
    c: &mut Checker,
    p: &str,
    name: &str,
    text: &Option<String>,
    hex: &Option<String>,
) -> Option<Vec<u8>> {
    let b = match (text, hex) {
        (None, None) => return None,
        (Some(_), Some(_)) => {
            c.err(
                format_args!("{p}.{name}_hex"),
                format!("give {name} or {name}_hex, not both"),
            );
            return None;
        }
        (Some(t), None) => t.as_bytes().to_vec(),
        (None, Some(h)) => match parse_hex(h) {
            Some(b) => b,
            None => {
                c.err(
                    format_args!("{p}.{name}_hex"),
                    format!("must be pairs of hex digits, like \"0a1b\" (got {h:?})"),
                );
                return None;
            }
        },
    };
    if b.len() > UdpCheck::MAX_BYTES {
        let field = if text.is_some() {
            name.to_string()
        } else {
            format!("{name}_hex")
        };
        c.err(
            format_args!("{p}.{field}"),
            format!(
                "must be at most {} bytes (got {})",
                UdpCheck::MAX_BYTES,
                b.len()
            ),
        );
        return None;
    }
    Some(b)
}

/// `"0a1B"` to `[0x0a, 0x1b]`; `None` on an odd length or a non-hex digit.
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{Config, ConfigErrors, DnsCheck, DnsType, HealthKind, UdpCheck};
    use serde_json::{json, Value};

    /// A one-service document (UDP on port 5353) with `health`.
    fn doc(health: Value) -> String {
        json!({
            "ports": [ { "name": "p0", "device": "net_null0", "role": "both", "ipv4": "198.18.0.1/24" } ],
            "services": [ {
                "name": "svc", "vip": "198.18.100.1", "port": 5353, "protocol": "udp",
                "health": health,
                "servers": [ { "name": "s1", "address": "198.18.0.11" } ]
            } ]
        })
        .to_string()
    }

    fn kind(health: Value) -> HealthKind {
        let c = Config::from_json_str(&doc(health)).unwrap_or_else(|e| panic!("{e}"));
        c.services[0].health.kind.clone()
    }

    #[track_caller]
    fn bad(health: Value, path: &str, reason: &str) {
        let e: ConfigErrors = Config::from_json_str(&doc(health)).unwrap_err();
        assert!(
            e.iter()
                .any(|e| e.path == path && e.reason.contains(reason)),
            "wanted {path}: {reason}; got {e}"
        );
    }

    #[test]
    fn udp_payloads_as_text_or_hex() {
        assert_eq!(
            kind(json!({ "kind": "udp" })),
            HealthKind::Udp(UdpCheck {
                port: 5353,
                send: vec![],
                expect: None
            })
        );
        assert_eq!(
            kind(json!({ "kind": "udp", "port": 7, "send": "ping", "expect_hex": "706F6e67" })),
            HealthKind::Udp(UdpCheck {
                port: 7,
                send: b"ping".to_vec(),
                expect: Some(b"pong".to_vec())
            })
        );
        assert_eq!(
            kind(json!({ "kind": "udp", "send_hex": "00ff", "expect": "ok" })),
            HealthKind::Udp(UdpCheck {
                port: 5353,
                send: vec![0, 0xff],
                expect: Some(b"ok".to_vec())
            })
        );
    }

    #[test]
    fn udp_rules_name_the_field() {
        let p = "services[0].health";
        bad(
            json!({ "kind": "udp", "send": "a", "send_hex": "61" }),
            &format!("{p}.send_hex"),
            "give send or send_hex, not both",
        );
        bad(
            json!({ "kind": "udp", "send_hex": "abc" }),
            &format!("{p}.send_hex"),
            "pairs of hex digits",
        );
        bad(
            json!({ "kind": "udp", "expect_hex": "zz" }),
            &format!("{p}.expect_hex"),
            "pairs of hex digits",
        );
        bad(
            json!({ "kind": "udp", "expect": "" }),
            &format!("{p}.expect"),
            "must not be empty",
        );
        bad(
            json!({ "kind": "udp", "send": "x".repeat(513) }),
            &format!("{p}.send"),
            "at most 512 bytes (got 513)",
        );
        bad(
            json!({ "kind": "udp", "port": 0 }),
            &format!("{p}.port"),
            "between 1 and 65535 (got 0)",
        );
        bad(
            json!({ "kind": "tcp", "send": "x" }),
            &format!("{p}.send"),
            "applies only to kind \"udp\"",
        );
        bad(
            json!({ "kind": "arp", "port": 53 }),
            &format!("{p}.port"),
            "applies only to kinds \"tcp\", \"udp\" and \"dns\"",
        );
    }

    #[test]
    fn udp_checks_round_trip_through_the_emitted_document() {
        for h in [
            json!({ "kind": "udp", "send": "ping", "expect": "pong" }),
            json!({ "kind": "udp", "send_hex": "00ff10", "expect_hex": "c0" }),
        ] {
            let c = Config::from_json_str(&doc(h)).unwrap();
            let again = Config::from_json_str(&c.to_json_pretty()).unwrap();
            assert_eq!(again, c);
        }
    }

    #[test]
    fn dns_checks() {
        assert_eq!(
            kind(json!({ "kind": "dns", "query_name": "health.example.org." })),
            HealthKind::Dns(DnsCheck {
                port: 53,
                name: "health.example.org".into(),
                query_type: DnsType::A
            })
        );
        assert_eq!(
            kind(
                json!({ "kind": "dns", "port": 5353, "query_name": "a_b-1.test", "query_type": "AAAA" })
            ),
            HealthKind::Dns(DnsCheck {
                port: 5353,
                name: "a_b-1.test".into(),
                query_type: DnsType::Aaaa
            })
        );
        let p = "services[0].health";
        bad(
            json!({ "kind": "dns" }),
            &format!("{p}.query_name"),
            "is required with kind \"dns\"",
        );
        for name in [
            ".",
            "",
            "a..b",
            "a b.test",
            &"x".repeat(64),
            &["abc"; 64].join("."),
        ] {
            bad(
                json!({ "kind": "dns", "query_name": name }),
                &format!("{p}.query_name"),
                "must be a domain name",
            );
        }
        bad(
            json!({ "kind": "udp", "query_name": "x.test" }),
            &format!("{p}.query_name"),
            "applies only to kind \"dns\"",
        );
        let e = Config::from_json_str(&doc(
            json!({ "kind": "dns", "query_name": "x.test", "query_type": "MX" }),
        ))
        .unwrap_err();
        assert_eq!(e.errors()[0].path, "services[0].health.query_type", "{e}");
        let c = Config::from_json_str(&doc(
            json!({ "kind": "dns", "query_name": "x.test", "query_type": "AAAA" }),
        ))
        .unwrap();
        assert_eq!(Config::from_json_str(&c.to_json_pretty()).unwrap(), c);
    }

    #[test]
    fn hex() {
        assert_eq!(super::parse_hex(""), Some(vec![]));
        assert_eq!(super::parse_hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(super::parse_hex("0"), None);
        assert_eq!(super::parse_hex("0g"), None);
        assert_eq!(super::parse_hex("é0"), None);
    }
}
