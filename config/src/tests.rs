//! Every schema rule gets a bad document and the exact path + reason it
//! must produce; plus examples, defaults, round trip, diff.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::*;

const LAB: &str = include_str!("../examples/lab.json");
const MINIMAL: &str = include_str!("../examples/minimal.json");

fn lab() -> Value {
    serde_json::from_str(LAB).unwrap()
}

/// Sets the value at a JSON pointer, adding the last key to its object if
/// missing.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"))
    {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        other => panic!("{parent} is {other}"),
    }
}

fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key)
        .unwrap_or_else(|| panic!("no {pointer}"));
}

fn errors(doc: &Value) -> ConfigErrors {
    match Config::from_json_str(&serde_json::to_string_pretty(doc).unwrap()) {
        Ok(c) => panic!("expected errors, parsed: {c:#?}"),
        Err(e) => e,
    }
}

fn parses(doc: &Value) -> Config {
    Config::from_json_str(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[track_caller]
fn assert_error(errs: &ConfigErrors, path: &str, reason: &str) {
    assert!(
        errs.iter()
            .any(|e| e.path == path && e.reason.contains(reason)),
        "expected `{path}: ...{reason}...`, got:\n{errs}"
    );
}

/// `lab.json` with one value set must fail with `path: ...reason...`.
#[track_caller]
fn bad(pointer: &str, value: Value, path: &str, reason: &str) {
    let mut doc = lab();
    set(&mut doc, pointer, value);
    assert_error(&errors(&doc), path, reason);
}

// ---- examples, defaults -------------------------------------------------

#[test]
fn lab_example_parses() {
    let c = Config::from_json_str(LAB).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.ports.len(), 2);
    assert_eq!(c.ports[0].role, Role::Client);
    assert_eq!(c.ports[0].device, "net_tap0");
    assert_eq!(
        c.ports[0].ipv4,
        Some(Ipv4Cidr::new(Ipv4Addr::new(198, 18, 0, 1), 24).unwrap())
    );
    assert_eq!(
        c.ports[1].ipv6,
        Some(Ipv6Cidr::new("2001:db8:1::1".parse().unwrap(), 64).unwrap())
    );
    let names: Vec<&str> = c.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["web", "web6", "dns"]);
    let web = &c.services[0];
    assert_eq!(web.vip, IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1)));
    assert_eq!(
        web.servers.iter().map(|s| s.weight).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(
        web.servers[2].address,
        IpAddr::V4(Ipv4Addr::new(198, 18, 1, 13))
    );
    let web6 = &c.services[1];
    assert_eq!(web6.vip, "2001:db8:100::1".parse::<IpAddr>().unwrap());
    assert_eq!(
        web6.servers[0].address,
        "2001:db8:1::11".parse::<IpAddr>().unwrap()
    );
    let dns = &c.services[2];
    assert_eq!(
        (dns.protocol, dns.port, dns.refuse),
        (Protocol::Udp, 5353, Refuse::Drop)
    );
    assert_eq!(dns.health.kind, HealthKind::Arp);
    assert_eq!(
        c.control.metrics_listen,
        Some("127.0.0.1:9781".parse().unwrap())
    );
    assert_eq!(
        c.port_for("198.18.1.12".parse().unwrap()).unwrap().name,
        "server"
    );
    assert!(c.port_for("10.0.0.1".parse().unwrap()).is_none());
}

#[test]
fn minimal_example_gets_every_default() {
    let c = Config::from_json_str(MINIMAL).unwrap_or_else(|e| panic!("{e}"));
    let p = &c.ports[0];
    assert_eq!((p.role, p.mtu, p.ipv6), (Role::Both, 1500, None));
    assert_eq!(
        c.labels,
        Labels {
            first: 16,
            last: 1_048_575,
            quarantine: Duration::from_millis(2000)
        }
    );
    assert_eq!(
        c.timeouts,
        Timeouts {
            tcp_syn: Duration::from_millis(5000),
            tcp_established: Duration::from_secs(900),
            tcp_closing: Duration::from_secs(30),
            tcp_linger: Duration::from_millis(1000),
            udp: Duration::from_secs(60),
        }
    );
    assert!(c.neighbours.is_empty());
    assert_eq!(
        c.control,
        Control {
            socket: PathBuf::from("/run/slbd.sock"),
            metrics_listen: None
        }
    );
    let s = &c.services[0];
    assert_eq!(s.client_mode, ClientMode::Plain);
    assert_eq!(s.algorithm, Algorithm::WeightedRoundRobin);
    assert_eq!((s.max_sessions, s.new_sessions_per_s, s.burst), (0, 0, 0));
    assert_eq!(s.refuse, Refuse::Rst);
    assert_eq!(
        s.health,
        Health {
            kind: HealthKind::Tcp { port: 80 },
            interval: Duration::from_millis(1000),
            timeout: Duration::from_millis(500),
            rise: 2,
            fall: 3,
            on_down: OnDown::Keep,
        }
    );
    let v = &s.servers[0];
    assert_eq!((v.weight, v.max_sessions, v.state), (1, 0, ServerState::Up));
}

#[test]
fn udp_defaults_to_drop_and_arp_health() {
    let mut doc = lab();
    let dns = doc
        .pointer_mut("/services/2")
        .unwrap()
        .as_object_mut()
        .unwrap();
    dns.remove("refuse");
    dns.remove("health");
    let c = parses(&doc);
    assert_eq!(c.services[2].refuse, Refuse::Drop);
    assert_eq!(c.services[2].health.kind, HealthKind::Arp);
}

#[test]
fn burst_defaults_to_rate() {
    let mut doc = lab();
    set(&mut doc, "/services/0/new_sessions_per_s", json!(1000));
    let c = parses(&doc);
    assert_eq!(
        (c.services[0].new_sessions_per_s, c.services[0].burst),
        (1000, 1000)
    );
    set(&mut doc, "/services/0/burst", json!(50));
    assert_eq!(parses(&doc).services[0].burst, 50);
}

#[test]
fn health_defaults() {
    let mut doc = lab();
    set(
        &mut doc,
        "/services/0/health",
        json!({ "interval_ms": 200 }),
    );
    let h = parses(&doc).services[0].health.clone();
    // A default timeout always fits the interval.
    assert_eq!(h.timeout, Duration::from_millis(100));
    assert_eq!(h.kind, HealthKind::Tcp { port: 80 });
    set(
        &mut doc,
        "/services/0/health",
        json!({ "kind": "tcp", "port": 8080 }),
    );
    assert_eq!(
        parses(&doc).services[0].health.kind,
        HealthKind::Tcp { port: 8080 }
    );
    set(
        &mut doc,
        "/services/0/health",
        json!({ "kind": "none", "on_down": "reset" }),
    );
    let h = parses(&doc).services[0].health.clone();
    assert_eq!((h.kind, h.on_down), (HealthKind::Off, OnDown::Reset));
}

#[test]
fn accepted_corner_cases() {
    let mut doc = lab();
    // /31 point-to-point (RFC 3021): no network/broadcast addresses.
    set(&mut doc, "/ports/0/ipv4", json!("198.18.0.0/31"));
    // IPv4-only port may go below 1280.
    set(&mut doc, "/ports/0/mtu", json!(576));
    remove(&mut doc, "/ports/0/ipv6");
    set(&mut doc, "/ports/1/mtu", json!(9000));
    set(
        &mut doc,
        "/labels",
        json!({ "first": 17, "last": 18, "quarantine_ms": 0 }),
    );
    set(
        &mut doc,
        "/neighbours",
        json!([{ "address": "198.18.1.11", "mac": "02:00:00:00:01:11" }]),
    );
    set(
        &mut doc,
        "/control",
        json!({ "metrics_listen": "[::1]:9781" }),
    );
    set(&mut doc, "/services/0/servers/0/weight", json!(65535));
    set(&mut doc, "/services/0/servers/1/state", json!("drain"));
    set(&mut doc, "/services/0/servers/2/state", json!("disabled"));
    for (i, a) in [
        "round_robin",
        "least_connections",
        "weighted_least_connections",
        "least_response_time",
        "maglev",
    ]
    .iter()
    .enumerate()
    {
        let mut d = doc.clone();
        set(&mut d, "/services/0/algorithm", json!(a));
        set(&mut d, "/services/0/client_mode", json!("label"));
        let c = parses(&d);
        assert_eq!(c.services[0].client_mode, ClientMode::Label, "{i}");
    }
    let c = parses(&doc);
    assert_eq!(c.labels.pairs(), 1);
    assert_eq!(c.neighbours[0].mac, [2, 0, 0, 0, 1, 0x11]);
    assert_eq!(
        c.control.metrics_listen,
        Some(SocketAddr::from((Ipv6Addr::LOCALHOST, 9781)))
    );
    assert_eq!(c.services[0].servers[1].state, ServerState::Drain);
    // One-arm: a single port with both roles.
    let one_arm = json!({
        "ports": [{ "name": "arm", "device": "0000:01:00.0", "role": "both", "ipv6": "2001:db8:1::1/64" }],
        "services": [{ "name": "v6", "vip": "2001:db8:100::1", "port": 443, "protocol": "tcp",
                       "servers": [{ "name": "a", "address": "2001:db8:1::11" }] }]
    });
    parses(&one_arm);
    // No services at all is a valid (idle) appliance.
    let mut idle = lab();
    set(&mut idle, "/services", json!([]));
    assert!(parses(&idle).services.is_empty());
}

