//! Layer-7 rules (issue 17) on the deterministic rig, IPv4 and IPv6: one
//! VIP with three pools (default: s1, `api`: s2, `static`: s3).
//!
//! - TCP (`syn_proxy`): the cookie ACK takes no label; the first data is
//!   read, across segments; the marked SYN goes to the server of the pool
//!   the first matching rule names; the ACK and the data follow the
//!   server's SYN-ACK. HTTP Host, path prefix and header rules; a TLS
//!   ClientHello of two segments by SNI; no match: the default pool;
//! - limits: no data in `wait_ms` (a server-speaks-first protocol), too
//!   many segments, too many bytes: the default pool, counted by reason;
//! - malformed requests: the default pool, or a reset (`malformed:
//!   refuse`);
//! - UDP: a DNS query by name, a QUIC Initial by SNI (its ClientHello
//!   over two datagrams), each to its pool's server, and the flow's later
//!   datagrams by label.

use serde_json::{json, Value};
use slb_appliance::counters::Event;
use slb_core::BoundBy;
use slb_tests::golden::net::{port_mac, Net, CLIENT, PORT_MACS, SERVER};
use slb_tests::golden::row::Family;
use slb_tests::golden::{on, unlabel, Rig, Sent};
use slb_tests::l7_rig::{client_hello_message, dns_query, quic_initial, tls_record};
use slb_wire::syn_cookie::replay;
use slb_wire::{FrameBuilder, TcpFlags};

const EPOCH_MS: u64 = 1_800_000_000_000;
const WEB: u16 = 80;
const DNS: u16 = 53;
const H3: u16 = 443;
const ACK: TcpFlags = TcpFlags::ACK;
const PSH_ACK: TcpFlags = TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0);

fn pools() -> Value {
    json!([{ "name": "api", "algorithm": "round_robin" }, { "name": "static" }])
}

fn rig_with(n: &Net, first_data: Value) -> Rig {
    let mut web = n.service(
        "web",
        WEB,
        json!({
            "client_mode": "plain", "syn_proxy": true, "refuse": "rst",
            "pools": pools(),
            "rules": [
                { "name": "api-host", "pool": "api", "http": { "host": "api.example.com" } },
                { "name": "static", "pool": "static",
                  "http": { "method": "GET", "host": "*.example.com", "path_prefix": "/static/" } },
                { "name": "canary", "pool": "api", "http": { "header": { "name": "x-canary", "value": "1" } } },
                { "name": "tls-static", "pool": "static", "tls": { "sni": "*.tls.example" } }
            ],
            "first_data": first_data,
        }),
        &[(0, json!({})), (1, json!({ "pool": "api" })), (2, json!({ "pool": "static" }))],
    );
    web["name"] = json!("web");
    let mut dns = n.service(
        "dns",
        DNS,
        json!({
            "client_mode": "plain", "protocol": "udp", "refuse": "drop",
            "pools": [{ "name": "corp" }],
            "rules": [{ "name": "corp", "pool": "corp", "dns": { "suffix": "corp.example" } }],
        }),
        &[(0, json!({})), (1, json!({ "pool": "corp" }))],
    );
    dns["name"] = json!("dns");
    let h3 = n.service(
        "h3",
        H3,
        json!({
            "client_mode": "plain", "protocol": "udp", "refuse": "drop",
            "pools": [{ "name": "quic" }],
            "rules": [{ "name": "h3-api", "pool": "quic", "quic": { "sni": "api.example.com", "alpn": "h3" } }],
        }),
        &[(0, json!({})), (2, json!({ "pool": "quic" }))],
    );
    let cfg = n.config(json!({}), vec![web, dns, h3]);
    let mut r = Rig::with_macs(&cfg, 2, &PORT_MACS);
    r.dp.shared.set_wall_epoch_ms(EPOCH_MS);
    r.settle();
    r
}

