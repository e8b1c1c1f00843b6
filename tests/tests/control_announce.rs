//! The announcer through the control plane, on the golden rig: which VIPs
//! have a route in the announce table (an in-memory table here; the
//! kernel's is tested in `appliance/tests/announce_routes.rs`) as health,
//! changes and `instance.drain` / `instance.undrain` move, and what
//! `cluster`, `stats` and `metrics` say about it.

use serde_json::json;
use slb_appliance::announce::{Announcer, MemoryRoutes, Route, RTN_BLACKHOLE};
use slb_appliance::control::Control;
use slb_tests::golden::{Rig, PORT_MACS};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::collections::BTreeSet;
use std::net::IpAddr;

const CLIENT: usize = 0;
const SERVER: usize = 1;

/// web (198.18.100.1) with a TCP health check on both servers, api
/// (198.18.100.2) without one; `cluster` as given.
fn config(cluster: serde_json::Value) -> String {
    json!({
        "ports": [
            { "name": "client", "device": "net_pcap0", "role": "client", "ipv4": "198.18.0.1/24" },
            { "name": "server", "device": "net_pcap1", "role": "server", "ipv4": "198.18.1.1/24" }
        ],
        "neighbours": [
            { "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" },
            { "address": "198.18.1.12", "mac": "02:5e:00:00:01:12" }
        ],
        "services": [
            { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp",
              "health": { "kind": "tcp", "port": 80, "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 3 },
              "servers": [ { "name": "s1", "address": "198.18.1.11" }, { "name": "s2", "address": "198.18.1.12" } ] },
            { "name": "api", "vip": "198.18.100.2", "port": 443, "protocol": "tcp",
              "health": { "kind": "none" },
              "servers": [ { "name": "a1", "address": "198.18.1.12" } ] }
        ],
        "cluster": cluster
    })
    .to_string()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn table(m: &MemoryRoutes) -> BTreeSet<IpAddr> {
    m.routes().iter().map(|r| r.dst).collect()
}

fn syn(client_port: u16, vip: &str, port: u16) -> Vec<u8> {
    FrameBuilder::tcp(
        MacAddr([0x02, 0x5e, 0, 0, 0, 0x21]),
        MacAddr(PORT_MACS[CLIENT]),
        ip("198.18.0.21"),
        ip(vip),
        client_port,
        port,
    )
    .flags(TcpFlags::SYN)
    .seq(1000)
    .build()
}

/// A rig of instance 0 of 2 announcing into table 100 (in memory), with
/// a route a killed predecessor left there.
fn announcing() -> (Rig, Control, MemoryRoutes) {
    let rig = Rig::new(
        &config(json!({ "instance": 0, "instances": 2, "announce_table": 100 })),
        1,
    );
    let m = MemoryRoutes::default();
    m.insert(Route {
        dst: ip("198.18.100.9"),
        prefix_len: 32,
        kind: RTN_BLACKHOLE,
    });
    let a = Announcer::with_routes(100, Box::new(m.clone())).unwrap();
    assert!(m.routes().is_empty(), "flushed at start");
    let control = rig.control().with_announcer(a);
    (rig, control, m)
}

#[test]
fn vips_follow_health_and_changes() {
    let (mut rig, control, m) = announcing();
    rig.dp.scheduler.set_health_enabled(true);
    rig.pumped(|p| control.announce(p)).unwrap();
    assert_eq!(table(&m), [ip("198.18.100.1"), ip("198.18.100.2")].into());
    // No web server answers its probes: both go down (interval x fall),
    // and web's VIP is withdrawn at the next round; api's stays.
    rig.advance_ms(4000);
    let h = rig.ctl_with(&control, "health", json!({})).unwrap();
    assert_eq!(h["totals"]["servers_down"], 2, "{h}");
    rig.pumped(|p| control.announce(p)).unwrap();
    assert_eq!(table(&m), [ip("198.18.100.2")].into());
    // A change applies at once, in the change's own request: api's only
    // server disabled, api withdrawn; enabled, back.
    let server = json!({ "service": "api", "server": "a1" });
    rig.ctl_with(&control, "servers.disable", server.clone())
        .unwrap();
    assert!(table(&m).is_empty());
    let c = rig.ctl_with(&control, "cluster", json!({})).unwrap();
    assert_eq!(
        c["announce"],
        json!({ "table": 100, "draining": false, "announced": [], "errors": 0 })
    );
    rig.ctl_with(&control, "servers.enable", server).unwrap();
    assert_eq!(table(&m), [ip("198.18.100.2")].into());
    // A table request that fails is counted (and retried next round).
    m.set_failing(true);
    rig.pumped(|p| control.announce(p)).unwrap();
    m.set_failing(false);
    let s = rig.ctl_with(&control, "stats", json!({})).unwrap();
    assert_eq!(s["announce"]["errors"], 1, "{}", s["announce"]);
    let text = rig.ctl_with(&control, "metrics", json!({})).unwrap();
    let text = text["text"].as_str().unwrap();
    assert!(text.contains("\nslbd_vips_announced 1\n"), "{text}");
    assert!(text.contains("\nslbd_announce_errors_total 1\n"), "{text}");
    // At a normal stop: every VIP withdrawn.
    assert_eq!(control.withdraw_all(), Ok(1));
    assert!(m.routes().is_empty());
}

#[test]
fn drain_withdraws_every_vip_and_new_syns_are_still_admitted() {
    let (mut rig, control, m) = announcing();
    rig.pumped(|p| control.announce(p)).unwrap();
    assert_eq!(table(&m).len(), 2);
    let d = rig.ctl_with(&control, "instance.drain", json!({})).unwrap();
    assert_eq!(
        d,
        json!({ "table": 100, "draining": true, "announced": [], "errors": 0 })
    );
    assert!(m.routes().is_empty());
    // The timer does not bring them back while drained.
    rig.pumped(|p| control.announce(p)).unwrap();
    assert!(m.routes().is_empty());
    // Routers converge: a SYN that still arrives is admitted.
    let out = rig.send(CLIENT, &syn(40000, "198.18.100.1", 80));
    assert!(out.iter().any(|(p, _)| *p == SERVER), "admitted: {out:?}");
    let c = rig.ctl_with(&control, "cluster", json!({})).unwrap();
    assert_eq!(c["announce"]["draining"], true);
    let text = rig.ctl_with(&control, "metrics", json!({})).unwrap();
    let text = text["text"].as_str().unwrap();
    assert!(text.contains("\nslbd_instance_draining 1\n"), "{text}");
    assert!(text.contains("\nslbd_vips_announced 0\n"), "{text}");
    // Draining twice is no error.
    rig.ctl_with(&control, "instance.drain", json!({})).unwrap();
    let u = rig
        .ctl_with(&control, "instance.undrain", json!({}))
        .unwrap();
    assert_eq!(
        u,
        json!({ "table": 100, "draining": false,
                "announced": ["198.18.100.1", "198.18.100.2"], "errors": 0 })
    );
    assert_eq!(table(&m).len(), 2);
    assert_eq!(
        rig.active_sessions(),
        1,
        "the session admitted while drained"
    );
}

#[test]
fn without_an_announce_table_drain_is_refused() {
    for cluster in [
        json!({ "instance": 0, "instances": 2 }),
        serde_json::Value::Null,
    ] {
        let mut rig = Rig::new(&config(cluster), 1);
        for command in ["instance.drain", "instance.undrain"] {
            let e = rig.ctl(command, json!({})).unwrap_err();
            assert_eq!(e.code, "not_announcing", "{}", e.message);
            assert!(
                e.message.contains("cluster.announce_table is not set"),
                "{}",
                e.message
            );
        }
        let c = rig.ctl("cluster", json!({})).unwrap();
        assert!(c.get("announce").is_none(), "{c}");
        let s = rig.ctl("stats", json!({})).unwrap();
        assert!(s.get("announce").is_none());
    }
}

/// `cluster` shows each peer as this instance's probes find it: unknown
/// before the first answer, alive while it answers, dead a second after
/// its last answer; a peer on none of slbd's subnets is never probed.
#[test]
fn cluster_shows_the_peers_liveness() {
    let mut rig = Rig::new(
        &config(json!({ "instance": 1, "instances": 3,
                        "peers": [ { "instance": 0, "address": "198.18.0.2" },
                                   { "instance": 2, "address": "198.18.50.3" } ] })),
        1,
    );
    let states = |rig: &mut Rig| -> Vec<(u64, String)> {
        let c = rig.ctl("cluster", json!({})).unwrap();
        c["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["instance"].as_u64().unwrap(),
                    p["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let want = |a: &str, b: &str| vec![(0, a.to_string()), (2, b.to_string())];
    // The probes leave from the client port, for instance 0 only.
    let out = rig.advance_ms(450);
    let probes = out
        .iter()
        .filter(|(p, f)| *p == CLIENT && f.get(12..14) == Some(&[8, 6]))
        .count();
    assert!(
        (2..=3).contains(&probes),
        "ARP probes in 450 ms: {probes} ({out:?})"
    );
    assert_eq!(states(&mut rig), want("unknown", "unreachable"));
    let peer_mac = MacAddr([0x02, 0x5b, 0, 0, 0, 0x02]);
    let answer = slb_wire::builder::arp_reply(
        peer_mac,
        "198.18.0.2".parse().unwrap(),
        MacAddr(PORT_MACS[CLIENT]),
        "198.18.0.1".parse().unwrap(),
    );
    rig.send(CLIENT, &answer);
    assert_eq!(states(&mut rig), want("alive", "unreachable"));
    // stats and the metrics say the same.
    let s = rig.ctl("stats", json!({})).unwrap();
    assert_eq!(
        s["peers"],
        json!([{ "instance": 0, "state": "alive" }, { "instance": 2, "state": "unreachable" }])
    );
    let m = rig.ctl("metrics", json!({})).unwrap().to_string();
    assert!(m.contains(r#"slbd_peer_up{instance=\"0\"} 1"#), "{m}");
    assert!(m.contains(r#"slbd_peer_up{instance=\"2\"} 0"#), "{m}");
    rig.advance_ms(900);
    assert_eq!(states(&mut rig), want("alive", "unreachable"));
    rig.advance_ms(200);
    assert_eq!(states(&mut rig), want("dead", "unreachable"));
    rig.send(CLIENT, &answer);
    assert_eq!(states(&mut rig), want("alive", "unreachable"));
}