// ---- syn_proxy --------------------------------------------------------------

#[test]
fn syn_proxy_defaults_by_family_and_advertised_values() {
    let mut doc = lab();
    set(&mut doc, "/services/0/syn_proxy", json!(true));
    set(&mut doc, "/services/1/syn_proxy", json!(true));
    let c = parses(&doc);
    assert_eq!(
        c.services[0].syn_proxy,
        Some(SynProxy {
            mss: 1460,
            window_scale: 7
        })
    );
    assert_eq!(
        c.services[1].syn_proxy,
        Some(SynProxy {
            mss: 1440,
            window_scale: 7
        })
    );
    assert_eq!(c.services[2].syn_proxy, None, "off unless asked");
    set(
        &mut doc,
        "/services/0/syn_proxy",
        json!({ "window_scale": 0 }),
    );
    set(&mut doc, "/services/1/syn_proxy", json!(false));
    let c = parses(&doc);
    assert_eq!(
        c.services[0].syn_proxy,
        Some(SynProxy {
            mss: 1460,
            window_scale: 0
        })
    );
    assert_eq!(c.services[1].syn_proxy, None);
}

#[test]
fn syn_proxy_rules() {
    bad(
        "/services/2/syn_proxy",
        json!(true),
        "services[2].syn_proxy",
        "TCP services only",
    );
    bad(
        "/services/0/syn_proxy",
        json!({ "mss": 100 }),
        "services[0].syn_proxy.mss",
        "between 536 and 9000 (got 100)",
    );
    bad(
        "/services/0/syn_proxy",
        json!({ "window_scale": 15 }),
        "services[0].syn_proxy.window_scale",
        "between 0 and 14 (got 15)",
    );
    for sig in ["md5", "ao"] {
        let mut doc = lab();
        set(&mut doc, "/services/0/syn_proxy", json!(true));
        set(&mut doc, "/services/0/tcp_signatures", json!(sig));
        let errs = errors(&doc);
        assert_error(
            &errs,
            "services[0].syn_proxy",
            &format!("cannot be used with tcp_signatures \"{sig}\""),
        );
        // Signatures alone are fine (the service stays L4).
        remove(&mut doc, "/services/0/syn_proxy");
        assert_eq!(
            parses(&doc).services[0].tcp_signatures,
            Some(if sig == "md5" {
                TcpSignatures::Md5
            } else {
                TcpSignatures::Ao
            })
        );
    }
    // An unknown key in the advertised values is an error, not ignored.
    let mut doc = lab();
    set(&mut doc, "/services/0/syn_proxy", json!({ "msss": 1400 }));
    let e = Config::from_json_str(&doc.to_string())
        .unwrap_err()
        .to_string();
    assert!(e.contains("syn_proxy"), "{e}");
}

#[test]
fn diff_names_a_syn_proxy_change() {
    let old = parses(&lab());
    let mut doc = lab();
    set(&mut doc, "/services/0/syn_proxy", json!({ "mss": 1400 }));
    let new = parses(&doc);
    let d = old.diff(&new);
    let text = d.to_string();
    assert!(
        text.contains("syn_proxy off -> on (mss 1400, window_scale 7)"),
        "{text}"
    );
}

// ---- layer 7: pools, rules, first_data --------------------------------------

/// `lab.json`'s web (TCP, syn_proxy) and dns (UDP) services with pools and
/// rules.
fn l7_lab() -> Value {
    let mut doc = lab();
    set(&mut doc, "/services/0/syn_proxy", json!(true));
    set(&mut doc, "/services/0/servers/1/pool", json!("api"));
    set(&mut doc, "/services/0/servers/2/pool", json!("static"));
    set(
        &mut doc,
        "/services/0/pools",
        json!([{ "name": "api", "algorithm": "least_connections",
                 "health": { "kind": "http", "path": "/healthz" } },
               { "name": "static" }]),
    );
    set(
        &mut doc,
        "/services/0/rules",
        json!([
            { "name": "api", "pool": "api", "http": { "host": "API.example.com" } },
            { "name": "static", "pool": "static",
              "http": { "method": "GET", "path_prefix": "/s/", "header": { "name": "X-Cdn" } } },
            { "name": "tls", "pool": "default", "tls": { "sni": "*.example.com", "alpn": "h2" } }
        ]),
    );
    set(
        &mut doc,
        "/services/0/first_data",
        json!({ "wait_ms": 300 }),
    );
    set(&mut doc, "/services/2/servers/2/pool", json!("corp"));
    set(&mut doc, "/services/2/pools", json!([{ "name": "corp" }]));
    set(
        &mut doc,
        "/services/2/rules",
        json!([
            { "name": "corp", "pool": "corp", "dns": { "suffix": "corp.example.", "type": "aaaa" } },
            { "name": "h3", "pool": "corp", "quic": { "sni": "www.example.com" } },
            { "name": "svcb", "pool": "corp", "dns": { "type": 64 } }
        ]),
    );
    doc
}

#[test]
fn l7_pools_and_rules_parse() {
    let c = parses(&l7_lab());
    let web = &c.services[0];
    assert_eq!(web.pools.len(), 2);
    assert_eq!(web.pools[0].algorithm, Algorithm::LeastConnections);
    assert_eq!(web.pools[1].algorithm, web.algorithm, "the service's");
    assert!(web.pools[0].health.is_some() && web.pools[1].health.is_none());
    assert_eq!(web.server_health(&web.servers[2]), &web.health);
    assert_eq!(
        web.server_health(&web.servers[1]).kind.as_str(),
        "http",
        "the pool's"
    );
    assert_eq!(
        web.servers
            .iter()
            .map(|s| web.server_pool_index(s))
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(web.pool_index("default"), Some(0));
    assert_eq!(web.pool_algorithm(1), Algorithm::LeastConnections);
    let RuleMatch::Http(h) = &web.rules[0].matcher else {
        panic!("http")
    };
    assert_eq!(h.host.as_deref(), Some("api.example.com"), "lowercased");
    let RuleMatch::Http(h) = &web.rules[1].matcher else {
        panic!("http")
    };
    assert_eq!(h.header.as_ref().unwrap().name, "x-cdn");
    assert_eq!(web.first_data.wait, Duration::from_millis(300));
    assert_eq!(web.first_data.segments, 3, "default");
    let dns = &c.services[2];
    let RuleMatch::Dns(d) = &dns.rules[0].matcher else {
        panic!("dns")
    };
    assert_eq!(
        (d.suffix.as_deref(), d.qtype),
        (Some("corp.example"), Some(28)),
        "trailing dot gone, type by name without case"
    );
    let RuleMatch::Dns(d) = &dns.rules[2].matcher else {
        panic!("dns")
    };
    assert_eq!(d.qtype, Some(64), "a number");
    // Written back and read again: the same configuration.
    assert_eq!(Config::from_json_str(&c.to_json_pretty()).unwrap(), c);
}

#[test]
fn l7_errors_name_the_field() {
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "/services/0/syn_proxy",
            json!(false),
            "services[0].rules[0].http",
            "needs syn_proxy",
        ),
        (
            "/services/0/servers/1/pool",
            json!("cache"),
            "services[0].servers[1].pool",
            "no pool \"cache\"",
        ),
        (
            "/services/0/rules/0/pool",
            json!("apx"),
            "services[0].rules[0].pool",
            "no pool \"apx\"",
        ),
        (
            "/services/0/rules/0/name",
            json!("tls"),
            "services[0].rules[2].name",
            "duplicate rule name",
        ),
        (
            "/services/0/pools/1/name",
            json!("default"),
            "services[0].pools[1].name",
            "\"default\" is the pool",
        ),
        (
            "/services/0/pools/1/name",
            json!("api"),
            "services[0].pools[1].name",
            "duplicate pool name",
        ),
        (
            "/services/0/rules/0/http",
            json!({}),
            "services[0].rules[0].http",
            "at least one field",
        ),
        (
            "/services/0/rules/0/http",
            json!({ "host": "a..b" }),
            "services[0].rules[0].http.host",
            "must be a domain name",
        ),
        (
            "/services/0/rules/0/http",
            json!({ "host": "*.*.b" }),
            "services[0].rules[0].http.host",
            "must be a domain name",
        ),
        (
            "/services/0/rules/0/http",
            json!({ "path_prefix": "v1" }),
            "services[0].rules[0].http.path_prefix",
            "must start with '/'",
        ),
        (
            "/services/0/rules/0/http",
            json!({ "method": "G ET" }),
            "services[0].rules[0].http.method",
            "an HTTP token",
        ),
        (
            "/services/0/rules/0/http",
            json!({ "header": { "name": "a:b" } }),
            "services[0].rules[0].http.header.name",
            "an HTTP token",
        ),
        (
            "/services/0/rules/2/tls",
            json!({ "alpn": "" }),
            "services[0].rules[2].tls.alpn",
            "1 to 255",
        ),
        (
            "/services/0/rules/0",
            json!({ "name": "x", "pool": "api", "dns": { "suffix": "a" } }),
            "services[0].rules[0].dns",
            "is for udp services",
        ),
        (
            "/services/0/rules/0",
            json!({ "name": "x", "pool": "api" }),
            "services[0].rules[0]",
            "exactly one of http, tls, dns or quic",
        ),
        (
            "/services/0/rules/0",
            json!({ "name": "x", "pool": "api", "http": { "host": "a" }, "tls": { "sni": "a" } }),
            "services[0].rules[0]",
            "exactly one",
        ),
        (
            "/services/2/rules/0/dns",
            json!({ "type": "AXFRX" }),
            "services[2].rules[0].dns.type",
            "must be one of A, NS",
        ),
        (
            "/services/2/rules/0/dns",
            json!({ "type": 0 }),
            "services[2].rules[0].dns.type",
            "between 1 and 65535",
        ),
        (
            "/services/2/rules/1",
            json!({ "name": "h", "pool": "corp", "http": { "host": "a" } }),
            "services[2].rules[1].http",
            "is for tcp services",
        ),
        (
            "/services/0/first_data",
            json!({ "wait_ms": 5 }),
            "services[0].first_data.wait_ms",
            "between 10 and 5000",
        ),
        (
            "/services/0/first_data",
            json!({ "segments": 9 }),
            "services[0].first_data.segments",
            "between 1 and 8",
        ),
        (
            "/services/0/first_data",
            json!({ "bytes": 32 }),
            "services[0].first_data.bytes",
            "between 64 and 16384",
        ),
        (
            "/services/1/first_data",
            json!({}),
            "services[1].first_data",
            "has no effect without rules",
        ),
    ];
    for (pointer, value, path, reason) in cases {
        let mut doc = l7_lab();
        set(&mut doc, pointer, value);
        assert_error(&errors(&doc), path, reason);
    }
    // The lines docs/config-reference.md quotes are real output.
    let reference = include_str!("../../docs/config-reference.md");
    for (pointer, value, quoted) in [
        (
            "/services/0/syn_proxy",
            json!(false),
            "services[0].rules[1].http: needs syn_proxy: slbd reads a TCP client's first data only when it binds the session after the handshake",
        ),
        (
            "/services/0/rules/2/pool",
            json!("apx"),
            "services[0].rules[2].pool: no pool \"apx\" in this service's pools (or \"default\")",
        ),
        (
            "/services/0/servers/2/pool",
            json!("cache"),
            "services[0].servers[2].pool: no pool \"cache\" in this service's pools",
        ),
    ] {
        let mut doc = l7_lab();
        set(&mut doc, pointer, value);
        let errs = errors(&doc).to_string();
        assert!(errs.lines().any(|l| l == quoted), "{quoted:?} not in:\n{errs}");
        assert!(reference.contains(&format!("`{quoted}`")), "{quoted:?} not in the reference");
    }
    let mut doc = l7_lab();
    let rules: Vec<Value> = (0..65)
        .map(|i| json!({ "name": format!("r{i}"), "pool": "api", "http": { "host": "a" } }))
        .collect();
    set(&mut doc, "/services/0/rules", Value::Array(rules));
    assert_error(
        &errors(&doc),
        "services[0].rules",
        "at most 64 rules (got 65)",
    );
}

