//! The golden rig with layer-7 services (issue 17) in both families at
//! once, for hostile input (`tests/tests/hostile_l7.rs`): an HTTP/TLS
//! service with `syn_proxy` on port 80, a DNS service on 53 and a QUIC
//! service on 443, each on `VIP4` and `VIP6`; three servers (s1 the
//! default pool, s2 `api`/`corp`, s3 `static`/`quic`). Frame builders for
//! cookie handshakes, data, datagrams, QUIC Initials and ClientHellos, and
//! the accounting of what waits for its first data.

use crate::golden::net::{port_mac, CLIENT, PORT_MACS, SERVER};
pub use crate::golden::{on, unlabel};
use crate::golden::{Rig, Sent};
use serde_json::{json, Value};
use slb_appliance::counters::Event;
use slb_core::BoundBy;
use slb_l7::quic::{protect_initial, InitialKeys};
use slb_wire::syn_cookie::replay;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

pub const WEB: u16 = 80;
pub const DNS: u16 = 53;
pub const H3: u16 = 443;
pub const ACK: TcpFlags = TcpFlags::ACK;
pub const PSH_ACK: TcpFlags = TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0);
pub const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::ACK.0 | TcpFlags::FIN.0);
/// The client's MAC.
pub const CM: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x12]);
/// The first-data limits of every service.
pub const WAIT_MS: u64 = 200;

pub fn vip4() -> IpAddr {
    "198.18.100.1".parse().unwrap()
}
pub fn vip6() -> IpAddr {
    "2001:db8:100::1".parse().unwrap()
}
pub fn client4() -> IpAddr {
    "198.18.0.12".parse().unwrap()
}
pub fn client6() -> IpAddr {
    "2001:db8::12".parse().unwrap()
}

pub fn server_mac(i: usize) -> MacAddr {
    MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x11 + i as u8])
}

fn server_ip(i: usize, v6: bool) -> String {
    if v6 {
        format!("2001:db8:1::{}", 11 + i)
    } else {
        format!("198.18.1.{}", 11 + i)
    }
}

/// The configuration: `malformed` is `first_data.malformed` of every
/// service (`default` or `refuse`).
pub fn config(malformed: &str) -> String {
    let first_data =
        json!({ "wait_ms": WAIT_MS, "segments": 3, "bytes": 4096, "malformed": malformed });
    let mut services = Vec::new();
    let mut neighbours = Vec::new();
    for (vip, sfx, v6) in [(vip4(), "", false), (vip6(), "6", true)] {
        let s = |i: usize, pool: Option<&str>| -> Value {
            let mut v = json!({ "name": format!("s{}", i + 1), "address": server_ip(i, v6) });
            if let Some(p) = pool {
                v["pool"] = json!(p);
            }
            v
        };
        for i in 0..3 {
            neighbours
                .push(json!({ "address": server_ip(i, v6), "mac": server_mac(i).to_string() }));
        }
        services.push(json!({
            "name": format!("web{sfx}"), "vip": vip, "port": WEB, "protocol": "tcp",
            "client_mode": "label", "syn_proxy": true, "refuse": "rst",
            "health": { "kind": "none" },
            "servers": [s(0, None), s(1, Some("api")), s(2, Some("static"))],
            "pools": [{ "name": "api" }, { "name": "static" }],
            "rules": [
                { "name": "api-host", "pool": "api", "http": { "host": "api.example.com" } },
                { "name": "tls-static", "pool": "static", "tls": { "sni": "*.tls.example" } }
            ],
            "first_data": first_data,
        }));
        services.push(json!({
            "name": format!("dns{sfx}"), "vip": vip, "port": DNS, "protocol": "udp",
            "client_mode": "plain", "refuse": "drop", "health": { "kind": "none" },
            "servers": [s(0, None), s(1, Some("corp"))],
            "pools": [{ "name": "corp" }],
            "rules": [{ "name": "corp", "pool": "corp", "dns": { "suffix": "corp.example" } }],
            "first_data": first_data,
        }));
        services.push(json!({
            "name": format!("h3{sfx}"), "vip": vip, "port": H3, "protocol": "udp",
            "client_mode": "plain", "refuse": "drop", "health": { "kind": "none" },
            "servers": [s(0, None), s(2, Some("quic"))],
            "pools": [{ "name": "quic" }],
            "rules": [{ "name": "h3-api", "pool": "quic", "quic": { "sni": "api.example.com" } }],
            "first_data": first_data,
        }));
    }
    let doc = json!({
        "ports": [
            { "name": "client", "device": "net_pcap0", "role": "client",
              "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" },
            { "name": "server", "device": "net_pcap1", "role": "server",
              "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }
        ],
        "labels": { "first": 16, "last": 65535, "quarantine_ms": 100 },
        "timeouts": { "tcp_syn_ms": 300, "tcp_established_s": 1, "tcp_closing_s": 1,
                      "tcp_linger_ms": 100, "udp_s": 1 },
        "neighbours": neighbours,
        "services": services,
    });
    serde_json::to_string_pretty(&doc).unwrap()
}

pub fn rig(workers: usize, malformed: &str) -> Rig {
    let mut r = Rig::with_macs(&config(malformed), workers, &PORT_MACS);
    r.settle();
    r
}

/// Every service's name.
pub const SERVICES: [&str; 6] = ["web", "dns", "h3", "web6", "dns6", "h36"];

/// One client flow: from `ip`:`port` to `vip`:`vport`.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    pub ip: IpAddr,
    pub vip: IpAddr,
    pub port: u16,
    pub vport: u16,
}

