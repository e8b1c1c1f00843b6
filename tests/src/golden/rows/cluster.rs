//! Rows 22-24 (issue 14, a cluster of slbd instances): slbd as instance 1
//! of 2 sharing the default label range. Instance 0 assigns labels 17 to
//! 524,294, this instance 524,295 to 1,048,572 (`docs/session-core.md`,
//! "Labels in a cluster"). A server's frame on a server-to-client label
//! this instance holds no session for (instance 0's, or its own after a
//! restart) is switched without state: the service from the inner source,
//! the label popped for plain clients and kept for label-aware ones, sent
//! to the client if it is on-link, else to the client-side gateway. The
//! port-role, parity and server checks stay; a label this instance
//! withdrew stays a late frame. Services "plain" (port 80) and "aware"
//! (port 81) as in rows 1-8; every neighbour (servers, clients, gateway)
//! is static, so nothing waits for ARP/ND. Row 24: a plain client's
//! packet of no session that does not start one (its flow moved here from
//! another instance) is re-admitted to the server the hash picks, for
//! Maglev and source hash services (`recovered_by_hash`). Row 26: a
//! label-aware client's frame on another instance's client-to-server label
//! (its agent's fallback when the owner died) is recovered the same way,
//! its label replaced by one of this instance's. Row 27: while the label's
//! owner answers this instance's probes, such a frame is forwarded to it
//! instead (`forwarded_to_owner`).

use crate::golden::net::{port_mac, syn, syn_ack, Host, Net, CLIENT, SERVER};
use crate::golden::row::{
    advance_ms, advance_out, check, send, Case, Check, Family, Row, Slbd, BOTH,
};
use serde_json::{json, Value};
use slb_appliance::counters::Event;
use slb_wire::builder::{arp_reply, arp_request, nd_advert, nd_solicit};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

const ONE_AND_TWO_WORKERS: &[usize] = &[1, 2];

/// This instance's first pair.
const OWN_C2S: u32 = 524_295;
const OWN_S2C: u32 = OWN_C2S + 1;

/// The client-side gateway: its MAC, and its address per family.
pub(super) const GATEWAY_MAC: MacAddr = MacAddr([0x02, 0x6a, 0, 0, 0, 0xfe]);

pub(super) fn gateway(n: &Net) -> IpAddr {
    match n.family {
        Family::V4 => "198.18.0.254".parse().unwrap(),
        Family::V6 => "2001:db8::fe".parse().unwrap(),
    }
}

/// A client behind the gateway (off every subnet of slbd's).
fn far(n: &Net) -> Host {
    Host {
        mac: MacAddr([0x02, 0xfa, 0, 0, 0, 0x07]),
        ip: match n.family {
            Family::V4 => "203.0.113.7".parse().unwrap(),
            Family::V6 => "2001:db8:ff::7".parse().unwrap(),
        },
    }
}

fn services(n: &Net) -> Vec<Value> {
    vec![
        n.service(
            "plain",
            80,
            json!({ "client_mode": "plain" }),
            &[(0, json!({}))],
        ),
        n.service(
            "aware",
            81,
            json!({ "client_mode": "label" }),
            &[(0, json!({}))],
        ),
    ]
}

/// Instance 1 of 2, with static MACs for the servers, the two clients
/// and the gateway.
fn config(n: &Net) -> String {
    cluster_config(n, services(n))
}

fn cluster_config(n: &Net, services: Vec<Value>) -> String {
    cluster_config_with(n, services, json!({}))
}

/// Instance 1 of 2 as in [`config`], with `more` fields in its `cluster`
/// section.
pub(super) fn cluster_config_with(n: &Net, services: Vec<Value>, more: Value) -> String {
    let mut neighbours: Vec<Value> = n
        .servers
        .iter()
        .chain([n.c1, n.c2].iter())
        .map(|h| json!({ "address": h.ip, "mac": h.mac.to_string() }))
        .collect();
    neighbours.push(json!({ "address": gateway(n), "mac": GATEWAY_MAC.to_string() }));
    // Off every subnet of slbd's: not probed for liveness (row 27 has an
    // on-link peer, and its probes).
    let peer = match n.family {
        Family::V4 => "198.18.50.2",
        Family::V6 => "2001:db8:50::2",
    };
    let mut cluster = json!({
        "instance": 1, "instances": 2,
        "peers": [{ "instance": 0, "address": peer }],
        "client_gateway_ipv4": "198.18.0.254",
        "client_gateway_ipv6": "2001:db8::fe"
    });
    if let (Some(c), Value::Object(more)) = (cluster.as_object_mut(), more) {
        c.extend(more);
    }
    n.config(
        json!({
            "timeouts": { "tcp_linger_ms": 1000 },
            "neighbours": neighbours,
            "cluster": cluster,
        }),
        services,
    )
}

