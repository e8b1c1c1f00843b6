//! Instruction cost of delayed binding (`syn_proxy`, issue 16), for
//! callgrind.
//!
//! Assembles slbd's data path from a configuration (`datapath::assemble`
//! on `VecFrame`s, as `admission_cost` does) whose first service has
//! `syn_proxy` and whose second (same VIP, another port) has not, over
//! servers with static neighbours, and runs `flows` unique client 5-tuples
//! through the whole exchange, one counted phase per step:
//!
//! - `run_cookie`: the clients' SYNs (MSS, SACK-permitted, timestamps,
//!   window scale: 74 bytes) through worker 0's `FastPath::process` in
//!   bursts of 32, staged (`prepare`) as the poll loop stages them: each
//!   becomes its cookie SYN-ACK in place, out of port 0;
//! - `run_bind`: the clients' cookie ACKs (built from the SYN-ACKs' seq)
//!   through the worker (flow-cache miss, punt) and `Scheduler::poll`:
//!   the cookie checked, the session admitted (label pair, no table
//!   entry), the marked SYN built and sent to the server;
//! - `run_complete`: the servers' SYN-ACKs (label N+1, from the server's
//!   MAC, on port 1) through the worker (unknown label, punt) and
//!   `Scheduler::poll`: consumed, the session installed on every replica
//!   and in the flow cache, the held ACK replayed marked;
//! - `run_punt`: for comparison, the worker's share of an ordinary (L4)
//!   SYN: the same clients' SYNs to the second service through worker 0
//!   (flow-cache miss, punt), staged as `run_cookie`'s; the scheduler's
//!   admission of them runs between the counted calls.
//!
//! `run_bind` and `run_complete` hand bursts of 32 to the worker without
//! staging and poll the scheduler until its punt queue is empty, as
//! `admission_cost`'s `run_admit` does (figure 3i), so the two compare.
//! They run in rounds of at most `ROUND` flows (the scheduler holds at
//! most 4096 handshakes waiting for their servers); callgrind's inclusive
//! count of a function sums over its calls.
//!
//! Each phase must have produced exactly the frames expected (N SYN-ACKs
//! on port 0; N marked SYNs to the servers; N marked replayed ACKs; N
//! punts) and the counters must agree, or the harness panics: a cost of a
//! path that did nothing would be a lie. Under
//!
//! ```text
//! valgrind --tool=callgrind \
//!     target/release/examples/splice_cost config/examples/bench-splice.json 20000
//! ```
//!
//! instructions of a phase / flows is its per-flow cost (frame allocation
//! and the building of the next phase's frames happen outside).
//!
//! With FIRST_DATA `http` or `tls` (layer-7 rules, issue 17), service 0
//! must have rules: its cookie ACKs wait for their first data, and a
//! fourth counted phase runs between bind and complete:
//!
//! - `run_data`: each client's first data segment (an HTTP/1.1 request,
//!   or a 517-byte TLS ClientHello with SNI, as curl sends them) through
//!   the worker (punt) and `Scheduler::poll`: held, read by the rules, the
//!   session admitted to the rule's pool, the marked SYN sent;
//!
//! and `run_complete` replays the ACK and that segment (2 frames a flow).
//! With FIRST_DATA `none`, service 0 has no rules (figure 3c).
//!
//! The wall time of bind + data + complete on this one thread is printed
//! too (`ns_per_session`): the run is one core's work, so 1e9 / it is the
//! rate of new sessions one scheduler core binds (figure 3l runs it
//! outside valgrind, beside `admission_cost`'s).
//!
//! Usage: splice_cost CONFIG FLOWS FIRST_DATA

use slb_appliance::counters::{Event, Snapshot};
mod common;

use slb_appliance::datapath::{DataPath, PRELOAD_CLIENT_MAC};
use slb_appliance::frame::{Frame, VecFrame};
use slb_appliance::worker::FastPath;
use slb_wire::classify::{classify, LabelledFrame};
use slb_wire::{Classified, FrameBuilder, MacAddr, TcpFlags};
use std::net::{IpAddr, Ipv4Addr};

