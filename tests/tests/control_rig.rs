//! Control commands through the golden rig (the real data path, vectors,
//! a clock the test controls): live changes visible in traffic, health
//! monitoring with fed or withheld SYN-ACKs, and the error paths that live
//! in the scheduler.

use serde_json::json;
use slb_tests::golden::{Rig, PORT_MACS};
use slb_wire::classify::L4;
use slb_wire::{classify, Classified, FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

const CLIENT: usize = 0;
const SERVER: usize = 1;
const C_MAC: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x11]);
const S_MACS: [[u8; 6]; 2] = [
    [0x02, 0x5e, 0, 0, 0x01, 0x11],
    [0x02, 0x5e, 0, 0, 0x01, 0x12],
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(algorithm: &str, health: &str) -> String {
    format!(
        r#"{{
  "ports": [
    {{ "name": "client", "device": "net_pcap0", "role": "client", "ipv4": "198.18.0.1/24" }},
    {{ "name": "server", "device": "net_pcap1", "role": "server", "ipv4": "198.18.1.1/24" }}
  ],
  "neighbours": [
    {{ "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" }},
    {{ "address": "198.18.1.12", "mac": "02:5e:00:00:01:12" }}
  ],
  "services": [
    {{ "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "algorithm": "{algorithm}",
      "health": {health},
      "servers": [ {{ "name": "s1", "address": "198.18.1.11" }}, {{ "name": "s2", "address": "198.18.1.12" }} ] }}
  ]
}}"#
    )
}

fn syn(client_port: u16) -> Vec<u8> {
    FrameBuilder::tcp(
        C_MAC,
        MacAddr(PORT_MACS[CLIENT]),
        ip("198.18.0.11"),
        ip("198.18.100.1"),
        client_port,
        80,
    )
    .flags(TcpFlags::SYN)
    .seq(1)
    .build()
}

fn ack(client_port: u16) -> Vec<u8> {
    FrameBuilder::tcp(
        C_MAC,
        MacAddr(PORT_MACS[CLIENT]),
        ip("198.18.0.11"),
        ip("198.18.100.1"),
        client_port,
        80,
    )
    .flags(TcpFlags::ACK)
    .seq(2)
    .build()
}

/// Which server (0 = s1, 1 = s2) a frame out on the server port went to.
fn server_of(out: &[(usize, Vec<u8>)]) -> Option<usize> {
    let (p, f) = out.iter().find(|(p, _)| *p == SERVER)?;
    assert_eq!(*p, SERVER);
    S_MACS.iter().position(|m| f[..6] == m[..])
}

/// Opens `n` sessions from client ports `first..`, returns how many went
/// to each server.
fn open(rig: &mut Rig, first: u16, n: u16) -> [usize; 2] {
    let mut c = [0; 2];
    for i in 0..n {
        let out = rig.send(CLIENT, &syn(first + i));
        c[server_of(&out).expect("SYN forwarded to a server")] += 1;
    }
    c
}

const NO_HEALTH: &str = r#"{ "kind": "none" }"#;

#[test]
fn drained_server_gets_no_new_sessions_but_keeps_switching_its_own() {
    let mut rig = Rig::new(&config("round_robin", NO_HEALTH), 1);
    let out = rig.send(CLIENT, &syn(40000));
    let first = server_of(&out).unwrap();
    let name = ["s1", "s2"][first];
    let r = rig
        .ctl("servers.drain", json!({ "service": "web", "server": name }))
        .unwrap();
    assert_eq!(r["changed"], true, "{r}");
    // New sessions all go to the other server.
    let c = open(&mut rig, 41000, 10);
    assert_eq!(c[first], 0, "drained server got new sessions: {c:?}");
    assert_eq!(c[1 - first], 10);
    // The drained server's session still switches (flow cache push).
    let out = rig.send(CLIENT, &ack(40000));
    assert_eq!(
        server_of(&out),
        Some(first),
        "existing session of the drained server"
    );
    let servers = rig
        .ctl("servers.list", json!({ "service": "web" }))
        .unwrap();
    let s = &servers["servers"][first];
    assert_eq!(s["state"], "draining", "{servers}");
    assert_eq!(s["admin_state"], "drain");
    assert_eq!(s["sessions"], 1);
    // Enable: takes new sessions again.
    rig.ctl(
        "servers.enable",
        json!({ "service": "web", "server": name }),
    )
    .unwrap();
    let c = open(&mut rig, 42000, 10);
    assert_eq!(c, [5, 5]);
    // Disable: none again.
    rig.ctl(
        "servers.disable",
        json!({ "service": "web", "server": name }),
    )
    .unwrap();
    let c = open(&mut rig, 43000, 6);
    assert_eq!(c[first], 0);
}

