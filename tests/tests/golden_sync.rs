//! Session sync between two instances (issue 15) on two in-process data
//! paths joined by their client ports: A (instance 0, 198.18.0.1 /
//! 2001:db8::1) and B (instance 1, .0.2 / ::2), one least-connections
//! service over s1, `cluster.sync` on both.
//!
//! - at start each asks the other for a dump and holds its routes until
//!   the (empty) dump ends;
//! - a session on A becomes one sync datagram once it is a second old
//!   (exact bytes); B installs it with A's labels;
//! - the session's frames at B are switched there at once (client to
//!   server on A's label 17, the server's reply on 18 to the client), and
//!   B, which now switches it, syncs it back (A's copy is updated);
//! - a B restarted while A holds the session gets it in A's dump before it
//!   stops holding its routes;
//! - A ending the session ends B's copy (an `ended` record);
//! - datagrams from a non-peer, with a wrong sender or malformed are
//!   dropped and counted.

use serde_json::json;
use slb_appliance::counters::Event;
use slb_core::session::{Protocol, SessionKey, SessionState};
use slb_core::SessionRecord;
use slb_tests::golden::net::{port_mac, syn, syn_ack, Net, CLIENT, PORT_MACS, SERVER};
use slb_tests::golden::row::Family;
use slb_tests::golden::{Rig, Sent};
use slb_wire::sync::{self as wire, Kind};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

const B_MACS: [[u8; 6]; 2] = [[0x02, 0x5b, 0, 0, 1, 0], [0x02, 0x5b, 0, 0, 1, 1]];
const SYNC_PORT: u16 = 7471;
/// Instance 0's first pair (labels 17 to 524,294 are its slice).
const A_C2S: u32 = 17;

fn addr(n: &Net, v4: &str, v6: &str) -> IpAddr {
    match n.family {
        Family::V4 => v4.parse().unwrap(),
        Family::V6 => v6.parse().unwrap(),
    }
}

fn a_ip(n: &Net) -> IpAddr {
    addr(n, "198.18.0.1", "2001:db8::1")
}

fn b_ip(n: &Net) -> IpAddr {
    addr(n, "198.18.0.2", "2001:db8::2")
}

/// Instance `me` of 2 at `own` (client port), its peer at `peer`.
fn config(n: &Net, me: u16, own: (&str, &str), peer: IpAddr) -> String {
    let service = n.service(
        "web",
        80,
        json!({ "client_mode": "plain", "algorithm": "least_connections" }),
        &[(0, json!({}))],
    );
    let neighbours: Vec<_> = n
        .servers
        .iter()
        .chain([n.c2].iter())
        .map(|h| json!({ "address": h.ip, "mac": h.mac.to_string() }))
        .collect();
    let text = n.config(
        json!({
            "neighbours": neighbours,
            // Established: 60 s, less than two refresh periods.
            "timeouts": { "tcp_linger_ms": 1000, "tcp_established_s": 60 },
            "cluster": {
                "instance": me, "instances": 2,
                "peers": [{ "instance": 1 - me, "address": peer }],
                "sync": { "port": SYNC_PORT, "after_ms": 1000, "refresh_ms": 60000,
                          "dump_wait_ms": 3000 }
            }
        }),
        vec![service],
    );
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["ports"][0]["ipv4"] = json!(format!("{}/24", own.0));
    doc["ports"][0]["ipv6"] = json!(format!("{}/64", own.1));
    doc.to_string()
}

fn rig_a(n: &Net) -> Rig {
    Rig::with_macs(
        &config(n, 0, ("198.18.0.1", "2001:db8::1"), b_ip(n)),
        1,
        &PORT_MACS,
    )
}

fn rig_b(n: &Net) -> Rig {
    Rig::with_macs(
        &config(n, 1, ("198.18.0.2", "2001:db8::2"), a_ip(n)),
        2,
        &B_MACS,
    )
}

/// Whether a frame leaving one instance's client port reaches the other:
/// to its MAC, broadcast or multicast (ARP, ND).
fn for_peer(frame: &[u8], peer_mac: [u8; 6]) -> bool {
    frame[..6] == peer_mac || frame[0] & 1 == 1
}

fn is_sync(frame: &[u8]) -> bool {
    let Ok(k) = slb_wire::flow::extract(frame) else {
        return false;
    };
    k.protocol == slb_wire::IpProtocol::Udp && k.dst_port == SYNC_PORT
}

