//! Rows 9-12 (issue 5's numbering) and the timers: refusals (service
//! acceptance control), ARP and ND answers, malformed frames, how new
//! sessions spread over servers, idle and SYN timeouts, preloaded
//! sessions. The client is c2; its SYNs carry MSS 1200, below the clamp.

use crate::golden::net::{port_mac, syn, Host, Net, CLIENT, SERVER};
use crate::golden::row::{advance_ms, check, send, Case, Check, Family, Row, Slbd, Step, BOTH, V4};
use serde_json::{json, Value};
use slb_appliance::counters::Event;
use slb_core::Refusal;
use slb_wire::builder::{arp_reply, arp_request, nd_advert, nd_solicit};
use slb_wire::{FrameBuilder, Lse, TcpFlags};
use std::net::IpAddr;

const ONE_AND_TWO_WORKERS: &[usize] = &[1, 2];

/// c2's SYN to the VIP.
fn c2_syn(n: &Net, sport: u16, dport: u16) -> FrameBuilder {
    syn(n.from_client(n.c2, sport, dport), 1200)
}

/// That SYN as slbd sends it on to server `s` (0-based) on `label`.
fn c2_syn_to(n: &Net, s: usize, sport: u16, dport: u16, label: u32) -> FrameBuilder {
    syn(n.to_server(n.c2, s, sport, dport), 1200).label(label)
}

/// A refused SYN answered with a reset (RFC 9293 §3.10.7.1: seq 0, ACK of
/// the SYN); the SYN itself counts as dropped, "refused".
fn refused_with_reset(what: &'static str, n: &Net, sport: u16, dport: u16) -> Step {
    send(what, CLIENT, c2_syn(n, sport, dport))
        .out(
            CLIENT,
            n.to_client(n.c2, dport, sport)
                .flags(TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0))
                .seq(0)
                .ack(1001)
                .window(0),
        )
        .drop("refused")
        .events(&[(Event::ResetsSent, 1), (Event::SessionsAdmitted, 0)])
}

fn refused(service: u16, reason: Refusal, count: u64) -> Step {
    check(Check::Refused {
        service,
        reason,
        count,
    })
}

/// Labels 16..=21: pairs 17/18 and 19/20 only (21's partner is out of
/// range). Services: 80 and 81 have no server in service (80 refuses with
/// a reset, 81 by dropping the SYN), 82's one server takes one session,
/// 83 is open (label-aware clients, on s2).
fn refusals_config(n: &Net) -> String {
    n.config(
        json!({ "labels": { "first": 16, "last": 21, "quarantine_ms": 1000 } }),
        vec![
            n.service(
                "none",
                80,
                json!({ "refuse": "rst" }),
                &[(0, json!({ "state": "disabled" }))],
            ),
            n.service(
                "none-drop",
                81,
                json!({ "refuse": "drop" }),
                &[(0, json!({ "state": "drain" }))],
            ),
            n.service("full", 82, json!({}), &[(0, json!({ "max_sessions": 1 }))]),
            n.service(
                "open",
                83,
                json!({ "client_mode": "label" }),
                &[(1, json!({}))],
            ),
        ],
    )
}

/// Each refusal, counted by reason; the session that took the last pair
/// is still switched.
fn refusals(n: &Net) -> Vec<Step> {
    vec![
        refused_with_reset("SYN to 80, no server in service: a reset", n, 40000, 80),
        refused(0, Refusal::NoServer, 1),
        send(
            "SYN to 81, no server in service: dropped, as configured",
            CLIENT,
            c2_syn(n, 40001, 81),
        )
        .drop("refused"),
        refused(1, Refusal::NoServer, 1),
        send(
            "SYN to 82: admitted on 17, s1 is now at its limit",
            CLIENT,
            c2_syn(n, 40002, 82),
        )
        .out(SERVER, c2_syn_to(n, 0, 40002, 82, 17)),
        refused_with_reset("SYN to 82, s1 full: a reset", n, 40003, 82),
        refused(2, Refusal::ServersFull, 1),
        send(
            "SYN to 83: admitted on 19, the last pair",
            CLIENT,
            c2_syn(n, 40004, 83),
        )
        .out(SERVER, c2_syn_to(n, 1, 40004, 83, 19)),
        refused_with_reset("SYN to 83, no pair left: a reset", n, 40005, 83),
        refused(3, Refusal::LabelsExhausted, 1),
        send(
            "the open session's data on 19: still switched",
            CLIENT,
            n.from_client(n.c2, 40004, 83)
                .seq(1001)
                .payload(b"still here")
                .label(19),
        )
        .out(
            SERVER,
            n.to_server(n.c2, 1, 40004, 83)
                .seq(1001)
                .payload(b"still here")
                .label(19),
        ),
        check(Check::ActiveSessions(2)),
    ]
}

