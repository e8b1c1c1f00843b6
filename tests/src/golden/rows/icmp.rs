//! Rows 19-21 (issue 18, ICMP and PMTU): echo requests to slbd's port
//! addresses and to the VIP answered (or, for the VIP, dropped as
//! configured), rate-limited per lcore; a plain client's frame too big
//! for the server port once labelled answered with "fragmentation
//! needed" / "packet too big" from the VIP (DF clear: dropped); ICMP
//! errors quoting a session's server-to-client packet forwarded to its
//! server with the session's client-to-server label. The client is c2
//! (plain), the service one server, s1, so the session is on labels
//! 17/18.

use crate::golden::net::{port_mac, syn, Host, Net, CLIENT, SERVER};
use crate::golden::row::{send, Case, Family, Row, Slbd, Step, BOTH, V4};
use serde_json::{json, Value};
use slb_appliance::counters::Event;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

const ONE_AND_TWO_WORKERS: &[usize] = &[1, 2];
/// Rows whose token buckets must all be one lcore's.
const ONE_WORKER: &[usize] = &[1];
/// The server port's MTU in the PMTU rows (the client port's is 1500).
const SERVER_MTU: u16 = 1400;

/// The plain service on s1, with `icmp` settings and the server port's
/// MTU `server_mtu`.
fn config(n: &Net, icmp: Value, server_mtu: u16) -> String {
    let text = n.config(
        json!({ "icmp": icmp }),
        vec![n.service(
            "plain",
            80,
            json!({ "client_mode": "plain" }),
            &[(0, json!({}))],
        )],
    );
    let mut doc: Value = serde_json::from_str(&text).expect("row config");
    doc["ports"][1]["mtu"] = json!(server_mtu);
    serde_json::to_string_pretty(&doc).expect("config JSON")
}

fn is_v4(n: &Net) -> bool {
    n.family == Family::V4
}

/// An echo request `from` -> `to` (identifier 0x4242, sequence `seq`).
fn echo(mac: MacAddr, port: usize, from: IpAddr, to: IpAddr, seq: u16) -> FrameBuilder {
    FrameBuilder::echo_request(mac, port_mac(port), from, to, 0x4242, seq).payload(b"slb ping")
}

/// slbd's echo reply on `port` from `from` to host `to`: identifier and
/// data kept; IPv4: the request's IP identification (0) kept, DF clear,
/// TTL 64; IPv6: hop limit 64.
fn echo_reply(n: &Net, port: usize, from: IpAddr, to: Host, seq: u16) -> FrameBuilder {
    let ty = if is_v4(n) { 0 } else { 129 };
    let s = seq.to_be_bytes();
    FrameBuilder::icmp(
        port_mac(port),
        to.mac,
        from,
        to.ip,
        ty,
        0,
        [0x42, 0x42, s[0], s[1]],
    )
    .payload(b"slb ping")
    .dont_frag(false)
}

fn echoes(n: &Net) -> Case {
    let s1 = n.servers[0];
    let mut bad = echo(n.c2.mac, CLIENT, n.c2.ip, n.port_ip[CLIENT], 9).build();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let reply_type = if is_v4(n) { 0 } else { 129 };
    Case::new(
        config(n, json!({}), 1500),
        vec![
            send(
                "echo to the client port's address: answered on that port",
                CLIENT,
                echo(n.c2.mac, CLIENT, n.c2.ip, n.port_ip[CLIENT], 1),
            )
            .out(CLIENT, echo_reply(n, CLIENT, n.port_ip[CLIENT], n.c2, 1))
            .events(&[(Event::EchoReplies, 1), (Event::PuntedNew, 0)]),
            send(
                "echo from s1 to the server port's address: answered",
                SERVER,
                echo(s1.mac, SERVER, s1.ip, n.port_ip[SERVER], 2),
            )
            .out(SERVER, echo_reply(n, SERVER, n.port_ip[SERVER], s1, 2))
            .events(&[(Event::EchoReplies, 1)]),
            send(
                "echo to the VIP: answered from the VIP (icmp.vip_echo: answer)",
                CLIENT,
                echo(n.c2.mac, CLIENT, n.c2.ip, n.vip, 3),
            )
            .out(CLIENT, echo_reply(n, CLIENT, n.vip, n.c2, 3))
            .events(&[(Event::EchoReplies, 1)]),
            send(
                "echo to the server port's address on the client port: not this port's",
                CLIENT,
                echo(n.c2.mac, CLIENT, n.c2.ip, n.port_ip[SERVER], 4),
            )
            .drop("to_appliance")
            .events(&[(Event::EchoReplies, 0)]),
            send(
                "echo to the VIP on the server port: VIPs face the clients",
                SERVER,
                echo(s1.mac, SERVER, s1.ip, n.vip, 5),
            )
            .drop("to_appliance"),
            send("echo with a bad ICMP checksum: not answered", CLIENT, bad)
                .drop("bad_echo")
                .events(&[(Event::EchoReplies, 0)]),
            send(
                "an echo reply to slbd: nothing to answer",
                CLIENT,
                FrameBuilder::icmp(
                    n.c2.mac,
                    port_mac(CLIENT),
                    n.c2.ip,
                    n.port_ip[CLIENT],
                    reply_type,
                    0,
                    [0, 1, 0, 1],
                ),
            )
            .drop("to_appliance"),
        ],
    )
}