/// The two instances, their client ports joined.
struct Pair {
    a: Rig,
    b: Rig,
    /// Sync datagrams A and B sent each other, in order.
    a_sync: Vec<Vec<u8>>,
    b_sync: Vec<Vec<u8>>,
    /// Everything else that left (toward clients and servers).
    a_out: Vec<Sent>,
    b_out: Vec<Sent>,
}

impl Pair {
    /// Hands frames between the two until none is left for the other.
    fn exchange(&mut self, mut from_a: Vec<Sent>, mut from_b: Vec<Sent>) {
        for _ in 0..100 {
            if from_a.is_empty() && from_b.is_empty() {
                return;
            }
            let mut next_b = Vec::new();
            for (p, f) in std::mem::take(&mut from_a) {
                if p == CLIENT && for_peer(&f, B_MACS[CLIENT]) {
                    if is_sync(&f) {
                        self.a_sync.push(f.clone());
                    }
                    next_b.extend(self.b.send(CLIENT, &f));
                } else {
                    self.a_out.push((p, f));
                }
            }
            let mut next_a = Vec::new();
            for (p, f) in std::mem::take(&mut from_b) {
                if p == CLIENT && for_peer(&f, PORT_MACS[CLIENT]) {
                    if is_sync(&f) {
                        self.b_sync.push(f.clone());
                    }
                    next_a.extend(self.a.send(CLIENT, &f));
                } else {
                    self.b_out.push((p, f));
                }
            }
            from_a = next_a;
            from_b = next_b;
        }
        panic!("the instances never stopped talking");
    }

    /// A frame in at A (`to_b` false) or B: what leaves toward clients
    /// and servers (what goes to the other instance is handed over).
    fn send(&mut self, to_b: bool, port: usize, frame: &[u8]) -> Vec<Sent> {
        let (before_a, before_b) = (self.a_out.len(), self.b_out.len());
        if to_b {
            let out = self.b.send(port, frame);
            self.exchange(Vec::new(), out);
        } else {
            let out = self.a.send(port, frame);
            self.exchange(out, Vec::new());
        }
        let mut out = self.a_out.split_off(before_a);
        out.extend(self.b_out.split_off(before_b));
        out
    }

    fn advance_ms(&mut self, ms: u64) {
        for _ in 0..ms / 10 {
            let a = self.a.advance_ms(10);
            let b = self.b.advance_ms(10);
            self.exchange(a, b);
        }
    }
}

fn c2_data(n: &Net, dst_mac: MacAddr, cport: u16) -> FrameBuilder {
    n.from_client(n.c2, cport, 80)
        .macs(n.c2.mac, dst_mac)
        .flags(TcpFlags::ACK)
        .seq(1001)
        .ack(5001)
        .payload(b"more")
}

/// The record A sends of the session when it is `age_ms` old.
fn expected_record(n: &Net, cport: u16, age_ms: u32) -> SessionRecord {
    SessionRecord {
        key: SessionKey {
            protocol: Protocol::Tcp,
            vip: n.vip,
            vip_port: 80,
            client: n.c2.ip,
            client_port: cport,
        },
        c2s: A_C2S,
        server: n.servers[0].ip,
        client_mac: n.c2.mac.0,
        ingress_port: CLIENT as u16,
        state: SessionState::Established,
        // The established timeout (60 s) less its age is less than two
        // refresh periods (2 x 60 s): the peer's copy gets those.
        remaining_ms: 120_000.max(60_000 - age_ms),
        age_ms,
        replied: true,
        ended: false,
    }
}

fn datagram(src: (MacAddr, IpAddr), dst: (MacAddr, IpAddr), payload: &[u8]) -> Vec<u8> {
    FrameBuilder::udp(src.0, dst.0, src.1, dst.1, SYNC_PORT, SYNC_PORT)
        .payload(payload)
        .build()
}

