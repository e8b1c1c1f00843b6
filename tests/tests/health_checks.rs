//! The richer health checks (`udp`, `dns`, `http`) through the golden rig:
//! the exact probe frames slbd sends, the answers it accepts, rise and fall
//! on the rig's clock, what `slbctl health` shows, and live reload (an
//! invalid one leaves the running checks alone). `tcp` and `arp` probes
//! are covered by `control_rig.rs`.

use serde_json::{json, Value};
use slb_tests::golden::{Rig, PORT_MACS};
use slb_wire::classify::L4;
use slb_wire::{classify, Classified, FrameBuilder, IpProtocol, MacAddr, TcpFlags};
use std::net::IpAddr;

const SERVER: usize = 1;
const S_MACS: [[u8; 6]; 2] = [
    [0x02, 0x5e, 0, 0, 0x01, 0x11],
    [0x02, 0x5e, 0, 0, 0x01, 0x12],
];
const S_ADDRS: [&str; 2] = ["198.18.1.11", "198.18.1.12"];
const OURS: &str = "198.18.1.1";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// One service `svc` (`protocol`, port 53) on servers s1 and s2 with
/// `health`.
fn config(protocol: &str, health: &Value) -> String {
    json!({
        "ports": [
            { "name": "client", "device": "net_pcap0", "role": "client", "ipv4": "198.18.0.1/24" },
            { "name": "server", "device": "net_pcap1", "role": "server", "ipv4": "198.18.1.1/24" }
        ],
        "neighbours": [
            { "address": S_ADDRS[0], "mac": "02:5e:00:00:01:11" },
            { "address": S_ADDRS[1], "mac": "02:5e:00:00:01:12" }
        ],
        "services": [ {
            "name": "svc", "vip": "198.18.100.1", "port": 53, "protocol": protocol,
            "health": health,
            "servers": [ { "name": "s1", "address": S_ADDRS[0] }, { "name": "s2", "address": S_ADDRS[1] } ]
        } ]
    })
    .to_string()
}

/// A probe slbd sent: to which server, its L4 protocol, ports, payload.
#[derive(Debug)]
struct Probe {
    server: usize,
    protocol: IpProtocol,
    src_port: u16,
    dst_port: u16,
    frame: Vec<u8>,
    payload: Vec<u8>,
}

fn probes(out: &[(usize, Vec<u8>)]) -> Vec<Probe> {
    out.iter()
        .filter(|(p, _)| *p == SERVER)
        .filter_map(|(_, f)| {
            let server = S_MACS.iter().position(|m| f[..6] == m[..])?;
            let Ok(Classified::Ip(ip)) = classify(f) else {
                return None;
            };
            let payload_at = match ip.l4 {
                L4::Udp => ip.l4_offset + 8,
                L4::Tcp { .. } => ip.l4_offset + usize::from(f[ip.l4_offset + 12] >> 4) * 4,
                _ => return None,
            };
            Some(Probe {
                server,
                protocol: ip.flow.protocol,
                src_port: ip.flow.src_port,
                dst_port: ip.flow.dst_port,
                frame: f.clone(),
                payload: f[payload_at..ip.l3_end].to_vec(),
            })
        })
        .collect()
}

/// A UDP datagram from server `s`'s `port` to slbd's probe port.
fn udp_reply(s: usize, port: u16, probe_port: u16, payload: &[u8]) -> Vec<u8> {
    FrameBuilder::udp(
        MacAddr(S_MACS[s]),
        MacAddr(PORT_MACS[SERVER]),
        ip(S_ADDRS[s]),
        ip(OURS),
        port,
        probe_port,
    )
    .payload(payload)
    .build()
}

fn health_of(rig: &mut Rig, s: usize) -> Value {
    rig.ctl("health", json!({})).unwrap()["servers"][s].clone()
}

/// Runs the clock `ms` in 10 ms steps; each probe goes to `answer`, whose
/// frames are sent back in. Returns the probes seen.
fn run(rig: &mut Rig, ms: u64, answer: &mut dyn FnMut(&Probe) -> Vec<Vec<u8>>) -> Vec<Probe> {
    let mut seen = Vec::new();
    for _ in 0..ms / 10 {
        let out = rig.advance_ms(10);
        for p in probes(&out) {
            for f in answer(&p) {
                let back = rig.send(SERVER, &f);
                assert!(
                    back.is_empty(),
                    "an answer to a UDP probe sends nothing: {back:?}"
                );
            }
            seen.push(p);
        }
    }
    seen
}