fn vip_echo_dropped(n: &Net) -> Case {
    Case::new(
        config(n, json!({ "vip_echo": "drop" }), 1500),
        vec![
            send(
                "echo to the VIP with icmp.vip_echo: drop",
                CLIENT,
                echo(n.c2.mac, CLIENT, n.c2.ip, n.vip, 1),
            )
            .drop("vip_echo_dropped")
            .events(&[(Event::EchoReplies, 0)]),
            send(
                "echo to slbd's own address: still answered",
                CLIENT,
                echo(n.c2.mac, CLIENT, n.c2.ip, n.port_ip[CLIENT], 2),
            )
            .out(CLIENT, echo_reply(n, CLIENT, n.port_ip[CLIENT], n.c2, 2)),
        ],
    )
}

fn echo_rate_limited(n: &Net) -> Case {
    // A bucket of 2 that never refills: the same on the rig and on slbd,
    // whatever the clock.
    let mut steps: Vec<Step> = (1..=2)
        .map(|seq| {
            send(
                "echo within the lcore's burst: answered",
                CLIENT,
                echo(n.c2.mac, CLIENT, n.c2.ip, n.port_ip[CLIENT], seq),
            )
            .out(CLIENT, echo_reply(n, CLIENT, n.port_ip[CLIENT], n.c2, seq))
        })
        .collect();
    steps.push(
        send(
            "the third echo: over icmp.echo_burst, dropped",
            CLIENT,
            echo(n.c2.mac, CLIENT, n.c2.ip, n.vip, 3),
        )
        .drop("icmp_echo_rate_limited")
        .events(&[(Event::EchoReplies, 0)]),
    );
    Case::new(
        config(n, json!({ "echo_per_s": 0, "echo_burst": 2 }), 1500),
        steps,
    )
}

/// The MSS slbd clamps to with a 1400-byte server port.
fn small_mss(n: &Net) -> u16 {
    SERVER_MTU - if is_v4(n) { 44 } else { 64 }
}

/// c2's SYN, admitted on label 17 toward s1 with the MSS clamped to what
/// fits the small server port.
fn admitted(n: &Net, sport: u16) -> Step {
    send(
        "c2's SYN: admitted, MSS clamped to the server port's MTU",
        CLIENT,
        syn(n.from_client(n.c2, sport, 80), 1460),
    )
    .out(
        SERVER,
        syn(n.to_server(n.c2, 0, sport, 80), small_mss(n)).label(17),
    )
    .events(&[(Event::SessionsAdmitted, 1)])
}

/// c2's data segment whose IP packet is `ip_len` bytes.
fn data(n: &Net, ip_len: usize) -> FrameBuilder {
    let hdr = if is_v4(n) { 40 } else { 60 };
    let payload: Vec<u8> = (0..ip_len - hdr).map(|i| i as u8).collect();
    n.from_client(n.c2, 40000, 80)
        .flags(TcpFlags::ACK)
        .seq(1001)
        .ack(5001)
        .payload(&payload)
}

/// The error slbd answers `packet` with: from the VIP to c2, next-hop MTU
/// 1396 (the server port's less the label), quoting as much as fits
/// (IPv4: 548 bytes; IPv6: 1232).
fn too_big_answer(n: &Net, packet: &FrameBuilder) -> FrameBuilder {
    let ip = packet.build_ip();
    let mtu = SERVER_MTU - 4;
    let (ty, code, rest, quote) = if is_v4(n) {
        let m = mtu.to_be_bytes();
        (3, 4, [0, 0, m[0], m[1]], 548)
    } else {
        (2, 0, u32::from(mtu).to_be_bytes(), 1232)
    };
    FrameBuilder::icmp(port_mac(CLIENT), n.c2.mac, n.vip, n.c2.ip, ty, code, rest)
        .payload(&ip[..quote.min(ip.len())])
        .ident(0)
}