fn rig(n: &Net) -> Rig {
    rig_with(n, json!({ "wait_ms": 200, "segments": 3, "bytes": 4096 }))
}

/// Which server (0-based) a frame to the server port is for.
fn server_of(n: &Net, f: &[u8]) -> usize {
    n.servers
        .iter()
        .position(|s| f[..6] == s.mac.0)
        .unwrap_or_else(|| panic!("to no server: {:02x?}", &f[..6]))
}

/// A TCP client's handshake with the cookie: SYN, then the ACK. Returns
/// the cookie and what the ACK made slbd send.
fn connect(r: &mut Rig, n: &Net, cport: u16) -> (u32, Vec<Sent>) {
    let syn = n
        .from_client(n.c2, cport, WEB)
        .flags(TcpFlags::SYN)
        .seq(1000)
        .window(64240)
        .tcp_options(&[2, 4, 0x05, 0xb4])
        .build();
    let out = r.send(CLIENT, &syn);
    assert_eq!(out.len(), 1, "the cookie SYN-ACK: {out:?}");
    let k = slb_wire::classify::classify(&out[0].1).unwrap();
    let slb_wire::Classified::Ip(ip) = k else {
        panic!("not IP")
    };
    let o = ip.l4_offset;
    let cookie = u32::from_be_bytes(out[0].1[o + 4..o + 8].try_into().unwrap());
    let ack = n
        .from_client(n.c2, cport, WEB)
        .flags(ACK)
        .seq(1001)
        .ack(cookie.wrapping_add(1))
        .window(502)
        .build();
    let out = r.send(CLIENT, &ack);
    (cookie, out)
}

fn data(n: &Net, cport: u16, cookie: u32, seq: u32, payload: &[u8]) -> Vec<u8> {
    n.from_client(n.c2, cport, WEB)
        .flags(PSH_ACK)
        .seq(seq)
        .ack(cookie.wrapping_add(1))
        .window(502)
        .payload(payload)
        .build()
}

/// The marked SYN slbd sends to the chosen server: (server, label).
fn replayed_syn(n: &Net, out: &[Sent]) -> (usize, u32) {
    let to_server = on(out, SERVER);
    assert_eq!(to_server.len(), 1, "one SYN: {out:?}");
    let (label, tc, inner) = unlabel(&to_server[0]);
    assert_eq!(tc, replay::SPLICE_TC, "marked");
    let syn = slb_wire::syn_cookie::syn_ack::parse_syn(&inner).unwrap();
    assert_eq!(syn.isn, 1000, "the client's ISN");
    (server_of(n, &inner), label)
}

/// Server `s` answers the replayed SYN: what slbd sends it then.
fn server_answers(r: &mut Rig, n: &Net, s: usize, label: u32, cport: u16) -> Vec<Vec<u8>> {
    let syn_ack = n
        .from_server(s, n.c2, WEB, cport)
        .label(label + 1)
        .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .seq(5000)
        .ack(1001)
        .tcp_options(&[2, 4, 0x05, 0xb4])
        .build();
    let out = r.send(SERVER, &syn_ack);
    assert!(on(&out, CLIENT).is_empty(), "{out:?}");
    on(&out, SERVER)
}

/// What bound the session of client port `cport` (`sessions` view: the
/// core's record).
fn bound_by(r: &Rig, n: &Net, cport: u16) -> BoundBy {
    let core = r.dp.scheduler.core();
    let (_, s) = core
        .sessions()
        .iter()
        .find(|(_, s)| s.key().client == n.c2.ip && s.key().client_port == cport)
        .expect("the session");
    s.bound_by()
}

fn request(host: &str, path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\n{extra}\r\n")
        .into_bytes()
}