/// The TCP payload that makes a 1500-byte IP packet (MTU 1500).
fn full_payload(n: &Net) -> usize {
    match n.family {
        Family::V4 => 1500 - 20 - 20,
        Family::V6 => 1500 - 40 - 20,
    }
}

/// s1's data segment to client `c` on `label`.
fn s1_data(n: &Net, c: Host, vport: u16, cport: u16) -> FrameBuilder {
    n.from_server(0, c, vport, cport)
        .flags(TcpFlags::ACK)
        .seq(5001)
        .ack(1001)
        .payload(b"HTTP/1.0 200 OK\r\n\r\n")
}

fn s1_data_to(n: &Net, c: Host, dst_mac: MacAddr, vport: u16, cport: u16) -> FrameBuilder {
    FrameBuilder::tcp(port_mac(CLIENT), dst_mac, n.vip, c.ip, vport, cport)
        .flags(TcpFlags::ACK)
        .seq(5001)
        .ack(1001)
        .payload(b"HTTP/1.0 200 OK\r\n\r\n")
}

fn stateless(n: &Net) -> Case {
    let far = far(n);
    let stateless = |k| [(Event::SwitchedStateless, k)];
    Case::new(
        config(n),
        vec![
            send(
                "s1's SYN-ACK on 18 (instance 0's label) to plain client c2: switched without state, label popped, MSS clamped",
                SERVER,
                syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1460).label(18),
            )
            .out(CLIENT, syn_ack(n.to_client(n.c2, 80, 40000), 5000, n.mss))
            .events(&[
                (Event::SwitchedStateless, 1),
                (Event::Popped, 1),
                (Event::MssClamped, 1),
                (Event::SessionsAdmitted, 0),
            ]),
            send(
                "s1's data on 18 to label-aware client c1 (service aware): label kept",
                SERVER,
                s1_data(n, n.c1, 81, 41000).label(18),
            )
            .out(CLIENT, s1_data_to(n, n.c1, n.c1.mac, 81, 41000).label(18))
            .events(&[(Event::SwitchedStateless, 1), (Event::Popped, 0)]),
            send(
                "s1's data on 18 to a client off every subnet: to the client-side gateway",
                SERVER,
                s1_data(n, far, 80, 40001).label(18),
            )
            .out(CLIENT, s1_data_to(n, far, GATEWAY_MAC, 80, 40001))
            .events(&stateless(1)),
            send(
                "s1's data on this instance's own label 524296, no session (lost in a restart): switched the same way",
                SERVER,
                s1_data(n, n.c2, 80, 40000).label(OWN_S2C),
            )
            .out(CLIENT, s1_data_to(n, n.c2, n.c2.mac, 80, 40000))
            .events(&stateless(1)),
            send(
                "a 1500-byte packet on 18 to label-aware c1: with its label kept it does not fit the client port's MTU: oversize",
                SERVER,
                n.from_server(0, n.c1, 81, 41000)
                    .flags(TcpFlags::ACK)
                    .payload(&vec![0x5a; full_payload(n)])
                    .label(18),
            )
            .drop("oversize")
            .events(&stateless(0)),
            send(
                "a server-to-client label from the client port: wrong_port_role",
                CLIENT,
                FrameBuilder::tcp(n.c1.mac, port_mac(CLIENT), n.vip, n.c1.ip, 81, 41000)
                    .flags(TcpFlags::ACK)
                    .label(18),
            )
            .drop("wrong_port_role")
            .events(&stateless(0)),
            send(
                "from a MAC that is none of the service's servers: foreign_server",
                SERVER,
                FrameBuilder::tcp(
                    MacAddr([0x02, 0x66, 0, 0, 0, 0x01]),
                    port_mac(SERVER),
                    n.vip,
                    n.c2.ip,
                    80,
                    40000,
                )
                .flags(TcpFlags::ACK)
                .label(18),
            )
            .drop("foreign_server")
            .events(&stateless(0)),
            send(
                "from port 8080 of the VIP, no service: stateless_no_service",
                SERVER,
                n.from_server(0, n.c2, 8080, 40000)
                    .flags(TcpFlags::ACK)
                    .label(18),
            )
            .drop("stateless_no_service")
            .events(&stateless(0)),
            send(
                "a client-to-server label of instance 0 (17), service aware (round robin: not recoverable): unknown_label, as on one box",
                CLIENT,
                n.from_client(n.c1, 41000, 81).flags(TcpFlags::ACK).label(17),
            )
            .drop("unknown_label")
            .events(&stateless(0)),
            check(Check::Event(Event::SwitchedStateless, 4)),
            check(Check::ActiveSessions(0)),
        ],
    )
}