/// `a` as a one-address prefix (`/32` or `/128`).
fn host_prefix(a: IpAddr) -> String {
    match a {
        IpAddr::V4(_) => format!("{a}/32"),
        IpAddr::V6(_) => format!("{a}/128"),
    }
}

/// Access lists on three services over s1: 80 denies c2 (refused with a
/// reset), 81 allows only the server link (c2 refused by dropping its
/// SYN), 82 allows the client link and denies the foreign address (c2
/// admitted). Both families' prefixes in every list: those of the other
/// family never match.
fn access_config(n: &Net) -> String {
    let other = match n.family {
        Family::V4 => "2001:db8::/32",
        Family::V6 => "198.18.0.0/15",
    };
    let (client_net, server_net) = match n.family {
        Family::V4 => ("198.18.0.0/24", "198.18.1.0/24"),
        Family::V6 => ("2001:db8::/64", "2001:db8:1::/64"),
    };
    n.config(
        json!({}),
        vec![
            n.service(
                "deny-c2",
                80,
                json!({ "refuse": "rst", "deny": [other, host_prefix(n.c2.ip)] }),
                &[(0, json!({}))],
            ),
            n.service(
                "servers-only",
                81,
                json!({ "refuse": "drop", "allow": [server_net, other] }),
                &[(0, json!({}))],
            ),
            n.service(
                "clients",
                82,
                json!({ "allow": [client_net], "deny": [host_prefix(n.foreign), other] }),
                &[(0, json!({}))],
            ),
        ],
    )
}

/// Each list refuses by its own reason, as its service says (reset or
/// drop), before any other admission check; an allowed client is admitted.
fn access(n: &Net) -> Vec<Step> {
    vec![
        refused_with_reset("SYN to 80, c2 in the deny list: a reset", n, 40000, 80),
        refused(0, Refusal::Denied, 1),
        refused(0, Refusal::NotAllowed, 0),
        send(
            "SYN to 81, c2 not in the allow list: dropped, as configured",
            CLIENT,
            c2_syn(n, 40001, 81),
        )
        .drop("refused")
        .events(&[(Event::ResetsSent, 0), (Event::SessionsAdmitted, 0)]),
        refused(1, Refusal::NotAllowed, 1),
        refused(1, Refusal::Denied, 0),
        send(
            "SYN to 82, c2 in the allow list and not denied: admitted on 17",
            CLIENT,
            c2_syn(n, 40002, 82),
        )
        .out(SERVER, c2_syn_to(n, 0, 40002, 82, 17))
        .events(&[(Event::SessionsAdmitted, 1)]),
        refused(2, Refusal::Denied, 0),
        refused(2, Refusal::NotAllowed, 0),
        send(
            "a second SYN to 80 from c2: refused again, counted again",
            CLIENT,
            c2_syn(n, 40003, 80),
        )
        .out(
            CLIENT,
            n.to_client(n.c2, 80, 40003)
                .flags(TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0))
                .seq(0)
                .ack(1001)
                .window(0),
        )
        .drop("refused"),
        refused(0, Refusal::Denied, 2),
        check(Check::ActiveSessions(1)),
    ]
}

/// One web service on port 80, s1.
fn web_config(n: &Net) -> String {
    n.config(
        json!({}),
        vec![n.service("web", 80, json!({}), &[(0, json!({}))])],
    )
}