type Dp = DataPath<VecFrame>;
type Out = Vec<(usize, VecFrame)>;

const BURST: usize = 32;
/// Flows bound and completed per round (the scheduler's bound on waiting
/// handshakes is 4096).
const ROUND: usize = 2048;
/// Unix ms when the data path's clock reads 0.
const EPOCH_MS: u64 = 1_800_000_000_000;
/// The data path's clock (ns) during the run: constant, so no handshake
/// is retried.
const NOW: u64 = 1_000_000_000;
const CLIENT_ISN: u32 = 1000;
const CLIENT_TSVAL: u32 = 77;
const SERVER_ISN: u32 = 5000;
const SERVER_TSVAL: u32 = 900;
const CLIENT_PORT: usize = 0;
const SERVER_PORT: usize = 1;

#[inline(never)]
fn run_cookie(fp: &mut FastPath<VecFrame>, bursts: &mut [Vec<VecFrame>], out: &mut Out) {
    for burst in bursts.iter_mut() {
        fp.prepare(burst.iter());
        for f in burst.drain(..) {
            if let Some(o) = fp.process(CLIENT_PORT, f) {
                out.push(o);
            }
        }
    }
}

#[inline(never)]
fn run_punt(fp: &mut FastPath<VecFrame>, burst: &mut Vec<VecFrame>, out: &mut Out) {
    fp.prepare(burst.iter());
    for f in burst.drain(..) {
        if let Some(o) = fp.process(CLIENT_PORT, f) {
            out.push(o);
        }
    }
}

#[inline(never)]
fn run_bind(dp: &mut Dp, frames: &mut Vec<VecFrame>, out: &mut Out) {
    via_scheduler(dp, frames, CLIENT_PORT, out);
}

#[inline(never)]
fn run_data(dp: &mut Dp, frames: &mut Vec<VecFrame>, out: &mut Out) {
    // Not the same machine code as `run_bind` (the linker would fold the
    // two into one symbol, and callgrind count both phases as one).
    std::hint::black_box(frames.len());
    via_scheduler(dp, frames, CLIENT_PORT, out);
}

#[inline(never)]
fn run_complete(dp: &mut Dp, frames: &mut Vec<VecFrame>, out: &mut Out) {
    via_scheduler(dp, frames, SERVER_PORT, out);
}

/// As `admission_cost`'s `run_admit`: bursts of 32 through worker 0,
/// then the scheduler until it is idle, then the worker's flow-cache ops.
#[inline(always)]
fn via_scheduler(dp: &mut Dp, frames: &mut Vec<VecFrame>, port: usize, out: &mut Out) {
    let mut sink = |p: usize, f: VecFrame| out.push((p, f));
    let mut it = frames.drain(..);
    loop {
        let mut n = 0;
        for f in it.by_ref().take(BURST) {
            n += 1;
            if let Some(o) = dp.workers[0].process(port, f) {
                sink(o.0, o.1);
            }
        }
        while dp.scheduler.poll(NOW, &mut sink) > 0 {}
        dp.workers[0].apply_ops();
        if n < BURST {
            break;
        }
    }
}

/// Every lcore's counters added up.
fn counters(dp: &Dp) -> Snapshot {
    let mut s = dp.scheduler_counters.snapshot();
    for c in &dp.worker_counters {
        s.add(&c.snapshot());
    }
    s
}

fn drops(s: &Snapshot) -> Vec<(&'static str, u64)> {
    s.drops().filter(|(_, n)| *n > 0).collect()
}

/// Client `i`: 198.20.0.0/16, ports 1024..=65535 (unique 5-tuples).
fn client(i: u32) -> (IpAddr, u16) {
    let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 20, 0, 0)) + i / 64000);
    (IpAddr::V4(ip), 1024 + (i % 64000) as u16)
}

/// Timestamps option, NOP-padded (12 bytes).
fn ts_option(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend(tsval.to_be_bytes());
    o.extend(tsecr.to_be_bytes());
    o
}

