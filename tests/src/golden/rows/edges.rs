//! Rows 13-18 (issue 19, hard edges): what a hostile host on either
//! segment may send and slbd must refuse, each counted by reason:
//! martian and LAND sources (no label taken), frames for another host's
//! MAC, VLAN tags, SYNs with several or malformed MSS options, IPv6 type 0
//! routing headers and fragments, and a server-side host answering on
//! another server's live label. The client is c2 (plain), the service one
//! server, s1, so every admitted session goes to s1 on label 17.

use crate::golden::net::{port_mac, syn, syn_ack, Net, CLIENT, SERVER};
use crate::golden::row::{check, send, Case, Check, Family, Row, Slbd, Step, BOTH, V6};
use serde_json::json;
use slb_appliance::counters::Event;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

const ONE_AND_TWO_WORKERS: &[usize] = &[1, 2];

fn config(n: &Net) -> String {
    n.config(
        json!({}),
        vec![n.service(
            "plain",
            80,
            json!({ "client_mode": "plain" }),
            &[(0, json!({}))],
        )],
    )
}

/// c2's SYN (MSS 1460, over the clamp) and what leaves for s1 on label 17.
fn admitted(what: &'static str, n: &Net, sport: u16) -> Step {
    send(what, CLIENT, syn(n.from_client(n.c2, sport, 80), 1460))
        .out(
            SERVER,
            syn(n.to_server(n.c2, 0, sport, 80), n.mss).label(17),
        )
        .events(&[(Event::SessionsAdmitted, 1)])
}

/// A SYN to the VIP from `src` (c2's MAC: only the address is odd).
fn syn_from(n: &Net, src: IpAddr, sport: u16) -> FrameBuilder {
    syn(
        FrameBuilder::tcp(n.c2.mac, port_mac(CLIENT), src, n.vip, sport, 80),
        1460,
    )
}

fn addr(n: &Net, v4: &str, v6: &str) -> IpAddr {
    match n.family {
        Family::V4 => v4.parse().expect("v4 literal"),
        Family::V6 => v6.parse().expect("v6 literal"),
    }
}

/// Sources no client can have, by family (RFC 1122 §3.2.1.3, RFC 1812
/// §5.3.7, RFC 6890; docs/security.md).
const MARTIANS: &[(&str, &str, &str)] = &[
    ("SYN from this network (0/8 | ::)", "0.0.0.0", "::"),
    ("SYN from loopback (127/8 | ::1)", "127.0.0.1", "::1"),
    (
        "SYN from multicast (224/4 | ff00::/8)",
        "224.0.0.5",
        "ff02::1",
    ),
    (
        "SYN from class E (240/4 | fe80::/10 link-local)",
        "240.0.0.1",
        "fe80::12",
    ),
    (
        "SYN from limited broadcast (255.255.255.255 | IPv4-mapped ::ffff:0:0/96)",
        "255.255.255.255",
        "::ffff:198.18.0.12",
    ),
    (
        "SYN from link-local (169.254/16 | fe80::/10)",
        "169.254.0.12",
        "fe80::1",
    ),
];

fn martians(n: &Net) -> Case {
    let mut steps: Vec<Step> = MARTIANS
        .iter()
        .enumerate()
        .map(|(i, (what, v4, v6))| {
            send(what, CLIENT, syn_from(n, addr(n, v4, v6), 42000 + i as u16))
                .drop("martian_source")
                .events(&[(Event::PuntedNew, 0), (Event::SessionsAdmitted, 0)])
        })
        .collect();
    steps.extend([
        send(
            "LAND: SYN from the VIP itself",
            CLIENT,
            syn_from(n, n.vip, 80),
        )
        .drop("land_source")
        .events(&[(Event::PuntedNew, 0)]),
        send(
            "LAND: SYN from slbd's own address",
            CLIENT,
            syn_from(n, n.port_ip[0], 42100),
        )
        .drop("land_source"),
        send(
            "LAND: SYN from slbd's server-side address",
            CLIENT,
            syn_from(n, n.port_ip[1], 42101),
        )
        .drop("land_source"),
        check(Check::ActiveSessions(0)),
        admitted(
            "c2's SYN: label 17, the first pair: none was taken",
            n,
            40000,
        ),
        check(Check::ActiveSessions(1)),
    ]);
    Case::new(config(n), steps)
}