#[test]
fn weight_change_shifts_new_sessions() {
    let mut rig = Rig::new(&config("weighted_round_robin", NO_HEALTH), 2);
    assert_eq!(open(&mut rig, 40000, 100), [50, 50]);
    rig.ctl(
        "servers.update",
        json!({ "service": "web", "server": "s2", "weight": 3 }),
    )
    .unwrap();
    assert_eq!(open(&mut rig, 41000, 100), [25, 75]);
    // Existing sessions untouched.
    assert_eq!(rig.active_sessions(), 200);
    let v = rig.ctl("servers.list", json!({})).unwrap();
    assert_eq!(v["servers"][1]["weight"], 3);
    assert_eq!(v["servers"][1]["sessions"], 125);
}

#[test]
fn scheduler_side_errors() {
    let mut rig = Rig::new(&config("round_robin", NO_HEALTH), 1);
    let e = rig
        .ctl("servers.drain", json!({ "service": "web", "server": "s9" }))
        .unwrap_err();
    assert_eq!(e.code, "unknown_server", "{e}");
    let e = rig
        .ctl(
            "servers.update",
            json!({ "service": "nope", "server": "s1", "weight": 2 }),
        )
        .unwrap_err();
    assert_eq!(e.code, "unknown_service");
    let e = rig
        .ctl(
            "servers.update",
            json!({ "service": "web", "server": "s1", "weight": 0 }),
        )
        .unwrap_err();
    assert_eq!(e.code, "invalid_argument");
    assert_eq!(
        e.message,
        "services[0].servers[0].weight: must be between 1 and 65535 (got 0)"
    );
    let e = rig
        .ctl(
            "servers.update",
            json!({ "service": "web", "server": "s1", "weight": 70000 }),
        )
        .unwrap_err();
    assert_eq!(e.code, "invalid_argument");
    let e = rig
        .ctl("sessions.show", json!({ "label": 17 }))
        .unwrap_err();
    assert_eq!(e.code, "unknown_session");
    let e = rig.ctl("bogus", json!({})).unwrap_err();
    assert_eq!(e.code, "unknown_command");
    // A service with live sessions cannot go; an idle one can.
    rig.send(CLIENT, &syn(40000));
    let e = rig
        .ctl("services.remove", json!({ "name": "web" }))
        .unwrap_err();
    assert_eq!(e.code, "service_busy", "{e}");
    let e = rig
        .ctl(
            "services.update",
            json!({ "name": "web", "algorithm": "maglev" }),
        )
        .unwrap_err();
    assert_eq!(e.code, "service_busy", "{e}");
    // Nothing changed: the session is still there, the service too.
    assert_eq!(rig.active_sessions(), 1);
    let v = rig
        .ctl("sessions.list", json!({ "service": "web" }))
        .unwrap();
    assert_eq!(v["matched"], 1);
    let label = v["sessions"][0]["c2s_label"].as_u64().unwrap();
    let one = rig
        .ctl("sessions.show", json!({ "label": label + 1 }))
        .unwrap();
    assert_eq!(one["client_port"], 40000);
    let key = rig
        .ctl(
            "sessions.show",
            json!({ "client": "198.18.0.11", "client_port": 40000, "vip": "198.18.100.1", "vip_port": 80 }),
        )
        .unwrap();
    assert_eq!(key["c2s_label"], label);
    let labels = rig.ctl("labels", json!({})).unwrap();
    assert_eq!(labels["usage"]["active_pairs"], 1);
    let rows = labels["labels"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["direction"], "c2s");
    assert_eq!(rows[0]["out_port"], "server");
    assert_eq!(rows[1]["direction"], "s2c");
    assert_eq!(rows[1]["in_port_role"], "server");
    assert_eq!(rows[1]["next_hop_mac"], "02:c1:00:00:00:11");
    // Add a service, a server; update limits; remove an idle service.
    rig.ctl(
        "services.add",
        json!({ "name": "api", "vip": "198.18.100.2", "port": 443, "protocol": "tcp",
                "servers": [ { "name": "a1", "address": "198.18.1.11" } ] }),
    )
    .unwrap();
    let e = rig
        .ctl("services.add", json!({ "name": "api", "vip": "198.18.100.3", "port": 1, "protocol": "tcp", "servers": [] }))
        .unwrap_err();
    assert_eq!(e.code, "already_exists");
    rig.ctl(
        "servers.add",
        json!({ "service": "api", "name": "a2", "address": "198.18.1.12", "weight": 2 }),
    )
    .unwrap();
    rig.ctl(
        "services.update",
        json!({ "name": "api", "max_sessions": 10, "algorithm": "maglev" }),
    )
    .unwrap();
    let v = rig.ctl("services.list", json!({})).unwrap();
    assert_eq!(v["services"][1]["name"], "api");
    assert_eq!(v["services"][1]["max_sessions"], 10);
    assert_eq!(v["services"][1]["algorithm"], "maglev");
    assert_eq!(v["services"][1]["servers"], 2);
    // The new service takes traffic.
    let s = FrameBuilder::tcp(
        C_MAC,
        MacAddr(PORT_MACS[CLIENT]),
        ip("198.18.0.11"),
        ip("198.18.100.2"),
        5000,
        443,
    )
    .flags(TcpFlags::SYN)
    .build();
    assert_eq!(rig.send(CLIENT, &s).len(), 1);
    rig.ctl(
        "servers.remove",
        json!({ "service": "web", "server": "s2" }),
    )
    .unwrap();
    let v = rig
        .ctl("servers.list", json!({ "service": "web" }))
        .unwrap();
    assert_eq!(v["servers"].as_array().unwrap().len(), 1);
    let e = rig
        .ctl("services.remove", json!({ "name": "api" }))
        .unwrap_err();
    assert_eq!(e.code, "service_busy");
}

