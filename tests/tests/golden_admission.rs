//! Golden table rows 9-12 of the data path: refusals (service acceptance
//! control), ARP/ND answers, malformed frames, and how new sessions spread
//! over servers. Plus the rows that need time: idle timeouts restarted by
//! traffic the workers switch, and preloaded sessions. IPv4 and IPv6, one
//! and two workers.

use slb_core::{Refusal, ServiceId};
use slb_tests::golden::{Rig, PORT_MACS};
use slb_wire::builder::{self, FrameBuilder};
use slb_wire::{Lse, MacAddr, TcpFlags};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const CLIENT: usize = 0;
const SERVER: usize = 1;
const C_MAC: MacAddr = MacAddr([0x02, 0xc1, 0, 0, 0, 0x12]);

fn port_mac(p: usize) -> MacAddr {
    MacAddr(PORT_MACS[p])
}

fn server_mac(i: usize) -> MacAddr {
    MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x11 + i as u8])
}

struct Fam {
    client: IpAddr,
    vip: IpAddr,
    servers: Vec<IpAddr>,
}

fn fam(v6: bool) -> Fam {
    if v6 {
        Fam {
            client: "2001:db8::12".parse().unwrap(),
            vip: "2001:db8:100::1".parse().unwrap(),
            servers: (0..3)
                .map(|i| format!("2001:db8:1::{:x}", 0x11 + i).parse().unwrap())
                .collect(),
        }
    } else {
        Fam {
            client: "198.18.0.12".parse().unwrap(),
            vip: "198.18.100.1".parse().unwrap(),
            servers: (0..3)
                .map(|i| format!("198.18.1.{}", 11 + i).parse().unwrap())
                .collect(),
        }
    }
}

/// Two ports, static server MACs, and the given services (JSON list body,
/// `{vip}` and `{sN}` substituted).
fn config(f: &Fam, labels: &str, timeouts: &str, services: &str) -> String {
    let mut services = services.replace("{vip}", &f.vip.to_string());
    for (i, s) in f.servers.iter().enumerate() {
        services = services.replace(&format!("{{s{}}}", i + 1), &s.to_string());
    }
    let neighbours: Vec<String> = f
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                r#"{{ "address": "{s}", "mac": "02:5e:00:00:01:{:02x}" }}"#,
                0x11 + i
            )
        })
        .collect();
    format!(
        r#"{{
  "ports": [
    {{ "name": "client", "device": "net_pcap0", "role": "client",
      "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" }},
    {{ "name": "server", "device": "net_pcap1", "role": "server",
      "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }}
  ],
  {labels}
  {timeouts}
  "neighbours": [ {} ],
  "services": [ {services} ]
}}"#,
        neighbours.join(", ")
    )
}

fn syn(f: &Fam, sport: u16, dport: u16) -> Vec<u8> {
    FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, sport, dport)
        .flags(TcpFlags::SYN)
        .seq(1000)
        .mss(1200)
        .build()
}

/// The reset slbd must answer a refused SYN with (RFC 9293 §3.10.7.1).
fn rst_for_syn(f: &Fam, sport: u16, dport: u16) -> Vec<u8> {
    FrameBuilder::tcp(port_mac(CLIENT), C_MAC, f.vip, f.client, dport, sport)
        .flags(TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0))
        .seq(0)
        .ack(1001)
        .window(0)
        .build()
}

