//! Rows 1-8 (issue 5's numbering): a session's frames, its labels, how it
//! ends. Service "plain" (port 80) has plain clients, "aware" (port 81)
//! label-aware ones; both send every session to s1. Labels start at 17,
//! the first odd label of the default range: a session's client-to-server
//! label is odd, its server-to-client label the next even one, and
//! sessions take pairs in turn.

use crate::golden::net::{port_mac, syn, syn_ack, Net, CLIENT, SERVER};
use crate::golden::row::{
    advance_ms, advance_out, check, send, Case, Check, Row, Slbd, Step, BOTH,
};
use serde_json::json;
use slb_appliance::counters::Event;
use slb_wire::{FrameBuilder, TcpFlags};

const ONE_AND_TWO_WORKERS: &[usize] = &[1, 2];

fn config(n: &Net) -> String {
    n.config(
        json!({ "timeouts": { "tcp_linger_ms": 1000 } }),
        vec![
            n.service(
                "plain",
                80,
                json!({ "client_mode": "plain" }),
                &[(0, json!({}))],
            ),
            n.service(
                "aware",
                81,
                json!({ "client_mode": "label" }),
                &[(0, json!({}))],
            ),
        ],
    )
}

/// Plain client c2 opens a session on labels 17/18.
fn open_plain(n: &Net) -> Vec<Step> {
    vec![
        send(
            "SYN: to s1 with label 17 pushed, MSS clamped",
            CLIENT,
            syn(n.from_client(n.c2, 40000, 80), 1460),
        )
        .out(
            SERVER,
            syn(n.to_server(n.c2, 0, 40000, 80), n.mss).label(17),
        )
        .events(&[
            (Event::PuntedNew, 1),
            (Event::SessionsAdmitted, 1),
            (Event::MssClamped, 1),
        ]),
        check(Check::ActiveSessions(1)),
        send(
            "s1's SYN-ACK on 18: label popped toward the plain client, L2 rewritten, MSS clamped",
            SERVER,
            syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1460).label(18),
        )
        .out(CLIENT, syn_ack(n.to_client(n.c2, 80, 40000), 5000, n.mss))
        .events(&[(Event::Popped, 1), (Event::MssClamped, 1)]),
    ]
}

/// Label-aware client c1 opens a session on labels 17/18.
fn open_aware(n: &Net) -> Vec<Step> {
    vec![
        send(
            "SYN: to s1 with label 17",
            CLIENT,
            syn(n.from_client(n.c1, 41000, 81), 1460),
        )
        .out(
            SERVER,
            syn(n.to_server(n.c1, 0, 41000, 81), n.mss).label(17),
        )
        .events(&[(Event::SessionsAdmitted, 1)]),
        send(
            "s1's SYN-ACK on 18: label kept for the aware client, MSS (below the clamp) kept",
            SERVER,
            syn_ack(n.from_server(0, n.c1, 81, 41000), 7000, 1400).label(18),
        )
        .out(
            CLIENT,
            syn_ack(n.to_client(n.c1, 81, 41000), 7000, 1400).label(18),
        )
        .events(&[(Event::Popped, 0)]),
    ]
}

/// c1's request after the handshake, on `label`.
fn aware_data(n: &Net, label: u32) -> FrameBuilder {
    n.from_client(n.c1, 41000, 81)
        .seq(1001)
        .ack(7001)
        .payload(b"GET / HTTP/1.0\r\n\r\n")
        .label(label)
}

/// That request as slbd sends it on to s1.
fn aware_data_to_s1(n: &Net) -> FrameBuilder {
    n.to_server(n.c1, 0, 41000, 81)
        .seq(1001)
        .ack(7001)
        .payload(b"GET / HTTP/1.0\r\n\r\n")
        .label(17)
}

/// c2's ACK of s1's SYN-ACK (a plain client: no label).
fn plain_ack(n: &Net) -> FrameBuilder {
    n.from_client(n.c2, 40000, 80).seq(1001).ack(5001)
}

fn plain_ack_to_s1(n: &Net) -> FrameBuilder {
    n.to_server(n.c2, 0, 40000, 80)
        .seq(1001)
        .ack(5001)
        .label(17)
}