#[test]
fn l7_diff_is_live_and_named() {
    let old = parses(&l7_lab());
    let mut doc = l7_lab();
    set(&mut doc, "/services/0/pools/1/algorithm", json!("maglev"));
    set(&mut doc, "/services/0/rules/0/pool", json!("static"));
    set(&mut doc, "/services/0/servers/0/pool", json!("api"));
    set(
        &mut doc,
        "/services/0/first_data",
        json!({ "wait_ms": 100, "malformed": "refuse" }),
    );
    let d = old.diff(&parses(&doc));
    assert!(!d.needs_restart());
    let text = d.to_string();
    for line in [
        "service web: pools changed (api,static -> api,static)",
        "service web: rules changed (3 -> 3 rules)",
        "service web: first_data 300ms/3/4096B/default -> 100ms/3/4096B/refuse",
        "service web: server s1: pool default -> api",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in:\n{text}");
    }
}

// ---- round trip -----------------------------------------------------------

#[test]
fn round_trip() {
    let mut full = lab();
    set(&mut full, "/services/0/new_sessions_per_s", json!(100));
    set(&mut full, "/services/0/max_sessions", json!(5000));
    set(&mut full, "/services/1/health", json!({ "kind": "none" }));
    set(&mut full, "/services/0/syn_proxy", json!(true));
    set(
        &mut full,
        "/services/1/syn_proxy",
        json!({ "mss": 1400, "window_scale": 9 }),
    );
    set(
        &mut full,
        "/neighbours",
        json!([{ "address": "2001:db8:1::11", "mac": "02:AA:00:00:01:11" }]),
    );
    for doc in [lab(), serde_json::from_str(MINIMAL).unwrap(), full] {
        let c = parses(&doc);
        let emitted = c.to_json_pretty();
        let again = Config::from_json_str(&emitted).unwrap_or_else(|e| panic!("{e}\n{emitted}"));
        assert_eq!(again, c, "{emitted}");
        assert_eq!(again.to_json_pretty(), emitted);
    }
}

#[test]
fn emitted_json_writes_defaults_out() {
    let c = Config::from_json_str(MINIMAL).unwrap();
    let v: Value = serde_json::from_str(&c.to_json_pretty()).unwrap();
    assert_eq!(v["ports"][0]["mtu"], 1500);
    assert_eq!(v["labels"]["first"], 16);
    assert_eq!(v["timeouts"]["tcp_established_s"], 900);
    assert_eq!(v["control"]["socket"], "/run/slbd.sock");
    assert_eq!(v["services"][0]["algorithm"], "weighted_round_robin");
    assert_eq!(v["services"][0]["health"]["kind"], "tcp");
    assert_eq!(v["services"][0]["health"]["port"], 80);
    assert_eq!(v["services"][0]["servers"][0]["state"], "up");
}

// ---- errors: reading the document ------------------------------------------

#[test]
fn syntax_error_has_line_and_column() {
    let text = "{\n  \"ports\": [\n    { \"name\": \"a\", }\n  ]\n}\n";
    let errs = Config::from_json_str(text).unwrap_err();
    assert_eq!(errs.len(), 1);
    let e = &errs.errors()[0];
    assert_eq!(e.line(), Some(3), "{e}");
    assert_eq!(e.path, "ports[0]");
    assert!(e.reason.contains("trailing comma"), "{e}");
    assert!(e.to_string().contains("(at line 3, column"), "{e}");

    let errs = Config::from_json_str("{ \"ports\": [] } x").unwrap_err();
    assert_eq!(errs.errors()[0].line(), Some(1), "{errs}");
    assert!(
        errs.errors()[0].reason.contains("trailing characters"),
        "{errs}"
    );

    let errs = Config::from_json_str("").unwrap_err();
    assert!(errs.errors()[0].reason.contains("EOF"), "{errs}");
}

#[test]
fn type_error_has_path_and_line() {
    let text = LAB.replace("\"port\": 80,", "\"port\": \"80\",");
    let errs = Config::from_json_str(&text).unwrap_err();
    let e = &errs.errors()[0];
    assert_eq!(e.path, "services[0].port");
    assert!(e.reason.contains("invalid type: string \"80\""), "{e}");
    let line = LAB
        .lines()
        .position(|l| l.contains("\"port\": 80,"))
        .unwrap()
        + 1;
    assert_eq!(e.line(), Some(line), "{e}");

    bad(
        "/services/0/servers/0/weight",
        json!(-1),
        "services[0].servers[0].weight",
        "invalid value: integer `-1`",
    );
    bad(
        "/services/0/servers/0/weight",
        json!(1.5),
        "services[0].servers[0].weight",
        "invalid type: floating point",
    );
    bad(
        "/ports",
        json!({}),
        "ports",
        "invalid type: map, expected a sequence",
    );
}

#[test]
fn unknown_fields_are_errors_with_their_path() {
    bad(
        "/services/0/servers/1/weigth",
        json!(3),
        "services[0].servers[1].weigth",
        "unknown field `weigth`",
    );
    bad("/colour", json!("blue"), "colour", "unknown field `colour`");
    bad(
        "/labels/size",
        json!(3),
        "labels.size",
        "unknown field `size`",
    );
    bad(
        "/services/0/health/uri",
        json!("/"),
        "services[0].health.uri",
        "unknown field `uri`",
    );
    let errs = errors(&{
        let mut d = lab();
        set(&mut d, "/ports/0/speed", json!(10));
        d
    });
    assert!(errs.errors()[0].location.is_some(), "{errs}");
}

