//! The golden table through the real slbd: the same frames go through the
//! deterministic rig (pure Rust) and through slbd on DPDK `net_pcap` ports
//! (pcap in -> slbd -> pcap out, balance mode, real lcores and mbufs). Both
//! must send the same frames out of the same ports and count the same
//! drops. Rows whose outcome depends on time passing (linger, quarantine,
//! idle timeouts) run in the rig only (`golden_table.rs`,
//! `golden_admission.rs`), where the clock is the test's.
//!
//! Each port's frames reach one worker in order (RX queue 0), and the
//! scheduler handles punts in order, so the outcome is deterministic; which
//! lcore sent a frame (worker or scheduler) is not, so outputs compare as
//! per-port multisets.

use slb_tests::golden::Rig;
use slb_tests::pcap_run;
use slb_wire::builder::{self, FrameBuilder};
use slb_wire::{Lse, MacAddr, TcpFlags};
use std::net::IpAddr;

/// The MACs DPDK's net_pcap gives ports net_pcap0 and net_pcap1.
const PCAP_MACS: [[u8; 6]; 2] = [
    [0x02, 0x70, 0x63, 0x61, 0x70, 0x00],
    [0x02, 0x70, 0x63, 0x61, 0x70, 0x01],
];

const C1: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x11]);
const C2: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x12]);
const S1: MacAddr = MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x11]);