/// `on_down: reset`: s1 (the service's only server) has passive health
/// only (`arp`, the rig sends no probes) with `fall` 1, so the second
/// session, never answered, takes it down when its SYN times out (1 s);
/// the first, established, is ended and both its ends are reset: each
/// gets an out-of-window ACK (SEQ and ACK 0x5b5b0000, window 0; the client
/// from the VIP, labelled 18 if label-aware; s1 labelled 17, as from the
/// client) and answers it with its SND.NXT / RCV.NXT (RFC 9293
/// §3.10.7.4); that answer gets `<SEQ=SEG.ACK><CTL=RST>`.
fn on_down_reset(n: &Net, aware: bool) -> Case {
    let (c, port, mode) = if aware {
        (n.c1, 81, "label")
    } else {
        (n.c2, 80, "plain")
    };
    let config = n.config(
        json!({ "timeouts": { "tcp_syn_ms": 1000 } }),
        vec![n.service(
            "web",
            port,
            json!({ "client_mode": mode,
                    "health": { "kind": "arp", "rise": 1, "fall": 1, "on_down": "reset" } }),
            &[(0, json!({}))],
        )],
    );
    let to_client = |b: FrameBuilder| if aware { b.label(18) } else { b };
    let from_client = |b: FrameBuilder| if aware { b.label(17) } else { b };
    let probe = |b: FrameBuilder| {
        b.flags(TcpFlags::ACK)
            .seq(0x5b5b_0000)
            .ack(0x5b5b_0000)
            .window(0)
            .build()
    };
    let rst = |b: FrameBuilder, seq: u32| b.flags(TcpFlags::RST).seq(seq).ack(0).window(0);
    let steps = vec![
        send(
            "SYN: admitted on 17",
            CLIENT,
            syn(n.from_client(c, 40000, port), 1400),
        )
        .out(SERVER, syn(n.to_server(c, 0, 40000, port), 1400).label(17)),
        send(
            "s1's SYN-ACK on 18: established",
            SERVER,
            syn_ack(n.from_server(0, c, port, 40000), 5000, 1400).label(18),
        )
        .out(
            CLIENT,
            to_client(syn_ack(n.to_client(c, port, 40000), 5000, 1400)),
        ),
        send(
            "a second SYN: admitted on 19, never answered",
            CLIENT,
            syn(n.from_client(c, 40001, port), 1400),
        )
        .out(SERVER, syn(n.to_server(c, 0, 40001, port), 1400).label(19)),
        advance_out(
            1010,
            vec![
                (CLIENT, probe(to_client(n.to_client(c, port, 40000)))),
                (SERVER, probe(n.to_server(c, 0, 40000, port).label(17))),
            ],
        ),
        check(Check::Event(Event::ResetProbesSent, 2)),
        check(Check::ActiveSessions(0)),
        send(
            "the client answers: SND.NXT 1001, RCV.NXT 5001; a reset with SEQ 5001",
            CLIENT,
            from_client(
                n.from_client(c, 40000, port)
                    .flags(TcpFlags::ACK)
                    .seq(1001)
                    .ack(5001),
            ),
        )
        .out(CLIENT, to_client(rst(n.to_client(c, port, 40000), 5001))),
        send(
            "s1 answers on 18: SND.NXT 5001, RCV.NXT 1001; a reset with SEQ 1001, on 17",
            SERVER,
            n.from_server(0, c, port, 40000)
                .flags(TcpFlags::ACK)
                .seq(5001)
                .ack(1001)
                .label(18),
        )
        .out(SERVER, rst(n.to_server(c, 0, 40000, port), 1001).label(17)),
        check(Check::Event(Event::SessionResetsSent, 2)),
        send(
            "s1 answers again: nothing waits any more, withdrawn",
            SERVER,
            n.from_server(0, c, port, 40000)
                .flags(TcpFlags::ACK)
                .seq(5001)
                .ack(1001)
                .label(18),
        )
        .drop("withdrawn_label"),
    ];
    Case::new(config, steps)
}

