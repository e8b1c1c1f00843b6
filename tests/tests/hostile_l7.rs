//! Hostile input at layer-7 services (issue 17): bad frames and bad first
//! data never crash or stall slbd, and every frame is accounted for.
//!
//! - the hostile corpus (`slb_tests::hostile`) at the HTTP/TLS service
//!   (`syn_proxy`) and the DNS and QUIC services, on one and two workers,
//!   while a TCP client's cookie ACK and a QUIC flow's first Initial wait
//!   for their first data: each frame leaves, moves exactly one drop
//!   counter, or is held by a session that waits (and leaves once its
//!   wait ends); the waiting sessions then bind by their rules;
//! - hostile first data: random bytes, truncated and garbage HTTP heads,
//!   a TLS record announcing 16 KB then silence, a ClientHello over two
//!   records, segments out of order, overlapping, repeated, past a gap,
//!   a reset and a FIN while waiting; random datagrams, QUIC Initials with
//!   bad lengths and of version 2, DNS queries with no question or a
//!   compression loop. Each binds by a rule, binds to the default pool
//!   (counted by reason) or is refused (`malformed: refuse`); after
//!   `wait_ms` nothing waits, and once the sessions end no label is held;
//! - a flood of 5,000 cookie handshakes (and 5,000 QUIC flows) that send
//!   no (complete) first data: at most `WAITING_MAX` wait, the rest are
//!   bound at once (`busy`); after `wait_ms` every waiting one falls back
//!   (`timeout`); a session holds at most 8 frames.

use slb_appliance::counters::Event;
use slb_core::BoundBy;
use slb_tests::golden::net::{port_mac, CLIENT, SERVER};
use slb_tests::golden::{drops_moved, Rig};
use slb_tests::hostile::{corpus, Target};
use slb_tests::l7_rig::*;
use slb_wire::TcpFlags;

const WAITING_MAX: u64 = 4096;
const WAIT_HELD_MAX: u64 = 8;
/// Fallback codes (`BoundBy::fallback`), as the scheduler numbers them.
const TIMEOUT: u8 = 1;
const SEGMENTS: u8 = 2;
const BYTES: u8 = 3;
const MALFORMED: u8 = 4;
const UNSUPPORTED: u8 = 5;
const BUSY: u8 = 6;

/// Every drop counter's total.
fn all_drops(r: &Rig) -> u64 {
    r.counters().drops().map(|(_, n)| n).sum()
}

/// Runs the clock past `wait_ms` and every session's timeouts: nothing
/// waits, no session and no label is left.
fn drain(r: &mut Rig, resets: u64) {
    r.advance_ms(WAIT_MS + 20);
    assert_eq!(waiting(r, resets), 0, "nothing waits past wait_ms");
    r.advance_ms(6_000);
    assert_eq!(r.active_sessions(), 0, "every session ended");
    assert_eq!(labels_in_use(r), (0, 0), "every label back");
}

// ---- 1. the hostile corpus around waiting sessions -----------------------