fn foreign_macs(n: &Net) -> Case {
    let other = MacAddr([0x02, 0xc1, 0, 0, 0, 0x99]);
    let group = match n.family {
        Family::V4 => MacAddr([0x01, 0x00, 0x5e, 0, 0, 0x01]),
        Family::V6 => MacAddr([0x33, 0x33, 0, 0, 0, 0x02]),
    };
    let data = n.from_client(n.c2, 40000, 80).seq(1001).payload(b"hello");
    Case::new(
        config(n),
        vec![
            send(
                "SYN for another host's MAC (flooded unknown unicast)",
                CLIENT,
                syn(n.from_client(n.c2, 40001, 80), 1460).macs(n.c2.mac, other),
            )
            .drop("foreign_dst_mac")
            .events(&[(Event::PuntedNew, 0)]),
            send(
                "SYN to a multicast group slbd does not join",
                CLIENT,
                syn(n.from_client(n.c2, 40002, 80), 1460).macs(n.c2.mac, group),
            )
            .drop("group_not_joined"),
            send(
                "SYN to broadcast (only ARP is taken there)",
                CLIENT,
                syn(n.from_client(n.c2, 40003, 80), 1460).macs(n.c2.mac, MacAddr::BROADCAST),
            )
            .drop("group_not_joined"),
            check(Check::ActiveSessions(0)),
            admitted("c2's SYN to slbd's MAC: admitted on 17", n, 40000),
            send(
                "the session's data for another host's MAC: not switched",
                CLIENT,
                data.clone().macs(n.c2.mac, other),
            )
            .drop("foreign_dst_mac")
            .events(&[(Event::Pushed, 0)]),
            send(
                "the labelled frame of the session for another host's MAC",
                CLIENT,
                data.clone().macs(n.c2.mac, other).label(17),
            )
            .drop("foreign_dst_mac")
            .events(&[(Event::SwitchedC2s, 0)]),
            send("the same data to slbd's MAC: pushed", CLIENT, data).out(
                SERVER,
                n.to_server(n.c2, 0, 40000, 80)
                    .seq(1001)
                    .payload(b"hello")
                    .label(17),
            ),
        ],
    )
}

fn vlan_tags(n: &Net) -> Case {
    Case::new(
        config(n),
        vec![
            send(
                "SYN tagged VLAN 7 on the untagged client port",
                CLIENT,
                syn(n.from_client(n.c2, 40001, 80), 1460).vlan(7),
            )
            .drop("vlan_tagged")
            .events(&[(Event::PuntedNew, 0)]),
            send(
                "SYN priority-tagged (VLAN 0)",
                CLIENT,
                syn(n.from_client(n.c2, 40002, 80), 1460).vlan(0),
            )
            .drop("vlan_tagged"),
            admitted("c2's untagged SYN: admitted on 17", n, 40000),
            send(
                "the session's labelled data, tagged",
                CLIENT,
                n.from_client(n.c2, 40000, 80)
                    .seq(1001)
                    .payload(b"x")
                    .vlan(7)
                    .label(17),
            )
            .drop("vlan_tagged"),
            send(
                "s1's SYN-ACK, tagged, on the server port",
                SERVER,
                syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1400)
                    .vlan(9)
                    .label(18),
            )
            .drop("vlan_tagged"),
        ],
    )
}

fn mss_options(n: &Net) -> Case {
    let [hi, lo] = n.mss.to_be_bytes();
    let two = |b: FrameBuilder, first: [u8; 2], last: [u8; 2]| {
        b.flags(TcpFlags::SYN)
            .seq(1000)
            .tcp_options(&[2, 4, first[0], first[1], 1, 1, 2, 4, last[0], last[1]])
    };
    Case::new(
        config(n),
        vec![
            send(
                "SYN with MSS 1460 and MSS 9000 (Linux uses the last): both clamped",
                CLIENT,
                two(n.from_client(n.c2, 40000, 80), [0x05, 0xb4], [0x23, 0x28]),
            )
            .out(
                SERVER,
                two(n.to_server(n.c2, 0, 40000, 80), [hi, lo], [hi, lo]).label(17),
            )
            .events(&[(Event::SessionsAdmitted, 1), (Event::MssClamped, 1)]),
            send(
                "SYN with a 3-byte MSS option: dropped, no session",
                CLIENT,
                n.from_client(n.c2, 40001, 80)
                    .flags(TcpFlags::SYN)
                    .seq(1000)
                    .tcp_options(&[2, 3, 0x23, 1]),
            )
            .drop("bad_mss_option")
            .events(&[(Event::SessionsAdmitted, 0)]),
            send(
                "SYN with a good MSS, then a 6-byte one: dropped",
                CLIENT,
                n.from_client(n.c2, 40002, 80)
                    .flags(TcpFlags::SYN)
                    .seq(1000)
                    .tcp_options(&[2, 4, 0x04, 0x00, 2, 6, 0x23, 0x28, 0, 0, 0, 0]),
            )
            .drop("bad_mss_option"),
            check(Check::ActiveSessions(1)),
            send(
                "s1's SYN-ACK with a 2-byte MSS option on the live label: dropped",
                SERVER,
                syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1400)
                    .tcp_options(&[2, 2])
                    .label(18),
            )
            .drop("bad_mss_option")
            .events(&[(Event::Popped, 0), (Event::Reports, 0)]),
        ],
    )
}