fn too_big(n: &Net) -> Case {
    let big = data(n, SERVER_MTU as usize);
    let fits = data(n, SERVER_MTU as usize - 4);
    let kind = if is_v4(n) {
        Event::FragNeededSent
    } else {
        Event::PacketTooBigSent
    };
    let mut steps = vec![
        admitted(n, 40000),
        send(
            "c2's 1400-byte packet: 1404 labelled, over the server port's 1400",
            CLIENT,
            big.clone(),
        )
        .out(CLIENT, too_big_answer(n, &big))
        .events(&[(kind, 1), (Event::Pushed, 0)]),
        send(
            "c2's 1396-byte packet: 1400 labelled, switched",
            CLIENT,
            fits.clone(),
        )
        .out(
            SERVER,
            fits.clone()
                .macs(port_mac(SERVER), n.servers[0].mac)
                .label(17),
        ),
    ];
    if is_v4(n) {
        steps.push(
            send(
                "c2's 1400-byte packet with DF clear: slbd does not fragment",
                CLIENT,
                big.clone().dont_frag(false),
            )
            .drop("oversize_df_clear")
            .events(&[(Event::FragNeededSent, 0)]),
        );
    }
    Case::new(config(n, json!({}), SERVER_MTU), steps)
}

fn too_big_rate_limited(n: &Net) -> Case {
    let big = data(n, SERVER_MTU as usize);
    Case::new(
        config(
            n,
            json!({ "too_big_per_s": 0, "too_big_burst": 1 }),
            SERVER_MTU,
        ),
        vec![
            admitted(n, 40000),
            send(
                "too big: answered (the bucket's one token)",
                CLIENT,
                big.clone(),
            )
            .out(CLIENT, too_big_answer(n, &big)),
            send(
                "too big again: over icmp.too_big_burst, dropped unanswered",
                CLIENT,
                big,
            )
            .drop("icmp_too_big_rate_limited"),
        ],
    )
}

/// A router beyond the client side.
fn router(n: &Net) -> Host {
    Host {
        mac: MacAddr([0x02, 0xc1, 0, 0, 0, 0xfe]),
        ip: match n.family {
            Family::V4 => "198.18.5.1".parse().expect("v4"),
            Family::V6 => "2001:db8:5::1".parse().expect("v6"),
        },
    }
}

/// An ICMP error from `from` to the VIP, type/code/rest as given, quoting
/// the first `quote` bytes of `quoted`'s IP packet.
fn icmp_error(
    n: &Net,
    from: Host,
    (ty, code, rest): (u8, u8, [u8; 4]),
    quoted: &FrameBuilder,
    quote: usize,
) -> FrameBuilder {
    let ip = quoted.build_ip();
    FrameBuilder::icmp(from.mac, port_mac(CLIENT), from.ip, n.vip, ty, code, rest)
        .payload(&ip[..quote.min(ip.len())])
}