fn refused(rig: &Rig, svc: u16, r: Refusal) -> u64 {
    rig.dp
        .scheduler
        .core()
        .service(ServiceId(svc))
        .unwrap()
        .counters()
        .refused(r)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn refusals(v6: bool, workers: usize) {
    let f = fam(v6);
    let services = r#"
    { "name": "none", "vip": "{vip}", "port": 80, "protocol": "tcp", "refuse": "rst",
      "servers": [ { "name": "s1", "address": "{s1}", "state": "disabled" } ] },
    { "name": "none-drop", "vip": "{vip}", "port": 81, "protocol": "tcp", "refuse": "drop",
      "servers": [ { "name": "s1", "address": "{s1}", "state": "drain" } ] },
    { "name": "full", "vip": "{vip}", "port": 82, "protocol": "tcp",
      "servers": [ { "name": "s1", "address": "{s1}", "max_sessions": 1 } ] },
    { "name": "open", "vip": "{vip}", "port": 83, "protocol": "tcp", "client_mode": "label",
      "servers": [ { "name": "s2", "address": "{s2}" } ] }"#;
    // Labels 16..=21: pairs 17/18 and 19/20 only (21's partner is out).
    let cfg = config(
        &f,
        r#""labels": { "first": 16, "last": 21, "quarantine_ms": 1000 },"#,
        "",
        services,
    );
    let mut rig = Rig::new(&cfg, workers);

    // Row 9a: no server in service, refuse with RST: the reset, exactly.
    let out = rig.send(CLIENT, &syn(&f, 40000, 80));
    assert_eq!(out.len(), 1, "one reset");
    assert_eq!(out[0].0, CLIENT);
    assert!(builder::checksums_valid(&out[0].1));
    assert_eq!(
        hex(&out[0].1),
        hex(&rst_for_syn(&f, 40000, 80)),
        "row 9a reset bytes"
    );
    assert_eq!(refused(&rig, 0, Refusal::NoServer), 1);
    // Row 9b: the same, configured to drop.
    rig.expect_drop("row 9b", CLIENT, &syn(&f, 40001, 81), "refused");
    assert_eq!(refused(&rig, 1, Refusal::NoServer), 1);

    // Row 9c: a server at its max: the first session is admitted (labels
    // 17/18), the second refused.
    let out = rig.send(CLIENT, &syn(&f, 40002, 82));
    assert_eq!((out.len(), out[0].0), (1, SERVER), "first session admitted");
    let out = rig.send(CLIENT, &syn(&f, 40003, 82));
    assert_eq!(
        hex(&out[0].1),
        hex(&rst_for_syn(&f, 40003, 82)),
        "row 9c reset"
    );
    assert_eq!(refused(&rig, 2, Refusal::ServersFull), 1);

    // Row 9d: labels exhausted: "open" takes the last pair (19/20); the
    // next new session anywhere is refused for labels.
    let out = rig.send(CLIENT, &syn(&f, 40004, 83));
    assert_eq!((out.len(), out[0].0), (1, SERVER));
    let out = rig.send(CLIENT, &syn(&f, 40005, 83));
    assert_eq!(
        hex(&out[0].1),
        hex(&rst_for_syn(&f, 40005, 83)),
        "row 9d reset"
    );
    assert_eq!(refused(&rig, 3, Refusal::LabelsExhausted), 1);
    // Existing sessions are still switched (label 19, label-aware client).
    let data = FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, 40004, 83)
        .seq(1001)
        .payload(b"still here")
        .label(19)
        .build();
    let out = rig.send(CLIENT, &data);
    assert_eq!(
        out.len(),
        1,
        "existing session switched while new ones are refused"
    );
    assert_eq!(out[0].0, SERVER);
    let want = FrameBuilder::tcp(port_mac(SERVER), server_mac(1), f.client, f.vip, 40004, 83)
        .seq(1001)
        .payload(b"still here")
        .label(19)
        .build();
    assert_eq!(hex(&out[0].1), hex(&want));
    // Service resumes as sessions end: RST the session on label 19, wait
    // out the quarantine, and a new session is admitted again.
    let rst = FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, 40004, 83)
        .flags(TcpFlags::RST)
        .seq(1011)
        .label(19)
        .build();
    assert_eq!(rig.send(CLIENT, &rst).len(), 1);
    rig.expect_drop(
        "in quarantine: still exhausted",
        CLIENT,
        &syn(&f, 40006, 81),
        "refused",
    );
    rig.advance_ms(1100);
    let out = rig.send(CLIENT, &syn(&f, 40007, 83));
    assert_eq!(
        (out.len(), out[0].0),
        (1, SERVER),
        "service resumes after quarantine"
    );
}