/// A Linux-like SYN's (or SYN-ACK's) options: MSS 1460, SACK-permitted,
/// timestamps, window scale 7 (20 bytes).
fn handshake_options(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut o = vec![2, 4, 0x05, 0xb4, 4, 2, 8, 10];
    o.extend(tsval.to_be_bytes());
    o.extend(tsecr.to_be_bytes());
    o.extend([1, 3, 3, 7]);
    o
}

fn padded(mut f: Vec<u8>) -> Vec<u8> {
    f.resize(f.len().max(60), 0);
    f
}

/// The client index of `client(i)`.
fn index(ip: IpAddr, port: u16) -> usize {
    let IpAddr::V4(ip) = ip else {
        panic!("not a client: {ip}");
    };
    let hi = u32::from(ip) - u32::from(Ipv4Addr::new(198, 20, 0, 0));
    hi as usize * 64000 + usize::from(port - 1024)
}

/// The TCP header of an IP frame to a client: (seq, flags, the client's
/// index).
fn tcp_of(f: &[u8]) -> (u32, TcpFlags, usize) {
    let Ok(Classified::Ip(ip)) = classify(f) else {
        panic!("not an IP frame: {f:02x?}");
    };
    let o = ip.l4_offset;
    let seq = u32::from_be_bytes(f[o + 4..o + 8].try_into().expect("4 bytes"));
    let i = index(ip.flow.dst, ip.flow.dst_port);
    (seq, TcpFlags(f[o + 13]), i)
}

/// A client's labelled frame: (what classification saw, the client's
/// index, the inner TCP sequence number).
fn labelled_of(f: &[u8]) -> (LabelledFrame, usize, u32) {
    let Ok(Classified::Labelled(lf)) = classify(f) else {
        panic!("not a labelled frame: {f:02x?}");
    };
    let ihl = usize::from(f[lf.inner_offset] & 0x0f) * 4;
    let t = lf.inner_offset + ihl;
    let sport = u16::from_be_bytes([f[t], f[t + 1]]);
    let seq = u32::from_be_bytes(f[t + 4..t + 8].try_into().expect("4 bytes"));
    (lf, index(lf.inner_src, sport), seq)
}

/// One flow between phases.
#[derive(Clone, Copy, Default)]
struct Flow {
    cookie: u32,
    c2s: u32,
    server_mac: [u8; 6],
}