/// Sessions this instance admits take labels from its own slice; once
/// one ended (RST, linger) its label is a late frame's, not switched.
fn own_slice(n: &Net) -> Case {
    let mut steps = vec![
        send(
            "c2's SYN: admitted on this instance's first pair, 524295/524296",
            CLIENT,
            syn(n.from_client(n.c2, 40000, 80), 1460),
        )
        .out(
            SERVER,
            syn(n.to_server(n.c2, 0, 40000, 80), n.mss).label(OWN_C2S),
        )
        .events(&[(Event::SessionsAdmitted, 1)]),
        send(
            "s1's SYN-ACK on 524296: the session's, switched by the worker",
            SERVER,
            syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1460).label(OWN_S2C),
        )
        .out(CLIENT, syn_ack(n.to_client(n.c2, 80, 40000), 5000, n.mss))
        .events(&[(Event::SwitchedS2c, 1), (Event::SwitchedStateless, 0)]),
        send(
            "s1's RST on 524296: popped toward c2, the session lingers",
            SERVER,
            n.from_server(0, n.c2, 80, 40000)
                .flags(TcpFlags::RST)
                .seq(5001)
                .label(OWN_S2C),
        )
        .out(
            CLIENT,
            n.to_client(n.c2, 80, 40000).flags(TcpFlags::RST).seq(5001),
        ),
    ];
    steps.extend([
        advance_ms(1500),
        check(Check::ActiveSessions(0)),
        send(
            "s1's late segment on 524296, withdrawn by this instance: a stray, not switched",
            SERVER,
            s1_data(n, n.c2, 80, 40000).label(OWN_S2C),
        )
        .drop("stray_after_end")
        .events(&[(Event::SwitchedStateless, 0)]),
    ]);
    Case::new(config(n), steps)
}

/// Without a `cluster` section nothing changes: instance 0's label 18 is
/// this box's, and with no session it is unknown.
fn one_box(n: &Net) -> Case {
    Case::new(
        n.config(json!({}), services(n)),
        vec![send(
            "s1's SYN-ACK on 18, no session, one box: unknown_label",
            SERVER,
            syn_ack(n.from_server(0, n.c2, 80, 40000), 5000, 1460).label(18),
        )
        .drop("unknown_label")
        .events(&[(Event::SwitchedStateless, 0)])],
    )
}

/// Service "hash" (Maglev, port 80) and "rr" (round robin, port 82) over
/// s1..s3, plain clients.
fn hash_services(n: &Net) -> Vec<Value> {
    let all = [(0, json!({})), (1, json!({})), (2, json!({}))];
    vec![
        n.service(
            "hash",
            80,
            json!({ "client_mode": "plain", "algorithm": "maglev" }),
            &all,
        ),
        n.service(
            "rr",
            82,
            json!({ "client_mode": "plain", "algorithm": "round_robin" }),
            &all,
        ),
    ]
}

/// The server (index) another instance's Maglev picked for c2's flow from
/// `cport` to port 80: the session core itself, with the same servers.
fn maglev_pick(n: &Net, cport: u16) -> usize {
    maglev_pick_for(n, n.c2, cport, 80)
}