#[test]
fn refusals_ipv4_one_worker() {
    refusals(false, 1);
}
#[test]
fn refusals_ipv4_two_workers() {
    refusals(false, 2);
}
#[test]
fn refusals_ipv6_one_worker() {
    refusals(true, 1);
}
#[test]
fn refusals_ipv6_two_workers() {
    refusals(true, 2);
}

const ONE_SERVICE: &str = r#"
    { "name": "web", "vip": "{vip}", "port": 80, "protocol": "tcp",
      "servers": [ { "name": "s1", "address": "{s1}" } ] }"#;

/// Row 10: ARP and ND for a VIP and a port address are answered; the
/// rest addressed to the appliance is dropped and counted.
fn neighbour_rows(workers: usize) {
    let f = fam(false);
    let mut rig = Rig::new(&config(&f, "", "", ONE_SERVICE), workers);
    let c4: Ipv4Addr = "198.18.0.12".parse().unwrap();
    let vip4: Ipv4Addr = "198.18.100.1".parse().unwrap();
    let port4: Ipv4Addr = "198.18.0.1".parse().unwrap();
    for target in [vip4, port4] {
        let out = rig.send(CLIENT, &builder::arp_request(C_MAC, c4, target));
        assert_eq!(out.len(), 1, "ARP for {target}");
        let want = builder::arp_reply(port_mac(CLIENT), target, C_MAC, c4);
        assert_eq!(
            (out[0].0, hex(&out[0].1)),
            (CLIENT, hex(&want)),
            "ARP reply for {target}"
        );
    }
    // The VIP is not answered on the server side (servers hold it).
    let s1: Ipv4Addr = "198.18.1.11".parse().unwrap();
    rig.expect_drop(
        "ARP VIP server side",
        SERVER,
        &builder::arp_request(server_mac(0), s1, vip4),
        "arp_not_for_us",
    );
    rig.expect_drop(
        "ARP for someone else",
        CLIENT,
        &builder::arp_request(C_MAC, c4, "198.18.0.77".parse().unwrap()),
        "arp_not_for_us",
    );
    let s1_port: Ipv4Addr = "198.18.1.1".parse().unwrap();
    let out = rig.send(SERVER, &builder::arp_request(server_mac(0), s1, s1_port));
    assert_eq!(out.len(), 1, "servers resolve slbd's server-side address");

    let c6: Ipv6Addr = "2001:db8::12".parse().unwrap();
    let vip6: Ipv6Addr = "2001:db8:100::1".parse().unwrap();
    let port6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    // ND answers need a service on the IPv6 VIP too.
    let f6 = fam(true);
    let mut rig6 = Rig::new(&config(&f6, "", "", ONE_SERVICE), workers);
    for target in [vip6, port6] {
        let out = rig6.send(CLIENT, &builder::nd_solicit(C_MAC, c6, target));
        assert_eq!(out.len(), 1, "NS for {target}");
        let want = builder::nd_advert(port_mac(CLIENT), C_MAC, target, c6, target);
        assert_eq!(
            (out[0].0, hex(&out[0].1)),
            (CLIENT, hex(&want)),
            "NA for {target}"
        );
        assert!(builder::checksums_valid(&out[0].1));
    }
    rig6.expect_drop(
        "NS for someone else",
        CLIENT,
        &builder::nd_solicit(C_MAC, c6, "2001:db8::77".parse().unwrap()),
        "nd_not_for_us",
    );
    // Anything else to the appliance: ping, TCP to its own address, and IP
    // to nowhere slbd serves.
    let ping = FrameBuilder::echo_request(
        C_MAC,
        port_mac(CLIENT),
        IpAddr::V4(c4),
        IpAddr::V4(port4),
        1,
        1,
    )
    .build();
    rig.expect_drop("ping the port", CLIENT, &ping, "to_appliance");
    let ssh = FrameBuilder::tcp(
        C_MAC,
        port_mac(CLIENT),
        IpAddr::V4(c4),
        IpAddr::V4(vip4),
        5000,
        22,
    )
    .flags(TcpFlags::SYN)
    .build();
    rig.expect_drop(
        "TCP to the VIP on a port with no service",
        CLIENT,
        &ssh,
        "to_appliance",
    );
    let elsewhere = FrameBuilder::udp(
        C_MAC,
        port_mac(CLIENT),
        IpAddr::V4(c4),
        "198.18.9.9".parse().unwrap(),
        5000,
        53,
    )
    .build();
    rig.expect_drop("IP to nowhere", CLIENT, &elsewhere, "not_for_vip");
    let lldp = {
        let mut b = vec![0u8; 60];
        b[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]);
        b[6..12].copy_from_slice(&C_MAC.0);
        b[12..14].copy_from_slice(&[0x88, 0xcc]);
        b
    };
    rig.expect_drop("LLDP", CLIENT, &lldp, "other_ethertype");
}