fn sync_between_two_instances(family: Family) {
    let n = Net::new(family);
    let mut p = Pair {
        a: rig_a(&n),
        b: rig_b(&n),
        a_sync: Vec::new(),
        b_sync: Vec::new(),
        a_out: Vec::new(),
        b_out: Vec::new(),
    };
    assert!(p.a.dp.scheduler.sync_holding() && p.b.dp.scheduler.sync_holding());
    let held = |rig: &mut Rig| {
        let c = rig.ctl("cluster", json!({})).expect("cluster");
        assert_eq!(c["sync"]["port"], SYNC_PORT);
        c["sync"]["holding_routes"]
            .as_bool()
            .expect("holding_routes")
    };
    assert!(held(&mut p.a), "`cluster` says the routes are held");
    // Probes, dump requests, empty dumps.
    p.advance_ms(400);
    assert!(
        p.a.dp.scheduler.sync_holding(),
        "A waits at least 500 ms for its peers to answer"
    );
    p.advance_ms(200);
    assert!(!held(&mut p.a), "`cluster`: released");
    for (rig, who) in [(&p.a, "A"), (&p.b, "B")] {
        assert!(
            !rig.dp.scheduler.sync_holding(),
            "{who} released its routes"
        );
        assert_eq!(rig.event(Event::SyncDumpsSent), 1, "{who} dumped once");
    }
    let dumps = p.a_sync.len();
    assert_eq!(
        p.a_sync
            .iter()
            .filter(|f| f.len() <= 14 + 40 + 8 + wire::HEADER_LEN)
            .count(),
        dumps,
        "A sent only requests and an empty dump"
    );

    // A session on A: SYN, the server's SYN-ACK.
    let cport = 40000;
    let out = p.send(
        false,
        CLIENT,
        &syn(n.from_client(n.c2, cport, 80), 1460).build(),
    );
    assert_eq!(out.len(), 1, "the SYN to s1: {out:?}");
    assert_eq!(out[0].0, SERVER);
    let reply = syn_ack(n.from_server(0, n.c2, 80, cport), 5000, 1460).label(A_C2S + 1);
    let out = p.send(false, SERVER, &reply.build());
    assert_eq!(out.len(), 1, "the SYN-ACK to c2");
    let synced_before = p.a_sync.len();
    p.advance_ms(990);
    assert_eq!(p.a_sync.len(), synced_before, "not a second old yet");
    // The scan passes each slot every 250 ms (a quarter of after_ms): the
    // record leaves within 250 ms of the session's first second.
    let mut waited = 0;
    while p.a_sync.len() == synced_before && waited < 260 {
        p.advance_ms(10);
        waited += 10;
    }
    assert_eq!(p.a_sync.len(), synced_before + 1, "one datagram after 1 s");
    let age = 1000 + waited - 10;
    let mut payload = wire::header(Kind::Records, 0, 1).to_vec();
    expected_record(&n, cport, age as u32)
        .encode(&mut payload)
        .unwrap();
    let want = datagram(
        (port_mac(CLIENT), a_ip(&n)),
        (MacAddr(B_MACS[CLIENT]), b_ip(&n)),
        &payload,
    );
    assert_eq!(p.a_sync[synced_before], want, "the sync datagram's bytes");
    assert!(slb_wire::builder::checksums_valid(&want));
    assert_eq!(p.a.event(Event::SyncRecordsSent), 1);
    assert_eq!(p.b.event(Event::SyncRecordsReceived), 1);
    assert_eq!(p.b.event(Event::SyncInstalled), 1);
    assert_eq!(p.b.active_sessions(), 1, "B holds A's session");

    // Its frames at B: switched at once, on A's labels.
    let out = p.send(
        true,
        CLIENT,
        &c2_data(&n, MacAddr(B_MACS[CLIENT]), cport).build(),
    );
    let to_s1 = n
        .to_server(n.c2, 0, cport, 80)
        .macs(MacAddr(B_MACS[SERVER]), n.servers[0].mac)
        .flags(TcpFlags::ACK)
        .seq(1001)
        .ack(5001)
        .payload(b"more")
        .label(A_C2S)
        .build();
    assert_eq!(out, vec![(SERVER, to_s1)], "c2's segment at B, to s1 on 17");
    let answer = n
        .from_server(0, n.c2, 80, cport)
        .macs(n.servers[0].mac, MacAddr(B_MACS[SERVER]))
        .flags(TcpFlags::ACK)
        .seq(5001)
        .ack(1005)
        .payload(b"ok");
    let out = p.send(true, SERVER, &answer.clone().label(A_C2S + 1).build());
    let to_c2 = n
        .to_client(n.c2, 80, cport)
        .macs(MacAddr(B_MACS[CLIENT]), n.c2.mac)
        .flags(TcpFlags::ACK)
        .seq(5001)
        .ack(1005)
        .payload(b"ok")
        .build();
    assert_eq!(out, vec![(CLIENT, to_c2)], "s1's answer at B, to c2");
    // B switches it now: its scan finds it within 250 ms and syncs it
    // (A's copy is updated).
    p.advance_ms(250);
    assert_eq!(p.b.event(Event::SyncRecordsSent), 1, "B took it over");
    assert_eq!(p.a.event(Event::SyncUpdated), 1);
    p.advance_ms(1000);
    assert_eq!(
        p.b.event(Event::SyncRecordsSent),
        1,
        "not again before the refresh"
    );

    // B restarts: it asks A for a dump, and holds its routes until it is in.
    p.b = rig_b(&n);
    assert!(p.b.dp.scheduler.sync_holding());
    let dumps = p.a.event(Event::SyncDumpsSent);
    p.advance_ms(600);
    assert_eq!(p.a.event(Event::SyncDumpsSent), dumps + 1);
    assert_eq!(
        p.b.event(Event::SyncInstalled),
        1,
        "the session, from A's dump"
    );
    assert!(!p.b.dp.scheduler.sync_holding());
    assert_eq!(p.b.active_sessions(), 1);

    // A ends the session (the client's RST, then the linger): B's copy ends.
    let rst = n
        .from_client(n.c2, cport, 80)
        .flags(TcpFlags::RST)
        .seq(1005);
    p.send(false, CLIENT, &rst.build());
    p.advance_ms(1500);
    assert_eq!(p.b.event(Event::SyncEnded), 1, "A's ended record");
    assert_eq!(p.b.dp.scheduler.core().sessions().len(), 0);

    // Datagrams B refuses: from no peer, from A naming another sender,
    // malformed records.
    let bad_before = p.b.event(Event::SyncBadDatagrams);
    let installed = p.b.event(Event::SyncInstalled);
    let b_mac = MacAddr(B_MACS[CLIENT]);
    let mut good = wire::header(Kind::Records, 0, 1).to_vec();
    expected_record(&n, 40001, 1000).encode(&mut good).unwrap();
    let mut wrong_sender = good.clone();
    wrong_sender[7] = 1;
    let mut short = good.clone();
    short.pop();
    for (what, src, payload) in [
        ("from a non-peer", n.foreign, &good),
        ("a wrong sender", a_ip(&n), &wrong_sender),
        ("a record cut short", a_ip(&n), &short),
    ] {
        let f = datagram((n.c2.mac, src), (b_mac, b_ip(&n)), payload);
        let out = p.send(true, CLIENT, &f);
        assert!(out.is_empty(), "{what}: nothing leaves");
    }
    assert_eq!(p.b.event(Event::SyncBadDatagrams), bad_before + 3);
    assert_eq!(p.b.event(Event::SyncInstalled), installed, "none installed");
    assert!(p.b.event(Event::PuntedSync) >= 3);
    // The same record from A, well formed: installed.
    let f = datagram((port_mac(CLIENT), a_ip(&n)), (b_mac, b_ip(&n)), &good);
    p.send(true, CLIENT, &f);
    assert_eq!(p.b.event(Event::SyncInstalled), installed + 1);
}