impl Flow {
    pub fn web(port: u16) -> Flow {
        Flow {
            ip: client4(),
            vip: vip4(),
            port,
            vport: WEB,
        }
    }

    pub fn udp(port: u16, vport: u16) -> Flow {
        Flow {
            ip: client4(),
            vip: vip4(),
            port,
            vport,
        }
    }

    pub fn tcp(&self) -> FrameBuilder {
        FrameBuilder::tcp(
            CM,
            port_mac(CLIENT),
            self.ip,
            self.vip,
            self.port,
            self.vport,
        )
    }

    /// A datagram of this flow.
    pub fn datagram(&self, payload: &[u8]) -> Vec<u8> {
        FrameBuilder::udp(
            CM,
            port_mac(CLIENT),
            self.ip,
            self.vip,
            self.port,
            self.vport,
        )
        .payload(payload)
        .build()
    }

    /// A client segment after the handshake (sequence numbers from 1001).
    pub fn segment(&self, cookie: u32, seq: u32, flags: TcpFlags, payload: &[u8]) -> Vec<u8> {
        self.tcp()
            .flags(flags)
            .seq(seq)
            .ack(cookie.wrapping_add(1))
            .window(502)
            .payload(payload)
            .build()
    }
}

/// The SYN with ISN 1000, then the cookie ACK: the cookie and what the
/// ACK made slbd send.
pub fn connect(r: &mut Rig, c: Flow) -> (u32, Vec<Sent>) {
    let syn = c
        .tcp()
        .flags(TcpFlags::SYN)
        .seq(1000)
        .window(64240)
        .tcp_options(&[2, 4, 0x05, 0xb4])
        .build();
    let out = r.send(CLIENT, &syn);
    assert_eq!(out.len(), 1, "the cookie SYN-ACK: {out:?}");
    let cookie = tcp_seq(&out[0].1);
    let ack = c
        .tcp()
        .flags(ACK)
        .seq(1001)
        .ack(cookie.wrapping_add(1))
        .window(502)
        .build();
    let out = r.send(CLIENT, &ack);
    (cookie, out)
}

/// The sequence number of a TCP frame.
pub fn tcp_seq(f: &[u8]) -> u32 {
    let slb_wire::Classified::Ip(ip) = slb_wire::classify::classify(f).unwrap() else {
        panic!("not IP")
    };
    let o = ip.l4_offset;
    u32::from_be_bytes(f[o + 4..o + 8].try_into().unwrap())
}

/// Whether a frame is a TCP reset.
pub fn is_reset(f: &[u8]) -> bool {
    match slb_wire::classify::classify(f) {
        Ok(slb_wire::Classified::Ip(ip)) => {
            matches!(ip.l4, slb_wire::classify::L4::Tcp { flags } if flags.contains(TcpFlags::RST))
        }
        _ => false,
    }
}

/// Which server (0-based) a frame on the server port is for.
pub fn server_of(f: &[u8]) -> usize {
    (0..3)
        .find(|&i| f[..6] == server_mac(i).0)
        .unwrap_or_else(|| panic!("to no server: {:02x?}", &f[..6]))
}

/// The marked SYNs slbd sent to servers: (server, label) each.
pub fn replayed_syns(out: &[Sent]) -> Vec<(usize, u32)> {
    on(out, SERVER)
        .iter()
        .filter_map(|f| {
            let (label, tc, inner) = unlabel(f);
            let syn = slb_wire::syn_cookie::syn_ack::parse_syn(&inner).ok()?;
            assert_eq!(tc, replay::SPLICE_TC, "a replayed SYN is marked");
            assert_eq!(syn.isn, 1000, "the client's ISN");
            Some((server_of(&inner), label))
        })
        .collect()
}

/// The one replayed SYN of `out`.
pub fn replayed_syn(out: &[Sent]) -> (usize, u32) {
    let s = replayed_syns(out);
    assert_eq!(s.len(), 1, "one replayed SYN: {out:?}");
    assert_eq!(out.len(), 1, "and nothing else: {out:?}");
    s[0]
}