/// The same for `client`'s flow from `cport` to `vport`.
fn maglev_pick_for(n: &Net, client: Host, cport: u16, vport: u16) -> usize {
    use slb_core::{Algorithm, Core, CoreConfig, NewPacketOutcome, PacketInfo, Protocol};
    use slb_core::{ServerConfig, ServiceConfig, SessionKey, TcpFlags as CoreFlags};
    let mut core = Core::new(CoreConfig::default()).expect("default core");
    let service = ServiceConfig::new(Protocol::Tcp, n.vip, vport, Algorithm::Maglev);
    let id = core.add_service(service).expect("a service");
    for s in &n.servers {
        let pool = core.service_mut(id).expect("the service").pool_mut();
        pool.add(ServerConfig::new(s.ip)).expect("a server");
    }
    let syn = PacketInfo {
        key: SessionKey {
            protocol: Protocol::Tcp,
            vip: n.vip,
            vip_port: vport,
            client: client.ip,
            client_port: cport,
        },
        tcp_flags: CoreFlags(CoreFlags::SYN),
        client_mac: client.mac.0,
        ingress_port: 0,
        bytes: 60,
    };
    match core.on_new_packet(&syn, 0) {
        NewPacketOutcome::Admitted { admitted, .. } => n
            .servers
            .iter()
            .position(|s| s.ip == admitted.server_addr)
            .expect("one of the servers"),
        other => panic!("the SYN was not admitted: {other:?}"),
    }
}

/// A client's mid-flow segment (ACK, seq 1001, ack 5001) with `payload`.
fn mid_flow(b: FrameBuilder, payload: &[u8]) -> FrameBuilder {
    b.flags(TcpFlags::ACK).seq(1001).ack(5001).payload(payload)
}

/// The server's answer to it.
fn answer(b: FrameBuilder) -> FrameBuilder {
    b.flags(TcpFlags::ACK).seq(5001).ack(1019).payload(b"ok")
}

/// c2's segment from `cport` to `vport`.
fn c2_segment(n: &Net, cport: u16, vport: u16, payload: &[u8]) -> FrameBuilder {
    mid_flow(n.from_client(n.c2, cport, vport), payload)
}

/// `client`'s segment from `cport` to `vport`, as this instance sends it
/// to server `x` on its first pair.
fn to_server_on_own_pair(
    n: &Net,
    client: Host,
    x: usize,
    cport: u16,
    vport: u16,
    payload: &[u8],
) -> FrameBuilder {
    mid_flow(n.to_server(client, x, cport, vport), payload).label(OWN_C2S)
}

fn recovery(n: &Net) -> Case {
    let x = maglev_pick(n, 40000);
    let to_x = |payload: &[u8]| to_server_on_own_pair(n, n.c2, x, 40000, 80, payload);
    Case::new(
        cluster_config(n, hash_services(n)),
        vec![
            send(
                "c2's ACK, no session here (its SYN went to instance 0): re-admitted to the server Maglev picks, on this instance's first pair",
                CLIENT,
                c2_segment(n, 40000, 80, b""),
            )
            .out(SERVER, to_x(b""))
            .events(&[(Event::RecoveredByHash, 1), (Event::SessionsAdmitted, 1)]),
            check(Check::ActiveSessions(1)),
            send(
                "c2's request: the recovered session's, same server, same label",
                CLIENT,
                c2_segment(n, 40000, 80, b"GET / HTTP/1.0\r\n"),
            )
            .out(SERVER, to_x(b"GET / HTTP/1.0\r\n"))
            .events(&[(Event::RecoveredByHash, 0), (Event::SessionsAdmitted, 0)]),
            send(
                "the server's answer on 524296: the session's, popped toward c2",
                SERVER,
                answer(n.from_server(x, n.c2, 80, 40000)).label(OWN_S2C),
            )
            .out(CLIENT, answer(n.to_client(n.c2, 80, 40000)))
            .events(&[(Event::SwitchedStateless, 0)]),
            send(
                "c2's ACK to service rr (round robin: no consistent pick): no_session, as before",
                CLIENT,
                c2_segment(n, 40001, 82, b""),
            )
            .drop("no_session")
            .events(&[(Event::RecoveredByHash, 0)]),
            send(
                "c2's RST to the Maglev service on another flow (its answer to a late duplicate, from TIME_WAIT): no_session, never recovered",
                CLIENT,
                n.from_client(n.c2, 40002, 80)
                    .flags(TcpFlags::RST)
                    .seq(1001),
            )
            .drop("no_session")
            .events(&[(Event::RecoveredByHash, 0), (Event::SessionsAdmitted, 0)]),
            check(Check::ActiveSessions(1)),
            check(Check::Event(Event::RecoveredByHash, 1)),
        ],
    )
}

