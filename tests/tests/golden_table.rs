//! The golden packet table of slbd's data path (issue: Data plane). Each
//! row: what goes in, on which port, and what must come out (exact bytes)
//! or which drop counter must move. Rows run in order on one data path,
//! so later rows see the sessions earlier rows made. Every table runs
//! for IPv4 and IPv6 where it applies, and with 1 and 2 workers (frames
//! alternate between the workers, so a labelled frame is switched on a
//! different core than the one that saw its session's first packet).

use slb_appliance::counters::Event;
use slb_tests::golden::{Rig, PORT_MACS};
use slb_wire::builder::{self, FrameBuilder};
use slb_wire::{MacAddr, TcpFlags};
use std::net::IpAddr;

const CLIENT: usize = 0;
const SERVER: usize = 1;
const C1_MAC: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x11]);
const C2_MAC: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x12]);
const S1_MAC: MacAddr = MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x11]);

fn port_mac(p: usize) -> MacAddr {
    MacAddr(PORT_MACS[p])
}

/// Addresses of one family.
#[derive(Clone, Copy)]
struct Fam {
    c1: IpAddr,
    c2: IpAddr,
    foreign: IpAddr,
    vip: IpAddr,
    s: [IpAddr; 3],
    mss: u16,
}

fn v4() -> Fam {
    Fam {
        c1: "198.18.0.11".parse().unwrap(),
        c2: "198.18.0.12".parse().unwrap(),
        foreign: "198.18.0.99".parse().unwrap(),
        vip: "198.18.100.1".parse().unwrap(),
        s: [
            "198.18.1.11".parse().unwrap(),
            "198.18.1.12".parse().unwrap(),
            "198.18.1.13".parse().unwrap(),
        ],
        mss: 1456,
    }
}

fn v6() -> Fam {
    Fam {
        c1: "2001:db8::11".parse().unwrap(),
        c2: "2001:db8::12".parse().unwrap(),
        foreign: "2001:db8::99".parse().unwrap(),
        vip: "2001:db8:100::1".parse().unwrap(),
        s: [
            "2001:db8:1::11".parse().unwrap(),
            "2001:db8:1::12".parse().unwrap(),
            "2001:db8:1::13".parse().unwrap(),
        ],
        mss: 1436,
    }
}

/// The test configuration: a plain-client web service on port 80 and a
/// label-aware one on port 81, both with one server (s1) so every row
/// knows where a session goes; static server MACs.
fn config(f: &Fam, extra_services: &str, labels: &str) -> String {
    let vip = f.vip;
    let [s1, s2, s3] = f.s;
    format!(
        r#"{{
  "ports": [
    {{ "name": "client", "device": "net_pcap0", "role": "client",
      "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" }},
    {{ "name": "server", "device": "net_pcap1", "role": "server",
      "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }}
  ],
  {labels}
  "timeouts": {{ "tcp_linger_ms": 1000 }},
  "neighbours": [
    {{ "address": "{s1}", "mac": "02:5e:00:00:01:11" }},
    {{ "address": "{s2}", "mac": "02:5e:00:00:01:12" }},
    {{ "address": "{s3}", "mac": "02:5e:00:00:01:13" }}
  ],
  "services": [
    {{ "name": "plain", "vip": "{vip}", "port": 80, "protocol": "tcp", "client_mode": "plain",
      "servers": [ {{ "name": "s1", "address": "{s1}" }} ] }},
    {{ "name": "aware", "vip": "{vip}", "port": 81, "protocol": "tcp", "client_mode": "label",
      "servers": [ {{ "name": "s1", "address": "{s1}" }} ] }}
    {extra_services}
  ]
}}"#
    )
}

fn tcp(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
) -> FrameBuilder {
    FrameBuilder::tcp(src_mac, dst_mac, src, dst, sport, dport)
}

fn syn(b: FrameBuilder) -> FrameBuilder {
    b.flags(TcpFlags::SYN).seq(1000).mss(1460)
}

fn one(out: Vec<(usize, Vec<u8>)>, what: &str) -> (usize, Vec<u8>) {
    assert_eq!(
        out.len(),
        1,
        "{what}: expected exactly one frame out, got {}",
        out.len()
    );
    out.into_iter().next().unwrap()
}

fn assert_frame(what: &str, got: (usize, Vec<u8>), port: usize, want: Vec<u8>) {
    assert_eq!(got.0, port, "{what}: out port");
    assert!(builder::checksums_valid(&got.1), "{what}: checksums");
    assert_eq!(hex(&got.1), hex(&want), "{what}: frame bytes");
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join("")
}