fn main() {
    let a = common::args("splice_cost CONFIG FLOWS FIRST_DATA");
    let (cfg, mut dp) = common::data_path(&a[0]);
    let n: u32 = a[1].parse().expect("FLOWS");
    assert!(n > 0, "FLOWS must be at least 1");
    let first_data: Option<Vec<u8>> = match a[2].as_str() {
        "none" => None,
        "http" => Some(
            b"GET /v1/items?id=7 HTTP/1.1\r\nHost: api.example.com\r\n\
              User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
                .to_vec(),
        ),
        "tls" => Some(common::client_hello("api.example.com", 517)),
        other => panic!("FIRST_DATA is none, http or tls (got {other})"),
    };
    assert_eq!(
        cfg.services[0].rules.is_empty(),
        first_data.is_none(),
        "service 0 has rules exactly when FIRST_DATA is http or tls"
    );
    let mut wall = std::time::Duration::ZERO;
    let proxied = &cfg.services[0];
    let l4 = cfg
        .services
        .get(1)
        .expect("a second service (without syn_proxy)");
    assert!(
        proxied.syn_proxy.is_some() && l4.syn_proxy.is_none(),
        "service 0 with syn_proxy, service 1 without"
    );
    let vip = proxied.vip;
    let vport = proxied.port;
    // The scheduler's first round sets the wall clock the workers'
    // cookies read.
    dp.shared.set_wall_epoch_ms(EPOCH_MS);
    while dp.scheduler.poll(NOW, &mut |_, _| {}) > 0 {}
    dp.workers[0].apply_ops();
    let wall_ms = EPOCH_MS + NOW / 1_000_000;
    let n_us = n as usize;
    let mut out: Out = Vec::with_capacity(n_us);
    let mut flows = vec![Flow::default(); n_us];

    // 1. SYNs -> cookie SYN-ACKs.
    let syn = |i: u32, port: u16| {
        let (c, cport) = client(i);
        let f = FrameBuilder::tcp(
            MacAddr(PRELOAD_CLIENT_MAC),
            MacAddr(common::port_mac(CLIENT_PORT)),
            c,
            vip,
            cport,
            port,
        )
        .flags(TcpFlags::SYN)
        .seq(CLIENT_ISN)
        .window(64240)
        .tcp_options(&handshake_options(CLIENT_TSVAL, 0))
        .build();
        padded(f)
    };
    let mut bursts: Vec<Vec<VecFrame>> = (0..n)
        .collect::<Vec<_>>()
        .chunks(BURST)
        .map(|c| c.iter().map(|&i| VecFrame::new(&syn(i, vport))).collect())
        .collect();
    run_cookie(&mut dp.workers[0], &mut bursts, &mut out);
    assert_eq!(out.len(), n_us, "one frame out per SYN");
    for (i, (port, f)) in out.drain(..).enumerate() {
        let (seq, flags, to) = tcp_of(f.data());
        assert_eq!(port, CLIENT_PORT, "SYN-ACK {i} out of the client port");
        assert_eq!(
            flags,
            TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0),
            "SYN-ACK {i}"
        );
        assert_eq!(to, i, "SYN-ACK {i} to its client");
        flows[i].cookie = seq;
    }
    let c = counters(&dp);
    assert_eq!(c.event(Event::SynCookiesSent), u64::from(n), "cookies sent");
    assert_eq!(c.event(Event::PuntedNew), 0, "no SYN punted");
    assert_eq!(c.total_drops(), 0, "drops: {:?}", drops(&c));

    // 2 and 3, in rounds: cookie ACKs -> marked SYNs to the servers; the
    // servers' SYN-ACKs -> marked replayed ACKs.
    for round in (0..n_us).collect::<Vec<_>>().chunks(ROUND) {
        // The client's segments after its SYN: the cookie ACK (no data,
        // padded to 60 bytes), then the first data with PSH.
        let after_syn = |i: usize, payload: &[u8]| {
            let (c, cport) = client(i as u32);
            let flags = if payload.is_empty() {
                TcpFlags::ACK
            } else {
                TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0)
            };
            let f = FrameBuilder::tcp(
                MacAddr(PRELOAD_CLIENT_MAC),
                MacAddr(common::port_mac(CLIENT_PORT)),
                c,
                vip,
                cport,
                vport,
            )
            .flags(flags)
            .seq(CLIENT_ISN.wrapping_add(1))
            .ack(flows[i].cookie.wrapping_add(1))
            .window(502)
            .tcp_options(&ts_option(CLIENT_TSVAL + 1, wall_ms as u32))
            .payload(payload)
            .build();
            VecFrame::new(&padded(f))
        };
        let mut acks: Vec<VecFrame> = round.iter().map(|&i| after_syn(i, &[])).collect();
        let t = std::time::Instant::now();
        run_bind(&mut dp, &mut acks, &mut out);
        wall += t.elapsed();
        if let Some(payload) = &first_data {
            assert!(out.is_empty(), "a cookie ACK waits for the first data");
            let mut data: Vec<VecFrame> = round.iter().map(|&i| after_syn(i, payload)).collect();
            let t = std::time::Instant::now();
            run_data(&mut dp, &mut data, &mut out);
            wall += t.elapsed();
        }
        assert_eq!(out.len(), round.len(), "one SYN to a server per cookie ACK");
        for (port, f) in out.drain(..) {
            let d = f.data();
            let (lf, i, seq) = labelled_of(d);
            assert_eq!(port, SERVER_PORT, "the SYN out of the server port");
            assert_eq!(lf.tcp_flags, Some(TcpFlags::SYN), "a SYN");
            assert_eq!(lf.lse.tc, 1, "marked");
            assert_eq!(lf.lse.label.value() & 1, 1, "a client-to-server label");
            assert_eq!(seq, CLIENT_ISN, "the client's ISN");
            assert!(round.contains(&i), "a SYN of this round's clients");
            flows[i].c2s = lf.lse.label.value();
            flows[i].server_mac.copy_from_slice(&d[..6]);
            if first_data.is_some() {
                // The rules' pool: s3 and s4 (api).
                assert!(
                    d[5] == 0x0d || d[5] == 0x0e,
                    "to the api pool: {:02x?}",
                    &d[..6]
                );
            }
        }
        let mut answers: Vec<VecFrame> = round
            .iter()
            .map(|&i| {
                let (c, cport) = client(i as u32);
                let fl = flows[i];
                let f = FrameBuilder::tcp(
                    MacAddr(fl.server_mac),
                    MacAddr(common::port_mac(SERVER_PORT)),
                    vip,
                    c,
                    vport,
                    cport,
                )
                .label(fl.c2s + 1)
                .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
                .seq(SERVER_ISN)
                .ack(CLIENT_ISN.wrapping_add(1))
                .window(65160)
                .tcp_options(&handshake_options(SERVER_TSVAL, CLIENT_TSVAL + 1))
                .build();
                VecFrame::new(&padded(f))
            })
            .collect();
        let t = std::time::Instant::now();
        run_complete(&mut dp, &mut answers, &mut out);
        wall += t.elapsed();
        let per_flow = 1 + usize::from(first_data.is_some());
        assert_eq!(
            out.len(),
            round.len() * per_flow,
            "one replayed ACK (and the first data) per server SYN-ACK"
        );
        for (port, f) in out.drain(..).step_by(per_flow) {
            let (lf, i, seq) = labelled_of(f.data());
            assert_eq!(port, SERVER_PORT, "the ACK out of the server port");
            assert_eq!(lf.tcp_flags, Some(TcpFlags::ACK), "the client's ACK");
            assert_eq!(lf.lse.tc, 1, "marked");
            assert_eq!(lf.lse.label.value(), flows[i].c2s, "on the session's label");
            assert_eq!(seq, CLIENT_ISN.wrapping_add(1), "as the client sent it");
        }
    }
    let c = counters(&dp);
    assert_eq!(
        c.event(Event::SynCookiesValid),
        u64::from(n),
        "cookies valid"
    );
    assert_eq!(
        c.event(Event::SessionsSpliced),
        u64::from(n),
        "sessions spliced"
    );
    assert_eq!(c.total_drops(), 0, "drops: {:?}", drops(&c));
    assert_eq!(dp.scheduler.core().labels().counts().active, n, "sessions");

    // 4. The worker's share of an L4 SYN: punted (the scheduler admits
    // them outside the counted calls).
    let punted = c.event(Event::PuntedNew);
    for chunk in (0..n).collect::<Vec<_>>().chunks(BURST) {
        let mut burst: Vec<VecFrame> = chunk
            .iter()
            .map(|&i| VecFrame::new(&syn(i, l4.port)))
            .collect();
        run_punt(&mut dp.workers[0], &mut burst, &mut out);
        assert!(out.is_empty(), "an L4 SYN is punted, not sent");
        while dp.scheduler.poll(NOW, &mut |p, f| out.push((p, f))) > 0 {}
        dp.workers[0].apply_ops();
        assert_eq!(out.len(), chunk.len(), "every L4 SYN admitted and sent");
        out.clear();
    }
    let c = counters(&dp);
    assert_eq!(
        c.event(Event::PuntedNew) - punted,
        u64::from(n),
        "L4 SYNs punted"
    );
    assert_eq!(c.total_drops(), 0, "drops: {:?}", drops(&c));
    if first_data.is_some() {
        assert_eq!(
            c.event(Event::FirstDataRuleMatched),
            u64::from(n),
            "every session bound by a rule"
        );
    }
    println!(
        "flows={n} cookies={} bound={} spliced={} l4_punted={} rule_matched={}",
        c.event(Event::SynCookiesSent),
        c.event(Event::SynCookiesValid),
        c.event(Event::SessionsSpliced),
        c.event(Event::PuntedNew) - punted,
        c.event(Event::FirstDataRuleMatched),
    );
    println!(
        "ns_per_session={:.1}",
        wall.as_nanos() as f64 / f64::from(n)
    );
}