fn corpus_run(workers: usize) {
    let mut r = rig(workers, "default");
    // A well-formed session, bound by its first data (no rule: s1).
    let live = Flow::web(50000);
    let (ck, out) = connect(&mut r, live);
    assert!(out.is_empty(), "the ACK waits: {out:?}");
    let req = request("www.example.com", "/");
    let out = r.send(CLIENT, &live.segment(ck, 1001, PSH_ACK, &req));
    let (s, label) = replayed_syn(&out);
    assert_eq!(s, 0);
    assert_eq!(server_answers(&mut r, live, s, label).len(), 2);
    let good = live
        .tcp()
        .seq(1001 + req.len() as u32)
        .payload(b"hello")
        .label(label)
        .build();
    let good_out = r.send(CLIENT, &good);
    assert_eq!(good_out.len(), 1);
    // A TCP client whose cookie ACK waits for its data; a QUIC flow
    // whose ClientHello needs its second Initial.
    let tcp_wait = Flow::web(45000);
    let (wck, out) = connect(&mut r, tcp_wait);
    assert!(out.is_empty(), "{out:?}");
    let quic_wait = Flow::udp(47000, H3);
    let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
    let hello = client_hello_message("api.example.com", 1713);
    let first = quic_initial(1, &dcid, 0, 0, &hello[..1000]);
    let second = quic_initial(1, &dcid, 1, 1000, &hello[1000..]);
    assert!(r.send(CLIENT, &quic_wait.datagram(&first)).is_empty());
    assert_eq!(waiting(&r, 0), 2);

    let mut wrong = Vec::new();
    let mut held = 0u64;
    let mut total = 0;
    for service_port in [WEB, DNS, H3] {
        let t = Target {
            client_mac: CM,
            port_mac: port_mac(CLIENT),
            client4: "198.18.0.12".parse().unwrap(),
            vip4: "198.18.100.1".parse().unwrap(),
            port4: "198.18.0.1".parse().unwrap(),
            client6: "2001:db8::12".parse().unwrap(),
            vip6: "2001:db8:100::1".parse().unwrap(),
            service_port,
            live_label: label,
        };
        let all = corpus(&t);
        total += all.len();
        for (i, h) in all.iter().enumerate() {
            let before = r.counters();
            let (w0, h0) = (
                r.event(Event::FirstDataWaits),
                r.event(Event::FirstDataHeld),
            );
            let waiting0 = waiting(&r, 0);
            let out = r.send(CLIENT, &h.frame);
            let moved = drops_moved(&before, &r.counters());
            let began = r.event(Event::FirstDataWaits) - w0;
            let joined = r.event(Event::FirstDataHeld) - h0;
            let now_held = out.is_empty()
                && moved.is_empty()
                && ((began == 1 && waiting(&r, 0) == waiting0 + 1) || joined == 1);
            // Exactly one outcome: frames out, one drop, or held by a
            // session that waits.
            let ok = (moved.is_empty() && !out.is_empty())
                || (out.is_empty() && moved.len() == 1 && moved[0].1 == 1)
                || now_held;
            if now_held {
                held += 1;
            }
            if !ok {
                wrong.push(format!(
                    "port {service_port} #{i} {}: {} frame(s) out, drops {moved:?}, waits +{began}, held +{joined}",
                    h.name,
                    out.len()
                ));
            }
            let again = r.send(CLIENT, &good);
            assert_eq!(again, good_out, "#{i} {}: the good session changed", h.name);
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {total} frames with another outcome:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The waiting sessions were not disturbed: each binds by its rule.
    let out = r.send(
        CLIENT,
        &tcp_wait.segment(wck, 1001, PSH_ACK, &request("api.example.com", "/")),
    );
    let (s, l) = replayed_syn(&out);
    assert_eq!(s, 1, "the api pool");
    assert_eq!(server_answers(&mut r, tcp_wait, s, l).len(), 2, "ACK, data");
    assert_eq!(bound_by(&r, tcp_wait), Some(BoundBy::rule(0)));
    let out = r.send(CLIENT, &quic_wait.datagram(&second));
    let to = on(&out, SERVER);
    assert_eq!(to.len(), 2, "both Initials: {out:?}");
    assert!(
        to.iter().all(|f| server_of(&unlabel(f).2) == 2),
        "the quic pool"
    );
    assert_eq!(bound_by(&r, quic_wait), Some(BoundBy::rule(0)));
    // What the corpus left waiting leaves once wait_ms is past.
    let drops = all_drops(&r);
    let out = r.advance_ms(WAIT_MS + 20);
    let released = out.len() as u64 + all_drops(&r) - drops;
    assert_eq!(released, held, "held corpus frames: {out:?}");
    eprintln!("corpus at L7 on {workers} worker(s): {total} frames, {held} held then released");
    drain(&mut r, 0);
}

#[test]
fn corpus_one_worker() {
    corpus_run(1);
}

#[test]
fn corpus_two_workers() {
    corpus_run(2);
}

// ---- 2. hostile first data -----------------------------------------------

/// How a TCP session's first data ended, right after it was sent.
#[derive(Debug, PartialEq)]
enum Tcp {
    Bound(usize),
    Reset,
    Waits,
}

fn tcp_outcome(out: &[slb_tests::golden::Sent]) -> Tcp {
    let syns = replayed_syns(out);
    let to_client = on(out, CLIENT);
    match (syns.len(), to_client.len(), out.len()) {
        (1, 0, 1) => Tcp::Bound(syns[0].0),
        (0, 1, 1) if is_reset(&to_client[0]) => Tcp::Reset,
        (0, 0, 0) => Tcp::Waits,
        _ => panic!("another outcome: {out:?}"),
    }
}

/// The server a binding must have chosen.
fn server_for(by: BoundBy) -> usize {
    match by.rule_index() {
        Some(0) => 1,
        Some(1) => 2,
        Some(i) => panic!("rule {i}"),
        None => 0,
    }
}

/// Random first data in one to three segments, a few hundred cases:
/// each session binds (the server matches what bound it), is refused
/// (only with `refuse`) or waits (and falls back `timeout` at wait_ms).
fn random_tcp(malformed: &str) {
    let mut r = rig(1, malformed);
    let mut rng = Rng(0x005e_ed17 ^ malformed.len() as u64);
    let mut waits = Vec::new();
    let (mut bound, mut reset) = (0, 0);
    for i in 0..300u16 {
        let c = Flow::web(20000 + i);
        let (ck, out) = connect(&mut r, c);
        assert!(out.is_empty());
        let len = 1 + rng.below(1400);
        let mut p = rng.bytes(len);
        let prefix: &[u8] = match rng.below(5) {
            0 => b"GET ",
            1 => &[0x16, 3, 1],
            2 => b"GET / HTTP/1.1\r\nHost: ",
            3 => {
                p.iter_mut()
                    .for_each(|b| *b = b" \r\n:aGHT/."[*b as usize % 10]);
                b""
            }
            _ => b"",
        };
        p.splice(0..0, prefix.iter().copied());
        let cuts = rng.below(3);
        let mut at = 0;
        let mut res = Tcp::Waits;
        for k in 0..=cuts {
            let end = if k == cuts {
                p.len()
            } else {
                (at + 1 + rng.below(p.len())).min(p.len())
            };
            if at >= end {
                continue;
            }
            let out = r.send(
                CLIENT,
                &c.segment(ck, 1001 + at as u32, PSH_ACK, &p[at..end]),
            );
            at = end;
            res = tcp_outcome(&out);
            if res != Tcp::Waits {
                break;
            }
        }
        match res {
            Tcp::Bound(s) => {
                let by = bound_by(&r, c).expect("a session");
                assert_eq!(s, server_for(by), "case {i}: {by:?}");
                if malformed == "refuse" {
                    assert_ne!(by, BoundBy::fallback(MALFORMED));
                }
                bound += 1;
            }
            Tcp::Reset => {
                assert_eq!(malformed, "refuse", "case {i}: reset");
                assert_eq!(bound_by(&r, c), None);
                reset += 1;
            }
            Tcp::Waits => waits.push(c),
        }
    }
    assert_eq!(waiting(&r, 0), waits.len() as u64);
    let out = r.advance_ms(WAIT_MS + 20);
    let syns = replayed_syns(&out);
    assert_eq!(syns.len(), waits.len(), "each waiting one bound at wait_ms");
    assert!(syns.iter().all(|s| s.0 == 0), "to the default pool");
    for c in &waits {
        assert_eq!(bound_by(&r, *c), Some(BoundBy::fallback(TIMEOUT)));
    }
    assert_eq!(r.event(Event::FirstDataRefused), reset);
    eprintln!(
        "random TCP first data ({malformed}): {bound} bound at once, {reset} refused, {} by timeout",
        waits.len()
    );
    drain(&mut r, 0);
}

#[test]
fn random_tcp_first_data() {
    random_tcp("default");
}

#[test]
fn random_tcp_first_data_refuse() {
    random_tcp("refuse");
}

/// Sends `segments` (sequence offset from 1001, payload, flags) on a
/// fresh cookie session: the outcome after the last.
fn tcp_case(r: &mut Rig, c: Flow, segments: &[(u32, &[u8], TcpFlags)]) -> Tcp {
    let (ck, out) = connect(r, c);
    assert!(out.is_empty());
    let mut res = Tcp::Waits;
    for (k, (off, p, flags)) in segments.iter().enumerate() {
        let out = r.send(CLIENT, &c.segment(ck, 1001 + off, *flags, p));
        res = tcp_outcome(&out);
        if k + 1 < segments.len() {
            assert_eq!(res, Tcp::Waits, "{c:?}: segment {k}");
        }
    }
    res
}

/// Named hostile first data at the TCP service.
fn tcp_cases(malformed: &str) {
    let refuse = malformed == "refuse";
    let mut r = rig(2, malformed);
    let api = request("api.example.com", "/");
    let mut port = 30000;
    let mut next = || {
        port += 1;
        Flow::web(port)
    };
    let mut at_timeout = Vec::new();

    // A head cut short: waits, then the default pool by timeout.
    let c = next();
    assert_eq!(
        tcp_case(&mut r, c, &[(0, &api[..api.len() - 2], PSH_ACK)]),
        Tcp::Waits
    );
    at_timeout.push(c);
    // Garbage heads: malformed.
    for bad in [
        &b"\x00\x01\x02\x03 / HTTP/1.1\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost api.example.com\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n",
    ] {
        let c = next();
        let res = tcp_case(&mut r, c, &[(0, bad, PSH_ACK)]);
        let name = String::from_utf8_lossy(bad);
        if refuse {
            assert_eq!(res, Tcp::Reset, "{name}");
        } else {
            assert_eq!(res, Tcp::Bound(0), "{name}");
            assert_eq!(
                bound_by(&r, c),
                Some(BoundBy::fallback(MALFORMED)),
                "{name}"
            );
        }
    }
    // A TLS record announcing 16 KB, then silence.
    let c = next();
    let mut big = vec![0x16, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xfc, 3, 3];
    big.extend([0u8; 100]);
    assert_eq!(tcp_case(&mut r, c, &[(0, &big, PSH_ACK)]), Tcp::Bound(0));
    assert_eq!(
        bound_by(&r, c),
        Some(BoundBy::fallback(BYTES)),
        "past `bytes`"
    );
    // One announcing 3 KB (within `bytes`), then silence: waits.
    let c = next();
    big[3..5].copy_from_slice(&3000u16.to_be_bytes());
    big[6..9].copy_from_slice(&[0, 0x0b, 0xb4]);
    assert_eq!(tcp_case(&mut r, c, &[(0, &big, PSH_ACK)]), Tcp::Waits);
    at_timeout.push(c);
    // A ClientHello over two records: not read (unsupported).
    let c = next();
    let msg = client_hello_message("www.tls.example", 600);
    let mut two = tls_record(&msg[..300]);
    two.extend(tls_record(&msg[300..]));
    assert_eq!(tcp_case(&mut r, c, &[(0, &two, PSH_ACK)]), Tcp::Bound(0));
    assert_eq!(bound_by(&r, c), Some(BoundBy::fallback(UNSUPPORTED)));
    // The same ClientHello in one record over two segments: by SNI.
    let c = next();
    let one = tls_record(&msg);
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[(0, &one[..200], PSH_ACK), (200, &one[200..], PSH_ACK)]
        ),
        Tcp::Bound(2)
    );
    // Out of order: the second half, the first, the second again.
    let c = next();
    let h = 20u32;
    let (a, b) = api.split_at(h as usize);
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[(h, b, PSH_ACK), (0, a, PSH_ACK), (h, b, PSH_ACK)]
        ),
        Tcp::Bound(1)
    );
    assert_eq!(bound_by(&r, c), Some(BoundBy::rule(0)));
    // Overlapping segments.
    let c = next();
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[(0, &api[..30], PSH_ACK), (10, &api[10..], PSH_ACK)]
        ),
        Tcp::Bound(1)
    );
    // A retransmission, then the rest.
    let c = next();
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[(0, a, PSH_ACK), (0, a, PSH_ACK), (h, b, PSH_ACK)]
        ),
        Tcp::Bound(1)
    );
    // A gap never filled, two segments: waits for the timeout.
    let c = next();
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[(0, &api[..10], PSH_ACK), (20, &api[20..], PSH_ACK)]
        ),
        Tcp::Waits
    );
    at_timeout.push(c);
    // A FIN while waiting: held; bound at wait_ms with the FIN replayed.
    let fin_flow = next();
    assert_eq!(
        tcp_case(
            &mut r,
            fin_flow,
            &[(0, &api[..10], PSH_ACK), (10, b"", FIN_ACK)]
        ),
        Tcp::Waits
    );
    // A reset while waiting: nothing bound, the ACK, data and reset
    // dropped as such.
    let c = next();
    let resets = r.drops("l7_client_reset");
    let (ck, _) = connect(&mut r, c);
    assert!(r
        .send(CLIENT, &c.segment(ck, 1001, PSH_ACK, &api[..10]))
        .is_empty());
    let rst = c.tcp().flags(TcpFlags::RST).seq(1011).build();
    assert!(r.send(CLIENT, &rst).is_empty());
    assert_eq!(r.drops("l7_client_reset") - resets, 3);
    assert_eq!(bound_by(&r, c), None);
    // Pure ACKs only: held up to WAIT_HELD_MAX frames, then bound.
    let c = next();
    let (ck, _) = connect(&mut r, c);
    let held = r.event(Event::FirstDataHeld);
    let mut sent = 1;
    let res = loop {
        let out = r.send(CLIENT, &c.segment(ck, 1001, ACK, b""));
        sent += 1;
        let res = tcp_outcome(&out);
        if res != Tcp::Waits || sent > 20 {
            break res;
        }
    };
    assert_eq!(res, Tcp::Bound(0));
    assert_eq!(sent, WAIT_HELD_MAX, "bound when its 8th frame came");
    assert_eq!(r.event(Event::FirstDataHeld) - held, WAIT_HELD_MAX - 1);
    assert_eq!(bound_by(&r, c), Some(BoundBy::fallback(SEGMENTS)));

    assert_eq!(waiting(&r, 1), at_timeout.len() as u64 + 1);
    let out = r.advance_ms(WAIT_MS + 20);
    let syns = replayed_syns(&out);
    assert_eq!(syns.len(), at_timeout.len() + 1, "{out:?}");
    for c in at_timeout.iter().chain([&fin_flow]) {
        assert_eq!(bound_by(&r, *c), Some(BoundBy::fallback(TIMEOUT)), "{c:?}");
    }
    // The FIN's session: the server's SYN-ACK releases the ACK, the data
    // and the FIN.
    let (s, label) = *syns
        .iter()
        .find(|(_, l)| session_of(&r, *l) == Some((fin_flow.ip, fin_flow.port)))
        .expect("the FIN's session");
    assert_eq!(server_answers(&mut r, fin_flow, s, label).len(), 3);
    drain(&mut r, 1);
}