/// Each HTTP rule, and no match, binds to its pool's server; the ACK and
/// the data reach it after its SYN-ACK, the ACK marked.
fn http_rules(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let cases: [(&[u8], usize, BoundBy); 4] = [
        (&request("api.example.com", "/", ""), 1, BoundBy::rule(0)),
        (
            &request("www.example.com", "/static/a.css", ""),
            2,
            BoundBy::rule(1),
        ),
        (
            &request("www.example.com", "/", "X-Canary: 1\r\n"),
            1,
            BoundBy::rule(2),
        ),
        (&request("www.example.com", "/", ""), 0, BoundBy::NO_MATCH),
    ];
    for (i, (req, server, by)) in cases.iter().enumerate() {
        let cport = 40000 + i as u16;
        let (cookie, out) = connect(&mut r, &n, cport);
        assert!(out.is_empty(), "the ACK waits for data: {out:?}");
        let pairs = r.active_sessions();
        let d = data(&n, cport, cookie, 1001, req);
        let out = r.send(CLIENT, &d);
        let (s, label) = replayed_syn(&n, &out);
        assert_eq!(s, *server, "case {i}: {}", String::from_utf8_lossy(req));
        assert_eq!(r.active_sessions(), pairs + 1);
        assert_eq!(bound_by(&r, &n, cport), *by);
        let sent = server_answers(&mut r, &n, s, label, cport);
        assert_eq!(sent.len(), 2, "the ACK, then the data");
        let (l, tc, inner) = unlabel(&sent[0]);
        assert_eq!((l, tc), (label, replay::SPLICE_TC));
        assert_eq!(inner[..6], n.servers[s].mac.0);
        let (l, tc, inner) = unlabel(&sent[1]);
        assert_eq!((l, tc), (label, 0));
        assert_eq!(&inner[14..], &d[14..], "the data byte for byte");
    }
    assert_eq!(r.event(Event::FirstDataRuleMatched), 3);
    assert_eq!(r.event(Event::FirstDataNoMatch), 1);
    let rt =
        r.dp.scheduler
            .rules_of(r.dp.scheduler.service_id("web").unwrap())
            .unwrap();
    assert_eq!(rt.hits, [1, 1, 1, 0]);
    assert_eq!(rt.no_match, 1);
}

/// A request split anywhere waits for its end; a request split over
/// three segments with one repeated is read once.
fn split_request(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let req = request("www.example.com", "/static/logo.png", "");
    for cut in [1, 5, 17, req.len() - 1] {
        let cport = 41000 + cut as u16;
        let (cookie, _) = connect(&mut r, &n, cport);
        let first = data(&n, cport, cookie, 1001, &req[..cut]);
        assert!(r.send(CLIENT, &first).is_empty(), "waits at {cut}");
        // The first segment again (a retransmission): nothing new.
        assert!(r.send(CLIENT, &first).is_empty());
        let rest = data(&n, cport, cookie, 1001 + cut as u32, &req[cut..]);
        let out = r.send(CLIENT, &rest);
        let (s, label) = replayed_syn(&n, &out);
        assert_eq!(s, 2, "static, cut at {cut}");
        let sent = server_answers(&mut r, &n, s, label, cport);
        assert_eq!(sent.len(), 4, "the ACK, both segments, the repeat");
    }
}

/// A TLS ClientHello with `sni` padded to `len` bytes of record.
fn client_hello_record(sni: &str, len: usize) -> Vec<u8> {
    tls_record(&client_hello_message(sni, len - 5))
}

/// A ClientHello the size of a post-quantum one (1.7 KB) in two
/// segments: bound by its SNI once the second arrives.
fn tls_two_segments(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let hello = client_hello_record("www.tls.example", 1713);
    let cport = 42000;
    let (cookie, _) = connect(&mut r, &n, cport);
    let cut = 1448 - 400;
    assert!(r
        .send(CLIENT, &data(&n, cport, cookie, 1001, &hello[..cut]))
        .is_empty());
    let out = r.send(
        CLIENT,
        &data(&n, cport, cookie, 1001 + cut as u32, &hello[cut..]),
    );
    let (s, _) = replayed_syn(&n, &out);
    assert_eq!(s, 2, "static, by SNI");
    assert_eq!(bound_by(&r, &n, cport), BoundBy::rule(3));
    // Another name: no rule.
    let (cookie, _) = connect(&mut r, &n, cport + 1);
    let hello = client_hello_record("www.example.org", 600);
    let out = r.send(CLIENT, &data(&n, cport + 1, cookie, 1001, &hello));
    assert_eq!(replayed_syn(&n, &out).0, 0);
}