#[test]
fn missing_required_fields() {
    for (pointer, path, field) in [
        ("/ports", "", "ports"),
        ("/ports/0/device", "ports[0]", "device"),
        ("/ports/0/role", "ports[0]", "role"),
        ("/services/0/vip", "services[0]", "vip"),
        ("/services/0/protocol", "services[0]", "protocol"),
        ("/services/0/servers", "services[0]", "servers"),
        (
            "/services/0/servers/0/address",
            "services[0].servers[0]",
            "address",
        ),
        ("/neighbours", "", ""),
    ] {
        let mut doc = lab();
        if pointer == "/neighbours" {
            set(
                &mut doc,
                "/neighbours",
                json!([{ "address": "198.18.1.11" }]),
            );
            assert_error(&errors(&doc), "neighbours[0]", "missing field `mac`");
            continue;
        }
        remove(&mut doc, pointer);
        assert_error(&errors(&doc), path, &format!("missing field `{field}`"));
    }
}

#[test]
fn unknown_enum_values() {
    bad(
        "/ports/0/role",
        json!("router"),
        "ports[0].role",
        "unknown variant `router`, expected one of `client`, `server`, `both`",
    );
    bad(
        "/services/0/protocol",
        json!("sctp"),
        "services[0].protocol",
        "unknown variant `sctp`",
    );
    bad(
        "/services/0/client_mode",
        json!("agent"),
        "services[0].client_mode",
        "unknown variant `agent`",
    );
    bad(
        "/services/0/algorithm",
        json!("random"),
        "services[0].algorithm",
        "unknown variant `random`",
    );
    bad(
        "/services/0/refuse",
        json!("reject"),
        "services[0].refuse",
        "unknown variant `reject`",
    );
    bad(
        "/services/0/health/kind",
        json!("icmp"),
        "services[0].health.kind",
        "unknown variant `icmp`",
    );
    bad(
        "/services/0/health/on_down",
        json!("kill"),
        "services[0].health.on_down",
        "unknown variant `kill`",
    );
    bad(
        "/services/0/servers/0/state",
        json!("down"),
        "services[0].servers[0].state",
        "unknown variant `down`",
    );
}

// ---- errors: rules ------------------------------------------------------------

#[test]
fn example_message_names_the_json_path() {
    let mut doc = lab();
    set(&mut doc, "/services/0/servers/2/weight", json!(0));
    let errs = errors(&doc);
    assert_eq!(
        errs.to_string(),
        "services[0].servers[2].weight: must be between 1 and 65535 (got 0)"
    );
}

#[test]
fn all_errors_are_reported_at_once() {
    let mut doc = lab();
    set(&mut doc, "/services/0/servers/2/weight", json!(0));
    set(&mut doc, "/labels/first", json!(3));
    set(&mut doc, "/ports/0/mtu", json!(100));
    set(&mut doc, "/services/2/refuse", json!("rst"));
    set(
        &mut doc,
        "/services/1/servers/0/address",
        json!("198.18.1.20"),
    );
    let errs = errors(&doc);
    assert_eq!(errs.len(), 5, "{errs}");
    assert_error(
        &errs,
        "services[0].servers[2].weight",
        "between 1 and 65535 (got 0)",
    );
    assert_error(&errs, "labels.first", "reserved by RFC 3032");
    assert_error(&errs, "ports[0].mtu", "between 576 and 9000 (got 100)");
    assert_error(&errs, "services[2].refuse", "UDP services can only drop");
    assert_error(&errs, "services[1].servers[0].address", "VIP's family");
    assert_eq!(errs.to_string().lines().count(), 5);
    assert!(errs.at("labels.first").is_some());
}

#[test]
fn ports_rules() {
    bad(
        "/ports",
        json!([]),
        "ports",
        "between 1 and 16 ports (got 0)",
    );
    let many: Vec<Value> = (0..17)
        .map(|i| {
            json!({ "name": format!("p{i}"), "device": format!("net_null{i}"), "role": "both",
                         "ipv4": format!("10.{i}.0.1/24") })
        })
        .collect();
    bad(
        "/ports",
        json!(many),
        "ports",
        "between 1 and 16 ports (got 17)",
    );
    bad(
        "/ports/0/name",
        json!("Client"),
        "ports[0].name",
        "a-z, 0-9, '_' and '-' (got \"Client\")",
    );
    bad(
        "/ports/0/name",
        json!(""),
        "ports[0].name",
        "1 to 32 characters",
    );
    bad(
        "/ports/0/name",
        json!("a".repeat(33)),
        "ports[0].name",
        "1 to 32 characters",
    );
    bad(
        "/ports/1/name",
        json!("client"),
        "ports[1].name",
        "duplicate port name \"client\" (also ports[0])",
    );
    bad(
        "/ports/0/device",
        json!(""),
        "ports[0].device",
        "DPDK device name",
    );
    bad(
        "/ports/1/device",
        json!("net_tap0"),
        "ports[1].device",
        "already used by ports[0]",
    );
    bad(
        "/ports/1/role",
        json!("client"),
        "ports",
        "no port has the server role",
    );
    bad(
        "/ports/0/role",
        json!("server"),
        "ports",
        "no port has the client role",
    );
    let mut doc = lab();
    remove(&mut doc, "/ports/0/ipv4");
    remove(&mut doc, "/ports/0/ipv6");
    assert_error(
        &errors(&doc),
        "ports[0]",
        "needs an address: ipv4, ipv6 or both",
    );
}

#[test]
fn port_address_rules() {
    bad(
        "/ports/0/ipv4",
        json!("198.18.0.1"),
        "ports[0].ipv4",
        "address/prefix-length",
    );
    bad(
        "/ports/0/ipv4",
        json!("198.18.0.1/33"),
        "ports[0].ipv4",
        "prefix length must be 0 to 32",
    );
    bad(
        "/ports/0/ipv4",
        json!("198.18.0.1/0"),
        "ports[0].ipv4",
        "between 1 and 32",
    );
    bad(
        "/ports/0/ipv4",
        json!("2001:db8::1/64"),
        "ports[0].ipv4",
        "not an IPv4 address",
    );
    bad(
        "/ports/0/ipv4",
        json!("198.18.0.0/24"),
        "ports[0].ipv4",
        "network address of 198.18.0.0/24",
    );
    bad(
        "/ports/0/ipv4",
        json!("198.18.0.255/24"),
        "ports[0].ipv4",
        "broadcast address of 198.18.0.255/24",
    );
    bad(
        "/ports/0/ipv4",
        json!("127.0.0.1/8"),
        "ports[0].ipv4",
        "not a loopback address",
    );
    bad(
        "/ports/0/ipv4",
        json!("224.0.0.1/24"),
        "ports[0].ipv4",
        "not a multicast address",
    );
    bad(
        "/ports/0/ipv4",
        json!("0.0.0.0/24"),
        "ports[0].ipv4",
        "not the unspecified address",
    );
    bad(
        "/ports/0/ipv6",
        json!("2001:db8::1"),
        "ports[0].ipv6",
        "address/prefix-length",
    );
    bad(
        "/ports/0/ipv6",
        json!("2001:db8::1/129"),
        "ports[0].ipv6",
        "0 to 128",
    );
    bad(
        "/ports/0/ipv6",
        json!("198.18.0.1/24"),
        "ports[0].ipv6",
        "not an IPv6 address",
    );
    bad(
        "/ports/0/ipv6",
        json!("ff02::1/64"),
        "ports[0].ipv6",
        "multicast",
    );
    bad(
        "/ports/0/ipv6",
        json!("::1/128"),
        "ports[0].ipv6",
        "loopback",
    );
    bad(
        "/ports/1/ipv4",
        json!("198.18.0.2/16"),
        "ports[1].ipv4",
        "overlaps 198.18.0.1/24 of ports[0] (client)",
    );
    bad(
        "/ports/1/ipv6",
        json!("2001:db8::2/64"),
        "ports[1].ipv6",
        "overlaps 2001:db8::1/64 of ports[0]",
    );
}

#[test]
fn mtu_rules() {
    bad(
        "/ports/0/mtu",
        json!(575),
        "ports[0].mtu",
        "must be between 576 and 9000 (got 575)",
    );
    bad(
        "/ports/0/mtu",
        json!(9001),
        "ports[0].mtu",
        "must be between 576 and 9000 (got 9001)",
    );
    bad(
        "/ports/0/mtu",
        json!(1279),
        "ports[0].mtu",
        "at least 1280 on a port with IPv6",
    );
}

#[test]
fn labels_rules() {
    bad(
        "/labels/first",
        json!(15),
        "labels.first",
        "must be at least 16: labels 0-15 are reserved by RFC 3032 (got 15)",
    );
    bad(
        "/labels/first",
        json!(0),
        "labels.first",
        "reserved by RFC 3032",
    );
    bad(
        "/labels/first",
        json!(2_000_000),
        "labels.first",
        "at most 1048575",
    );
    bad(
        "/labels/last",
        json!(1_048_576),
        "labels.last",
        "must be at most 1048575, the largest 20-bit MPLS label (got 1048576)",
    );
    bad(
        "/labels",
        json!({ "first": 17, "last": 17 }),
        "labels",
        "holds no label pair",
    );
    bad(
        "/labels",
        json!({ "first": 100, "last": 50 }),
        "labels",
        "range 100..=50 holds no label pair",
    );
    bad(
        "/labels/quarantine_ms",
        json!(600_001),
        "labels.quarantine_ms",
        "between 0 and 600000 (got 600001)",
    );
}