/// Issue 17's `segments` limit holds past a gap too: a third frame with
/// data and no complete request binds the session to the default pool
/// (`segments`) at once, as it does without a gap.
#[test]
fn segments_past_a_gap_reach_the_limit() {
    let mut r = rig(1, "default");
    let api = request("api.example.com", "/");
    let c = Flow::web(31000);
    // Without a gap: bound by the limit on the third segment.
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[
                (0, &api[..10], PSH_ACK),
                (10, &api[10..20], PSH_ACK),
                (20, &api[20..30], PSH_ACK)
            ]
        ),
        Tcp::Bound(0)
    );
    assert_eq!(bound_by(&r, c), Some(BoundBy::fallback(SEGMENTS)));
    let c = Flow::web(31001);
    // Past a gap: the bytes after it are not read; the client's limit of
    // segments then binds it (three frames with data).
    assert_eq!(
        tcp_case(
            &mut r,
            c,
            &[
                (0, &api[..10], PSH_ACK),
                (20, &api[20..30], PSH_ACK),
                (40, &api[40..], PSH_ACK)
            ]
        ),
        Tcp::Bound(0)
    );
    assert_eq!(bound_by(&r, c), Some(BoundBy::fallback(SEGMENTS)));
    drain(&mut r, 0);
}

#[test]
fn tcp_first_data_cases() {
    tcp_cases("default");
}

