//! A SYN flood through the real slbd (issue: Robustness): unique-source
//! SYNs as fast as net_pcap delivers them, interleaved with the labelled
//! traffic of an established session. The established session loses
//! nothing; every SYN is accounted for (admitted, refused, or dropped at
//! the full queue to the scheduler); half-open sessions expire; and after
//! the flood every label but the established session's is back in the
//! pool.

use slb_appliance::datapath::{preload_client, PRELOAD_CLIENT_MAC};
use slb_tests::pcap_run;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::{IpAddr, Ipv4Addr};

const PCAP_MAC0: MacAddr = MacAddr([0x02, 0x70, 0x63, 0x61, 0x70, 0x00]);

const CONFIG: &str = r#"{
  "ports": [
    { "name": "client", "device": "net_pcap0", "role": "client", "ipv4": "198.18.0.1/24" },
    { "name": "server", "device": "net_pcap1", "role": "server", "ipv4": "198.18.1.1/24" }
  ],
  "labels": { "first": 16, "last": 65535, "quarantine_ms": 100 },
  "timeouts": { "tcp_syn_ms": 300 },
  "neighbours": [ { "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" },
                  { "address": "198.18.1.12", "mac": "02:5e:00:00:01:12" } ],
  "services": [
    { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "client_mode": "label",
      "health": { "kind": "none" }, "max_sessions": 10000,
      "servers": [ { "name": "s1", "address": "198.18.1.11" }, { "name": "s2", "address": "198.18.1.12" } ] }
  ]
}"#;

const SYNS: u32 = 30_000;
const DATA: u32 = 3_000;

/// The flood's SYNs from 30 unique sources, every tenth followed by a frame
/// of the established session (label 17), and the server's answer to that
/// session on label 18.
fn flood_frames() -> (Vec<Vec<u8>>, Vec<u8>) {
    let vip = IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1));
    // Session 0 exists before the flood (--preload-sessions 1): label 17.
    let (client, cport) = preload_client(0, false);
    let established = FrameBuilder::tcp(
        MacAddr(PRELOAD_CLIENT_MAC),
        PCAP_MAC0,
        client,
        vip,
        cport,
        80,
    )
    .seq(1)
    .payload(b"established data")
    .label(17);
    let mut frames = Vec::new();
    for i in 0..SYNS {
        let src = IpAddr::V4(Ipv4Addr::from(
            u32::from(Ipv4Addr::new(198, 18, 64, 0)) + i / 1000,
        ));
        frames.push(
            FrameBuilder::tcp(
                MacAddr([0x02, 0xf1, 0, 0, 0, 1]),
                PCAP_MAC0,
                src,
                vip,
                1024 + (i % 1000) as u16,
                80,
            )
            .flags(TcpFlags::SYN)
            .seq(i)
            .build(),
        );
        if i % 10 == 0 && i / 10 < DATA {
            frames.push(established.clone().seq(i).build());
        }
    }
    // The server's answer on label 18 makes session 0 established (a
    // preloaded session starts half-open, with the 300 ms SYN timeout, and
    // only server traffic keeps a half-open session alive).
    let reply = FrameBuilder::tcp(
        MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x11]),
        MacAddr([0x02, 0x70, 0x63, 0x61, 0x70, 0x01]),
        vip,
        client,
        80,
        cport,
    )
    .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
    .label(18)
    .build();
    (frames, reply)
}

#[test]
fn syn_flood_spares_established_sessions_and_leaks_no_label() {
    let (frames, reply) = flood_frames();
    let run = pcap_run::run_balance_with(
        CONFIG,
        &[frames, vec![reply]],
        1,
        &["--preload-sessions", "1"],
        1500,
    );
    let s = &run.summary;
    let ev = |k: &str| s["total"]["events"][k].as_u64().unwrap_or(0);
    let dr = |k: &str| s["total"]["drops"][k].as_u64().unwrap_or(0);
    // Nothing of the established session was lost.
    assert_eq!(
        ev("switched_c2s"),
        u64::from(DATA),
        "established frames switched\n{}",
        run.stderr
    );
    assert_eq!(ev("switched_s2c"), 1, "the server's answer");
    let out_data = run.out[1]
        .iter()
        .filter(|f| f.len() > 60 && f.windows(16).any(|w| w == b"established data"))
        .count();
    assert_eq!(
        out_data as u32, DATA,
        "established frames on the server port"
    );
    // Every SYN accounted for.
    let admitted = ev("sessions_admitted") - 1; // minus the preloaded one
    let refused = dr("refused");
    let queue_full = dr("punt_queue_full");
    assert_eq!(
        admitted + refused + queue_full,
        u64::from(SYNS),
        "admitted {admitted} refused {refused} queue full {queue_full}"
    );
    assert!(admitted > 0);
    eprintln!(
        "flood: {SYNS} SYNs: {admitted} admitted, {refused} refused (session limit), {queue_full} dropped at the full scheduler queue; {DATA}/{DATA} established frames switched"
    );
    // Half-open sessions expired and every label is back, but for the
    // established session's pair.
    let labels = &s["labels"];
    assert_eq!(
        labels["active"], 1,
        "only the established session: {labels}"
    );
    assert_eq!(labels["quarantined"], 0, "{labels}");
    assert_eq!(
        labels["free"].as_u64().map(|f| f + 1),
        labels["capacity"].as_u64(),
        "no label leaked: {labels}"
    );
}

/// The same flood at a `syn_proxy` service (issue 16): every SYN answered
/// by the worker with a cookie SYN-ACK, none punted, no session made, no
/// label taken; the established session loses nothing.
#[test]
fn syn_flood_with_syn_proxy_takes_no_label() {
    let (frames, reply) = flood_frames();
    let config = CONFIG.replace(
        r#""client_mode": "label","#,
        r#""client_mode": "label", "syn_proxy": true,"#,
    );
    let run = pcap_run::run_balance_with(
        &config,
        &[frames, vec![reply]],
        1,
        &["--preload-sessions", "1"],
        1500,
    );
    let s = &run.summary;
    let ev = |k: &str| s["total"]["events"][k].as_u64().unwrap_or(0);
    assert_eq!(ev("switched_c2s"), u64::from(DATA), "{}", run.stderr);
    assert_eq!(ev("syn_cookies_sent"), u64::from(SYNS), "{}", run.stderr);
    assert_eq!(ev("punted_new"), 0, "nothing reached the scheduler");
    assert_eq!(ev("sessions_admitted"), 1, "the preloaded session only");
    let syn_acks = run.out[0]
        .iter()
        .filter(|f| f.len() >= 54 && f[47] & 0x12 == 0x12)
        .count();
    assert_eq!(
        syn_acks as u32, SYNS,
        "a SYN-ACK per SYN, out of the client port"
    );
    let labels = &s["labels"];
    assert_eq!(
        labels["active"], 1,
        "only the established session: {labels}"
    );
    eprintln!("flood with syn_proxy: {SYNS} SYNs, {syn_acks} cookie SYN-ACKs, 0 sessions, 0 labels; {DATA}/{DATA} established frames switched");
}