#[test]
fn timeouts_rules() {
    for field in [
        "tcp_syn_ms",
        "tcp_established_s",
        "tcp_closing_s",
        "tcp_linger_ms",
        "udp_s",
    ] {
        bad(
            &format!("/timeouts/{field}"),
            json!(0),
            &format!("timeouts.{field}"),
            "must be between 1 and",
        );
    }
    bad(
        "/timeouts/udp_s",
        json!(604_801),
        "timeouts.udp_s",
        "between 1 and 604800 (got 604801)",
    );
    // Each one optional.
    let mut doc = lab();
    set(&mut doc, "/timeouts", json!({ "udp_s": 5 }));
    let c = parses(&doc);
    assert_eq!(c.timeouts.udp, Duration::from_secs(5));
    assert_eq!(c.timeouts.tcp_established, Duration::from_secs(900));
}

#[test]
fn icmp_rules() {
    // Absent: every default (echo to VIPs answered).
    let c = parses(&lab());
    assert_eq!(c.icmp, Icmp::default());
    assert_eq!(c.icmp.vip_echo, VipEcho::Answer);
    assert_eq!(
        c.icmp.too_big,
        IcmpRate {
            per_s: 1000,
            burst: 100
        }
    );
    for (field, hi) in [
        ("echo_per_s", 1_000_000),
        ("echo_burst", 100_000),
        ("too_big_per_s", 1_000_000),
        ("too_big_burst", 100_000),
        ("errors_per_s", 1_000_000),
        ("errors_burst", 100_000),
    ] {
        bad(
            "/icmp",
            json!({ field: hi + 1 }),
            &format!("icmp.{field}"),
            &format!("between 0 and {hi} (got {})", hi + 1),
        );
    }
    let mut doc = lab();
    set(&mut doc, "/icmp", json!({ "vip_echo": "forward" }));
    let e = Config::from_json_str(&doc.to_string()).unwrap_err();
    assert!(e.to_string().contains("icmp.vip_echo"), "{e}");
    let mut doc = lab();
    set(
        &mut doc,
        "/icmp",
        json!({ "vip_echo": "drop", "echo_per_s": 0, "echo_burst": 0 }),
    );
    let c = parses(&doc);
    assert_eq!(c.icmp.vip_echo, VipEcho::Drop);
    assert_eq!(c.icmp.echo, IcmpRate { per_s: 0, burst: 0 });
    assert_eq!(c.icmp.errors, Icmp::default().errors);
    // Written back in full, read back equal; a change is live.
    let back = Config::from_json_str(&c.to_json_pretty()).unwrap();
    assert_eq!(back, c);
    let d = diff(&parses(&lab()), &c);
    assert!(d.icmp_changed && !d.needs_restart());
    assert_eq!(d.to_string(), "icmp changed");
}

#[test]
fn neighbours_rules() {
    let n = |address: &str, mac: &str| json!([{ "address": address, "mac": mac }]);
    let mac = "02:00:00:00:01:11";
    bad(
        "/neighbours",
        n("10.0.0.1", mac),
        "neighbours[0].address",
        "not on the subnet of any port",
    );
    bad(
        "/neighbours",
        n("198.18.1.1", mac),
        "neighbours[0].address",
        "is the address of port \"server\"",
    );
    bad(
        "/neighbours",
        n("server1", mac),
        "neighbours[0].address",
        "must be an IPv4 or IPv6 address (got \"server1\")",
    );
    bad(
        "/neighbours",
        n("198.18.1.11", "00:00:00:00:00:00"),
        "neighbours[0].mac",
        "all-zero",
    );
    bad(
        "/neighbours",
        n("198.18.1.11", "01:00:5e:00:00:01"),
        "neighbours[0].mac",
        "must be a unicast MAC",
    );
    bad(
        "/neighbours",
        n("198.18.1.11", "ff:ff:ff:ff:ff:ff"),
        "neighbours[0].mac",
        "must be a unicast MAC",
    );
    bad(
        "/neighbours",
        n("198.18.1.11", "02:00:00:01:11"),
        "neighbours[0].mac",
        "six hex octets",
    );
    bad(
        "/neighbours",
        json!([{ "address": "198.18.1.11", "mac": mac }, { "address": "198.18.1.11", "mac": mac }]),
        "neighbours[1].address",
        "duplicate neighbour 198.18.1.11 (also neighbours[0])",
    );
}

#[test]
fn control_rules() {
    bad("/control/socket", json!(""), "control.socket", "empty");
    bad(
        "/control/metrics_listen",
        json!("0.0.0.0:9781"),
        "control.metrics_listen",
        "must be a loopback address",
    );
    bad(
        "/control/metrics_listen",
        json!("198.18.0.1:9781"),
        "control.metrics_listen",
        "loopback",
    );
    bad(
        "/control/metrics_listen",
        json!("127.0.0.1"),
        "control.metrics_listen",
        "must be address:port",
    );
    bad(
        "/control/metrics_listen",
        json!("127.0.0.1:0"),
        "control.metrics_listen",
        "port must be between 1 and 65535",
    );
}

#[test]
fn services_rules() {
    let many: Vec<Value> = (0..257)
        .map(|i| json!({ "name": format!("s{i}"), "vip": "198.18.100.1", "port": i + 1, "protocol": "tcp",
                         "servers": [{ "name": "a", "address": "198.18.1.11" }] }))
        .collect();
    bad(
        "/services",
        json!(many),
        "services",
        "at most 256 services (got 257)",
    );
    bad(
        "/services/0/name",
        json!("Web!"),
        "services[0].name",
        "a-z, 0-9",
    );
    bad(
        "/services/1/name",
        json!("web"),
        "services[1].name",
        "duplicate service name \"web\" (also services[0])",
    );
    bad(
        "/services/0/vip",
        json!("vip1"),
        "services[0].vip",
        "IPv4 or IPv6 address",
    );
    bad(
        "/services/0/vip",
        json!("198.18.1.50"),
        "services[0].vip",
        "inside the subnet of port \"server\": a VIP must be off-link",
    );
    bad(
        "/services/0/vip",
        json!("198.18.0.50"),
        "services[0].vip",
        "inside the subnet of port \"client\"",
    );
    bad(
        "/services/0/vip",
        json!("198.18.1.1"),
        "services[0].vip",
        "is the address of port \"server\"",
    );
    bad(
        "/services/0/vip",
        json!("2001:db8::1"),
        "services[0].vip",
        "is the address of port \"client\"",
    );
    bad(
        "/services/0/vip",
        json!("224.1.1.1"),
        "services[0].vip",
        "multicast",
    );
    bad(
        "/services/0/vip",
        json!("0.0.0.0"),
        "services[0].vip",
        "unspecified",
    );
    bad(
        "/services/0/port",
        json!(0),
        "services[0].port",
        "must be between 1 and 65535 (got 0)",
    );
    bad(
        "/services/0/port",
        json!(65536),
        "services[0].port",
        "must be between 1 and 65535 (got 65536)",
    );
    let mut doc = lab();
    set(&mut doc, "/services/2/protocol", json!("tcp"));
    set(&mut doc, "/services/2/port", json!(80));
    assert_error(
        &errors(&doc),
        "services[2]",
        "same vip, port and protocol (198.18.100.1 80 tcp) as services[0]",
    );
    // Same VIP and port, other protocol: fine.
    set(&mut doc, "/services/2/protocol", json!("udp"));
    parses(&doc);
}

#[test]
fn service_limits_rules() {
    let too_big = json!(4_294_967_296u64);
    bad(
        "/services/0/max_sessions",
        too_big.clone(),
        "services[0].max_sessions",
        "between 0 and 4294967295",
    );
    bad(
        "/services/0/new_sessions_per_s",
        too_big.clone(),
        "services[0].new_sessions_per_s",
        "between 0 and 4294967295",
    );
    bad(
        "/services/0/burst",
        too_big,
        "services[0].burst",
        "between 0 and 4294967295",
    );
    bad(
        "/services/0/burst",
        json!(10),
        "services[0].burst",
        "no effect without new_sessions_per_s",
    );
    bad(
        "/services/2/refuse",
        json!("rst"),
        "services[2].refuse",
        "UDP services can only drop",
    );
}