#[test]
fn tcp_first_data_cases_refuse() {
    tcp_cases("refuse");
}

/// How a UDP flow's datagram ended: sent on to a server, held, dropped.
fn udp_outcome(r: &mut Rig, frame: &[u8]) -> Result<Option<usize>, &'static str> {
    let before = r.counters();
    let out = r.send(CLIENT, frame);
    let moved = drops_moved(&before, &r.counters());
    match (out.len(), moved.as_slice()) {
        (0, []) => Ok(None),
        (1, []) => Ok(Some(server_of(&unlabel(&on(&out, SERVER)[0]).2))),
        (0, [(reason, 1)]) => Err(reason),
        _ => panic!("another outcome: {out:?}, drops {moved:?}"),
    }
}

/// Random datagrams and hostile DNS and QUIC at the UDP services.
fn udp_cases(malformed: &str) {
    let refuse = malformed == "refuse";
    let mut r = rig(2, malformed);
    let mut rng = Rng(0xd15ea5e ^ malformed.len() as u64);
    let mut waits = 0u64;
    for i in 0..600u16 {
        let vport = if i % 2 == 0 { DNS } else { H3 };
        let c = Flow::udp(10000 + i, vport);
        let len = rng.below(1300);
        let mut p = rng.bytes(len);
        if i % 4 == 1 && p.len() > 6 {
            // A QUIC v1 long header, random after it.
            p[0] = 0xc0 | (p[0] & 0x3f);
            p[1..5].copy_from_slice(&1u32.to_be_bytes());
        }
        match udp_outcome(&mut r, &c.datagram(&p)) {
            Ok(Some(s)) => {
                let by = bound_by(&r, c).expect("a session");
                let want = match by.rule_index() {
                    Some(0) if vport == DNS => 1,
                    Some(0) => 2,
                    _ => 0,
                };
                assert_eq!(s, want, "case {i}: {by:?}");
            }
            Ok(None) => waits += 1,
            Err(reason) => {
                assert!(refuse, "case {i}: dropped {reason}");
                assert_eq!(reason, "l7_refused");
            }
        }
    }
    assert_eq!(waiting(&r, 0), waits);

    let dcid = [1, 2, 3, 4, 5, 6, 7, 8];
    let hello = client_hello_message("api.example.com", 600);
    let good = quic_initial(1, &dcid, 0, 0, &hello);
    let mut port = 15000;
    let mut send = |r: &mut Rig, vport: u16, p: &[u8]| {
        port += 1;
        let c = Flow::udp(port, vport);
        (c, udp_outcome(r, &c.datagram(p)))
    };
    // Version 2: unsupported, the default pool.
    let (c, res) = send(&mut r, H3, &quic_initial(0x6b33_43cf, &dcid, 0, 0, &hello));
    assert_eq!(res, Ok(Some(0)));
    assert_eq!(bound_by(&r, c), Some(BoundBy::fallback(UNSUPPORTED)));
    // Bad lengths: the long header's length past the datagram, zero,
    // and a datagram cut in its header.
    let malformed_or_default = |r: &Rig, c: Flow, res: Result<Option<usize>, &str>, what: &str| {
        if refuse && res == Err("l7_refused") {
            assert_eq!(bound_by(r, c), None);
        } else {
            assert_eq!(res, Ok(Some(0)), "{what}");
            let by = bound_by(r, c).unwrap();
            assert!(
                by.fallback_reason().is_some() || by == BoundBy::NO_MATCH,
                "{what}: {by:?}"
            );
        }
    };
    let len_at = 1 + 4 + 1 + dcid.len() + 1 + 1;
    for (what, v) in [
        ("length past the datagram", 0x7fffu16),
        ("length 0", 0x4000),
    ] {
        let mut p = good.clone();
        p[len_at..len_at + 2].copy_from_slice(&v.to_be_bytes());
        let (c, res) = send(&mut r, H3, &p);
        malformed_or_default(&r, c, res, what);
    }
    let (c, res) = send(&mut r, H3, &good[..10]);
    malformed_or_default(&r, c, res, "cut in its header");
    // The good Initial still binds by SNI.
    let (c, res) = send(&mut r, H3, &good);
    assert_eq!(res, Ok(Some(2)));
    assert_eq!(bound_by(&r, c), Some(BoundBy::rule(0)));
    // DNS: no question; a name that points at itself.
    let mut q = dns_query("db.corp.example", 1);
    q[5] = 0;
    let (c, res) = send(&mut r, DNS, &q);
    malformed_or_default(&r, c, res, "qdcount 0");
    let mut lp = vec![
        0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
    ];
    let (c, res) = send(&mut r, DNS, &lp);
    malformed_or_default(&r, c, res, "a pointer to itself");
    lp.splice(12..14, [3, b'a', b'b', b'c', 0xc0, 12]);
    let (c, res) = send(&mut r, DNS, &lp);
    malformed_or_default(&r, c, res, "a pointer loop after a label");
    let (c, res) = send(&mut r, DNS, &dns_query("db.corp.example", 28));
    assert_eq!(res, Ok(Some(1)));
    assert_eq!(bound_by(&r, c), Some(BoundBy::rule(0)));

    let out = r.advance_ms(WAIT_MS + 20);
    assert_eq!(
        out.len() as u64,
        waits,
        "each waiting flow sent on at wait_ms"
    );
    assert_eq!(waiting(&r, 0), 0);
    eprintln!("random datagrams ({malformed}): {waits} waited for a second one");
    drain(&mut r, 0);
}