#[test]
fn sync_between_two_instances_v4() {
    sync_between_two_instances(Family::V4);
}

#[test]
fn sync_between_two_instances_v6() {
    sync_between_two_instances(Family::V6);
}

#[test]
fn no_sync_section_no_sync() {
    let n = Net::new(Family::V4);
    let text = config(&n, 0, ("198.18.0.1", "2001:db8::1"), b_ip(&n));
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["cluster"].as_object_mut().unwrap().remove("sync");
    let mut rig = Rig::with_macs(&doc.to_string(), 1, &PORT_MACS);
    assert!(!rig.dp.scheduler.sync_holding());
    rig.settle();
    let mut payload = wire::header(Kind::Records, 1, 1).to_vec();
    expected_record(&n, 40000, 1000)
        .encode(&mut payload)
        .unwrap();
    let f = datagram(
        (MacAddr(B_MACS[CLIENT]), b_ip(&n)),
        (port_mac(CLIENT), a_ip(&n)),
        &payload,
    );
    let out = rig.send(CLIENT, &f);
    assert!(out.is_empty());
    assert_eq!(rig.event(Event::PuntedSync), 0, "not punted: no sync port");
    assert_eq!(rig.event(Event::SyncInstalled), 0);
    assert_eq!(rig.drops("to_appliance"), 1);
}