/// Rows 1-8 for one family and worker count.
fn session_rows(f: Fam, workers: usize) {
    let mut rig = Rig::new(&config(&f, "", ""), workers);
    let s1 = f.s[0];

    // Row 1: SYN to the VIP -> server port, s1's MAC, one odd label (17,
    // the first of the range), inner packet unchanged but for the MSS.
    let input = syn(tcp(C2_MAC, port_mac(CLIENT), f.c2, f.vip, 40000, 80)).build();
    let want = syn(tcp(port_mac(SERVER), S1_MAC, f.c2, f.vip, 40000, 80))
        .mss(f.mss)
        .label(17)
        .build();
    assert_frame(
        "row 1 SYN",
        one(rig.send(CLIENT, &input), "row 1"),
        SERVER,
        want,
    );
    assert_eq!(rig.active_sessions(), 1);

    // Row 2 (plain client): s1's SYN-ACK carrying 18 -> client port,
    // label popped, L2 rewritten, MSS clamped.
    let synack = |lbl: bool| {
        let b = tcp(S1_MAC, port_mac(SERVER), f.vip, f.c2, 80, 40000)
            .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
            .seq(5000)
            .ack(1001)
            .mss(1460);
        if lbl {
            b.label(18)
        } else {
            b
        }
    };
    let want = tcp(port_mac(CLIENT), C2_MAC, f.vip, f.c2, 80, 40000)
        .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .seq(5000)
        .ack(1001)
        .mss(f.mss)
        .build();
    assert_frame(
        "row 2 plain reply",
        one(rig.send(SERVER, &synack(true).build()), "row 2"),
        CLIENT,
        want,
    );

    // Row 4: the plain client's unlabelled ACK -> label 17 pushed, to s1.
    let ack = tcp(C2_MAC, port_mac(CLIENT), f.c2, f.vip, 40000, 80)
        .seq(1001)
        .ack(5001);
    let want = tcp(port_mac(SERVER), S1_MAC, f.c2, f.vip, 40000, 80)
        .seq(1001)
        .ack(5001)
        .label(17)
        .build();
    assert_frame(
        "row 4 plain push",
        one(rig.send(CLIENT, &ack.build()), "row 4"),
        SERVER,
        want.clone(),
    );
    // Again: now from the flow cache (or the scheduler on the other core).
    assert_frame(
        "row 4 again",
        one(rig.send(CLIENT, &ack.build()), "row 4b"),
        SERVER,
        want,
    );

    // Row 5: a second SYN of the session (retransmission) -> same server,
    // same label; no new session.
    let input = syn(tcp(C2_MAC, port_mac(CLIENT), f.c2, f.vip, 40000, 80)).build();
    let want = syn(tcp(port_mac(SERVER), S1_MAC, f.c2, f.vip, 40000, 80))
        .mss(f.mss)
        .label(17)
        .build();
    assert_frame(
        "row 5 SYN again",
        one(rig.send(CLIENT, &input), "row 5"),
        SERVER,
        want,
    );
    assert_eq!(rig.active_sessions(), 1);

    // Label-aware client (service "aware", port 81): session 2 gets 19/20.
    let input = syn(tcp(C1_MAC, port_mac(CLIENT), f.c1, f.vip, 41000, 81)).build();
    let want = syn(tcp(port_mac(SERVER), S1_MAC, f.c1, f.vip, 41000, 81))
        .mss(f.mss)
        .label(19)
        .build();
    assert_frame(
        "row 1 aware SYN",
        one(rig.send(CLIENT, &input), "row 1 aware"),
        SERVER,
        want,
    );
    // Row 2 (label-aware client): the reply keeps its label 20.
    let reply = tcp(S1_MAC, port_mac(SERVER), f.vip, f.c1, 81, 41000)
        .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .seq(7000)
        .ack(1001)
        .mss(1400)
        .label(20);
    let want = tcp(port_mac(CLIENT), C1_MAC, f.vip, f.c1, 81, 41000)
        .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .seq(7000)
        .ack(1001)
        .mss(1400)
        .label(20)
        .build();
    assert_frame(
        "row 2 aware reply",
        one(rig.send(SERVER, &reply.build()), "row 2 aware"),
        CLIENT,
        want,
    );
    // Row 3: the client's next packet with C2S label 19 -> s1, label kept.
    let data = tcp(C1_MAC, port_mac(CLIENT), f.c1, f.vip, 41000, 81)
        .seq(1001)
        .ack(7001)
        .payload(b"GET / HTTP/1.0\r\n\r\n");
    let want = tcp(port_mac(SERVER), S1_MAC, f.c1, f.vip, 41000, 81)
        .seq(1001)
        .ack(7001)
        .payload(b"GET / HTTP/1.0\r\n\r\n")
        .label(19)
        .build();
    for i in 0..3 {
        assert_frame(
            "row 3 labelled C2S",
            one(rig.send(CLIENT, &data.clone().label(19).build()), "row 3"),
            SERVER,
            want.clone(),
        );
        let _ = i;
    }

    // Row 6: unknown label; a C2S label on the server port; a C2S label
    // with a foreign inner source; an S2C label from the client side.
    rig.expect_drop(
        "row 6 unknown",
        CLIENT,
        &data.clone().label(1001).build(),
        "unknown_label",
    );
    rig.expect_drop(
        "row 6 wrong role",
        SERVER,
        &data.clone().label(19).build(),
        "wrong_port_role",
    );
    rig.expect_drop(
        "row 6 S2C from client",
        CLIENT,
        &reply.clone().build(),
        "wrong_port_role",
    );
    let spoof = tcp(C2_MAC, port_mac(CLIENT), f.foreign, f.vip, 41000, 81)
        .seq(1)
        .label(19)
        .build();
    rig.expect_drop("row 6 foreign source", CLIENT, &spoof, "foreign_source");

    // Row 7: FIN from both sides, then linger -> labels withdrawn.
    let fin_c = tcp(C1_MAC, port_mac(CLIENT), f.c1, f.vip, 41000, 81)
        .flags(TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0))
        .seq(1019)
        .ack(7001)
        .label(19);
    assert_eq!(
        rig.send(CLIENT, &fin_c.build()).len(),
        1,
        "row 7 client FIN switched"
    );
    let fin_s = tcp(S1_MAC, port_mac(SERVER), f.vip, f.c1, 81, 41000)
        .flags(TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0))
        .seq(7001)
        .ack(1020)
        .label(20);
    assert_eq!(
        rig.send(SERVER, &fin_s.build()).len(),
        1,
        "row 7 server FIN switched"
    );
    assert_eq!(rig.active_sessions(), 2, "still lingering");
    rig.advance_ms(1100);
    assert_eq!(rig.active_sessions(), 1, "linger over: session 2 ended");
    // A late frame with the old label is dropped (withdrawn, in quarantine).
    rig.expect_drop(
        "row 7 late frame",
        CLIENT,
        &data.clone().label(19).build(),
        "withdrawn_label",
    );
    // The pair is not reissued before quarantine ends: the next session
    // gets 21, not 19.
    let input = syn(tcp(C1_MAC, port_mac(CLIENT), f.c1, f.vip, 41001, 81)).build();
    let out = one(rig.send(CLIENT, &input), "row 7 next SYN");
    let want = syn(tcp(port_mac(SERVER), S1_MAC, f.c1, f.vip, 41001, 81))
        .mss(f.mss)
        .label(21)
        .build();
    assert_frame(
        "row 7 new session skips the quarantined pair",
        out,
        SERVER,
        want,
    );

    // Row 8: RST ends a session at once (session 1, plain, from the client).
    let rst = tcp(C2_MAC, port_mac(CLIENT), f.c2, f.vip, 40000, 80)
        .flags(TcpFlags::RST)
        .seq(1001);
    assert_eq!(
        rig.send(CLIENT, &rst.build()).len(),
        1,
        "row 8 RST forwarded to the server"
    );
    assert_eq!(rig.active_sessions(), 1, "row 8: session 1 ended by RST");
    let late = tcp(S1_MAC, port_mac(SERVER), f.vip, f.c2, 80, 40000)
        .seq(5001)
        .label(18)
        .build();
    rig.expect_drop("row 8 after RST", SERVER, &late, "withdrawn_label");
    // Its flow-cache entry is gone too: the plain client's ACK is now
    // "no session" (TCP without SYN).
    rig.expect_drop("row 8 no session", CLIENT, &ack.build(), "no_session");

    // After quarantine, every pair comes back (nothing leaks).
    let _ = s1;
    assert!(rig.event(Event::SessionsEnded) >= 2);
}

#[test]
fn sessions_ipv4_one_worker() {
    session_rows(v4(), 1);
}

#[test]
fn sessions_ipv4_two_workers() {
    session_rows(v4(), 2);
}

#[test]
fn sessions_ipv6_one_worker() {
    session_rows(v6(), 1);
}

#[test]
fn sessions_ipv6_two_workers() {
    session_rows(v6(), 2);
}