#[test]
fn udp_first_data_cases() {
    udp_cases("default");
}

#[test]
fn udp_first_data_cases_refuse() {
    udp_cases("refuse");
}

// ---- 3. floods -----------------------------------------------------------

const FLOOD: u64 = 5000;

fn flood_client(i: u64) -> Flow {
    Flow {
        ip: format!("198.18.0.{}", 20 + i / 1000).parse().unwrap(),
        vip: vip4(),
        port: 1024 + (i % 1000) as u16,
        vport: WEB,
    }
}

/// 5,000 cookie handshakes that send no data.
#[test]
fn flood_of_silent_handshakes() {
    let mut r = rig(2, "default");
    let mut busy = Vec::new();
    let mut cookie0 = 0;
    for i in 0..FLOOD {
        let c = flood_client(i);
        let (ck, out) = connect(&mut r, c);
        if i == 0 {
            cookie0 = ck;
        }
        if i < WAITING_MAX {
            assert!(out.is_empty(), "#{i} waits: {out:?}");
        } else {
            let (s, label) = replayed_syn(&out);
            assert_eq!(s, 0, "the default pool");
            busy.push((c, s, label));
        }
    }
    assert_eq!(r.event(Event::FirstDataWaits), FLOOD);
    assert_eq!(r.event(Event::FirstDataBusy), FLOOD - WAITING_MAX);
    assert_eq!(waiting(&r, 0), WAITING_MAX);
    assert_eq!(bound_by(&r, busy[0].0), Some(BoundBy::fallback(BUSY)));
    // The busy ones' servers answer: their handshakes end.
    for (c, s, label) in &busy {
        assert_eq!(server_answers(&mut r, *c, *s, *label).len(), 1, "the ACK");
    }
    // A waiting one's repeated ACKs: at most WAIT_HELD_MAX frames held.
    let held = r.event(Event::FirstDataHeld);
    let c = flood_client(0);
    for _ in 0..WAIT_HELD_MAX - 2 {
        let ack = c
            .tcp()
            .flags(ACK)
            .seq(1001)
            .ack(cookie0.wrapping_add(1))
            .build();
        assert!(r.send(CLIENT, &ack).is_empty());
    }
    assert_eq!(r.event(Event::FirstDataHeld) - held, WAIT_HELD_MAX - 2);
    // wait_ms: every waiting one to the default pool, by timeout.
    let drops = all_drops(&r);
    let out = r.advance_ms(WAIT_MS + 20);
    let syns = replayed_syns(&out);
    assert_eq!(
        syns.len() as u64,
        WAITING_MAX,
        "drops {}",
        all_drops(&r) - drops
    );
    assert_eq!(out.len() as u64, WAITING_MAX);
    assert!(syns.iter().all(|s| s.0 == 0));
    assert_eq!(r.event(Event::FirstDataTimeout), WAITING_MAX);
    assert_eq!(waiting(&r, 0), 0);
    assert_eq!(all_drops(&r), drops, "nothing dropped");
    assert_eq!(r.active_sessions() as u64, FLOOD);
    // The repeated ACKs follow the held ACK to the server.
    let (_, l) = syns
        .iter()
        .copied()
        .find(|(_, l)| session_of(&r, *l) == Some((c.ip, c.port)))
        .unwrap();
    let before = r.counters();
    let n = server_answers(&mut r, c, 0, l).len() as u64;
    assert_eq!(
        n,
        WAIT_HELD_MAX - 1,
        "{:?}",
        drops_moved(&before, &r.counters())
    );
    drain(&mut r, 0);
}