fn pm(p: usize) -> MacAddr {
    MacAddr(PCAP_MACS[p])
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const CONFIG: &str = r#"{
  "ports": [
    { "name": "client", "device": "net_pcap0", "role": "client",
      "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" },
    { "name": "server", "device": "net_pcap1", "role": "server",
      "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }
  ],
  "neighbours": [
    { "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" },
    { "address": "2001:db8:1::11", "mac": "02:5e:00:00:01:11" }
  ],
  "services": [
    { "name": "plain", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "health": { "kind": "none" },
      "servers": [ { "name": "s1", "address": "198.18.1.11" } ] },
    { "name": "aware", "vip": "198.18.100.1", "port": 81, "protocol": "tcp", "client_mode": "label", "health": { "kind": "none" },
      "servers": [ { "name": "s1", "address": "198.18.1.11" } ] },
    { "name": "plain6", "vip": "2001:db8:100::1", "port": 80, "protocol": "tcp", "health": { "kind": "none" },
      "servers": [ { "name": "s1", "address": "2001:db8:1::11" } ] },
    { "name": "closed", "vip": "198.18.100.1", "port": 82, "protocol": "tcp", "health": { "kind": "none" },
      "servers": [ { "name": "s1", "address": "198.18.1.11", "state": "disabled" } ] }
  ]
}"#;

/// The frames of each port, in order. Labels are deterministic: the
/// client port's SYNs come first, in this order, so c2's session gets
/// 17/18, c1's 19/20, c2's IPv6 session 21/22.
fn scenario() -> Vec<Vec<Vec<u8>>> {
    let (c1, c2, vip) = (ip("198.18.0.11"), ip("198.18.0.12"), ip("198.18.100.1"));
    let (c2v6, vip6) = (ip("2001:db8::12"), ip("2001:db8:100::1"));
    let syn = |mac, src, dst, sport, dport| {
        FrameBuilder::tcp(mac, pm(0), src, dst, sport, dport)
            .flags(TcpFlags::SYN)
            .seq(1000)
            .mss(1460)
            .build()
    };
    let client = vec![
        // Rows 1 and 5: SYNs (one repeated) -> labelled to s1, MSS clamped.
        syn(C2, c2, vip, 40000, 80),
        syn(C1, c1, vip, 41000, 81),
        syn(C2, c2v6, vip6, 40000, 80),
        syn(C2, c2, vip, 40000, 80),
        // Row 4: plain client's unlabelled ACK -> 17 pushed.
        FrameBuilder::tcp(C2, pm(0), c2, vip, 40000, 80)
            .seq(1001)
            .ack(5001)
            .build(),
        FrameBuilder::tcp(C2, pm(0), c2v6, vip6, 40000, 80)
            .seq(1001)
            .ack(5001)
            .build(),
        // Row 3: label-aware client's data with its C2S label.
        FrameBuilder::tcp(C1, pm(0), c1, vip, 41000, 81)
            .seq(1001)
            .payload(b"GET /")
            .label(19)
            .build(),
        // Row 6: spoofed source on 19, an unknown label.
        FrameBuilder::tcp(C2, pm(0), ip("198.18.0.99"), vip, 41000, 81)
            .label(19)
            .build(),
        FrameBuilder::tcp(C1, pm(0), c1, vip, 41000, 81)
            .label(1001)
            .build(),
        // Row 9: refused with a reset (no server in service).
        syn(C2, c2, vip, 40001, 82),
        // Row 10: ARP for the VIP and the port, NS for the port.
        builder::arp_request(
            C2,
            "198.18.0.12".parse().unwrap(),
            "198.18.100.1".parse().unwrap(),
        ),
        builder::arp_request(
            C2,
            "198.18.0.12".parse().unwrap(),
            "198.18.0.1".parse().unwrap(),
        ),
        builder::nd_solicit(
            C2,
            "2001:db8::12".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        ),
        FrameBuilder::echo_request(C2, pm(0), c2, ip("198.18.0.1"), 7, 1).build(),
        // Row 11: malformed.
        vec![0u8; 10],
        FrameBuilder::tcp(C1, pm(0), c1, vip, 41000, 81)
            .label(19)
            .lse_raw(Lse::from_u32((19 << 12) | 64))
            .build(),
        FrameBuilder::tcp(C1, pm(0), c1, vip, 41000, 81)
            .lse_raw(Lse::from_u32((3 << 12) | 0x100 | 64))
            .build(),
    ];
    let server = vec![
        // Row 2: replies: popped toward the plain client, kept for c1.
        FrameBuilder::tcp(S1, pm(1), vip, c2, 80, 40000)
            .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
            .seq(5000)
            .ack(1001)
            .mss(1460)
            .label(18)
            .build(),
        FrameBuilder::tcp(S1, pm(1), vip, c1, 81, 41000)
            .seq(7001)
            .ack(1006)
            .payload(b"s1")
            .label(20)
            .build(),
        FrameBuilder::tcp(S1, pm(1), vip6, c2v6, 80, 40000)
            .seq(5001)
            .ack(1001)
            .label(22)
            .build(),
        // Row 6: a client-to-server label from the server side.
        FrameBuilder::tcp(S1, pm(1), c1, vip, 41000, 81)
            .label(19)
            .build(),
    ];
    vec![client, server]
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

#[test]
fn slbd_on_pcap_matches_the_rig() {
    compare(1, pcap_run::Queues::First);
}

/// Two workers: the sessions' frames reach worker 0 and everything else
/// (ARP, ND, ICMP, malformed frames, a refused SYN, which never take a
/// label) worker 1. The label numbers then do not depend on which worker's
/// punts the scheduler reads first, so the outcome is still exact.
/// (Cross-worker switching of one session is covered by the rig's
/// two-worker tables, where frames alternate between workers.)
#[test]
fn slbd_on_pcap_two_workers_matches_the_rig() {
    compare(2, pcap_run::Queues::By(session_frames_to_worker_0));
}

fn session_frames_to_worker_0(frame: &[u8]) -> usize {
    let session_port = |p: u16| p == 80 || p == 81;
    match slb_wire::flow::extract(frame) {
        Ok(k)
            if k.protocol == slb_wire::IpProtocol::Tcp
                && (session_port(k.dst_port) || session_port(k.src_port)) =>
        {
            0
        }
        _ => 1,
    }
}

fn compare(workers: u32, queues: pcap_run::Queues) {
    let input = scenario();
    // The rig, frame by frame, port 0 first (as one worker reads them).
    let mut rig = Rig::with_macs(CONFIG, 1, &PCAP_MACS);
    let mut want: Vec<Vec<Vec<u8>>> = vec![Vec::new(), Vec::new()];
    for (port, frames) in input.iter().enumerate() {
        for f in frames {
            for (p, out) in rig.send(port, f) {
                want[p].push(out);
            }
        }
    }
    let rig_drops: Vec<(&str, u64)> = rig.counters().drops().filter(|d| d.1 > 0).collect();
    assert!(
        want[1].len() >= 6 && want[0].len() >= 7,
        "the rig sent {} / {}",
        want[0].len(),
        want[1].len()
    );

    let run = pcap_run::run_balance_queues(CONFIG, &input, workers, queues, &[], 300);
    let got: Vec<Vec<Vec<u8>>> = run.out.clone();
    for p in 0..2 {
        // slbd may also send its own ARP/ND requests: none here (static
        // neighbours), so the sets must be equal.
        assert_eq!(
            sorted(got[p].clone()),
            sorted(want[p].clone()),
            "port {p}: slbd and the rig differ\nslbd stderr:\n{}",
            run.stderr
        );
    }
    let total = &run.summary["total"]["drops"];
    let slbd_drops: Vec<(String, u64)> = total
        .as_object()
        .expect("total.drops")
        .iter()
        .filter_map(|(k, v)| v.as_u64().filter(|n| *n > 0).map(|n| (k.clone(), n)))
        .collect();
    let mut rig_sorted: Vec<(String, u64)> =
        rig_drops.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    rig_sorted.sort();
    let mut slbd_sorted = slbd_drops;
    slbd_sorted.sort();
    assert_eq!(slbd_sorted, rig_sorted, "drop counters");
    assert_eq!(run.summary["mode"], "balance");
    let per_worker: Vec<u64> = run.summary["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .map(|w| w["rx_packets"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(per_worker.len(), workers as usize);
    assert!(
        per_worker.iter().all(|n| *n > 0),
        "every worker received frames: {per_worker:?}"
    );
}
