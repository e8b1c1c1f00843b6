//! slb-sync-cost: what session sync (issue 15) costs the scheduler core.
//!
//! ```text
//! slb-sync-cost [--sessions N (100000)] [--rounds R (5)]
//! ```
//!
//! Builds the data path in process (one worker; instance 0 of 2 with
//! `cluster.sync` on, its peer alive by an ARP reply), installs N
//! established sessions of its own, moves the clock past `after_ms` (100 ms
//! here) and on 1 ms a round (the scan is paced by the clock), and
//! turns the scheduler (`poll_loop::round`, the whole round as slbd runs
//! it) until every session has gone out in a sync datagram: the time
//! per record synced (scan, record, encode, frame build and allocation),
//! the datagrams and bytes sent. Then turns it over the same sessions,
//! all synced, to time a scan that finds nothing due (per slot). R runs,
//! the best of them. Prints the figures and what they mean at 1 M new
//! sessions/s (docs/performance.md, "Session sync"). Heavy: run it under
//! `flock /tmp/slb-heavy.lock`, in release mode.

use slb_appliance::counters::Event;
use slb_appliance::frame::VecFrame;
use slb_appliance::scheduler::poll_loop::round;
use slb_appliance::scheduler::sync_state::SCAN_PER_ROUND;
use slb_core::session::{Origin, Protocol, SessionKey, SessionState};
use slb_core::SessionRecord;
use slb_tests::golden::net::{port_mac, Net, CLIENT, PORT_MACS};
use slb_tests::golden::row::Family;
use slb_tests::golden::Rig;
use slb_wire::builder::arp_reply;
use slb_wire::MacAddr;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

const PEER_MAC: MacAddr = MacAddr([0x02, 0x5b, 0, 0, 1, 0]);

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: a number")))
        .unwrap_or(default)
}

/// Instance 0 (at the rig's 198.18.0.1) or, `receiver`, instance 1 at
/// 198.18.0.2.
fn config(n: &Net, sessions: u64, receiver: bool) -> String {
    let service = n.service(
        "web",
        80,
        serde_json::json!({ "client_mode": "plain", "algorithm": "least_connections" }),
        &[(0, serde_json::json!({}))],
    );
    let (me, peer) = if receiver {
        (1, "198.18.0.1")
    } else {
        (0, "198.18.0.2")
    };
    let text = n.config(
        serde_json::json!({
            "cluster": {
                "instance": me, "instances": 2,
                "peers": [{ "instance": 1 - me, "address": peer }],
                "sync": { "after_ms": 100, "refresh_ms": 3_600_000, "dump_wait_ms": 0 }
            }
        }),
        vec![service],
    );
    assert!(sessions < 250_000, "labels of instance 0's slice");
    if !receiver {
        return text;
    }
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    doc["ports"][0]["ipv4"] = serde_json::json!("198.18.0.2/24");
    doc.to_string()
}

struct Run {
    sync_ns: f64,
    records: u64,
    frames: u64,
    bytes: u64,
    idle_ns_per_slot: f64,
    slots: usize,
    /// Scheduler time receiving them all at the peer (worker punt
    /// excluded): parse, install (labels on every core, flows queued).
    receive_ns: f64,
    installed: u64,
}