fn errors_forwarded(n: &Net) -> Case {
    let v4 = is_v4(n);
    let r = router(n);
    // What the session's server sent c2, as the router quotes it.
    let s2c = n
        .from_server(0, n.c2, 80, 40000)
        .flags(TcpFlags::ACK)
        .seq(5001)
        .payload(&[0x5a; 1300]);
    let other = n
        .from_server(0, n.c2, 80, 40001)
        .flags(TcpFlags::ACK)
        .payload(b"x");
    let hdr8 = if v4 { 28 } else { 48 };
    let mtu = 1300u16;
    let frag_needed = if v4 {
        let m = mtu.to_be_bytes();
        (3, 4, [0, 0, m[0], m[1]])
    } else {
        (2, 0, u32::from(mtu).to_be_bytes())
    };
    let port_unreachable = if v4 { (3, 3, [0; 4]) } else { (1, 4, [0; 4]) };
    let time_exceeded = if v4 { (11, 0, [0; 4]) } else { (3, 0, [0; 4]) };
    let to_s1 = |b: FrameBuilder| b.macs(port_mac(SERVER), n.servers[0].mac).label(17);
    let ptb = icmp_error(n, r, frag_needed, &s2c, 576);
    let unreach = icmp_error(n, n.c2, port_unreachable, &s2c, hdr8);
    let ttl = icmp_error(n, r, time_exceeded, &s2c, hdr8);
    // A quote from another source than the VIP (s1's own address).
    let spoofed = FrameBuilder::tcp(
        n.servers[0].mac,
        port_mac(SERVER),
        n.servers[0].ip,
        n.c2.ip,
        80,
        40000,
    )
    .flags(TcpFlags::ACK);
    let forwarded = [(Event::IcmpForwarded, 1), (Event::PuntedIcmp, 1)];
    Case::new(
        config(n, json!({}), 1500),
        vec![
            send(
                "c2's SYN: admitted on label 17",
                CLIENT,
                syn(n.from_client(n.c2, 40000, 80), 1460),
            )
            .out(
                SERVER,
                syn(n.to_server(n.c2, 0, 40000, 80), n.mss).label(17),
            ),
            send(
                "fragmentation needed / packet too big from a router, quoting the session's S2C packet: to s1 on label 17",
                CLIENT,
                ptb.clone(),
            )
            .out(SERVER, to_s1(ptb))
            .events(&forwarded),
            send(
                "port unreachable from c2 itself, IP header + 8 bytes quoted: to s1",
                CLIENT,
                unreach.clone(),
            )
            .out(SERVER, to_s1(unreach))
            .events(&forwarded),
            send(
                "time exceeded from a router: to s1",
                CLIENT,
                ttl.clone(),
            )
            .out(SERVER, to_s1(ttl))
            .events(&forwarded),
            send(
                "an error quoting a packet of no session (port 40001)",
                CLIENT,
                icmp_error(n, r, frag_needed, &other, hdr8),
            )
            .drop("icmp_no_session")
            .events(&[(Event::IcmpForwarded, 0), (Event::PuntedIcmp, 1)]),
            send(
                "an error quoting a packet the VIP did not send",
                CLIENT,
                icmp_error(n, r, frag_needed, &spoofed, hdr8),
            )
            .drop("icmp_bad_quote"),
            send(
                "an error whose quote stops before the ports",
                CLIENT,
                icmp_error(n, r, frag_needed, &s2c, hdr8 - 6),
            )
            .drop("icmp_bad_quote"),
            send(
                "an error to the VIP on the server port",
                SERVER,
                icmp_error(n, r, frag_needed, &s2c, hdr8)
                    .macs(n.servers[0].mac, port_mac(SERVER)),
            )
            .drop("to_appliance")
            .events(&[(Event::PuntedIcmp, 0)]),
        ],
    )
}

fn errors_rate_limited(n: &Net) -> Case {
    let r = router(n);
    let s2c = n
        .from_server(0, n.c2, 80, 40000)
        .flags(TcpFlags::ACK)
        .payload(b"x");
    let unreach = if is_v4(n) {
        (3, 1, [0; 4])
    } else {
        (1, 3, [0; 4])
    };
    let err = icmp_error(n, r, unreach, &s2c, 100);
    Case::new(
        config(n, json!({ "errors_per_s": 0, "errors_burst": 1 }), 1500),
        vec![
            send(
                "c2's SYN: admitted on label 17",
                CLIENT,
                syn(n.from_client(n.c2, 40000, 80), 1460),
            )
            .out(
                SERVER,
                syn(n.to_server(n.c2, 0, 40000, 80), n.mss).label(17),
            ),
            send("host unreachable: forwarded", CLIENT, err.clone()).out(
                SERVER,
                err.clone()
                    .macs(port_mac(SERVER), n.servers[0].mac)
                    .label(17),
            ),
            send(
                "the same again: over icmp.errors_burst, not handed to the scheduler",
                CLIENT,
                err,
            )
            .drop("icmp_error_rate_limited")
            .events(&[(Event::PuntedIcmp, 0)]),
        ],
    )
}

pub static ROWS: &[Row] = &[
    Row {
        name: "row19_echo_to_slbd_and_to_the_vip_is_answered",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: echoes,
    },
    Row {
        name: "row19_echo_to_the_vip_dropped_when_configured",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: vip_echo_dropped,
    },
    Row {
        name: "row19_echo_is_rate_limited_per_lcore",
        families: BOTH,
        workers: ONE_WORKER,
        slbd: Slbd::Runs,
        case: echo_rate_limited,
    },
    Row {
        name: "row20_too_big_once_labelled_answered_with_the_mtu_less_the_label",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: too_big,
    },
    Row {
        name: "row20_too_big_answers_are_rate_limited",
        families: BOTH,
        workers: ONE_WORKER,
        slbd: Slbd::Runs,
        case: too_big_rate_limited,
    },
    Row {
        name: "row21_icmp_errors_quoting_a_session_go_to_its_server",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: errors_forwarded,
    },
    Row {
        name: "row21_icmp_errors_to_the_scheduler_are_rate_limited",
        families: V4,
        workers: ONE_WORKER,
        slbd: Slbd::Runs,
        case: errors_rate_limited,
    },
];