#[test]
fn arp_nd_one_worker() {
    neighbour_rows(1);
}
#[test]
fn arp_nd_two_workers() {
    neighbour_rows(2);
}

/// Row 11: truncated and malformed frames are dropped and counted.
fn malformed_rows(workers: usize) {
    let f = fam(false);
    let mut rig = Rig::new(&config(&f, "", "", ONE_SERVICE), workers);
    let good = syn(&f, 41000, 80);
    rig.expect_drop("runt", CLIENT, &good[..10], "truncated_ethernet");
    rig.expect_drop(
        "cut in the IP header",
        CLIENT,
        &good[..20],
        "truncated_ipv4",
    );
    let mut bad_ihl = good.clone();
    bad_ihl[14] = 0x43;
    rig.expect_drop("IHL 3", CLIENT, &bad_ihl, "bad_ipv4_ihl");
    let mut bad_sum = good.clone();
    bad_sum[24] ^= 0xff;
    rig.expect_drop("IPv4 checksum", CLIENT, &bad_sum, "bad_ipv4_checksum");
    // A TCP header cut short inside a consistent IPv4 packet.
    let mut short_tcp = good[..14 + 20 + 10].to_vec();
    short_tcp[16..18].copy_from_slice(&30u16.to_be_bytes());
    {
        let mut ip = slb_wire::ipv4::Packet::new_unchecked(&mut short_tcp[14..34]);
        ip.fill_checksum();
    }
    rig.expect_drop("cut in TCP", CLIENT, &short_tcp, "truncated_tcp");
    let labelled = FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, 41000, 80).label(17);
    let two = labelled
        .clone()
        .lse_raw(Lse::from_u32((17 << 12) | 64))
        .build();
    rig.expect_drop("two labels", CLIENT, &two, "mpls_stack_too_deep");
    let reserved = labelled
        .clone()
        .lse_raw(Lse::from_u32((3 << 12) | 0x100 | 64))
        .build();
    rig.expect_drop("reserved label", CLIENT, &reserved, "reserved_label");
    let ttl0 = labelled
        .clone()
        .lse_raw(Lse::from_u32((17 << 12) | 0x100))
        .build();
    rig.expect_drop("label TTL 0", CLIENT, &ttl0, "label_ttl_expired");
    let frag = FrameBuilder::udp(C_MAC, port_mac(CLIENT), f.client, f.vip, 1, 80)
        .fragment(100, false)
        .build();
    rig.expect_drop("non-first fragment", CLIENT, &frag, "non_first_fragment");
    // And the good frame still works afterwards.
    assert_eq!(rig.send(CLIENT, &good).len(), 1);
}

#[test]
fn malformed_one_worker() {
    malformed_rows(1);
}
#[test]
fn malformed_two_workers() {
    malformed_rows(2);
}