#[test]
fn health_rules() {
    let h = |v: Value| {
        let mut m = json!({ "kind": "tcp" });
        for (k, x) in v.as_object().unwrap() {
            m[k] = x.clone();
        }
        m
    };
    let p = "services[0].health";
    bad(
        "/services/0/health",
        h(json!({ "port": 0 })),
        &format!("{p}.port"),
        "between 1 and 65535 (got 0)",
    );
    bad(
        "/services/0/health",
        h(json!({ "interval_ms": 99 })),
        &format!("{p}.interval_ms"),
        "between 100 and 3600000 (got 99)",
    );
    bad(
        "/services/0/health",
        h(json!({ "interval_ms": 1000, "timeout_ms": 1000 })),
        &format!("{p}.timeout_ms"),
        "must be less than interval_ms (1000) (got 1000)",
    );
    bad(
        "/services/0/health",
        h(json!({ "timeout_ms": 0 })),
        &format!("{p}.timeout_ms"),
        "at least 1",
    );
    bad(
        "/services/0/health",
        h(json!({ "rise": 0 })),
        &format!("{p}.rise"),
        "between 1 and 10 (got 0)",
    );
    bad(
        "/services/0/health",
        h(json!({ "rise": 11 })),
        &format!("{p}.rise"),
        "between 1 and 10 (got 11)",
    );
    bad(
        "/services/0/health",
        h(json!({ "fall": 0 })),
        &format!("{p}.fall"),
        "between 1 and 10 (got 0)",
    );
    bad(
        "/services/0/health",
        h(json!({ "fall": 11 })),
        &format!("{p}.fall"),
        "between 1 and 10 (got 11)",
    );
    bad(
        "/services/2/health/port",
        json!(53),
        "services[2].health.port",
        "applies only to kinds \"tcp\"",
    );
    bad(
        "/services/0/health",
        json!({ "kind": "none", "port": 80 }),
        "services[0].health.port",
        "only to kind",
    );
}

#[test]
fn servers_rules() {
    bad(
        "/services/0/servers",
        json!([]),
        "services[0].servers",
        "between 1 and 1024 servers (got 0)",
    );
    let many: Vec<Value> = (0..1025)
        .map(|i| json!({ "name": format!("s{i}"), "address": format!("198.18.{}.{}", 1 + i / 250, 1 + i % 250) }))
        .collect();
    bad(
        "/services/0/servers",
        json!(many),
        "services[0].servers",
        "between 1 and 1024 servers (got 1025)",
    );
    let s = "services[0].servers";
    bad(
        "/services/0/servers/0/name",
        json!("S1"),
        &format!("{s}[0].name"),
        "a-z, 0-9",
    );
    bad(
        "/services/0/servers/1/name",
        json!("s1"),
        &format!("{s}[1].name"),
        "duplicate server name \"s1\" (also servers[0])",
    );
    bad(
        "/services/0/servers/0/address",
        json!("2001:db8:1::11"),
        &format!("{s}[0].address"),
        "is IPv6 but the VIP is IPv4",
    );
    bad(
        "/services/1/servers/0/address",
        json!("198.18.1.11"),
        "services[1].servers[0].address",
        "is IPv4 but the VIP is IPv6",
    );
    bad(
        "/services/0/servers/0/address",
        json!("198.18.0.11"),
        &format!("{s}[0].address"),
        "which has role client",
    );
    bad(
        "/services/0/servers/0/address",
        json!("10.1.1.1"),
        &format!("{s}[0].address"),
        "not inside the subnet of any port with the server role",
    );
    bad(
        "/services/0/servers/0/address",
        json!("198.18.1.1"),
        &format!("{s}[0].address"),
        "is the address of port \"server\"",
    );
    bad(
        "/services/0/servers/0/address",
        json!("198.18.1.255"),
        &format!("{s}[0].address"),
        "network or broadcast",
    );
    bad(
        "/services/0/servers/0/address",
        json!("s1.example"),
        &format!("{s}[0].address"),
        "IPv4 or IPv6 address",
    );
    bad(
        "/services/0/servers/1/address",
        json!("198.18.1.11"),
        &format!("{s}[1].address"),
        "duplicate server address 198.18.1.11",
    );
    bad(
        "/services/0/servers/0/weight",
        json!(0),
        &format!("{s}[0].weight"),
        "must be between 1 and 65535 (got 0)",
    );
    bad(
        "/services/0/servers/0/weight",
        json!(65536),
        &format!("{s}[0].weight"),
        "must be between 1 and 65535 (got 65536)",
    );
    bad(
        "/services/0/servers/0/max_sessions",
        json!(4_294_967_296u64),
        &format!("{s}[0].max_sessions"),
        "between 0 and 4294967295",
    );
}

// ---- files ----------------------------------------------------------------------

#[test]
fn from_file() {
    let path = std::env::temp_dir().join(format!("slb-config-test-{}.json", std::process::id()));
    std::fs::write(&path, LAB).unwrap();
    let c = Config::from_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(c, Config::from_json_str(LAB).unwrap());
    let errs = Config::from_file(&path).unwrap_err();
    assert!(errs.to_string().starts_with("cannot read "), "{errs}");
    assert_eq!(errs.errors()[0].path, "");
}

#[test]
fn examples_dir_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            Config::from_file(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 2);
}

// ---- diff -------------------------------------------------------------------------

fn lab_config() -> Config {
    Config::from_json_str(LAB).unwrap()
}

#[test]
fn diff_identical_is_empty() {
    let d = diff(&lab_config(), &lab_config());
    assert!(d.is_empty(), "{d}");
    assert!(!d.needs_restart());
    assert_eq!(d.to_string(), "");
}

#[test]
fn diff_server_changes() {
    let old = lab_config();
    let mut new = old.clone();
    let web = &mut new.services[0];
    web.servers[0].weight = 5;
    web.servers[1].state = ServerState::Drain;
    web.servers[1].max_sessions = 100;
    web.servers.remove(2);
    web.servers.push(Server {
        name: "s4".into(),
        address: "198.18.1.14".parse().unwrap(),
        weight: 1,
        max_sessions: 0,
        state: ServerState::Up,
        pool: None,
    });
    let d = old.diff(&new);
    assert!(!d.needs_restart());
    assert!(d.services_added.is_empty() && d.services_removed.is_empty());
    assert_eq!(d.services_changed.len(), 1);
    let s = &d.services_changed[0];
    assert_eq!(s.name, "web");
    assert!(s.changes.is_empty());
    assert_eq!(s.servers_added, ["s4"]);
    assert_eq!(s.servers_removed, ["s3"]);
    assert_eq!(
        s.servers_changed,
        [
            ServerDiff {
                name: "s1".into(),
                changes: vec![ServerChange::Weight { old: 3, new: 5 }]
            },
            ServerDiff {
                name: "s2".into(),
                changes: vec![
                    ServerChange::MaxSessions { old: 0, new: 100 },
                    ServerChange::State {
                        old: ServerState::Up,
                        new: ServerState::Drain
                    },
                ],
            },
        ]
    );
    let text = d.to_string();
    assert!(
        text.contains("service web: server s1: weight 3 -> 5"),
        "{text}"
    );
    assert!(text.contains("service web: server s4: added"), "{text}");
    assert!(text.contains("service web: server s3: removed"), "{text}");
}

#[test]
fn diff_services_added_removed_changed() {
    let old = lab_config();
    let mut new = old.clone();
    let mut extra = new.services[0].clone();
    extra.name = "web8080".into();
    extra.port = 8080;
    new.services.push(extra);
    new.services.retain(|s| s.name != "dns");
    new.services[1].algorithm = Algorithm::Maglev;
    new.services[1].max_sessions = 10;
    new.services[1].new_sessions_per_s = 100;
    new.services[1].burst = 100;
    new.services[1].health.rise = 5;
    new.services[0].port = 81;
    let d = diff(&old, &new);
    assert_eq!(d.services_added, ["web8080"]);
    assert_eq!(d.services_removed, ["dns"]);
    assert_eq!(d.services_changed.len(), 2);
    assert_eq!(d.services_changed[0].name, "web");
    assert_eq!(
        d.services_changed[0].changes,
        [ServiceChange::Port { old: 80, new: 81 }]
    );
    assert!(d.services_changed[0].changes[0].is_identity());
    let web6 = &d.services_changed[1];
    assert_eq!(web6.name, "web6");
    assert_eq!(web6.changes.len(), 4, "{:?}", web6.changes);
    assert!(web6.changes.contains(&ServiceChange::Algorithm {
        old: Algorithm::WeightedRoundRobin,
        new: Algorithm::Maglev
    }));
    assert!(web6.changes.contains(&ServiceChange::RateLimit {
        old: (0, 0),
        new: (100, 100)
    }));
    assert!(web6.changes.iter().all(|c| !c.is_identity()));
    assert!(!d.needs_restart());
}