/// A client that sends nothing (SMTP, SSH: the server speaks first) is
/// bound to the default pool after `wait_ms`; too many segments and too
/// many bytes fall back too.
fn limits(family: Family) {
    let n = Net::new(family);
    let mut r = rig_with(&n, json!({ "wait_ms": 200, "segments": 2, "bytes": 256 }));
    let (_, out) = connect(&mut r, &n, 43000);
    assert!(out.is_empty());
    assert!(r.advance_ms(150).is_empty(), "still waiting at 150 ms");
    let out = r.advance_ms(60);
    let (s, _) = replayed_syn(&n, &out);
    assert_eq!(s, 0, "the default pool");
    assert_eq!(r.event(Event::FirstDataTimeout), 1);
    assert_eq!(bound_by(&r, &n, 43000), BoundBy::fallback(1));

    // Two segments, the head not ended.
    let (cookie, _) = connect(&mut r, &n, 43001);
    assert!(r
        .send(
            CLIENT,
            &data(&n, 43001, cookie, 1001, b"GET / HTTP/1.1\r\n")
        )
        .is_empty());
    let out = r.send(CLIENT, &data(&n, 43001, cookie, 1017, b"Host: api.exa"));
    assert_eq!(replayed_syn(&n, &out).0, 0);
    assert_eq!(r.event(Event::FirstDataSegments), 1);

    // Past 256 bytes without the end of the head.
    let (cookie, _) = connect(&mut r, &n, 43002);
    let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(300));
    let out = r.send(CLIENT, &data(&n, 43002, cookie, 1001, long.as_bytes()));
    assert_eq!(replayed_syn(&n, &out).0, 0);
    assert_eq!(r.event(Event::FirstDataBytes), 1);
    let rt =
        r.dp.scheduler
            .rules_of(r.dp.scheduler.service_id("web").unwrap())
            .unwrap();
    assert_eq!(rt.fallbacks[..3], [1, 1, 1]);
}

/// A malformed request: the default pool, or (`refuse`) a reset from the
/// client's own ACK and no session.
fn malformed(family: Family) {
    let n = Net::new(family);
    let bad = b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n";
    let mut r = rig(&n);
    let (cookie, _) = connect(&mut r, &n, 44000);
    let out = r.send(CLIENT, &data(&n, 44000, cookie, 1001, bad));
    assert_eq!(replayed_syn(&n, &out).0, 0);
    assert_eq!(r.event(Event::FirstDataMalformed), 1);

    let mut r = rig_with(&n, json!({ "malformed": "refuse" }));
    let (cookie, _) = connect(&mut r, &n, 44001);
    let out = r.send(CLIENT, &data(&n, 44001, cookie, 1001, bad));
    assert!(on(&out, SERVER).is_empty(), "{out:?}");
    let to_client = on(&out, CLIENT);
    assert_eq!(to_client.len(), 1, "{out:?}");
    let k = slb_wire::classify::classify(&to_client[0]).unwrap();
    let slb_wire::Classified::Ip(ip) = k else {
        panic!("not IP")
    };
    let slb_wire::classify::L4::Tcp { flags } = ip.l4 else {
        panic!("not TCP")
    };
    assert!(flags.contains(TcpFlags::RST), "a reset");
    assert_eq!(r.active_sessions(), 0);
    assert_eq!(r.event(Event::FirstDataRefused), 1);
    assert_eq!(r.drops("l7_refused"), 2, "the ACK and the request");
}