/// Row 12: weighted round robin splits 600 new sessions 300/200/100;
/// least connections sends new sessions to the least loaded server.
fn distribution_rows(v6: bool, workers: usize) {
    let f = fam(v6);
    let services = r#"
    { "name": "wrr", "vip": "{vip}", "port": 80, "protocol": "tcp", "algorithm": "weighted_round_robin",
      "servers": [ { "name": "s1", "address": "{s1}", "weight": 3 },
                   { "name": "s2", "address": "{s2}", "weight": 2 },
                   { "name": "s3", "address": "{s3}", "weight": 1 } ] },
    { "name": "lc", "vip": "{vip}", "port": 81, "protocol": "tcp", "algorithm": "least_connections",
      "servers": [ { "name": "s1", "address": "{s1}" },
                   { "name": "s2", "address": "{s2}" },
                   { "name": "s3", "address": "{s3}" } ] }"#;
    let mut rig = Rig::new(&config(&f, "", "", services), workers);
    let mut per_server: HashMap<[u8; 6], u32> = HashMap::new();
    for i in 0..600u16 {
        let out = rig.send(CLIENT, &syn(&f, 10000 + i, 80));
        assert_eq!(out.len(), 1);
        let mut m = [0u8; 6];
        m.copy_from_slice(&out[0].1[..6]);
        *per_server.entry(m).or_default() += 1;
    }
    let got: Vec<u32> = (0..3)
        .map(|i| per_server.get(&server_mac(i).0).copied().unwrap_or(0))
        .collect();
    // Smooth weighted round robin is exact over a whole number of cycles.
    assert_eq!(got, vec![300, 200, 100], "weights 3:2:1 over 600 sessions");

    // Least connections: 3 sessions spread one per server; end the two on
    // s1 and s2 (RST): the next two go to s1 and s2, not s3.
    let mut where_: Vec<([u8; 6], u16)> = Vec::new();
    for i in 0..3u16 {
        let out = rig.send(CLIENT, &syn(&f, 20000 + i, 81));
        let mut m = [0u8; 6];
        m.copy_from_slice(&out[0].1[..6]);
        where_.push((m, 20000 + i));
    }
    let mut macs: Vec<[u8; 6]> = where_.iter().map(|w| w.0).collect();
    macs.sort();
    macs.dedup();
    assert_eq!(macs.len(), 3, "one session per server");
    for (m, sport) in &where_ {
        if *m == server_mac(2).0 {
            continue;
        }
        let rst = FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, *sport, 81)
            .flags(TcpFlags::RST)
            .seq(1001)
            .build();
        rig.send(CLIENT, &rst);
    }
    for i in 0..2u16 {
        let out = rig.send(CLIENT, &syn(&f, 21000 + i, 81));
        assert_ne!(
            &out[0].1[..6],
            &server_mac(2).0[..],
            "least connections avoids the loaded s3"
        );
    }
}

#[test]
fn distribution_ipv4_one_worker() {
    distribution_rows(false, 1);
}
#[test]
fn distribution_ipv6_two_workers() {
    distribution_rows(true, 2);
}