fn run(sessions: u64) -> Run {
    let n = Net::new(Family::V4);
    let mut rig = Rig::with_macs(&config(&n, sessions, false), 1, &PORT_MACS);
    rig.settle();
    let peer: Ipv4Addr = "198.18.0.2".parse().unwrap();
    let IpAddr::V4(own) = n.port_ip[CLIENT] else {
        unreachable!()
    };
    rig.send(CLIENT, &arp_reply(PEER_MAC, peer, port_mac(CLIENT), own));
    let now = rig.now;
    for i in 0..sessions {
        let rec = SessionRecord {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: n.vip,
                vip_port: 80,
                client: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i / 50_000) as u32)),
                client_port: 10_000 + (i % 50_000) as u16,
            },
            c2s: 17 + 2 * i as u32,
            server: n.servers[0].ip,
            client_mac: n.c2.mac.0,
            ingress_port: 0,
            state: SessionState::Established,
            remaining_ms: 900_000,
            age_ms: 0,
            replied: true,
            ended: false,
        };
        rig.dp
            .scheduler
            .install_record(&rec, Origin::Restored, now)
            .expect("installed");
    }
    // The installs' flow-cache entries into the scheduler's own cache
    // (not sync work: a bounded batch a round, which `settle` does not
    // count as work); nothing is due yet.
    let sched = &mut rig.dp.scheduler;
    for _ in 0..sessions {
        round(sched, now, &mut |_p, _f: VecFrame| {});
    }
    assert_eq!(sched.counters().snapshot().event(Event::SyncRecordsSent), 0);
    // The peer answers again (alive for 1 s), the clock past the
    // threshold (100 ms); then 1 ms a round: the scan is paced by the
    // clock (every slot once per 100 ms), so this lets it visit its most
    // a round.
    let answer = arp_reply(PEER_MAC, peer, port_mac(CLIENT), own);
    let mut now = now + 200_000_000;
    // (Taken in by the first timed round.)
    sched.receive(CLIENT, VecFrame::new(&answer));
    let before = sched.counters().snapshot().event(Event::SyncRecordsSent);
    let mut datagrams: Vec<Vec<u8>> = Vec::with_capacity(sessions as usize / 16);
    let t = Instant::now();
    let mut rounds = 0;
    while sched.counters().snapshot().event(Event::SyncRecordsSent) - before < sessions {
        for _ in 0..16 {
            now += 1_000_000;
            let mut sink = |_p: usize, f: VecFrame| datagrams.push(f.into_vec());
            round(sched, now, &mut sink);
        }
        rounds += 16;
        let c = sched.counters().snapshot();
        assert!(
            rounds < 600,
            "sync did not finish while the peer was alive: {} records sent, {} neighbour punts",
            c.event(Event::SyncRecordsSent) - before,
            c.event(Event::PuntedNeighbour)
        );
    }
    let sync_ns = t.elapsed().as_nanos() as f64;
    let records = sched.counters().snapshot().event(Event::SyncRecordsSent) - before;
    // (The peer's ARP probes, one a 200 ms, are not datagrams.)
    datagrams.retain(|f| is_sync(f));
    let frames = datagrams.len() as u64;
    let bytes = datagrams.iter().map(|f| f.len() as u64).sum();
    // Nothing due now: the scan alone, over every slot a few times.
    let slots = sched.core().sessions().slot_count();
    let idle_rounds = 4 * slots.div_ceil(SCAN_PER_ROUND);
    let mut idle_ns = 0.0;
    let mut idle_frames = 0;
    for k in 0..idle_rounds {
        if k % 500 == 0 {
            sched.receive(CLIENT, VecFrame::new(&answer));
        }
        now += 1_000_000;
        let t = Instant::now();
        round(sched, now, &mut |_p, f: VecFrame| {
            idle_frames += usize::from(is_sync(&f.into_vec()));
        });
        idle_ns += t.elapsed().as_nanos() as f64;
    }
    assert_eq!(idle_frames, 0, "nothing was due");
    // The peer's side: every datagram into its scheduler's own RX (the
    // punt queue holds 1,024), a round per 64 (its punts a round).
    let mut b = Rig::with_macs(
        &config(&n, sessions, true),
        1,
        &[PEER_MAC.0, [0x02, 0x5b, 0, 0, 1, 1]],
    );
    b.settle();
    let sched = &mut b.dp.scheduler;
    let now = b.now;
    let t = Instant::now();
    for chunk in datagrams.chunks(64) {
        for f in chunk {
            let left = sched.receive(CLIENT, VecFrame::new(f));
            assert!(left.is_none(), "a datagram is punted");
        }
        round(sched, now, &mut |_p, _f: VecFrame| {});
    }
    let receive_ns = t.elapsed().as_nanos() as f64;
    let c = sched.counters().snapshot();
    assert_eq!(c.event(Event::SyncBadDatagrams), 0, "every datagram good");
    let installed = c.event(Event::SyncInstalled);
    Run {
        receive_ns,
        installed,
        sync_ns,
        records,
        frames,
        bytes,
        idle_ns_per_slot: idle_ns / (idle_rounds * SCAN_PER_ROUND) as f64,
        slots,
    }
}

fn is_sync(f: &[u8]) -> bool {
    slb_wire::flow::extract(f).is_ok_and(|k| k.dst_port == 7471)
}

fn main() {
    let sessions = arg("--sessions", 100_000);
    let rounds = arg("--rounds", 5);
    let runs: Vec<Run> = (0..rounds).map(|_| run(sessions)).collect();
    let best = runs
        .iter()
        .min_by(|a, b| a.sync_ns.total_cmp(&b.sync_ns))
        .expect("a run");
    let idle = runs
        .iter()
        .map(|r| r.idle_ns_per_slot)
        .fold(f64::INFINITY, f64::min);
    let per_record = best.sync_ns / best.records as f64;
    let bytes_per_record = best.bytes as f64 / best.records as f64;
    println!(
        "{} sessions synced in {:.1} ms (best of {rounds}): {:.0} ns per record, \
         {} datagrams ({:.1} records each), {:.1} bytes on the wire per record (Ethernet header, no FCS)",
        best.records,
        best.sync_ns / 1e6,
        per_record,
        best.frames,
        best.records as f64 / best.frames as f64,
        bytes_per_record,
    );
    println!(
        "scan with nothing due: {idle:.1} ns per slot ({} slots)",
        best.slots
    );
    let rx = runs
        .iter()
        .min_by(|a, b| a.receive_ns.total_cmp(&b.receive_ns))
        .expect("a run");
    let per_install = rx.receive_ns / rx.installed as f64;
    println!(
        "receiving: {} records installed in {:.1} ms: {per_install:.0} ns per record \
         (parse, install on every core; the worker's punt not counted)",
        rx.installed,
        rx.receive_ns / 1e6
    );
    // The scan visits every slot once per period (250 ms for after_ms
    // 1000), whatever is due.
    for live in [1e6, 5e6] {
        println!(
            "scan of {:.0} M live sessions every 250 ms: {:.0} % of the scheduler core",
            live / 1e6,
            live / 0.25 * idle / 1e9 * 100.0
        );
    }
    for (what, rate) in [
        ("every session outlives 1 s (worst case)", 1.0),
        ("a fifth outlives 1 s", 0.2),
    ] {
        // Each synced session: one record when it is 1 s old, one ended
        // record when it ends (refreshes: one per refresh_ms of its life,
        // not counted: 60 s by default).
        let records = 2.0 * 1e6 * rate;
        let core = records * per_record / 1e9;
        // Every peer receives every instance's records: with n
        // instances each receives (n - 1) times its own rate.
        println!(
            "at 1 M new sessions/s, {what}: {:.2} M records/s, {:.0} MB/s per peer, \
             {:.0} % of the scheduler core to send them (plus the scan), \
             {:.0} % of a peer's to receive as many",
            records / 1e6,
            records * bytes_per_record / 1e6,
            core * 100.0,
            records * per_install / 1e9 * 100.0
        );
    }
}