/// An address on the client link that is neither slbd's nor a client's.
fn stranger(n: &Net) -> IpAddr {
    match n.family {
        Family::V4 => "198.18.0.77".parse().unwrap(),
        Family::V6 => "2001:db8::77".parse().unwrap(),
    }
}

/// `asker` (on `port`) asks for `target` by ARP (IPv4) or ND (IPv6);
/// slbd answers from the port's MAC, or drops.
fn resolve(what: &'static str, port: usize, asker: Host, target: IpAddr, answered: bool) -> Step {
    match (asker.ip, target) {
        (IpAddr::V4(a), IpAddr::V4(t)) => {
            let ask = send(what, port, arp_request(asker.mac, a, t));
            if answered {
                ask.out(port, arp_reply(port_mac(port), t, asker.mac, a))
                    .events(&[(Event::ArpReplies, 1)])
            } else {
                ask.drop("arp_not_for_us")
            }
        }
        (IpAddr::V6(a), IpAddr::V6(t)) => {
            let ask = send(what, port, nd_solicit(asker.mac, a, t));
            if answered {
                ask.out(port, nd_advert(port_mac(port), asker.mac, t, a, t))
                    .events(&[(Event::NdReplies, 1)])
            } else {
                ask.drop("nd_not_for_us")
            }
        }
        _ => panic!("{what}: mixed families"),
    }
}

/// A labelled frame of c2 to which a second, raw label stack entry is
/// added.
fn labelled(n: &Net) -> FrameBuilder {
    n.from_client(n.c2, 41000, 80).label(17)
}

/// nginx's smooth weighted round robin over weights 3, 2, 1: the server
/// of each pick in one cycle.
const SMOOTH_WRR_3_2_1: [usize; 6] = [0, 1, 0, 2, 1, 0];

fn spread_config(n: &Net, algorithm: &str, weights: [u32; 3]) -> String {
    let servers: Vec<(usize, Value)> = (0..3)
        .map(|i| (i, json!({ "weight": weights[i] })))
        .collect();
    n.config(
        json!({}),
        vec![n.service("spread", 80, json!({ "algorithm": algorithm }), &servers)],
    )
}

fn timers_config(n: &Net) -> String {
    n.config(
        json!({ "timeouts": { "tcp_established_s": 2, "tcp_syn_ms": 1000 } }),
        vec![
            n.service(
                "web",
                80,
                json!({ "client_mode": "label" }),
                &[(0, json!({}))],
            ),
            n.service(
                "dead",
                81,
                json!({ "client_mode": "label" }),
                &[(1, json!({}))],
            ),
        ],
    )
}