/// One box: a non-SYN packet of no session is dropped, Maglev or not.
fn recovery_one_box(n: &Net) -> Case {
    Case::new(
        n.config(json!({}), hash_services(n)),
        vec![send(
            "c2's ACK to the Maglev service, no session, one box: no_session",
            CLIENT,
            c2_segment(n, 40000, 80, b""),
        )
        .drop("no_session")
        .events(&[(Event::RecoveredByHash, 0)])],
    )
}

/// Label-aware services: "lhash" (Maglev, port 83) and "lrr" (round
/// robin, port 84) over s1..s3, and the plain Maglev service "hash".
fn aware_hash_services(n: &Net) -> Vec<Value> {
    let all = [(0, json!({})), (1, json!({})), (2, json!({}))];
    let mut v = hash_services(n);
    v.truncate(1);
    v.push(n.service(
        "lhash",
        83,
        json!({ "client_mode": "label", "algorithm": "maglev" }),
        &all,
    ));
    v.push(n.service(
        "lrr",
        84,
        json!({ "client_mode": "label", "algorithm": "round_robin" }),
        &all,
    ));
    v
}

/// c1's (label-aware) segment from `cport` to `vport` on `label`.
fn c1_segment(n: &Net, cport: u16, vport: u16, payload: &[u8], label: u32) -> FrameBuilder {
    mid_flow(n.from_client(n.c1, cport, vport), payload).label(label)
}

fn labelled_recovery(n: &Net) -> Case {
    let x = maglev_pick_for(n, n.c1, 41000, 83);
    let to_x = |payload: &[u8]| to_server_on_own_pair(n, n.c1, x, 41000, 83, payload);
    Case::new(
        cluster_config(n, aware_hash_services(n)),
        vec![
            send(
                "c1's segment on 17, instance 0's label (its agent's fallback: instance 0 is gone): popped, re-admitted to the server Maglev picks, on this instance's first pair",
                CLIENT,
                c1_segment(n, 41000, 83, b"", 17),
            )
            .out(SERVER, to_x(b""))
            .events(&[(Event::RecoveredByHash, 1), (Event::SessionsAdmitted, 1)]),
            check(Check::ActiveSessions(1)),
            send(
                "c1's next segment, still on 17 (its agent has not learned the new label yet): joins the recovered session by its 5-tuple, relabelled",
                CLIENT,
                c1_segment(n, 41000, 83, b"GET / HTTP/1.0\r\n", 17),
            )
            .out(SERVER, to_x(b"GET / HTTP/1.0\r\n"))
            .events(&[(Event::RecoveredByHash, 0), (Event::SessionsAdmitted, 0)]),
            send(
                "the server's answer on 524296: the session's, label kept toward label-aware c1 (its agent learns 524295)",
                SERVER,
                answer(n.from_server(x, n.c1, 83, 41000)).label(OWN_S2C),
            )
            .out(
                CLIENT,
                answer(n.to_client(n.c1, 83, 41000)).label(OWN_S2C),
            )
            .events(&[(Event::SwitchedS2c, 1), (Event::SwitchedStateless, 0)]),
            send(
                "c1's segment on 524295, the new label: switched by the worker",
                CLIENT,
                c1_segment(n, 41000, 83, b"", OWN_C2S),
            )
            .out(SERVER, to_x(b""))
            .events(&[(Event::SwitchedC2s, 1), (Event::RecoveredByHash, 0)]),
            send(
                "c1's segment on 19 to lrr (round robin: the owner's choice died with it): unknown_label",
                CLIENT,
                c1_segment(n, 41001, 84, b"", 19),
            )
            .drop("unknown_label")
            .events(&[(Event::RecoveredByHash, 0)]),
            send(
                "a labelled segment on 21 to the plain service hash: not a label-aware flow: unknown_label",
                CLIENT,
                c1_segment(n, 41002, 80, b"", 21),
            )
            .drop("unknown_label")
            .events(&[(Event::RecoveredByHash, 0)]),
            send(
                "a client-to-server label of instance 0 from the server port: wrong_port_role",
                SERVER,
                FrameBuilder::tcp(n.servers[0].mac, port_mac(SERVER), n.c1.ip, n.vip, 41003, 83)
                    .flags(TcpFlags::ACK)
                    .label(23),
            )
            .drop("wrong_port_role")
            .events(&[(Event::RecoveredByHash, 0)]),
            check(Check::ActiveSessions(1)),
        ],
    )
}

/// Instance 0 on the client link: its MAC and address per family.
const PEER_MAC: MacAddr = MacAddr([0x02, 0x5b, 0, 0, 0, 0x02]);

