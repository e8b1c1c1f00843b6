//! `services[i].health`: the kind of check, its own fields, and the timers
//! every kind shares. A field of another kind is an error naming it, so a
//! typo in `kind` does not silently drop the check the operator wrote.

use std::net::IpAddr;
use std::time::Duration;

use super::checker::Checker;
use crate::document::{HealthDoc, HealthKindDoc};
use crate::model::{
    DnsCheck, DnsType, Health, HealthKind, HttpCheck, OnDown, Protocol, TlsCheck, UdpCheck,
};

const INTERVAL_MIN_MS: u64 = 100;
const INTERVAL_MAX_MS: u64 = 3_600_000;
const TIMEOUT_DEFAULT_MS: u64 = 500;

pub(super) fn health(
    c: &mut Checker,
    service: &str,
    doc: Option<&HealthDoc>,
    protocol: Protocol,
    service_port: u16,
    vip: Option<IpAddr>,
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
        HealthKindDoc::Http => {
            let port = port(c, service_port);
            HealthKind::Http(http(c, &p, doc, port, vip))
        }
        HealthKindDoc::Tls => HealthKind::Tls(TlsCheck {
            port: port(c, service_port),
            sni: doc
                .sni
                .as_deref()
                .map(|n| c.domain_name(format_args!("{p}.sni"), n)),
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
    let fields: [(&str, bool, &[K]); 13] = [
        (
            "port",
            doc.port.is_some(),
            &[K::Tcp, K::Udp, K::Dns, K::Http, K::Tls],
        ),
        ("sni", doc.sni.is_some(), &[K::Tls]),
        ("method", doc.method.is_some(), &[K::Http]),
        ("path", doc.path.is_some(), &[K::Http]),
        ("host", doc.host.is_some(), &[K::Http]),
        ("status", doc.status.is_some(), &[K::Http]),
        ("body", doc.body.is_some(), &[K::Http]),
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

/// An `http` check. The request (at most 16 + 200 + 200 bytes of method,
/// path and host plus fixed headers, under 536) fits one segment to any
/// server: 536 is the smallest IPv4 MSS (RFC 9293 section 3.7.1).
fn http(c: &mut Checker, p: &str, doc: &HealthDoc, port: u16, vip: Option<IpAddr>) -> HttpCheck {
    let visible = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    let method = doc.method.clone().unwrap_or_else(|| "GET".into());
    if !(1..=16).contains(&method.len()) || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        c.err(
            format_args!("{p}.method"),
            format!("must be 1 to 16 characters A-Z, like \"GET\" (got {method:?})"),
        );
    }
    let path = doc.path.clone().unwrap_or_else(|| "/".into());
    if !path.starts_with('/') || path.len() > HttpCheck::MAX_PATH || !visible(&path) {
        c.err(
            format_args!("{p}.path"),
            format!(
                "must start with '/' and be at most {} visible ASCII characters, no spaces (got {path:?})",
                HttpCheck::MAX_PATH
            ),
        );
    }
    let host = doc.host.clone().unwrap_or_else(|| match vip {
        Some(IpAddr::V6(a)) => format!("[{a}]"),
        Some(a) => a.to_string(),
        None => String::new(),
    });
    if doc.host.is_some()
        && (host.is_empty() || host.len() > HttpCheck::MAX_HOST || !visible(&host))
    {
        c.err(
            format_args!("{p}.host"),
            format!(
                "must be 1 to {} visible ASCII characters, no spaces (got {host:?})",
                HttpCheck::MAX_HOST
            ),
        );
    }
    let status = match doc.status.as_deref() {
        None => (200, 399),
        Some(s) => status_range(s).unwrap_or_else(|| {
            c.err(
                format_args!("{p}.status"),
                format!(
                    "must be a status code or a range of them within 100-599, like \"200\" or \"200-399\" (got {s:?})"
                ),
            );
            (200, 399)
        }),
    };
    let body = doc.body.clone();
    if let Some(b) = &body {
        if b.is_empty() || b.len() > HttpCheck::MAX_BODY {
            c.err(
                format_args!("{p}.body"),
                format!(
                    "must be 1 to {} bytes (leave it out to check the status only; got {})",
                    HttpCheck::MAX_BODY,
                    b.len()
                ),
            );
        }
    }
    HttpCheck {
        port,
        method,
        path,
        host,
        status,
        body,
    }
}

/// `"200"` or `"200-399"`, codes within 100..=599, low <= high.
fn status_range(s: &str) -> Option<(u16, u16)> {
    let code = |x: &str| {
        x.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c) && x.len() == 3)
    };
    let (lo, hi) = match s.split_once('-') {
        Some((lo, hi)) => (code(lo)?, code(hi)?),
        None => (code(s)?, code(s)?),
    };
    (lo <= hi).then_some((lo, hi))
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
    c.domain_name(format_args!("{p}.query_name"), name)
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
    use crate::{
        Config, ConfigErrors, DnsCheck, DnsType, HealthKind, HttpCheck, TlsCheck, UdpCheck,
    };
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
            "applies only to kinds \"tcp\", \"udp\", \"dns\", \"http\" and \"tls\"",
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
    fn http_checks() {
        assert_eq!(
            kind(json!({ "kind": "http" })),
            HealthKind::Http(HttpCheck {
                port: 5353,
                method: "GET".into(),
                path: "/".into(),
                host: "198.18.100.1".into(),
                status: (200, 399),
                body: None
            })
        );
        assert_eq!(
            kind(
                json!({ "kind": "http", "port": 8080, "method": "HEAD", "path": "/healthz?full=1",
                         "host": "www.example.test", "status": "204", "body": "ok" })
            ),
            HealthKind::Http(HttpCheck {
                port: 8080,
                method: "HEAD".into(),
                path: "/healthz?full=1".into(),
                host: "www.example.test".into(),
                status: (204, 204),
                body: Some("ok".into())
            })
        );
        let p = "services[0].health";
        for (field, value, reason) in [
            ("method", json!("get"), "1 to 16 characters A-Z"),
            ("method", json!(""), "1 to 16 characters A-Z"),
            ("path", json!("healthz"), "must start with '/'"),
            ("path", json!("/a b"), "no spaces"),
            (
                "path",
                json!(format!("/{}", "x".repeat(200))),
                "at most 200",
            ),
            ("host", json!(""), "1 to 200 visible"),
            ("host", json!("a\r\nX-Evil: 1"), "visible ASCII"),
            ("status", json!("2xx"), "within 100-599"),
            ("status", json!("399-200"), "within 100-599"),
            ("status", json!("99-200"), "within 100-599"),
            ("status", json!("200-600"), "within 100-599"),
            ("body", json!(""), "must be 1 to 256 bytes"),
            ("body", json!("x".repeat(257)), "must be 1 to 256 bytes"),
        ] {
            let mut h = json!({ "kind": "http" });
            h[field] = value;
            bad(h, &format!("{p}.{field}"), reason);
        }
        bad(
            json!({ "kind": "tcp", "path": "/" }),
            &format!("{p}.path"),
            "applies only to kind \"http\"",
        );
        let c = Config::from_json_str(&doc(
            json!({ "kind": "http", "status": "200-204", "body": "up" }),
        ))
        .unwrap();
        assert_eq!(Config::from_json_str(&c.to_json_pretty()).unwrap(), c);
    }

    #[test]
    fn an_http_check_of_an_ipv6_service_asks_for_the_bracketed_vip() {
        let d = doc(json!({ "kind": "http" }))
            .replace("198.18.100.1", "2001:db8:100::1")
            .replace("198.18.0.1/24", "2001:db8::1/64")
            .replace("198.18.0.11", "2001:db8::11")
            .replace("\"ipv4\"", "\"ipv6\"");
        let c = Config::from_json_str(&d).unwrap_or_else(|e| panic!("{e}"));
        match &c.services[0].health.kind {
            HealthKind::Http(h) => assert_eq!(h.host, "[2001:db8:100::1]"),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn tls_checks() {
        assert_eq!(
            kind(json!({ "kind": "tls" })),
            HealthKind::Tls(TlsCheck {
                port: 5353,
                sni: None
            })
        );
        assert_eq!(
            kind(json!({ "kind": "tls", "port": 443, "sni": "www.example.test." })),
            HealthKind::Tls(TlsCheck {
                port: 443,
                sni: Some("www.example.test".into())
            })
        );
        let p = "services[0].health";
        bad(
            json!({ "kind": "tls", "sni": "not a name" }),
            &format!("{p}.sni"),
            "must be a domain name",
        );
        bad(
            json!({ "kind": "http", "sni": "a.test" }),
            &format!("{p}.sni"),
            "applies only to kind \"tls\"",
        );
        let c = Config::from_json_str(&doc(json!({ "kind": "tls", "sni": "a.test" }))).unwrap();
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