/// A client that resets while its session waits: nothing is bound.
fn client_reset(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let (cookie, _) = connect(&mut r, &n, 45000);
    let rst = n
        .from_client(n.c2, 45000, WEB)
        .flags(TcpFlags::RST)
        .seq(1001)
        .ack(cookie.wrapping_add(1))
        .build();
    assert!(r.send(CLIENT, &rst).is_empty());
    assert_eq!(r.drops("l7_client_reset"), 2);
    assert!(r.advance_ms(300).is_empty(), "no timeout binding later");
    assert_eq!(r.active_sessions(), 0);
}

fn udp_from_client(n: &Net, cport: u16, vport: u16, payload: &[u8]) -> Vec<u8> {
    FrameBuilder::udp(n.c2.mac, port_mac(CLIENT), n.c2.ip, n.vip, cport, vport)
        .payload(payload)
        .build()
}

/// DNS by query name: the first datagram is read, sent on labelled to
/// its pool's server; the flow's next datagram follows by label.
fn dns_rules(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    for (cport, name, server) in [(46000, "db.corp.example", 1), (46001, "www.example.org", 0)] {
        let q = dns_query(name, 28);
        let out = r.send(CLIENT, &udp_from_client(&n, cport, DNS, &q));
        let to_server = on(&out, SERVER);
        assert_eq!(to_server.len(), 1, "{out:?}");
        let (label, _, inner) = unlabel(&to_server[0]);
        assert_eq!(server_of(&n, &inner), server, "{name}");
        assert!(inner.ends_with(&q));
        let out = r.send(CLIENT, &udp_from_client(&n, cport, DNS, &q));
        assert_eq!(unlabel(&on(&out, SERVER)[0]).0, label, "the same session");
    }
    assert_eq!(bound_by(&r, &n, 46000), BoundBy::rule(0));
    assert_eq!(bound_by(&r, &n, 46001), BoundBy::NO_MATCH);
}

/// A QUIC Initial by SNI, its ClientHello (1.7 KB: a post-quantum key
/// share's size) over two datagrams; another SNI goes to the default pool.
fn quic_rules(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
    let hello = client_hello_message("api.example.com", 1713);
    let first = quic_initial(1, &dcid, 0, 0, &hello[..1000]);
    let second = quic_initial(1, &dcid, 1, 1000, &hello[1000..]);
    let out = r.send(CLIENT, &udp_from_client(&n, 47000, H3, &first));
    assert!(out.is_empty(), "the ClientHello is not whole: {out:?}");
    let out = r.send(CLIENT, &udp_from_client(&n, 47000, H3, &second));
    let to_server = on(&out, SERVER);
    assert_eq!(to_server.len(), 2, "both datagrams, in order: {out:?}");
    let (label, _, inner) = unlabel(&to_server[0]);
    assert_eq!(server_of(&n, &inner), 2, "the quic pool");
    assert!(inner.ends_with(&first));
    assert!(unlabel(&to_server[1]).2.ends_with(&second));
    assert_eq!(bound_by(&r, &n, 47000), BoundBy::rule(0));
    // The connection's next datagram: by label (5-tuple).
    let out = r.send(CLIENT, &udp_from_client(&n, 47000, H3, &[0x40; 40]));
    assert_eq!(unlabel(&on(&out, SERVER)[0]).0, label);

    let other = client_hello_message("www.example.net", 600);
    let out = r.send(
        CLIENT,
        &udp_from_client(&n, 47001, H3, &quic_initial(1, &dcid, 0, 0, &other)),
    );
    assert_eq!(server_of(&n, &unlabel(&on(&out, SERVER)[0]).2), 0);
    assert_eq!(bound_by(&r, &n, 47001), BoundBy::NO_MATCH);
}