fn reload(rig: &mut Rig, json: &str) -> Result<Value, slb_proto::ErrorBody> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slbd.json");
    std::fs::write(&path, json).unwrap();
    rig.ctl("config.reload", json!({ "path": path }))
}

#[test]
fn udp_probe_frames_answers_rise_fall_and_reload() {
    let health = json!({ "kind": "udp", "port": 5353, "send": "ping", "expect": "pong",
                         "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 3 });
    let mut rig = Rig::new(&config("udp", &health), 1);
    rig.dp.scheduler.set_health_enabled(true);
    // s1 answers pong, s2 something else.
    let mut answer = |p: &Probe| {
        let reply: &[u8] = if p.server == 0 { b"pong!" } else { b"pang" };
        vec![udp_reply(p.server, p.dst_port, p.src_port, reply)]
    };
    let seen = run(&mut rig, 3000, &mut answer);
    assert!(seen.len() >= 6, "{seen:?}");
    for p in &seen {
        assert_eq!(p.protocol, IpProtocol::Udp);
        let expected = FrameBuilder::udp(
            MacAddr(PORT_MACS[SERVER]),
            MacAddr(S_MACS[p.server]),
            ip(OURS),
            ip(S_ADDRS[p.server]),
            p.src_port,
            5353,
        )
        .payload(b"ping")
        .build();
        assert_eq!(p.frame, expected, "the probe frame, byte for byte");
        assert_eq!(p.payload, b"ping");
        assert!((61000..=61999).contains(&p.src_port));
    }
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["kind"], &s1["state"], &s1["last_result"]),
        (&json!("udp"), &json!("up"), &json!("udp_reply")),
        "{s1}"
    );
    let s2 = health_of(&mut rig, 1);
    assert_eq!(
        (&s2["state"], &s2["last_result"]),
        (&json!("down"), &json!("reply without the expected bytes")),
        "{s2}"
    );
    // An invalid reload changes nothing and names the bad field.
    let mut bad: Value = serde_json::from_str(&config("udp", &health)).unwrap();
    bad["services"][0]["health"]["expect_hex"] = json!("zz");
    let e = reload(&mut rig, &bad.to_string()).unwrap_err();
    assert!(e.message.contains("services[0].health.expect_hex"), "{e:?}");
    run(&mut rig, 1000, &mut answer);
    assert_eq!(health_of(&mut rig, 1)["state"], "down");
    // A reload that expects what s2 says brings it back after rise (2).
    let mut new: Value = serde_json::from_str(&config("udp", &health)).unwrap();
    new["services"][0]["health"]["expect"] = json!("ng");
    let r = reload(&mut rig, &new.to_string()).unwrap();
    assert!(r["changes"].to_string().contains("health changed"), "{r}");
    run(&mut rig, 2100, &mut answer);
    let s2 = health_of(&mut rig, 1);
    assert_eq!(
        (&s2["state"], &s2["last_result"]),
        (&json!("up"), &json!("udp_reply"))
    );
    // Silence: down after fall (3) timeouts.
    run(&mut rig, 3600, &mut |_| vec![]);
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["state"], &s1["last_result"]),
        (&json!("down"), &json!("timeout"))
    );
}

/// The query a `dns` check for health.example.test AAAA sends, with `id`
/// (RFC 1035 section 4.1, written out by hand).
fn aaaa_query(id: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT 1
    q.extend_from_slice(b"\x06health\x07example\x04test\x00");
    q.extend_from_slice(&[0, 28, 0, 1]); // AAAA, IN
    q
}