pub const ROWS: &[Row] = &[
    Row {
        name: "row01_02_04_05_plain_client_session",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| {
            let mut steps = open_plain(n);
            steps.extend([
                // With two workers the rig alternates them: one ACK meets
                // the flow cache of the core that saw the SYN, the other
                // a core that has to ask the scheduler.
                send("c2's ACK: label 17 pushed", CLIENT, plain_ack(n))
                    .out(SERVER, plain_ack_to_s1(n)),
                send("c2's ACK again: label 17 pushed", CLIENT, plain_ack(n))
                    .out(SERVER, plain_ack_to_s1(n)),
                send(
                    "s1's data on 18: popped",
                    SERVER,
                    n.from_server(0, n.c2, 80, 40000)
                        .seq(5001)
                        .ack(1001)
                        .payload(b"s1")
                        .label(18),
                )
                .out(
                    CLIENT,
                    n.to_client(n.c2, 80, 40000)
                        .seq(5001)
                        .ack(1001)
                        .payload(b"s1"),
                )
                .events(&[(Event::Popped, 1)]),
                send(
                    "the SYN again: same server, same label, no new session",
                    CLIENT,
                    syn(n.from_client(n.c2, 40000, 80), 1460),
                )
                .out(
                    SERVER,
                    syn(n.to_server(n.c2, 0, 40000, 80), n.mss).label(17),
                )
                .events(&[(Event::SessionsAdmitted, 0)]),
                check(Check::ActiveSessions(1)),
                send(
                    "a new session of c2: the next pair, 19",
                    CLIENT,
                    syn(n.from_client(n.c2, 40001, 80), 1460),
                )
                .out(
                    SERVER,
                    syn(n.to_server(n.c2, 0, 40001, 80), n.mss).label(19),
                )
                .events(&[(Event::SessionsAdmitted, 1)]),
                check(Check::ActiveSessions(2)),
            ]);
            Case::new(config(n), steps)
        },
    },
    Row {
        name: "row01_02_03_label_aware_client_session",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| {
            let data = || {
                send(
                    "c1's request on 17: switched to s1, label kept",
                    CLIENT,
                    aware_data(n, 17),
                )
                .out(SERVER, aware_data_to_s1(n))
            };
            let mut steps = open_aware(n);
            steps.extend([
                data(),
                data(),
                data(),
                send(
                    "s1's data on 18: label kept",
                    SERVER,
                    n.from_server(0, n.c1, 81, 41000)
                        .seq(7001)
                        .ack(1006)
                        .payload(b"s1")
                        .label(18),
                )
                .out(
                    CLIENT,
                    n.to_client(n.c1, 81, 41000)
                        .seq(7001)
                        .ack(1006)
                        .payload(b"s1")
                        .label(18),
                ),
                check(Check::ActiveSessions(1)),
            ]);
            Case::new(config(n), steps)
        },
    },
    Row {
        name: "row06_labels_that_do_not_belong_are_dropped",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: |n| {
            let spoofed =
                FrameBuilder::tcp(n.c2.mac, port_mac(CLIENT), n.foreign, n.vip, 41000, 81)
                    .seq(1)
                    .label(17);
            let mut steps = open_aware(n);
            steps.extend([
                send("a label no session has", CLIENT, aware_data(n, 1001)).drop("unknown_label"),
                send(
                    "the client-to-server label from the server port",
                    SERVER,
                    aware_data(n, 17).macs(n.servers[0].mac, port_mac(SERVER)),
                )
                .drop("wrong_port_role"),
                send(
                    "the server-to-client label from the client port",
                    CLIENT,
                    syn_ack(n.from_server(0, n.c1, 81, 41000), 7000, 1400)
                        .macs(n.c2.mac, port_mac(CLIENT))
                        .label(18),
                )
                .drop("wrong_port_role"),
                send(
                    "the client-to-server label from a foreign source",
                    CLIENT,
                    spoofed,
                )
                .drop("foreign_source"),
                check(Check::ActiveSessions(1)),
            ]);
            Case::new(config(n), steps)
        },
    },
    Row {
        name: "row07_fin_both_ways_then_linger_ends_the_session",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the linger: the clock moves"),
        case: |n| {
            let fin_ack = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
            let mut steps = open_aware(n);
            steps.extend([
                send("c1's request", CLIENT, aware_data(n, 17)).out(SERVER, aware_data_to_s1(n)),
                send(
                    "c1's FIN: switched",
                    CLIENT,
                    n.from_client(n.c1, 41000, 81)
                        .flags(fin_ack)
                        .seq(1019)
                        .ack(7001)
                        .label(17),
                )
                .out(
                    SERVER,
                    n.to_server(n.c1, 0, 41000, 81)
                        .flags(fin_ack)
                        .seq(1019)
                        .ack(7001)
                        .label(17),
                ),
                send(
                    "s1's FIN: switched",
                    SERVER,
                    n.from_server(0, n.c1, 81, 41000)
                        .flags(fin_ack)
                        .seq(7001)
                        .ack(1020)
                        .label(18),
                )
                .out(
                    CLIENT,
                    n.to_client(n.c1, 81, 41000)
                        .flags(fin_ack)
                        .seq(7001)
                        .ack(1020)
                        .label(18),
                ),
                // Lingering.
                check(Check::ActiveSessions(1)),
                advance_ms(1100),
                check(Check::ActiveSessions(0)),
                check(Check::Event(Event::SessionsEnded, 1)),
                // Both FINs and the linger: neither end considers the
                // connection open, so a late frame is a stray, not a loss.
                send("a late frame on 17: a stray", CLIENT, aware_data(n, 17))
                    .drop("stray_after_end"),
                send(
                    "a new session: 19, not the quarantined 17",
                    CLIENT,
                    syn(n.from_client(n.c1, 41001, 81), 1460),
                )
                .out(
                    SERVER,
                    syn(n.to_server(n.c1, 0, 41001, 81), n.mss).label(19),
                ),
            ]);
            Case::new(config(n), steps)
        },
    },
    Row {
        name: "row08_on_down_reset_resets_both_ends_of_a_plain_client_session",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the SYN timeout: the clock moves"),
        case: |n| on_down_reset(n, false),
    },
    Row {
        name: "row08_on_down_reset_resets_both_ends_of_a_label_aware_client_session",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the SYN timeout: the clock moves"),
        case: |n| on_down_reset(n, true),
    },
    Row {
        name: "row08_rst_ends_the_session_after_the_linger",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly(
            "on slbd the RST's end reaches the workers a moment after the RST: \
             whether the frames behind it still find the session is not fixed",
        ),
        case: |n| {
            let mut steps = open_plain(n);
            steps.extend([
                send("c2's ACK", CLIENT, plain_ack(n)).out(SERVER, plain_ack_to_s1(n)),
                send(
                    "c2's RST: label 17 pushed, to s1",
                    CLIENT,
                    n.from_client(n.c2, 40000, 80)
                        .flags(TcpFlags::RST)
                        .seq(1001),
                )
                .out(
                    SERVER,
                    n.to_server(n.c2, 0, 40000, 80)
                        .flags(TcpFlags::RST)
                        .seq(1001)
                        .label(17),
                ),
                // The session is reset, not gone: a frame the RST
                // overtook on the way (the server's FIN before it, say)
                // still reaches its end during the linger time.
                check(Check::ActiveSessions(1)),
                check(Check::Event(Event::SessionsEnded, 0)),
                send(
                    "s1's frame on 18 after the RST: still popped to c2",
                    SERVER,
                    n.from_server(0, n.c2, 80, 40000)
                        .flags(TcpFlags::FIN | TcpFlags::ACK)
                        .seq(5001)
                        .label(18),
                )
                .out(
                    CLIENT,
                    n.to_client(n.c2, 80, 40000)
                        .flags(TcpFlags::FIN | TcpFlags::ACK)
                        .seq(5001),
                ),
                check(Check::ActiveSessions(1)),
                advance_ms(1100),
                check(Check::ActiveSessions(0)),
                check(Check::Event(Event::SessionsEnded, 1)),
                // After the linger neither end considers the connection
                // open: what still comes is a stray, not a loss.
                send(
                    "s1's late frame on 18: a stray after the RST",
                    SERVER,
                    n.from_server(0, n.c2, 80, 40000).seq(5001).label(18),
                )
                .drop("stray_after_end"),
                send(
                    "c2's ACK: its flow is gone (ended by the RST): a stray too",
                    CLIENT,
                    plain_ack(n),
                )
                .drop("stray_after_end"),
            ]);
            Case::new(config(n), steps)
        },
    },
];