/// Traffic the workers switch keeps a session alive past its idle timeout;
/// once traffic stops, the session expires and its labels are withdrawn.
#[test]
fn switched_traffic_restarts_the_idle_timer() {
    let f = fam(false);
    let cfg = config(
        &f,
        "",
        r#""timeouts": { "tcp_established_s": 2, "tcp_syn_ms": 1000 },"#,
        r#"
    { "name": "web", "vip": "{vip}", "port": 80, "protocol": "tcp", "client_mode": "label",
      "servers": [ { "name": "s1", "address": "{s1}" } ] },
    { "name": "dead", "vip": "{vip}", "port": 81, "protocol": "tcp", "client_mode": "label",
      "servers": [ { "name": "s2", "address": "{s2}" } ] }"#,
    );
    let mut rig = Rig::new(&cfg, 2);
    assert_eq!(rig.send(CLIENT, &syn(&f, 42000, 80)).len(), 1);
    let synack = FrameBuilder::tcp(server_mac(0), port_mac(SERVER), f.vip, f.client, 80, 42000)
        .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .label(18)
        .build();
    assert_eq!(rig.send(SERVER, &synack).len(), 1);
    let data = FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, 42000, 80)
        .label(17)
        .build();
    // 6 s of traffic every 500 ms: three idle timeouts' worth.
    for _ in 0..12 {
        assert_eq!(rig.send(CLIENT, &data).len(), 1, "still switched");
        rig.advance_ms(500);
    }
    assert_eq!(rig.active_sessions(), 1, "alive while it carries traffic");
    // Idle: it ends within two idle timeouts of its last frame (here the
    // last frame was 0.5 s ago and the timer had just restarted: it ends
    // 2 s later, and its labels are then in quarantine for 2 s).
    rig.advance_ms(2600);
    assert_eq!(rig.active_sessions(), 0, "idle: expired");
    rig.expect_drop("after expiry", CLIENT, &data, "withdrawn_label");

    // A session whose server never answers is not kept alive by the
    // client's own traffic: it ends on the SYN timeout (1 s here) even
    // while the client keeps sending.
    assert_eq!(rig.send(CLIENT, &syn(&f, 42001, 81)).len(), 1);
    let retry = FrameBuilder::tcp(C_MAC, port_mac(CLIENT), f.client, f.vip, 42001, 81)
        .flags(TcpFlags::SYN)
        .seq(1000)
        .label(19)
        .build();
    for _ in 0..6 {
        rig.send(CLIENT, &retry);
        rig.advance_ms(500);
    }
    assert_eq!(
        rig.active_sessions(),
        0,
        "no reply: ended despite the client's traffic"
    );
}

/// Preloaded sessions (benchmarks) are real sessions: session i has labels
/// 17+2i / 18+2i and its client is `preload_client(i)`.
#[test]
fn preloaded_sessions_switch() {
    use slb_appliance::datapath::{preload_client, PRELOAD_CLIENT_MAC};
    use slb_appliance::frame::VecFrame;
    let f = fam(false);
    let cfg_json = config(&f, "", "", ONE_SERVICE);
    let cfg = slb_config::Config::from_json_str(&cfg_json).unwrap();
    let mut rig = Rig::new(&cfg_json, 2);
    let n = rig
        .dp
        .preload(&cfg, 0, 5000, rig.now, |b| Some(VecFrame::new(&b)))
        .unwrap();
    assert_eq!(n, 5000);
    for i in [0u32, 1, 2500, 4999] {
        let (client, port) = preload_client(i, false);
        let label = 17 + 2 * i;
        let frame = FrameBuilder::tcp(
            MacAddr(PRELOAD_CLIENT_MAC),
            port_mac(CLIENT),
            client,
            f.vip,
            port,
            80,
        )
        .label(label)
        .build();
        let out = rig.send(CLIENT, &frame);
        assert_eq!(out.len(), 1, "preloaded session {i} on label {label}");
        assert_eq!(&out[0].1[..6], &server_mac(0).0[..]);
        // Plain-client service: the unlabelled frame is pushed from the
        // flow cache of worker i % 2.
        let plain = FrameBuilder::tcp(
            MacAddr(PRELOAD_CLIENT_MAC),
            port_mac(CLIENT),
            client,
            f.vip,
            port,
            80,
        )
        .build();
        let out = rig.send_on(i as usize % 2, CLIENT, &plain);
        assert_eq!(out.len(), 1);
        assert_eq!(
            slb_wire::mpls::top_label(&out[0].1).map(|t| t.lse.label.value()),
            Some(label)
        );
    }
    assert!(
        rig.event(slb_appliance::counters::Event::Pushed) >= 4,
        "pushed by the workers' flow caches"
    );
}