/// A response to `query`: QR, RA, `rcode`, one AAAA answer 2001:db8::11.
fn dns_response(query: &[u8], rcode: u8) -> Vec<u8> {
    let mut r = query.to_vec();
    r[2] |= 0x80;
    r[3] = 0x80 | rcode;
    r[7] = 1;
    r.extend_from_slice(&[0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
    r.extend_from_slice(
        &"2001:db8::11"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    r
}

#[test]
fn dns_probe_frames_noerror_rcode_and_id() {
    let health = json!({ "kind": "dns", "query_name": "health.example.test.", "query_type": "AAAA",
                         "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 2 });
    let mut rig = Rig::new(&config("udp", &health), 1);
    rig.dp.scheduler.set_health_enabled(true);
    // s1 answers NOERROR; s2 REFUSED.
    let mut answer = |p: &Probe| {
        let rcode = if p.server == 0 { 0 } else { 5 };
        let r = dns_response(&p.payload, rcode);
        vec![udp_reply(p.server, p.dst_port, p.src_port, &r)]
    };
    let seen = run(&mut rig, 2500, &mut answer);
    assert!(seen.len() >= 4, "{seen:?}");
    for p in &seen {
        let id = u16::from_be_bytes([p.payload[0], p.payload[1]]);
        let expected = FrameBuilder::udp(
            MacAddr(PORT_MACS[SERVER]),
            MacAddr(S_MACS[p.server]),
            ip(OURS),
            ip(S_ADDRS[p.server]),
            p.src_port,
            53,
        )
        .payload(&aaaa_query(id))
        .build();
        assert_eq!(p.frame, expected, "the query frame, byte for byte");
    }
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["kind"], &s1["state"], &s1["last_result"]),
        (&json!("dns"), &json!("up"), &json!("noerror")),
        "{s1}"
    );
    let s2 = health_of(&mut rig, 1);
    assert_eq!(
        (&s2["state"], &s2["last_result"]),
        (&json!("down"), &json!("no NOERROR: REFUSED")),
        "{s2}"
    );
    // NOERROR with another id is not an answer: s1's probes time out.
    let mut wrong_id = |p: &Probe| {
        let mut r = dns_response(&p.payload, 0);
        r[0] ^= 0x55;
        vec![udp_reply(p.server, p.dst_port, p.src_port, &r)]
    };
    run(&mut rig, 2500, &mut wrong_id);
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["state"], &s1["last_result"]),
        (&json!("down"), &json!("timeout"))
    );
}

/// A TCP segment from server `s`'s port 80 to slbd's probe port.
fn tcp_from(
    s: usize,
    probe_port: u16,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    FrameBuilder::tcp(
        MacAddr(S_MACS[s]),
        MacAddr(PORT_MACS[SERVER]),
        ip(S_ADDRS[s]),
        ip(OURS),
        80,
        probe_port,
    )
    .flags(flags)
    .seq(seq)
    .ack(ack)
    .payload(payload)
    .build()
}

/// A TCP segment slbd sends server `s` from its probe port.
fn tcp_to(
    s: usize,
    probe_port: u16,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
    window: u16,
    payload: &[u8],
) -> (usize, Vec<u8>) {
    let f = FrameBuilder::tcp(
        MacAddr(PORT_MACS[SERVER]),
        MacAddr(S_MACS[s]),
        ip(OURS),
        ip(S_ADDRS[s]),
        probe_port,
        80,
    )
    .flags(flags)
    .seq(seq)
    .ack(ack)
    .window(window)
    .payload(payload)
    .build();
    (SERVER, f)
}

const REQUEST: &[u8] =
    b"GET /healthz HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: slbd-health\r\n\
                         Accept: */*\r\nConnection: close\r\n\r\n";

#[test]
fn http_probe_exchange_byte_for_byte_status_and_body() {
    let health = json!({ "kind": "http", "port": 80, "path": "/healthz", "host": "www.example.test",
                         "status": "200-299", "body": "ok", "interval_ms": 1000, "timeout_ms": 500,
                         "rise": 2, "fall": 2 });
    let mut rig = Rig::new(&config("tcp", &health), 1);
    rig.dp.scheduler.set_health_enabled(true);
    const IRS: u32 = 9000;
    let mut syns = 0;
    for _ in 0..250 {
        let out = rig.advance_ms(10);
        for p in probes(&out) {
            assert_eq!(p.protocol, IpProtocol::Tcp);
            syns += 1;
            let iss = u32::from_be_bytes(p.frame[38..42].try_into().unwrap());
            let (s, port) = (p.server, p.src_port);
            // The SYN-ACK: slbd sends the request in one segment.
            let back = rig.send(
                SERVER,
                &tcp_from(s, port, TcpFlags::SYN | TcpFlags::ACK, IRS, iss + 1, b""),
            );
            let flags = TcpFlags::ACK | TcpFlags::PSH;
            assert_eq!(
                back,
                vec![tcp_to(s, port, flags, iss + 1, IRS + 1, 4096, REQUEST)]
            );
            let snd = iss + 1 + REQUEST.len() as u32;
            let rst = tcp_to(s, port, TcpFlags::RST, snd, 0, 0, b"");
            if s == 0 {
                // 200 in two segments: the first is acknowledged (the body
                // text is still to come), the second settles it: RST.
                let head = b"HTTP/1.1 200 OK\r\n";
                let back = rig.send(
                    SERVER,
                    &tcp_from(s, port, TcpFlags::ACK, IRS + 1, snd, head),
                );
                let rcv = IRS + 1 + head.len() as u32;
                let window = 4096 - head.len() as u16;
                assert_eq!(
                    back,
                    vec![tcp_to(s, port, TcpFlags::ACK, snd, rcv, window, b"")]
                );
                let rest = b"Content-Length: 2\r\n\r\nok";
                let back = rig.send(
                    SERVER,
                    &tcp_from(s, port, TcpFlags::ACK | TcpFlags::FIN, rcv, snd, rest),
                );
                assert_eq!(back, vec![rst]);
            } else {
                let r = b"HTTP/1.1 503 Service Unavailable\r\n\r\n";
                let back = rig.send(SERVER, &tcp_from(s, port, TcpFlags::ACK, IRS + 1, snd, r));
                assert_eq!(back, vec![rst]);
            }
        }
    }
    assert!(syns >= 4, "{syns}");
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["kind"], &s1["state"], &s1["last_result"]),
        (&json!("http"), &json!("up"), &json!("status 200")),
        "{s1}"
    );
    let s2 = health_of(&mut rig, 1);
    assert_eq!(
        (&s2["state"], &s2["last_result"]),
        (&json!("down"), &json!("status 503")),
        "{s2}"
    );
}