#[test]
fn diff_not_live_parts() {
    let old = lab_config();
    let mut new = old.clone();
    new.ports[1].mtu = 9000;
    assert_eq!(diff(&old, &new).not_live, [NotLive::Ports]);
    let mut new = old.clone();
    new.labels.last = 1000;
    assert_eq!(diff(&old, &new).not_live, [NotLive::Labels]);
    let mut new = old.clone();
    new.control.socket = "/tmp/other.sock".into();
    let d = diff(&old, &new);
    assert_eq!(d.not_live, [NotLive::Control]);
    assert!(d.needs_restart());
    assert!(d.to_string().contains("control changed: needs a restart"));
    // The metrics listener is bound at start too.
    let mut new = old.clone();
    new.control.metrics_listen = Some("127.0.0.1:9782".parse().unwrap());
    assert_ne!(old.control.metrics_listen, new.control.metrics_listen);
    assert_eq!(diff(&old, &new).not_live, [NotLive::Control]);
    let mut new = old.clone();
    new.timeouts.udp = Duration::from_secs(5);
    new.neighbours.push(Neighbour {
        address: "198.18.1.11".parse().unwrap(),
        mac: [2, 0, 0, 0, 1, 0x11],
    });
    let d = diff(&old, &new);
    assert!(d.timeouts_changed && d.neighbours_changed && !d.needs_restart());
}

/// The error lines quoted in docs/config-reference.md are real output.
#[test]
fn reference_doc_error_examples() {
    let doc = include_str!("../../docs/config-reference.md");
    let typo = LAB.replace("\"weight\": 3, \"max_sessions\": 0, \"state\": \"up\" },\n        { \"name\": \"s2\", \"address\": \"198.18.1.12\"",
        "\"weigth\": 3, \"max_sessions\": 0, \"state\": \"up\" },\n        { \"name\": \"s2\", \"address\": \"198.18.1.12\"");
    let e = Config::from_json_str(&typo).unwrap_err();
    let line = e.to_string();
    let without_location = line.split(" (at line").next().unwrap();
    assert!(doc.contains(without_location), "{line}");
    let e = Config::from_json_str(&LAB.replace("\"port\": 80,", "\"port\": \"80\",")).unwrap_err();
    assert!(doc.contains(&e.to_string()), "{e}");
    let mut bad = lab();
    set(&mut bad, "/ports/0/mtu", json!(100));
    set(&mut bad, "/labels/first", json!(3));
    set(&mut bad, "/services/0/vip", json!("198.18.1.50"));
    set(&mut bad, "/services/0/servers/0/weight", json!(0));
    for e in errors(&bad).iter() {
        assert!(doc.contains(&e.to_string()), "{e}");
    }
}

// ---- access lists ------------------------------------------------------------

#[test]
fn access_lists_parse_round_trip_and_convert() {
    let mut doc = lab();
    set(
        &mut doc,
        "/services/0/allow",
        json!(["198.18.0.0/24", "198.19.7.7", "2001:db8::/32"]),
    );
    set(&mut doc, "/services/0/deny", json!(["198.18.0.66/32"]));
    let c = parses(&doc);
    let web = &c.services[0];
    let shown: Vec<String> = web.allow.iter().map(|p| p.to_string()).collect();
    assert_eq!(shown, ["198.18.0.0/24", "198.19.7.7/32", "2001:db8::/32"]);
    assert_eq!(web.deny[0].to_string(), "198.18.0.66/32");
    // Without lists: empty, and not written out.
    assert!(c.services[1].allow.is_empty() && c.services[1].deny.is_empty());
    let emitted = c.to_json_pretty();
    let again = Config::from_json_str(&emitted).unwrap();
    assert_eq!(again, c);
    let v: Value = serde_json::from_str(&emitted).unwrap();
    assert!(v["services"][1].get("allow").is_none());
    let acl = slb_core::AccessLists::from(web);
    assert_eq!((acl.allow.len(), acl.deny.len()), (3, 1));
    let ip = |s: &str| s.parse().unwrap();
    assert_eq!(acl.check(ip("198.18.0.5")), Ok(()));
    assert_eq!(acl.check(ip("198.18.0.66")), Err(slb_core::Refusal::Denied));
    assert_eq!(
        acl.check(ip("198.18.1.5")),
        Err(slb_core::Refusal::NotAllowed)
    );
}

#[test]
fn access_lists_rules() {
    let p = "services[0].allow";
    bad(
        "/services/0/allow",
        json!(["198.18.0.1/24"]),
        &format!("{p}[0]"),
        "198.18.0.1/24 has host bits set: the network is 198.18.0.0/24",
    );
    bad(
        "/services/0/allow",
        json!(["198.18.0.0/24", "10.0.0.0/33"]),
        &format!("{p}[1]"),
        "prefix length must be 0 to 32 (got `33`)",
    );
    bad(
        "/services/0/deny",
        json!(["2001:db8::/129"]),
        "services[0].deny[0]",
        "prefix length must be 0 to 128",
    );
    bad(
        "/services/0/deny",
        json!(["example.com/24"]),
        "services[0].deny[0]",
        "`example.com` is not an IPv4 or IPv6 address",
    );
    bad(
        "/services/0/deny",
        json!(["198.18.0.0/24", "198.19.0.0/16", "198.18.0.0/24"]),
        "services[0].deny[2]",
        "duplicate prefix 198.18.0.0/24 (also [0])",
    );
    bad(
        "/services/0/allow",
        json!("198.18.0.0/24"),
        "services[0].allow",
        "",
    );
    // Thousands are fine.
    let mut doc = lab();
    let many: Vec<String> = (0..5000u32)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    set(&mut doc, "/services/0/deny", json!(many));
    assert_eq!(parses(&doc).services[0].deny.len(), 5000);
}

#[test]
fn diff_access_lists_are_live() {
    let old = lab_config();
    let mut new = old.clone();
    new.services[0].allow = vec![crate::Prefix::parse("198.18.0.0/24").unwrap()];
    new.services[0].deny = vec![
        crate::Prefix::parse("198.18.0.66").unwrap(),
        crate::Prefix::parse("2001:db8::/32").unwrap(),
    ];
    let d = diff(&old, &new);
    assert!(!d.needs_restart());
    assert_eq!(
        d.services_changed[0].changes,
        [
            ServiceChange::Allow { old: 0, new: 1 },
            ServiceChange::Deny { old: 0, new: 2 }
        ]
    );
    assert!(d.services_changed[0]
        .changes
        .iter()
        .all(|c| !c.is_identity()));
    let text = d.to_string();
    assert!(
        text.contains("service web: allow changed (0 -> 1 prefixes)"),
        "{text}"
    );
}

// ---- cluster -------------------------------------------------------------

/// `lab.json` as instance 1 of 4, with peers 0 and 3 and both gateways.
fn cluster_lab() -> Value {
    let mut doc = lab();
    set(
        &mut doc,
        "/cluster",
        json!({"instance": 1, "instances": 4,
               "peers": [{"instance": 0, "address": "198.18.0.2"},
                         {"instance": 3, "address": "2001:db8::4"}],
               "client_gateway_ipv4": "198.18.0.254",
               "client_gateway_ipv6": "2001:db8::fe",
               "announce_table": 100,
               "exception": {"device": "net_tap2", "port": "client"}}),
    );
    doc
}

#[track_caller]
fn bad_cluster(pointer: &str, value: Value, path: &str, reason: &str) {
    let mut doc = cluster_lab();
    set(&mut doc, pointer, value);
    assert_error(&errors(&doc), path, reason);
}

#[test]
fn cluster_parses_and_round_trips() {
    let c = parses(&cluster_lab());
    let k = c.cluster.as_ref().unwrap();
    assert_eq!((k.instance, k.instances), (1, 4));
    assert_eq!((c.instance(), c.instances(), c.in_cluster()), (1, 4, true));
    assert_eq!(
        k.peers,
        [
            Peer {
                instance: 0,
                address: "198.18.0.2".parse().unwrap()
            },
            Peer {
                instance: 3,
                address: "2001:db8::4".parse().unwrap()
            }
        ]
    );
    assert_eq!(k.client_gateway_ipv4, Some(Ipv4Addr::new(198, 18, 0, 254)));
    assert_eq!(
        k.exception,
        Some(Exception {
            device: "net_tap2".into(),
            port: "client".into()
        })
    );
    assert_eq!(k.announce_table, Some(100));
    assert!(c.to_json_pretty().contains("\"announce_table\": 100"));
    assert_eq!(Config::from_json_str(&c.to_json_pretty()).unwrap(), c);
    // Absent: one instance, and `config show` writes no section.
    let one = lab_config();
    assert_eq!(
        (one.instance(), one.instances(), one.in_cluster()),
        (0, 1, false)
    );
    assert!(!one.to_json_pretty().contains("cluster"));
    // Peers and gateways are optional.
    let mut doc = lab();
    set(&mut doc, "/cluster", json!({"instance": 0, "instances": 2}));
    let two = parses(&doc);
    assert!(two.in_cluster() && two.cluster.as_ref().unwrap().peers.is_empty());
    assert!(two.cluster.as_ref().unwrap().exception.is_none());
    // No announce table: slbd announces nothing, and emits no field.
    assert_eq!(two.cluster.as_ref().unwrap().announce_table, None);
    assert!(!two.to_json_pretty().contains("announce_table"));
    // The largest table id the kernel takes.
    set(&mut doc, "/cluster/announce_table", json!(4_294_967_295u64));
    assert_eq!(parses(&doc).cluster.unwrap().announce_table, Some(u32::MAX));
}