/// SYN probes slbd sent to `server` (index), with their source ports.
fn probes(out: &[(usize, Vec<u8>)], server: usize) -> Vec<(u16, u32)> {
    out.iter()
        .filter(|(p, f)| *p == SERVER && f[..6] == S_MACS[server][..])
        .filter_map(|(_, f)| match classify(f) {
            Ok(Classified::Ip(ip)) => match ip.l4 {
                L4::Tcp { flags } if flags == TcpFlags::SYN => {
                    let seq = u32::from_be_bytes(
                        f[ip.l4_offset + 4..ip.l4_offset + 8].try_into().unwrap(),
                    );
                    Some((ip.flow.src_port, seq))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn syn_ack(server: usize, probe_port: u16, seq: u32) -> Vec<u8> {
    let addr = ["198.18.1.11", "198.18.1.12"][server];
    FrameBuilder::tcp(
        MacAddr(S_MACS[server]),
        MacAddr(PORT_MACS[SERVER]),
        ip(addr),
        ip("198.18.1.1"),
        80,
        probe_port,
    )
    .flags(TcpFlags::SYN | TcpFlags::ACK)
    .seq(7)
    .ack(seq.wrapping_add(1))
    .build()
}

fn health_of(rig: &mut Rig, server: usize) -> serde_json::Value {
    let h = rig.ctl("health", json!({})).unwrap();
    h["servers"][server].clone()
}

/// Runs the clock `ms` milliseconds, answering the probes of the servers
/// in `answer`. Returns the probes each server got.
fn run(rig: &mut Rig, ms: u64, answer: [bool; 2]) -> [usize; 2] {
    let mut got = [0; 2];
    for _ in 0..ms / 10 {
        let out = rig.advance_ms(10);
        for s in 0..2 {
            for (port, seq) in probes(&out, s) {
                got[s] += 1;
                if answer[s] {
                    let back = rig.send(SERVER, &syn_ack(s, port, seq));
                    // slbd closes the half-open connection with a RST.
                    assert!(
                        back.iter()
                            .any(|(p, f)| *p == SERVER && f[..6] == S_MACS[s][..]),
                        "RST after SYN-ACK"
                    );
                }
            }
        }
    }
    got
}

const HEALTH: &str = r#"{ "kind": "tcp", "port": 80, "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 3 }"#;

#[test]
fn server_that_stops_answering_goes_down_within_interval_times_fall_and_comes_back_after_rise() {
    let mut rig = Rig::new(&config("round_robin", HEALTH), 1);
    rig.dp.scheduler.set_health_enabled(true);
    // Both answer: both stay up.
    let got = run(&mut rig, 2000, [true, true]);
    assert!(got[0] >= 2 && got[1] >= 2, "{got:?}");
    assert_eq!(health_of(&mut rig, 1)["state"], "up");
    assert!(health_of(&mut rig, 0)["response_time_us"].is_number());
    // s2 stops answering: down within interval x fall (3 s) of its first
    // unanswered probe (plus the timeout of the last one).
    let mut down_after = None;
    for step in 0..40 {
        run(&mut rig, 100, [true, false]);
        if health_of(&mut rig, 1)["state"] == "down" {
            down_after = Some((step + 1) * 100);
            break;
        }
    }
    let t = down_after.expect("s2 never went down");
    assert!(t <= 3000 + 500, "down after {t} ms");
    assert_eq!(health_of(&mut rig, 0)["state"], "up");
    let v = rig.ctl("servers.list", json!({})).unwrap();
    assert_eq!(v["servers"][1]["state"], "down");
    // A down server gets no new sessions.
    assert_eq!(open(&mut rig, 40000, 6), [6, 0]);
    // It answers again: up after `rise` (2) successes, i.e. within 2 intervals.
    let mut up_after = None;
    for step in 0..30 {
        run(&mut rig, 100, [true, true]);
        if health_of(&mut rig, 1)["state"] == "up" {
            up_after = Some((step + 1) * 100);
            break;
        }
    }
    let t = up_after.expect("s2 never came back");
    assert!(t <= 2000 + 100, "up after {t} ms");
    let h = rig.ctl("health", json!({})).unwrap();
    assert_eq!(h["totals"]["went_down"], 1);
    assert_eq!(h["totals"]["went_up"], 1);
    assert_eq!(open(&mut rig, 41000, 6), [3, 3]);
    let s = rig.counters();
    assert!(s.event(slb_appliance::counters::Event::ProbesSent) > 0);
    assert!(s.event(slb_appliance::counters::Event::PuntedProbe) > 0);
}

#[test]
fn disabled_server_is_not_probed() {
    let mut rig = Rig::new(&config("round_robin", HEALTH), 1);
    rig.dp.scheduler.set_health_enabled(true);
    let got = run(&mut rig, 3000, [true, true]);
    assert!(got[1] >= 3, "{got:?}");
    rig.ctl(
        "servers.disable",
        json!({ "service": "web", "server": "s2" }),
    )
    .unwrap();
    let got = run(&mut rig, 3000, [true, true]);
    assert_eq!(got[1], 0, "probes to a disabled server");
    assert!(got[0] >= 3);
    assert_eq!(health_of(&mut rig, 1)["probing"], false);
    rig.ctl(
        "servers.enable",
        json!({ "service": "web", "server": "s2" }),
    )
    .unwrap();
    let got = run(&mut rig, 2000, [true, true]);
    assert!(got[1] >= 1, "probes resume: {got:?}");
}

#[test]
fn on_down_reset_ends_the_sessions_of_a_down_server() {
    let h = r#"{ "kind": "tcp", "port": 80, "interval_ms": 1000, "timeout_ms": 500, "rise": 1, "fall": 1, "on_down": "reset" }"#;
    let mut rig = Rig::new(&config("round_robin", h), 1);
    rig.dp.scheduler.set_health_enabled(true);
    run(&mut rig, 100, [true, true]);
    assert_eq!(open(&mut rig, 40000, 4), [2, 2]);
    run(&mut rig, 1500, [true, false]);
    assert_eq!(health_of(&mut rig, 1)["state"], "down");
    let v = rig
        .ctl("sessions.list", json!({ "service": "web", "server": "s2" }))
        .unwrap();
    assert_eq!(v["matched"], 0, "{v}");
    let v = rig
        .ctl("sessions.list", json!({ "service": "web", "server": "s1" }))
        .unwrap();
    assert_eq!(v["matched"], 2);
}

/// A reload that shortens `tcp_established_s` applies to a session that is
/// already established: it expires by the new value on the rig's clock,
/// counted from its last activity, with no restart.
#[test]
fn reloaded_timeouts_apply_to_existing_sessions() {
    let mut rig = Rig::new(&config("round_robin", NO_HEALTH), 1);
    let out = rig.send(CLIENT, &syn(40000));
    let s = server_of(&out).unwrap();
    // The server's SYN-ACK establishes the session.
    let back = FrameBuilder::tcp(
        MacAddr(S_MACS[s]),
        MacAddr(PORT_MACS[SERVER]),
        ip("198.18.100.1"),
        ip("198.18.0.11"),
        80,
        40000,
    )
    .flags(TcpFlags::SYN | TcpFlags::ACK)
    .seq(7)
    .ack(2);
    // Labelled with the session's S2C label (C2S + 1).
    let c2s = rig
        .dp
        .scheduler
        .core()
        .sessions()
        .iter()
        .next()
        .unwrap()
        .1
        .labels();
    rig.send(SERVER, &back.label(c2s.s2c()).build());
    let state = |rig: &mut Rig| {
        let v = rig.ctl("sessions.list", json!({})).unwrap();
        v["sessions"][0]["state"].clone()
    };
    assert_eq!(state(&mut rig), "established");
    let established_at = rig.now;
    rig.advance_ms(3000);
    assert_eq!(rig.active_sessions(), 1, "default 900 s");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slbd.json");
    let mut v: serde_json::Value = serde_json::from_str(&config("round_robin", NO_HEALTH)).unwrap();
    v["timeouts"] = json!({ "tcp_established_s": 5 });
    std::fs::write(&path, v.to_string()).unwrap();
    let r = rig.ctl("config.reload", json!({ "path": path })).unwrap();
    assert_eq!(r["changed"], true, "{r}");
    assert!(r["changes"].to_string().contains("timeouts changed"), "{r}");
    // Due at established_at + 5 s (the last restart of its timer, the
    // first reply). The workers marked it active when they switched the
    // SYN-ACK, and expiry never ends a session with unreported activity:
    // the timer restarts once, at 5 s; it ends idle at 10 s (900 s and
    // 1800 s under the old value).
    let at = |rig: &Rig, s: u64| (established_at + s * 1_000_000_000 - rig.now) / 1_000_000;
    rig.advance_ms(at(&rig, 5) - 20);
    assert_eq!(rig.active_sessions(), 1);
    rig.advance_ms(at(&rig, 10) - 20);
    assert_eq!(rig.active_sessions(), 1, "ended before the new timeout");
    rig.advance_ms(40);
    assert_eq!(rig.active_sessions(), 0, "not ended by the new timeout");
    assert_eq!(rig.event(slb_appliance::counters::Event::SessionsEnded), 1);
    // The running configuration shows the new value.
    let shown = rig.dp.scheduler.running_config().timeouts.tcp_established;
    assert_eq!(shown, std::time::Duration::from_secs(5));
}

/// A cluster instance's identity does not change live: a reload that
/// changes the `cluster` section (another id, or none) is refused with
/// `restart_required` and nothing changes (`cluster`, the labels new
/// sessions take); one that keeps it applies.
#[test]
fn cluster_identity_changes_are_refused_live() {
    let cluster = |instance: u64| {
        let mut v: serde_json::Value = serde_json::from_str(&config("maglev", NO_HEALTH)).unwrap();
        v["cluster"] = json!({ "instance": instance, "instances": 2,
            "peers": [{ "instance": 1 - instance, "address": "198.18.0.2" }] });
        v
    };
    let mut rig = Rig::new(&cluster(1).to_string(), 1);
    // Instance 1 of 2 over the default range: 524,295 is its first C2S label.
    let first = |out: &[(usize, Vec<u8>)]| {
        let (_, f) = out.iter().find(|(p, _)| *p == SERVER).expect("to a server");
        slb_wire::mpls::top_label(f).unwrap().lse.label.value()
    };
    assert_eq!(first(&rig.send(CLIENT, &syn(40000))), 524_295);
    let shown = rig.ctl("cluster", json!({})).unwrap();
    assert_eq!(
        (shown["instance"].clone(), shown["labels"]["first"].clone()),
        (json!(1), json!(524_295))
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slbd.json");
    let mut other = cluster(0);
    other["services"][0]["servers"][0]["weight"] = json!(3);
    let plain: serde_json::Value = serde_json::from_str(&config("maglev", NO_HEALTH)).unwrap();
    for refused in [other, plain] {
        std::fs::write(&path, refused.to_string()).unwrap();
        let e = rig
            .ctl("config.reload", json!({ "path": path }))
            .unwrap_err();
        assert_eq!(e.code, "restart_required", "{}", e.message);
        assert!(
            e.message.contains("cluster changed: needs a restart"),
            "{}",
            e.message
        );
        assert_eq!(rig.ctl("cluster", json!({})).unwrap(), shown);
        assert_eq!(rig.dp.scheduler.running_config().instance(), 1);
        // The weight in the same file did not apply either.
        assert_eq!(
            rig.dp.scheduler.running_config().services[0].servers[0].weight,
            1
        );
    }
    assert_eq!(first(&rig.send(CLIENT, &syn(40001))), 524_297);
    // The same identity with another weight applies.
    let mut same = cluster(1);
    same["services"][0]["servers"][0]["weight"] = json!(3);
    std::fs::write(&path, same.to_string()).unwrap();
    let r = rig.ctl("config.reload", json!({ "path": path })).unwrap();
    assert_eq!(
        r["changes"],
        json!(["service web: server s1: weight 1 -> 3"]),
        "{r}"
    );
    assert_eq!(rig.ctl("cluster", json!({})).unwrap(), shown);
}

/// Access lists change live: a reload adds a deny list, new SYNs of the
/// denied client are refused with a reset and counted as `denied`, its
/// session admitted before keeps switching; `services.update` then swaps
/// in an allow list that leaves the client out (`not_allowed`).
#[test]
fn access_lists_change_live() {
    let mut rig = Rig::new(&config("round_robin", NO_HEALTH), 1);
    let s = server_of(&rig.send(CLIENT, &syn(40000))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slbd.json");
    let mut v: serde_json::Value = serde_json::from_str(&config("round_robin", NO_HEALTH)).unwrap();
    v["services"][0]["deny"] = json!(["198.18.0.0/28", "2001:db8::/32"]);
    std::fs::write(&path, v.to_string()).unwrap();
    let r = rig.ctl("config.reload", json!({ "path": path })).unwrap();
    assert_eq!(
        r["changes"],
        json!(["service web: deny changed (0 -> 2 prefixes)"])
    );
    let out = rig.send(CLIENT, &syn(40001));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, CLIENT, "a reset back to the client");
    assert_eq!(server_of(&rig.send(CLIENT, &ack(40000))), Some(s));
    let refused = |rig: &mut Rig| {
        let v = rig.ctl("services.list", json!({})).unwrap();
        v["services"][0]["refused"].clone()
    };
    let r = refused(&mut rig);
    assert_eq!(
        (r["denied"].clone(), r["not_allowed"].clone()),
        (json!(1), json!(0)),
        "{r}"
    );
    rig.ctl(
        "services.update",
        json!({ "name": "web", "deny": [], "allow": ["198.18.0.128/25"] }),
    )
    .unwrap();
    assert_eq!(rig.send(CLIENT, &syn(40002))[0].0, CLIENT);
    let r = refused(&mut rig);
    assert_eq!(
        (r["denied"].clone(), r["not_allowed"].clone()),
        (json!(1), json!(1)),
        "{r}"
    );
    // An invalid prefix is refused whole with its path.
    let e = rig
        .ctl(
            "services.update",
            json!({ "name": "web", "allow": ["198.18.0.1/24"] }),
        )
        .unwrap_err();
    assert!(e.message.contains("services[0].allow[0]"), "{}", e.message);
    rig.ctl("services.update", json!({ "name": "web", "allow": [] }))
        .unwrap();
    assert!(server_of(&rig.send(CLIENT, &syn(40003))).is_some());
    assert_eq!(rig.active_sessions(), 2);
}

/// `on_down: reset` resets both ends of each session of the server that
/// went down, with the exact sequence numbers: each end first gets an
/// out-of-window ACK (the client from the VIP, unlabelled as it is a plain
/// client; the server labelled C2S as from the client), and the ACK it
/// answers with (RFC 9293 §3.10.7.4: `<SEQ=SND.NXT><ACK=RCV.NXT>`) gets
/// `<SEQ=SEG.ACK><CTL=RST>`, which RFC 5961 §3.2 accepts.
#[test]
fn on_down_reset_sends_each_end_a_reset_with_the_sequence_number_it_answers_with() {
    use slb_appliance::counters::Event;
    let h = r#"{ "kind": "tcp", "port": 80, "interval_ms": 1000, "timeout_ms": 500, "rise": 1, "fall": 1, "on_down": "reset" }"#;
    let mut rig = Rig::new(&config("round_robin", h), 1);
    rig.dp.scheduler.set_health_enabled(true);
    run(&mut rig, 100, [true, true]);
    assert_eq!(open(&mut rig, 40000, 4), [2, 2]);
    let c2s_of = |rig: &Rig, port: u16| {
        rig.dp
            .scheduler
            .core()
            .sessions()
            .iter()
            .find(|(_, s)| s.key().client_port == port)
            .map(|(_, s)| s.labels().c2s())
    };
    // s2 has 40001 and 40003 (round robin from s1).
    let (l1, l3) = (c2s_of(&rig, 40001).unwrap(), c2s_of(&rig, 40003).unwrap());
    let (client, vip) = (ip("198.18.0.11"), ip("198.18.100.1"));
    let mut out = Vec::new();
    for _ in 0..200 {
        let o = rig.advance_ms(10);
        for (port, seq) in probes(&o, 0) {
            rig.send(SERVER, &syn_ack(0, port, seq));
        }
        out.extend(o);
        if health_of(&mut rig, 1)["state"] == "down" {
            break;
        }
    }
    assert_eq!(health_of(&mut rig, 1)["state"], "down");
    let probe = |b: FrameBuilder| {
        b.flags(TcpFlags::ACK)
            .seq(0x5b5b_0000)
            .ack(0x5b5b_0000)
            .window(0)
            .build()
    };
    let to_client =
        |cport: u16| FrameBuilder::tcp(MacAddr(PORT_MACS[CLIENT]), C_MAC, vip, client, 80, cport);
    let to_s2 = |cport: u16, c2s: u32| {
        FrameBuilder::tcp(
            MacAddr(PORT_MACS[SERVER]),
            MacAddr(S_MACS[1]),
            client,
            vip,
            cport,
            80,
        )
        .label(c2s)
    };
    for want in [
        (CLIENT, probe(to_client(40001))),
        (SERVER, probe(to_s2(40001, l1))),
        (CLIENT, probe(to_client(40003))),
        (SERVER, probe(to_s2(40003, l3))),
    ] {
        assert!(out.contains(&want), "probe {want:02x?} not sent");
    }
    assert_eq!(rig.event(Event::ResetProbesSent), 4);
    // s1's sessions are untouched: no probe to them.
    assert!(!out.iter().any(|(_, f)| *f == probe(to_client(40000))));
    // The client answers for 40001: SND.NXT 5000, RCV.NXT 1234.
    let answer = FrameBuilder::tcp(C_MAC, MacAddr(PORT_MACS[CLIENT]), client, vip, 40001, 80)
        .flags(TcpFlags::ACK)
        .seq(5000)
        .ack(1234)
        .build();
    let back = rig.send(CLIENT, &answer);
    let rst = |b: FrameBuilder, seq: u32| b.flags(TcpFlags::RST).seq(seq).ack(0).window(0).build();
    assert_eq!(back, vec![(CLIENT, rst(to_client(40001), 1234))]);
    // s2 answers for 40001 on the S2C label, from the VIP: RCV.NXT 999.
    let answer = FrameBuilder::tcp(
        MacAddr(S_MACS[1]),
        MacAddr(PORT_MACS[SERVER]),
        vip,
        client,
        80,
        40001,
    )
    .label(l1 + 1)
    .flags(TcpFlags::ACK)
    .seq(7000)
    .ack(999)
    .build();
    let back = rig.send(SERVER, &answer);
    assert_eq!(back, vec![(SERVER, rst(to_s2(40001, l1), 999))]);
    assert_eq!(rig.event(Event::SessionResetsSent), 2);
    // A second answer is no longer expected: dropped as before.
    let before = rig.drops("withdrawn_label");
    assert!(rig.send(SERVER, &answer).is_empty());
    assert_eq!(rig.drops("withdrawn_label"), before + 1);
    // An end that answers with a RST (no connection any more) gets nothing.
    let rst_answer = FrameBuilder::tcp(C_MAC, MacAddr(PORT_MACS[CLIENT]), client, vip, 40003, 80)
        .flags(TcpFlags::RST)
        .seq(77)
        .build();
    assert!(rig.send(CLIENT, &rst_answer).is_empty());
    // After a second, 40003's server answer finds nothing waiting.
    rig.advance_ms(1100);
    let late = FrameBuilder::tcp(
        MacAddr(S_MACS[1]),
        MacAddr(PORT_MACS[SERVER]),
        vip,
        client,
        80,
        40003,
    )
    .label(l3 + 1)
    .flags(TcpFlags::ACK)
    .seq(1)
    .ack(2)
    .build();
    assert!(rig.send(SERVER, &late).is_empty());
    assert_eq!(rig.event(Event::SessionResetsSent), 2);
}

/// The drop trace: off until asked; on, it shows each dropped frame with
/// its reason, 5-tuple and flags, and a late frame of a session ended by
/// a RST as a stray with how it ended and how long before; off again, it
/// records nothing more.
#[test]
fn drop_trace_shows_which_frames_were_dropped_and_why() {
    let mut rig = Rig::new(&config("round_robin", NO_HEALTH), 2);
    let stray = |port: u16| {
        FrameBuilder::tcp(
            C_MAC,
            MacAddr(PORT_MACS[CLIENT]),
            ip("198.18.0.11"),
            ip("198.18.100.9"),
            port,
            80,
        )
        .flags(TcpFlags::SYN)
        .build()
    };
    // Off: drops are counted, not traced.
    assert!(rig.send(CLIENT, &stray(1)).is_empty());
    let d = rig.ctl("drops", json!({})).unwrap();
    assert_eq!(
        (d["enabled"].clone(), d["matched"].clone()),
        (json!(false), json!(0)),
        "{d}"
    );

    let d = rig.ctl("drops", json!({ "enable": true })).unwrap();
    assert_eq!(
        (d["enabled"].clone(), d["matched"].clone()),
        (json!(true), json!(0)),
        "{d}"
    );
    assert!(rig.send(CLIENT, &stray(2)).is_empty());
    // A session, reset by the client's RST and ended after the linger
    // (1 s); then its late ACK.
    assert!(server_of(&rig.send(CLIENT, &syn(40000))).is_some());
    let rst = FrameBuilder::tcp(
        C_MAC,
        MacAddr(PORT_MACS[CLIENT]),
        ip("198.18.0.11"),
        ip("198.18.100.1"),
        40000,
        80,
    )
    .flags(TcpFlags::RST)
    .seq(2)
    .build();
    assert!(server_of(&rig.send(CLIENT, &rst)).is_some());
    rig.advance_ms(1100);
    assert!(rig.send(CLIENT, &ack(40000)).is_empty());

    let d = rig.ctl("drops", json!({})).unwrap();
    assert_eq!(d["matched"], 2, "{d}");
    let first = &d["drops"][0];
    assert_eq!(first["reason"], "not_for_vip", "{d}");
    assert_eq!(first["src"], "198.18.0.11:2");
    assert_eq!(first["dst"], "198.18.100.9:80");
    assert_eq!(first["tcp_flags"], "S");
    assert_eq!(first["port"], "client");
    assert_eq!(first["late"], serde_json::Value::Null);
    let late = &d["drops"][1];
    assert_eq!(late["reason"], "stray_after_end", "{d}");
    assert_eq!(late["lcore"], "scheduler");
    assert_eq!(late["src"], "198.18.0.11:40000");
    assert_eq!(late["tcp_flags"], "A");
    assert_eq!(late["late"]["ended"], "reset");
    let after = late["late"]["after_us"].as_u64().unwrap();
    // The session ended 1 s after the RST (the linger, in the rig's 10 ms
    // steps); the ACK came 1.1 s after the RST.
    assert!(
        (90_000..=100_000).contains(&after),
        "{after} us after the end"
    );
    assert_eq!(rig.drops("stray_after_end"), 1);

    // Filters: by reason, the newest N; an unknown reason names them all.
    let d = rig
        .ctl("drops", json!({ "reason": "stray_after_end" }))
        .unwrap();
    assert_eq!(d["matched"], 1, "{d}");
    let d = rig.ctl("drops", json!({ "limit": 1 })).unwrap();
    assert_eq!(d["drops"].as_array().unwrap().len(), 1);
    assert_eq!(d["drops"][0]["reason"], "stray_after_end");
    let e = rig.ctl("drops", json!({ "reason": "nope" })).unwrap_err();
    assert_eq!(e.code, "invalid_argument");
    assert!(e.message.contains("stray_after_end"), "{}", e.message);

    // Off: what it holds stays, nothing new is added.
    let d = rig.ctl("drops", json!({ "enable": false })).unwrap();
    assert_eq!(
        (d["enabled"].clone(), d["matched"].clone()),
        (json!(false), json!(2)),
        "{d}"
    );
    assert!(rig.send(CLIENT, &stray(3)).is_empty());
    assert_eq!(rig.ctl("drops", json!({})).unwrap()["matched"], 2);
    // On again: empty.
    let d = rig.ctl("drops", json!({ "enable": true })).unwrap();
    assert_eq!(d["matched"], 0, "{d}");
}

#[test]
fn operations_doc_lists_every_error_code_and_command() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    for c in slb_proto::code::ALL {
        assert!(
            doc.contains(&format!("| `{c}` |")),
            "docs/operations.md lacks error code {c}"
        );
    }
    for c in slb_proto::COMMANDS {
        assert!(
            doc.contains(&format!("`{c}`")),
            "docs/operations.md lacks command {c}"
        );
    }
}