/// A TLS server with the test certificate (appliance/testdata/health-tls).
fn tls_server() -> rustls::ServerConnection {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = include_str!("../../appliance/testdata/health-tls/cert.pem");
    let key = include_str!("../../appliance/testdata/health-tls/key.pem");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let c = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
        )
        .unwrap();
    rustls::ServerConnection::new(std::sync::Arc::new(c)).unwrap()
}

/// The TCP payload of each frame slbd sent server `s`, and whether one
/// was a RST.
fn payloads_to(out: &[(usize, Vec<u8>)], s: usize) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let mut rst = false;
    for (_, f) in out
        .iter()
        .filter(|(p, f)| *p == SERVER && f[..6] == S_MACS[s][..])
    {
        let Ok(Classified::Ip(ip)) = classify(f) else {
            continue;
        };
        if let L4::Tcp { flags } = ip.l4 {
            rst |= flags.contains(TcpFlags::RST);
            let at = ip.l4_offset + usize::from(f[ip.l4_offset + 12] >> 4) * 4;
            bytes.extend_from_slice(&f[at..ip.l3_end]);
        }
    }
    (bytes, rst)
}

#[test]
fn tls_probe_handshakes_with_sni_over_slbds_own_tcp() {
    let health = json!({ "kind": "tls", "port": 80, "sni": "slb-health.test",
                         "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 2 });
    let mut rig = Rig::new(&config("tcp", &health), 1);
    rig.dp.scheduler.set_health_enabled(true);
    const IRS: u32 = 9000;
    let mut handshakes = 0;
    for _ in 0..250 {
        let out = rig.advance_ms(10);
        for p in probes(&out) {
            let iss = u32::from_be_bytes(p.frame[38..42].try_into().unwrap());
            let (s, port) = (p.server, p.src_port);
            let synack = tcp_from(s, port, TcpFlags::SYN | TcpFlags::ACK, IRS, iss + 1, b"");
            let (mut client, _) = payloads_to(&rig.send(SERVER, &synack), s);
            assert_eq!(client[0], 22, "a TLS handshake record (the ClientHello)");
            let mut rcv = IRS + 1;
            if s == 1 {
                // s2 is a plain HTTP server on the TLS port.
                let r = b"HTTP/1.1 400 Bad Request\r\n\r\n";
                let back = rig.send(SERVER, &tcp_from(s, port, TcpFlags::ACK, rcv, 0, r));
                assert!(payloads_to(&back, s).1, "reset after the verdict");
                continue;
            }
            let mut server = tls_server();
            for _ in 0..4 {
                let mut rd = &client[..];
                while !rd.is_empty() {
                    server.read_tls(&mut rd).unwrap();
                    server.process_new_packets().unwrap();
                }
                let mut reply = Vec::new();
                while server.wants_write() {
                    server.write_tls(&mut reply).unwrap();
                }
                if reply.is_empty() {
                    break;
                }
                // In segments of at most 1400 bytes, as a server's TCP would.
                let mut back = Vec::new();
                for chunk in reply.chunks(1400) {
                    back.extend(rig.send(SERVER, &tcp_from(s, port, TcpFlags::ACK, rcv, 0, chunk)));
                    rcv += chunk.len() as u32;
                }
                let (bytes, rst) = payloads_to(&back, s);
                client = bytes;
                if rst {
                    let mut rd = &client[..];
                    while !rd.is_empty() {
                        server.read_tls(&mut rd).unwrap();
                        server.process_new_packets().unwrap();
                    }
                    break;
                }
            }
            assert!(!server.is_handshaking(), "slbd completed the handshake");
            assert_eq!(server.server_name(), Some("slb-health.test"));
            handshakes += 1;
        }
    }
    assert!(handshakes >= 2, "{handshakes}");
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["kind"], &s1["state"], &s1["last_result"]),
        (&json!("tls"), &json!("up"), &json!("handshake TLSv1_3")),
        "{s1}"
    );
    let s2 = health_of(&mut rig, 1);
    assert_eq!(s2["state"], "down", "{s2}");
    assert!(
        s2["last_result"].as_str().unwrap().starts_with("tls: "),
        "{s2}"
    );
}