#[test]
fn cluster_sync_defaults_rules_and_round_trip() {
    use crate::model::Sync;
    use std::time::Duration;
    assert_eq!(parses(&cluster_lab()).cluster.unwrap().sync, None);
    let mut doc = cluster_lab();
    set(&mut doc, "/cluster/sync", json!({}));
    let c = parses(&doc);
    assert_eq!(c.cluster.as_ref().unwrap().sync, Some(Sync::default()));
    assert_eq!(Sync::default().port, 7471);
    assert_eq!(Config::from_json_str(&c.to_json_pretty()).unwrap(), c);
    set(
        &mut doc,
        "/cluster/sync",
        json!({"port": 9000, "after_ms": 0, "after_packets": 10, "refresh_ms": 5000,
               "dump_wait_ms": 0}),
    );
    let c = parses(&doc);
    let s = c.cluster.as_ref().unwrap().sync.unwrap();
    assert_eq!(
        s,
        Sync {
            port: 9000,
            after: Duration::ZERO,
            after_packets: 10,
            refresh: Duration::from_secs(5),
            dump_wait: Duration::ZERO,
        }
    );
    assert_eq!(Config::from_json_str(&c.to_json_pretty()).unwrap(), c);
    for (ptr, v, path, reason) in [
        (
            "/cluster/sync/port",
            json!(0),
            "cluster.sync.port",
            "must be between 1 and 65535 (got 0)",
        ),
        (
            "/cluster/sync/port",
            json!(3784),
            "cluster.sync.port",
            "3784 is a BGP or BFD port",
        ),
        (
            "/cluster/sync/port",
            json!(61005),
            "cluster.sync.port",
            "health probes' source ports",
        ),
        (
            "/cluster/sync/after_ms",
            json!(3_600_001),
            "cluster.sync.after_ms",
            "must be between 0 and 3600000",
        ),
        (
            "/cluster/sync/refresh_ms",
            json!(99),
            "cluster.sync.refresh_ms",
            "must be between 100 and 3600000 (got 99)",
        ),
        (
            "/cluster/sync/dump_wait_ms",
            json!(600_001),
            "cluster.sync.dump_wait_ms",
            "must be between 0 and 600000",
        ),
        (
            "/cluster/sync/after_packets",
            json!(-1),
            "cluster.sync.after_packets",
            "invalid value",
        ),
        (
            "/cluster/sync/every_ms",
            json!(1),
            "cluster.sync.every_ms",
            "unknown field `every_ms`",
        ),
    ] {
        let mut d = cluster_lab();
        set(&mut d, "/cluster/sync", json!({}));
        set(&mut d, ptr, v);
        assert_error(&errors(&d), path, reason);
    }
    let mut d = cluster_lab();
    set(&mut d, "/cluster/peers", json!([]));
    set(&mut d, "/cluster/sync", json!({}));
    assert_error(&errors(&d), "cluster.sync", "needs cluster.peers");
    // A sync change is a cluster change: it needs a restart.
    let old = parses(&cluster_lab());
    let diff = crate::diff::diff(&old, &c);
    assert!(
        diff.to_string()
            .contains("cluster changed: needs a restart"),
        "{diff}"
    );
}

#[test]
fn announce_table_rules() {
    for (t, name) in [
        (0, "unspec"),
        (253, "default"),
        (254, "main"),
        (255, "local"),
    ] {
        bad_cluster(
            "/cluster/announce_table",
            json!(t),
            "cluster.announce_table",
            &format!("{t} is the kernel's {name} table: slbd flushes its announce table"),
        );
    }
    bad_cluster(
        "/cluster/announce_table",
        json!(4_294_967_296u64),
        "cluster.announce_table",
        "must be between 0 and 4294967295 (got 4294967296)",
    );
    bad_cluster(
        "/cluster/announce_table",
        json!("100"),
        "cluster.announce_table",
        "invalid type: string \"100\"",
    );
    // The whole message, as docs/config-reference.md quotes it.
    let mut doc = cluster_lab();
    set(&mut doc, "/cluster/announce_table", json!(254));
    let e = errors(&doc).to_string();
    assert!(
        include_str!("../../docs/config-reference.md").contains(e.trim()),
        "{e}"
    );
    for ok in [1, 252, 256, 1000] {
        let mut doc = cluster_lab();
        set(&mut doc, "/cluster/announce_table", json!(ok));
        assert_eq!(parses(&doc).cluster.unwrap().announce_table, Some(ok));
    }
}

#[test]
fn cluster_rules() {
    bad_cluster(
        "/cluster/instances",
        json!(0),
        "cluster.instances",
        "must be between 1 and 64 (got 0)",
    );
    bad_cluster(
        "/cluster/instances",
        json!(65),
        "cluster.instances",
        "must be between 1 and 64 (got 65)",
    );
    bad_cluster(
        "/cluster/instance",
        json!(4),
        "cluster.instance",
        "must be below cluster.instances (4): instances are numbered from 0 (got 4)",
    );
    bad_cluster(
        "/cluster/peers/1/instance",
        json!(7),
        "cluster.peers[1].instance",
        "must be below cluster.instances (4)",
    );
    bad_cluster(
        "/cluster/peers/1/instance",
        json!(1),
        "cluster.peers[1].instance",
        "1 is this instance's own id (cluster.instance): peers are the others",
    );
    bad_cluster(
        "/cluster/peers/1/instance",
        json!(0),
        "cluster.peers[1].instance",
        "duplicate peer instance 0 (also cluster.peers[0])",
    );
    bad_cluster(
        "/cluster/peers/1/address",
        json!("198.18.0.2"),
        "cluster.peers[1].address",
        "duplicate peer address 198.18.0.2 (also cluster.peers[0])",
    );
    bad_cluster(
        "/cluster/peers/1/address",
        json!("198.18.0.1"),
        "cluster.peers[1].address",
        "is this instance's address (port \"client\")",
    );
    bad_cluster(
        "/cluster/peers/0/address",
        json!("x"),
        "cluster.peers[0].address",
        "must be an IPv4 or IPv6 address",
    );
    bad_cluster(
        "/cluster/client_gateway_ipv4",
        json!("2001:db8::fe"),
        "cluster.client_gateway_ipv4",
        "must be an IPv4 address (got 2001:db8::fe)",
    );
    bad_cluster(
        "/cluster/client_gateway_ipv4",
        json!("198.18.1.254"),
        "cluster.client_gateway_ipv4",
        "is not on the subnet of a port that faces clients",
    );
    bad_cluster(
        "/cluster/client_gateway_ipv6",
        json!("2001:db8::1"),
        "cluster.client_gateway_ipv6",
        "is the address of port \"client\"",
    );
    bad_cluster(
        "/cluster/exception/device",
        json!("net_tap1"),
        "cluster.exception.device",
        "\"net_tap1\" is already the device of port \"server\": the exception path needs a device of its own",
    );
    bad_cluster(
        "/cluster/exception/device",
        json!(""),
        "cluster.exception.device",
        "must name a DPDK device",
    );
    bad_cluster(
        "/cluster/exception/port",
        json!("uplink"),
        "cluster.exception.port",
        "no port named \"uplink\" in ports",
    );
    bad_cluster(
        "/cluster/exception/port",
        json!("server"),
        "cluster.exception.port",
        "port \"server\" does not face clients (role client or both)",
    );
    bad_cluster(
        "/cluster/exception/mtu",
        json!(1500),
        "cluster.exception.mtu",
        "unknown field `mtu`, expected `device` or `port`",
    );
    // The label range must hold a pair per instance.
    let mut doc = cluster_lab();
    set(&mut doc, "/labels", json!({"first": 16, "last": 20}));
    assert_error(
        &errors(&doc),
        "cluster.instances",
        "label range 16..=20 holds 2 pairs: too few for 4 instances (each needs at least one pair)",
    );
    // instance and instances are required in the section.
    let mut doc = lab();
    set(&mut doc, "/cluster", json!({"instance": 0}));
    assert_error(&errors(&doc), "cluster", "missing field `instances`");
}

#[test]
fn cluster_changes_need_a_restart() {
    let old = parses(&cluster_lab());
    for (pointer, value) in [
        ("/cluster/instance", json!(2)),
        ("/cluster/instances", json!(5)),
        ("/cluster/peers/0/address", json!("198.18.0.3")),
        ("/cluster/client_gateway_ipv4", json!("198.18.0.253")),
        ("/cluster/exception/device", json!("net_tap3")),
        ("/cluster/announce_table", json!(101)),
    ] {
        let mut doc = cluster_lab();
        set(&mut doc, pointer, value);
        let d = diff(&old, &parses(&doc));
        assert_eq!(d.not_live, [NotLive::Cluster], "{pointer}");
        assert_eq!(d.to_string(), "cluster changed: needs a restart");
    }
    // Adding or removing the section is a change of identity too.
    let d = diff(&lab_config(), &old);
    assert_eq!(d.not_live, [NotLive::Cluster]);
    assert_eq!(diff(&old, &lab_config()).not_live, [NotLive::Cluster]);
}
