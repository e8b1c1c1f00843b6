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

/// The configuration, with `syn_proxy` on both services or not.
fn config(syn_proxy: bool) -> String {
    if syn_proxy {
        CONFIG.replace(
            r#""client_mode": "label","#,
            r#""client_mode": "label", "syn_proxy": true,"#,
        )
    } else {
        CONFIG.to_string()
    }
}

/// The well-formed session's handshake through the SYN proxy: the cookie
/// SYN-ACK, the ACK, the server's SYN-ACK on label 18.
fn spliced_handshake(rig: &mut Rig, pm: MacAddr, c4: IpAddr, v4: IpAddr) {
    let syn = FrameBuilder::tcp(CM, pm, c4, v4, 50000, 80)
        .flags(TcpFlags::SYN)
        .seq(1)
        .build();
    let out = rig.send(0, &syn);
    assert_eq!(out.len(), 1, "the cookie SYN-ACK");
    let f = &out[0].1;
    let cookie = u32::from_be_bytes(f[38..42].try_into().unwrap());
    let ack = FrameBuilder::tcp(CM, pm, c4, v4, 50000, 80)
        .flags(TcpFlags::ACK)
        .seq(2)
        .ack(cookie.wrapping_add(1))
        .build();
    let before = rig.counters();
    let out = rig.send(0, &ack);
    assert_eq!(
        out.len(),
        1,
        "the replayed SYN: drops {:?}",
        drops_moved(&before, &rig.counters())
    );
    let server_mac = MacAddr([0x02, 0x5e, 0, 0, 1, 0x11]);
    let syn_ack = FrameBuilder::tcp(server_mac, MacAddr(PORT_MACS[1]), v4, c4, 80, 50000)
        .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .seq(7000)
        .ack(2)
        .label(18)
        .build();
    assert_eq!(rig.send(1, &syn_ack).len(), 1, "the replayed ACK");
}

fn run(workers: usize, syn_proxy: bool) {
    let mut rig = Rig::new(&config(syn_proxy), workers);
    let pm = MacAddr(PORT_MACS[0]);
    let (c4, v4): (IpAddr, IpAddr) = (
        "198.18.0.12".parse().unwrap(),
        "198.18.100.1".parse().unwrap(),
    );
    // The well-formed session: client port 50000, labels 17/18.
    if syn_proxy {
        spliced_handshake(&mut rig, pm, c4, v4);
    } else {
        let syn = FrameBuilder::tcp(CM, pm, c4, v4, 50000, 80)
            .flags(TcpFlags::SYN)
            .build();
        assert_eq!(rig.send(0, &syn).len(), 1);
    }
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
        let ok = if syn_proxy {
            // SYNs are answered, ACKs checked: another outcome than the
            // plain service's, still exactly one (a frame out or one drop).
            (moved.is_empty() && !out.is_empty())
                || (out.is_empty() && moved.len() == 1 && moved[0].1 == 1)
        } else if h.expect == "out" {
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
    run(1, false);
}

#[test]
fn hostile_frames_two_workers() {
    run(2, false);
}

/// The same corpus at services with `syn_proxy` (issue 16): the SYNs among
/// it meet the workers' cookie code, the rest the scheduler's cookie
/// check; none makes a session or disturbs the spliced one.
#[test]
fn hostile_frames_syn_proxy() {
    run(2, true);
}