fn peer(n: &Net) -> IpAddr {
    match n.family {
        Family::V4 => "198.18.0.2".parse().unwrap(),
        Family::V6 => "2001:db8::2".parse().unwrap(),
    }
}

/// slbd's probe of the peer: an ARP request (padded to 60 bytes) or a
/// neighbour solicitation from the client port.
fn peer_probe(n: &Net) -> (usize, Vec<u8>) {
    let f = match (n.port_ip[CLIENT], peer(n)) {
        (IpAddr::V4(own), IpAddr::V4(p)) => {
            let mut f = arp_request(port_mac(CLIENT), own, p);
            f.resize(60, 0);
            f
        }
        (IpAddr::V6(own), IpAddr::V6(p)) => nd_solicit(port_mac(CLIENT), own, p),
        _ => unreachable!("one family"),
    };
    (CLIENT, f)
}

/// The peer's answer to slbd's probe.
fn peer_answer(n: &Net) -> Vec<u8> {
    match (peer(n), n.port_ip[CLIENT]) {
        (IpAddr::V4(p), IpAddr::V4(own)) => arp_reply(PEER_MAC, p, port_mac(CLIENT), own),
        (IpAddr::V6(p), IpAddr::V6(own)) => nd_advert(PEER_MAC, port_mac(CLIENT), p, own, p),
        _ => unreachable!("one family"),
    }
}

fn forward_to_owner(n: &Net) -> Case {
    let x = maglev_pick_for(n, n.c1, 41000, 83);
    let config = cluster_config_with(
        n,
        aware_hash_services(n),
        json!({ "peers": [{ "instance": 0, "address": peer(n) }] }),
    );
    let probes = |k: usize| vec![peer_probe(n); k];
    Case::new(
        config,
        vec![
            send(
                "instance 0 answers slbd's probe: alive",
                CLIENT,
                peer_answer(n),
            )
            .out(peer_probe(n).0, peer_probe(n).1)
            .events(&[(Event::PuntedNeighbour, 1)]),
            send(
                "c1's segment on 17, instance 0's label, sent here (its agent has no cluster map): forwarded to instance 0, unchanged but for its MACs",
                CLIENT,
                c1_segment(n, 41000, 83, b"", 17),
            )
            .out(
                CLIENT,
                c1_segment(n, 41000, 83, b"", 17).macs(port_mac(CLIENT), PEER_MAC),
            )
            .events(&[(Event::ForwardedToOwner, 1), (Event::RecoveredByHash, 0)]),
            check(Check::ActiveSessions(0)),
            advance_out(1000, probes(5)),
            send(
                "no answer for a second: instance 0 is dead, c1's next segment on 17 is recovered here by the hash",
                CLIENT,
                c1_segment(n, 41000, 83, b"", 17),
            )
            .out(
                SERVER,
                to_server_on_own_pair(n, n.c1, x, 41000, 83, b""),
            )
            .events(&[(Event::ForwardedToOwner, 0), (Event::RecoveredByHash, 1)]),
            check(Check::Event(Event::ForwardedToOwner, 1)),
        ],
    )
}

pub static ROWS: &[Row] = &[
    Row {
        name: "row22_cluster_s2c_labels_without_a_session_are_switched_without_state",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: stateless,
    },
    Row {
        name: "row22_one_box_drops_an_s2c_label_without_a_session_as_before",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: one_box,
    },
    Row {
        name: "row23_cluster_sessions_take_labels_from_the_own_slice_and_withdrawn_ones_stay_dead",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the clock moves: the linger after the RST"),
        case: own_slice,
    },
    Row {
        name: "row24_cluster_plain_flows_without_a_session_are_recovered_by_hash",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: recovery,
    },
    Row {
        name: "row24_one_box_drops_a_plain_flow_without_a_session_as_before",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: recovery_one_box,
    },
    Row {
        name: "row26_cluster_label_aware_flows_of_a_dead_owner_are_recovered_by_hash",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::Runs,
        case: labelled_recovery,
    },
    Row {
        name:
            "row27_cluster_labels_of_a_live_owner_are_forwarded_to_it_and_recovered_once_it_is_dead",
        families: BOTH,
        workers: ONE_AND_TWO_WORKERS,
        slbd: Slbd::RigOnly("the clock moves: the peer's liveness"),
        case: forward_to_owner,
    },
];