pub const ROWS: &[Row] = &[
    Row {
        name: "row09_refusals_reset_or_drop_and_old_sessions_go_on",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| Case::new(refusals_config(n), refusals(n)),
    },
    Row {
        name: "row09_new_sessions_resume_when_a_pair_leaves_quarantine",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the quarantine: the clock moves"),
        case: |n| {
            let mut steps = refusals(n);
            steps.extend([
                send(
                    "RST of the session on 19: reset, switched for the linger time",
                    CLIENT,
                    n.from_client(n.c2, 40004, 83)
                        .flags(TcpFlags::RST)
                        .seq(1011)
                        .label(19),
                )
                .out(
                    SERVER,
                    n.to_server(n.c2, 1, 40004, 83)
                        .flags(TcpFlags::RST)
                        .seq(1011)
                        .label(19),
                ),
                // The linger (1 s), then the pair's quarantine (1 s).
                advance_ms(1100),
                refused_with_reset("SYN to 83 in quarantine: still no pair", n, 40006, 83),
                refused(3, Refusal::LabelsExhausted, 2),
                advance_ms(1100),
                send(
                    "SYN to 83 after quarantine: admitted on 19 again",
                    CLIENT,
                    c2_syn(n, 40007, 83),
                )
                .out(SERVER, c2_syn_to(n, 1, 40007, 83, 19)),
            ]);
            Case::new(refusals_config(n), steps)
        },
    },
    Row {
        name: "row09_access_lists_deny_and_allow_per_service",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| Case::new(access_config(n), access(n)),
    },
    Row {
        name: "row10_arp_and_nd_answered_for_vip_and_port_addresses_only",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| {
            let s1 = n.servers[0];
            Case::new(
                web_config(n),
                vec![
                    resolve("c2 asks for the VIP: answered", CLIENT, n.c2, n.vip, true),
                    resolve(
                        "c2 asks for the client port's address: answered",
                        CLIENT,
                        n.c2,
                        n.port_ip[CLIENT],
                        true,
                    ),
                    resolve(
                        "s1 asks for the server port's address: answered",
                        SERVER,
                        s1,
                        n.port_ip[SERVER],
                        true,
                    ),
                    resolve(
                        "s1 asks for the VIP: not answered (servers hold it)",
                        SERVER,
                        s1,
                        n.vip,
                        false,
                    ),
                    resolve(
                        "c2 asks for another host: not answered",
                        CLIENT,
                        n.c2,
                        stranger(n),
                        false,
                    ),
                    check(Check::ActiveSessions(0)),
                ],
            )
        },
    },
    Row {
        name: "row10_anything_else_to_the_appliance_is_dropped",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| {
            let nowhere: IpAddr = match n.family {
                Family::V4 => "198.18.9.9".parse().unwrap(),
                Family::V6 => "2001:db8:9::9".parse().unwrap(),
            };
            let mut lldp = vec![0u8; 60];
            lldp[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]);
            lldp[6..12].copy_from_slice(&n.c2.mac.0);
            lldp[12..14].copy_from_slice(&[0x88, 0xcc]);
            Case::new(
                web_config(n),
                vec![
                    send(
                        "an echo reply to the client port's address (requests are answered: row 19)",
                        CLIENT,
                        FrameBuilder::icmp(
                            n.c2.mac,
                            port_mac(CLIENT),
                            n.c2.ip,
                            n.port_ip[CLIENT],
                            if n.family == Family::V4 { 0 } else { 129 },
                            0,
                            [0, 1, 0, 1],
                        ),
                    )
                    .drop("to_appliance"),
                    send(
                        "TCP to the VIP on a port with no service",
                        CLIENT,
                        n.from_client(n.c2, 5000, 22).flags(TcpFlags::SYN),
                    )
                    .drop("to_appliance"),
                    send(
                        "UDP to an address slbd does not serve",
                        CLIENT,
                        FrameBuilder::udp(n.c2.mac, port_mac(CLIENT), n.c2.ip, nowhere, 5000, 53),
                    )
                    .drop("not_for_vip"),
                    send("LLDP (to a group slbd does not join)", CLIENT, lldp)
                        .drop("group_not_joined"),
                    check(Check::ActiveSessions(0)),
                ],
            )
        },
    },
    Row {
        name: "row11_truncated_and_malformed_frames_are_dropped",
        families: V4,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| {
            let good = c2_syn(n, 41000, 80).build();
            let mut bad_ihl = good.clone();
            bad_ihl[14] = 0x43;
            let mut bad_sum = good.clone();
            bad_sum[24] ^= 0xff;
            // A consistent IPv4 packet (total length 30, checksum right)
            // whose TCP header ends after 10 bytes.
            let mut short_tcp = good[..14 + 20 + 10].to_vec();
            short_tcp[16..18].copy_from_slice(&30u16.to_be_bytes());
            slb_wire::ipv4::Packet::new_unchecked(&mut short_tcp[14..34]).fill_checksum();
            Case::new(
                web_config(n),
                vec![
                    send("a runt", CLIENT, good[..10].to_vec()).drop("truncated_ethernet"),
                    send("cut in the IPv4 header", CLIENT, good[..20].to_vec())
                        .drop("truncated_ipv4"),
                    send("IHL 3", CLIENT, bad_ihl).drop("bad_ipv4_ihl"),
                    send("a bad IPv4 checksum", CLIENT, bad_sum).drop("bad_ipv4_checksum"),
                    send("a TCP header cut short", CLIENT, short_tcp).drop("truncated_tcp"),
                    send(
                        "two labels",
                        CLIENT,
                        labelled(n).lse_raw(Lse::from_u32((17 << 12) | 64)),
                    )
                    .drop("mpls_stack_too_deep"),
                    send(
                        "a reserved label (3, implicit null)",
                        CLIENT,
                        labelled(n).lse_raw(Lse::from_u32((3 << 12) | 0x100 | 64)),
                    )
                    .drop("reserved_label"),
                    send(
                        "label TTL 0",
                        CLIENT,
                        labelled(n).lse_raw(Lse::from_u32((17 << 12) | 0x100)),
                    )
                    .drop("label_ttl_expired"),
                    send(
                        "a non-first fragment",
                        CLIENT,
                        FrameBuilder::udp(n.c2.mac, port_mac(CLIENT), n.c2.ip, n.vip, 1, 80)
                            .fragment(100, false),
                    )
                    .drop("non_first_fragment"),
                    send("and a good SYN after them: switched", CLIENT, good)
                        .out(SERVER, c2_syn_to(n, 0, 41000, 80, 17)),
                    check(Check::ActiveSessions(1)),
                ],
            )
        },
    },
    Row {
        name: "row12_weighted_round_robin_splits_by_weight",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly(
            "kept on the rig, as before the table was data: 600 sessions \
             add no per-frame case to what slbd runs",
        ),
        case: |n| {
            // 600 sessions: 300/200/100 to s1/s2/s3, in nginx's smooth
            // order, labels 17, 19, ... in turn.
            let steps = (0..600u16)
                .map(|i| {
                    let s = SMOOTH_WRR_3_2_1[usize::from(i) % 6];
                    send(
                        "a new session: the next server of the smooth 3:2:1 cycle",
                        CLIENT,
                        c2_syn(n, 10000 + i, 80),
                    )
                    .out(
                        SERVER,
                        c2_syn_to(n, s, 10000 + i, 80, 17 + 2 * u32::from(i)),
                    )
                })
                .collect();
            Case::new(spread_config(n, "weighted_round_robin", [3, 2, 1]), steps)
        },
    },
    Row {
        name: "row12_least_connections_avoids_the_loaded_server",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly(
            "on slbd an RST's end report and the next SYN reach the scheduler \
             on different queues: which it reads first is not fixed",
        ),
        case: |n| {
            let rst = |what, sport: u16, s: usize, label: u32| {
                send(
                    what,
                    CLIENT,
                    n.from_client(n.c2, sport, 80)
                        .flags(TcpFlags::RST)
                        .seq(1001),
                )
                .out(
                    SERVER,
                    n.to_server(n.c2, s, sport, 80)
                        .flags(TcpFlags::RST)
                        .seq(1001)
                        .label(label),
                )
            };
            let new = |what, sport: u16, s: usize, label: u32| {
                send(what, CLIENT, c2_syn(n, sport, 80))
                    .out(SERVER, c2_syn_to(n, s, sport, 80, label))
            };
            Case::new(
                spread_config(n, "least_connections", [1, 1, 1]),
                vec![
                    new("all idle: s1 (ties rotate)", 20000, 0, 17),
                    new("s1 has one: s2", 20001, 1, 19),
                    new("s1, s2 have one: s3", 20002, 2, 21),
                    rst("end the session on s1", 20000, 0, 17),
                    rst("end the session on s2", 20001, 1, 19),
                    // Reset sessions count until their linger ends.
                    check(Check::ActiveSessions(3)),
                    advance_ms(1100),
                    check(Check::ActiveSessions(1)),
                    new("s3 is loaded: s1", 21000, 0, 23),
                    new("s3 is loaded, s1 has one: s2", 21001, 1, 25),
                ],
            )
        },
    },
    Row {
        name: "timers_switched_traffic_keeps_a_session_alive",
        families: V4,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("idle timeouts: the clock moves"),
        case: |n| {
            let synack = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
            let data = || {
                send(
                    "c2's data on 17: switched",
                    CLIENT,
                    n.from_client(n.c2, 42000, 80).label(17),
                )
                .out(SERVER, n.to_server(n.c2, 0, 42000, 80).label(17))
            };
            let mut steps = vec![
                send("SYN: admitted on 17", CLIENT, c2_syn(n, 42000, 80))
                    .out(SERVER, c2_syn_to(n, 0, 42000, 80, 17)),
                send(
                    "s1's SYN-ACK on 18: switched",
                    SERVER,
                    n.from_server(0, n.c2, 80, 42000).flags(synack).label(18),
                )
                .out(CLIENT, n.to_client(n.c2, 80, 42000).flags(synack).label(18)),
            ];
            // 6 s of traffic every 500 ms: three idle timeouts (2 s) worth.
            for _ in 0..12 {
                steps.extend([data(), advance_ms(500)]);
            }
            steps.extend([
                check(Check::ActiveSessions(1)),
                // The last frame, 0.5 s ago, restarted the timer: the
                // session ends 2 s after it.
                advance_ms(2600),
                check(Check::ActiveSessions(0)),
                send(
                    "c2's data on 17 after the expiry: withdrawn",
                    CLIENT,
                    n.from_client(n.c2, 42000, 80).label(17),
                )
                .drop("withdrawn_label"),
            ]);
            Case::new(timers_config(n), steps)
        },
    },
    Row {
        name: "timers_an_unanswered_session_ends_on_the_syn_timeout",
        families: V4,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the SYN timeout: the clock moves"),
        case: |n| {
            // The client's own traffic does not keep a session alive
            // whose server never answered: it ends 1 s after the SYN.
            let retry = || {
                n.from_client(n.c2, 42001, 81)
                    .flags(TcpFlags::SYN)
                    .seq(1000)
                    .label(17)
            };
            let switched = || {
                send("c2's labelled SYN again: switched", CLIENT, retry()).out(
                    SERVER,
                    n.to_server(n.c2, 1, 42001, 81)
                        .flags(TcpFlags::SYN)
                        .seq(1000)
                        .label(17),
                )
            };
            let withdrawn = || {
                send("c2's labelled SYN again: withdrawn", CLIENT, retry()).drop("withdrawn_label")
            };
            Case::new(
                timers_config(n),
                vec![
                    send(
                        "SYN to 81: admitted on 17, to s2",
                        CLIENT,
                        c2_syn(n, 42001, 81),
                    )
                    .out(SERVER, c2_syn_to(n, 1, 42001, 81, 17)),
                    switched(),
                    advance_ms(500),
                    switched(),
                    advance_ms(500),
                    check(Check::ActiveSessions(0)),
                    withdrawn(),
                    advance_ms(500),
                    withdrawn(),
                ],
            )
        },
    },
    Row {
        name: "preloaded_sessions_are_switched",
        families: BOTH,
        workers: &[2],
        slbd: Slbd::RigOnly("sessions preloaded in process, frames handed to chosen workers"),
        case: |n| {
            // Preloaded session i (benchmarks) has labels 17+2i / 18+2i,
            // client `preload_client(i)`, and its flow in the flow cache
            // of worker i % workers.
            use slb_appliance::datapath::{preload_client, PRELOAD_CLIENT_MAC};
            let mut steps = Vec::new();
            for i in [0u32, 1, 2500, 4999] {
                let (client, port) = preload_client(i, n.family == Family::V6);
                let label = 17 + 2 * i;
                let from = FrameBuilder::tcp(
                    slb_wire::MacAddr(PRELOAD_CLIENT_MAC),
                    port_mac(CLIENT),
                    client,
                    n.vip,
                    port,
                    80,
                );
                let to =
                    FrameBuilder::tcp(port_mac(SERVER), n.servers[0].mac, client, n.vip, port, 80)
                        .label(label);
                steps.push(
                    send(
                        "a preloaded session's labelled frame: switched",
                        CLIENT,
                        from.clone().label(label),
                    )
                    .out(SERVER, to.clone()),
                );
                steps.push(
                    send(
                        "its plain frame, to the worker with its flow: pushed from the flow cache",
                        CLIENT,
                        from,
                    )
                    .on_worker(i as usize % 2)
                    .out(SERVER, to)
                    .events(&[(Event::Pushed, 1), (Event::PuntedNew, 0)]),
                );
            }
            Case::new(web_config(n), steps).preload(5000)
        },
    },
];