fn fragments(n: &Net) -> Case {
    Case::new(
        config(n),
        vec![
            send(
                "first fragment of a SYN (MF, offset 0): dropped, no session",
                CLIENT,
                syn(n.from_client(n.c2, 40001, 80), 1460).fragment(0, true),
            )
            .drop("unlabelled_fragment")
            .events(&[(Event::PuntedNew, 0)]),
            send(
                "a non-first fragment: no ports, dropped",
                CLIENT,
                n.from_client(n.c2, 40001, 80).fragment(64, false),
            )
            .drop("non_first_fragment"),
            admitted("an unfragmented SYN: admitted on 17", n, 40000),
            send(
                "a first fragment of the session's data: dropped too",
                CLIENT,
                n.from_client(n.c2, 40000, 80)
                    .seq(1001)
                    .payload(b"part one")
                    .fragment(0, true),
            )
            .drop("unlabelled_fragment")
            .events(&[(Event::Pushed, 0)]),
        ],
    )
}

fn routing_type0(n: &Net) -> Case {
    Case::new(
        config(n),
        vec![
            send(
                "SYN with a type 0 routing header, segments left 1 (RFC 5095)",
                CLIENT,
                syn(n.from_client(n.c2, 40001, 80), 1460).ipv6_routing(0, 1),
            )
            .drop("ipv6_routing_type0")
            .events(&[(Event::PuntedNew, 0)]),
            send(
                "SYN with a type 0 routing header, segments left 0",
                CLIENT,
                syn(n.from_client(n.c2, 40002, 80), 1460).ipv6_routing(0, 0),
            )
            .drop("ipv6_routing_type0"),
            check(Check::ActiveSessions(0)),
        ],
    )
}

fn foreign_server(n: &Net) -> Case {
    let reply = |src: MacAddr| {
        syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1400)
            .macs(src, port_mac(SERVER))
            .label(18)
    };
    Case::new(
        config(n),
        vec![
            admitted("c2's SYN: to s1 on 17", n, 40000),
            send(
                "a SYN-ACK on 18 from s2's MAC (another server on the segment)",
                SERVER,
                reply(n.servers[1].mac),
            )
            .drop("foreign_server")
            .events(&[(Event::Popped, 0), (Event::Reports, 0)]),
            send(
                "a SYN-ACK on 18 from a MAC slbd does not know",
                SERVER,
                reply(MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x99])),
            )
            .drop("foreign_server"),
            send(
                "an RST on 18 from s2's MAC: dropped, the session lives",
                SERVER,
                n.from_server(0, n.c2, 80, 40000)
                    .flags(TcpFlags::RST)
                    .seq(5001)
                    .macs(n.servers[1].mac, port_mac(SERVER))
                    .label(18),
            )
            .drop("foreign_server"),
            check(Check::ActiveSessions(1)),
            send(
                "s1's own SYN-ACK on 18: switched",
                SERVER,
                reply(n.servers[0].mac),
            )
            .out(CLIENT, syn_ack(n.to_client(n.c2, 80, 40000), 5000, 1400))
            .events(&[(Event::Popped, 1)]),
        ],
    )
}

pub static ROWS: &[Row] = &[
    Row {
        name: "row13_martian_and_land_sources_take_no_label",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: martians,
    },
    Row {
        name: "row14_frames_for_another_mac_are_dropped",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: foreign_macs,
    },
    Row {
        name: "row15_vlan_tagged_frames_are_dropped",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: vlan_tags,
    },
    Row {
        name: "row16_every_mss_option_clamped_malformed_dropped",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: mss_options,
    },
    Row {
        name: "row17_unlabelled_fragments_are_dropped",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: fragments,
    },
    Row {
        name: "row17_ipv6_type0_routing_header_is_dropped",
        families: V6,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: routing_type0,
    },
    Row {
        name: "row18_server_to_client_frames_only_from_the_session_server",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: foreign_server,
    },
];