/// Server `s` answers the replayed SYN of `c`: what slbd sends it then
/// (the replayed ACK and the held data).
pub fn server_answers(r: &mut Rig, c: Flow, s: usize, label: u32) -> Vec<Vec<u8>> {
    let syn_ack = FrameBuilder::tcp(
        server_mac(s),
        port_mac(SERVER),
        c.vip,
        c.ip,
        c.vport,
        c.port,
    )
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

/// What bound the session of `c`, if it has one.
pub fn bound_by(r: &Rig, c: Flow) -> Option<BoundBy> {
    let core = r.dp.scheduler.core();
    core.sessions()
        .iter()
        .find(|(_, s)| {
            s.key().client == c.ip && s.key().client_port == c.port && s.key().vip_port == c.vport
        })
        .map(|(_, s)| s.bound_by())
}

pub fn request(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\n\r\n").into_bytes()
}

/// Sessions whose first data was decided: by a rule, no rule, a fallback
/// (`busy` included) or refused.
pub fn decided(r: &Rig) -> u64 {
    [
        Event::FirstDataRuleMatched,
        Event::FirstDataNoMatch,
        Event::FirstDataTimeout,
        Event::FirstDataSegments,
        Event::FirstDataBytes,
        Event::FirstDataMalformed,
        Event::FirstDataUnsupported,
        Event::FirstDataBusy,
        Event::FirstDataRefused,
    ]
    .iter()
    .map(|&e| r.event(e))
    .sum()
}

/// Sessions still waiting for their first data: those that began
/// (`l7_waits`) less those decided and those whose client reset
/// (`resets`, known to the test). The rules' own counters
/// (`Scheduler::rules_of`) must agree with the events.
pub fn waiting(r: &Rig, resets: u64) -> u64 {
    let mut by_rules = 0;
    for name in SERVICES {
        let sid = r.dp.scheduler.service_id(name).unwrap();
        let rt = r.dp.scheduler.rules_of(sid).unwrap();
        by_rules += rt.hits.iter().sum::<u64>()
            + rt.no_match
            + rt.fallbacks.iter().sum::<u64>()
            + rt.refused;
    }
    let d = decided(r);
    assert_eq!(by_rules, d, "the rules' counters and the events agree");
    let began = r.event(Event::FirstDataWaits);
    assert!(
        began >= d + resets,
        "{began} began, {d} decided, {resets} reset"
    );
    began - d - resets
}

/// Pairs of labels in use (this instance's), and quarantined ones.
pub fn labels_in_use(r: &Rig) -> (u32, u32) {
    let c = r.dp.scheduler.core().labels().counts();
    (c.active, c.quarantined)
}

/// A seeded generator (xorshift64*), for reproducible random input.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A ClientHello handshake message of about `len` bytes: SNI, ALPN h3
/// and h2, TLS 1.3, padding.
pub fn client_hello_message(sni: &str, len: usize) -> Vec<u8> {
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    let mut list = vec![0];
    list.extend((name.len() as u16).to_be_bytes());
    list.extend(name);
    ext.extend([0, 0]);
    ext.extend(((list.len() + 2) as u16).to_be_bytes());
    ext.extend((list.len() as u16).to_be_bytes());
    ext.extend(list);
    let alpn = [2, b'h', b'3', 2, b'h', b'2'];
    ext.extend([0, 16]);
    ext.extend(((alpn.len() + 2) as u16).to_be_bytes());
    ext.extend((alpn.len() as u16).to_be_bytes());
    ext.extend(alpn);
    ext.extend([0, 43, 0, 3, 2, 3, 4]);
    let fixed = 4 + 2 + 32 + 1 + 4 + 2 + 2;
    let pad = len.saturating_sub(fixed + ext.len() + 4);
    ext.extend([0, 21]);
    ext.extend((pad as u16).to_be_bytes());
    ext.extend(std::iter::repeat_n(0, pad));
    let mut body = vec![3, 3];
    body.extend([7; 32]);
    body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut m = vec![1, 0];
    m.extend((body.len() as u16).to_be_bytes());
    m.extend(body);
    m
}

/// A TLS handshake record carrying `msg`.
pub fn tls_record(msg: &[u8]) -> Vec<u8> {
    let mut rec = vec![0x16, 3, 1];
    rec.extend((msg.len() as u16).to_be_bytes());
    rec.extend(msg);
    rec
}

fn varint2(v: usize) -> [u8; 2] {
    (0x4000 | v as u16).to_be_bytes()
}

/// A client Initial (QUIC `version`) for `dcid` with a CRYPTO frame of
/// `data` at `offset`, padded to a 1200-byte datagram.
pub fn quic_initial(version: u32, dcid: &[u8], pn: u32, offset: usize, data: &[u8]) -> Vec<u8> {
    let mut frames = vec![0x06];
    frames.extend(varint2(offset));
    frames.extend(varint2(data.len()));
    frames.extend(data);
    let mut p = vec![0xc3];
    p.extend(version.to_be_bytes());
    p.push(dcid.len() as u8);
    p.extend(dcid);
    p.extend([0, 0]);
    let head = p.len() + 2;
    let payload = frames.len().max(1200 - (head + 4 + 16));
    p.extend(varint2(4 + payload + 16));
    p.extend(pn.to_be_bytes());
    p.extend(&frames);
    p.resize(head + 4 + payload + 16, 0);
    if version == 1 {
        protect_initial(&mut p, &InitialKeys::client(dcid)).unwrap();
    }
    p
}

pub fn dns_query(name: &str, qtype: u16) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for l in name.split('.') {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.extend([0, 0]);
    q.extend(qtype.to_be_bytes());
    q.extend([0, 1]);
    q
}