/// The client of the session on label `c2s`.
fn session_of(r: &Rig, c2s: u32) -> Option<(std::net::IpAddr, u16)> {
    r.dp.scheduler
        .core()
        .sessions()
        .iter()
        .find(|(_, s)| s.labels().c2s() == c2s)
        .map(|(_, s)| (s.key().client, s.key().client_port))
}

/// 5,000 QUIC flows whose first Initial carries half a ClientHello.
#[test]
fn flood_of_incomplete_quic_initials() {
    let mut r = rig(2, "default");
    let hello = client_hello_message("api.example.com", 1713);
    for i in 0..FLOOD {
        let mut c = flood_client(i);
        c.vport = H3;
        let dcid = i.to_be_bytes();
        let out = r.send(
            CLIENT,
            &c.datagram(&quic_initial(1, &dcid, 0, 0, &hello[..1000])),
        );
        if i < WAITING_MAX {
            assert!(out.is_empty(), "#{i} waits");
        } else {
            assert_eq!(out.len(), 1, "#{i} sent on at once");
            assert_eq!(server_of(&unlabel(&out[0].1).2), 0);
        }
    }
    assert_eq!(r.event(Event::FirstDataBusy), FLOOD - WAITING_MAX);
    assert_eq!(waiting(&r, 0), WAITING_MAX);
    let out = r.advance_ms(WAIT_MS + 20);
    assert_eq!(out.len() as u64, WAITING_MAX);
    assert_eq!(r.event(Event::FirstDataTimeout), WAITING_MAX);
    assert_eq!(all_drops(&r), 0, "nothing dropped");
    drain(&mut r, 0);
}