/// Each pool is checked by its own health check (the service's when it
/// names none), and a reload that moves a server to another pool and
/// changes a pool's algorithm applies live: the next session of the rule
/// goes to the server's new pool, the session already bound keeps its
/// server.
fn pools_health_and_reload(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let sid = r.dp.scheduler.service_id("web").unwrap();
    let kinds: Vec<(String, &str)> =
        r.dp.scheduler
            .health()
            .probes()
            .filter(|(k, _)| k.0 == sid)
            .map(|(_, p)| (p.target.server.clone(), p.target.health.kind.as_str()))
            .collect();
    assert_eq!(kinds.len(), 3);
    assert!(
        kinds.iter().all(|(_, k)| *k == "none"),
        "the service's: {kinds:?}"
    );

    // One api session on s2, then api gets the pool's own health check,
    // s3 joins api and static is left with no server.
    let (cookie, _) = connect(&mut r, &n, 48000);
    let out = r.send(
        CLIENT,
        &data(
            &n,
            48000,
            cookie,
            1001,
            &request("api.example.com", "/", ""),
        ),
    );
    assert_eq!(replayed_syn(&n, &out).0, 1);
    let mut cfg: Value =
        serde_json::from_str(&r.dp.scheduler.running_config().to_json_pretty()).unwrap();
    cfg["services"][0]["pools"][0]["health"] = json!({ "kind": "arp" });
    cfg["services"][0]["pools"][0]["algorithm"] = json!("least_connections");
    cfg["services"][0]["servers"][2]["pool"] = json!("api");
    let path = std::env::temp_dir().join(format!(
        "slb-golden-l7-{}-{family:?}.json",
        std::process::id()
    ));
    std::fs::write(&path, cfg.to_string()).unwrap();
    let applied = r.ctl("config.reload", json!({ "path": path }));
    let _ = std::fs::remove_file(&path);
    let applied = applied.unwrap();
    let changes = applied["changes"].to_string();
    assert!(changes.contains("pools changed"), "{changes}");
    assert!(
        changes.contains("server s3: pool static -> api"),
        "{changes}"
    );
    let health_of = |r: &Rig, server: &str| {
        r.dp.scheduler
            .health()
            .probes()
            .find(|(k, p)| k.0 == sid && p.target.server == server)
            .map(|(_, p)| p.target.health.kind.as_str())
            .unwrap()
    };
    assert_eq!(health_of(&r, "s2"), "arp", "api's own");
    assert_eq!(health_of(&r, "s3"), "arp", "s3 is in api now");
    assert_eq!(health_of(&r, "s1"), "none", "the service's");
    // Least connections in api: s2 has a session, so s3.
    let (cookie, _) = connect(&mut r, &n, 48001);
    let out = r.send(
        CLIENT,
        &data(
            &n,
            48001,
            cookie,
            1001,
            &request("api.example.com", "/", ""),
        ),
    );
    assert_eq!(replayed_syn(&n, &out).0, 2);
    // The static pool has no server: its rule's sessions are refused
    // (reset, as the service refuses), not sent elsewhere.
    let (cookie, _) = connect(&mut r, &n, 48002);
    let out = r.send(
        CLIENT,
        &data(
            &n,
            48002,
            cookie,
            1001,
            &request("www.example.com", "/static/x", ""),
        ),
    );
    assert!(on(&out, SERVER).is_empty(), "{out:?}");
    assert_eq!(on(&out, CLIENT).len(), 1, "a reset: {out:?}");
    assert_eq!(r.drops("refused"), 2, "the ACK and the request");
}

macro_rules! both_families {
    ($($name:ident),*) => {
        mod v4 {
            $(#[test] fn $name() { super::$name(super::Family::V4) })*
        }
        mod v6 {
            $(#[test] fn $name() { super::$name(super::Family::V6) })*
        }
    };
}

both_families!(
    http_rules,
    split_request,
    tls_two_segments,
    limits,
    malformed,
    client_reset,
    dns_rules,
    quic_rules,
    pools_health_and_reload
);
