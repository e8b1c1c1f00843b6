//! Hostile frames (issue: Robustness): the corpus of `slb_tests::hostile`
//! through the data path, interleaved with a well-formed session that must
//! keep being switched byte for byte. No crash; every frame accounted for:
//! each either leaves (answered or forwarded) or moves exactly the drop
//! counter the corpus names.

use slb_tests::golden::{drops_moved, Rig, PORT_MACS};
use slb_tests::hostile::{corpus, Target};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

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
    { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "client_mode": "label",
      "servers": [ { "name": "s1", "address": "198.18.1.11" } ] },
    { "name": "web6", "vip": "2001:db8:100::1", "port": 80, "protocol": "tcp", "client_mode": "label",
      "servers": [ { "name": "s1", "address": "2001:db8:1::11" } ] }
  ]
}"#;

const CM: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x12]);

fn run(workers: usize) {
    let mut rig = Rig::new(CONFIG, workers);
    let pm = MacAddr(PORT_MACS[0]);
    let (c4, v4): (IpAddr, IpAddr) = (
        "198.18.0.12".parse().unwrap(),
        "198.18.100.1".parse().unwrap(),
    );
    // The well-formed session: client port 50000, labels 17/18.
    let syn = FrameBuilder::tcp(CM, pm, c4, v4, 50000, 80)
        .flags(TcpFlags::SYN)
        .build();
    assert_eq!(rig.send(0, &syn).len(), 1);
    let good = FrameBuilder::tcp(CM, pm, c4, v4, 50000, 80)
        .seq(2)
        .payload(b"hello")
        .label(17)
        .build();
    let good_out = rig.send(0, &good);
    assert_eq!(good_out.len(), 1);

    let t = Target {
        client_mac: CM,
        port_mac: pm,
        client4: "198.18.0.12".parse().unwrap(),
        vip4: "198.18.100.1".parse().unwrap(),
        port4: "198.18.0.1".parse().unwrap(),
        client6: "2001:db8::12".parse().unwrap(),
        vip6: "2001:db8:100::1".parse().unwrap(),
        service_port: 80,
        live_label: 17,
    };
    let all = corpus(&t);
    assert!(all.len() >= 40, "{} kinds", all.len());
    let mut wrong = Vec::new();
    for (i, h) in all.iter().enumerate() {
        let before = rig.counters();
        let out = rig.send(0, &h.frame);
        let after = rig.counters();
        let moved = drops_moved(&before, &after);
        let ok = if h.expect == "out" {
            moved.is_empty() && !out.is_empty()
        } else {
            out.is_empty() && moved == vec![(h.expect, 1)]
        };
        if !ok {
            wrong.push(format!(
                "#{i} {}: expected {}, got {} frame(s) out and drops {moved:?}",
                h.name,
                h.expect,
                out.len()
            ));
        }
        // The well-formed session is unaffected, every time.
        let again = rig.send(0, &good);
        assert_eq!(again, good_out, "#{i} {}: the good session changed", h.name);
    }
    assert!(
        wrong.is_empty(),
        "{} of {} frames with another outcome:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
    // None of the corpus made a session: the jumbo SYN is refused before
    // admission, SYN+FIN and port 0 are no session starts.
    assert_eq!(rig.active_sessions(), 1, "only the well-formed session");
}

#[test]
fn hostile_frames_one_worker() {
    run(1);
}

#[test]
fn hostile_frames_two_workers() {
    run(2);
}