/// IPv6: the probe leaves from the port's IPv6 address and the server's
/// answer to it is handed to the scheduler like an IPv4 one.
#[test]
fn udp_probes_over_ipv6() {
    let cfg = json!({
        "ports": [
            { "name": "client", "device": "net_pcap0", "role": "client", "ipv6": "2001:db8::1/64" },
            { "name": "server", "device": "net_pcap1", "role": "server", "ipv6": "2001:db8:1::1/64" }
        ],
        "neighbours": [ { "address": "2001:db8:1::11", "mac": "02:5e:00:00:01:11" } ],
        "services": [ {
            "name": "svc", "vip": "2001:db8:100::1", "port": 53, "protocol": "udp",
            "health": { "kind": "udp", "port": 7, "send": "ping", "expect": "ping",
                        "interval_ms": 1000, "timeout_ms": 500, "rise": 1, "fall": 1 },
            "servers": [ { "name": "s1", "address": "2001:db8:1::11" } ]
        } ]
    });
    let mut rig = Rig::new(&cfg.to_string(), 1);
    rig.dp.scheduler.set_health_enabled(true);
    let (ours, server) = (ip("2001:db8:1::1"), ip("2001:db8:1::11"));
    let mut answered = 0;
    // Probes at 10 and 1010 ms; the second times out at 1510 ms.
    for _ in 0..160 {
        let out = rig.advance_ms(10);
        for p in probes(&out) {
            let expected = FrameBuilder::udp(
                MacAddr(PORT_MACS[SERVER]),
                MacAddr(S_MACS[0]),
                ours,
                server,
                p.src_port,
                7,
            )
            .payload(b"ping")
            .build();
            assert_eq!(p.frame, expected);
            let echo = FrameBuilder::udp(
                MacAddr(S_MACS[0]),
                MacAddr(PORT_MACS[SERVER]),
                server,
                ours,
                7,
                p.src_port,
            )
            .payload(&p.payload)
            .build();
            // The first is answered, the second not.
            if answered == 0 {
                assert!(rig.send(SERVER, &echo).is_empty());
            }
            answered += 1;
        }
        if answered == 1 {
            let s1 = health_of(&mut rig, 0);
            assert_eq!(
                (&s1["state"], &s1["last_result"]),
                (&json!("up"), &json!("udp_reply"))
            );
        }
    }
    assert!(answered >= 2, "{answered}");
    let s1 = health_of(&mut rig, 0);
    assert_eq!(
        (&s1["state"], &s1["last_result"]),
        (&json!("down"), &json!("timeout")),
        "{s1}"
    );
}
