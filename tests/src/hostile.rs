//! A corpus of hostile, malformed and unusual frames (issue: Robustness):
//! truncated at every header boundary, bad lengths, IPv4 options,
//! fragments, IPv6 extension chains, deep MPLS stacks, reserved labels,
//! label TTL 0 and 1, VLAN tags, runts and jumbo frames, multicast and
//! broadcast sources, zero ports; and issue 19's hard edges: martian and
//! LAND sources, foreign destination MACs, RH0, unlabelled fragments,
//! malformed MSS options. Each entry names what it is and the
//! counter its outcome must move (a drop reason, or `"out"` when the frame
//! is legitimately forwarded or answered).

use slb_wire::builder::{self, FrameBuilder};
use slb_wire::{IpProtocol, Lse, MacAddr, TcpFlags};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses the corpus is built for (a client-side view of one service).
pub struct Target {
    pub client_mac: MacAddr,
    pub port_mac: MacAddr,
    pub client4: Ipv4Addr,
    pub vip4: Ipv4Addr,
    pub port4: Ipv4Addr,
    pub client6: Ipv6Addr,
    pub vip6: Ipv6Addr,
    /// TCP port of the service on both VIPs.
    pub service_port: u16,
    /// A live client-to-server label of the client4 -> vip4 session that
    /// uses client port 50000, for frames that must be switched.
    pub live_label: u32,
}

/// One corpus entry.
pub struct Hostile {
    pub name: String,
    pub frame: Vec<u8>,
    /// The drop counter that must move, or "out".
    pub expect: &'static str,
}

fn h(name: impl Into<String>, frame: Vec<u8>, expect: &'static str) -> Hostile {
    Hostile {
        name: name.into(),
        frame,
        expect,
    }
}

fn fix_ipv4_checksum(f: &mut [u8], l3: usize) {
    let ihl = usize::from(f[l3] & 0x0f) * 4;
    let end = (l3 + ihl).min(f.len());
    f[l3 + 10] = 0;
    f[l3 + 11] = 0;
    let c = slb_wire::checksum::finish(slb_wire::checksum::sum(&f[l3..end]));
    f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
}

/// The corpus (well over 40 kinds).
pub fn corpus(t: &Target) -> Vec<Hostile> {
    let (cm, pm) = (t.client_mac, t.port_mac);
    let (c4, v4) = (IpAddr::V4(t.client4), IpAddr::V4(t.vip4));
    let (c6, v6) = (IpAddr::V6(t.client6), IpAddr::V6(t.vip6));
    let sp = t.service_port;
    let syn4 = FrameBuilder::tcp(cm, pm, c4, v4, 40000, sp)
        .flags(TcpFlags::SYN)
        .mss(1460)
        .build();
    let syn6 = FrameBuilder::tcp(cm, pm, c6, v6, 40000, sp)
        .flags(TcpFlags::SYN)
        .mss(1460)
        .build();
    let udp4 = FrameBuilder::udp(cm, pm, c4, v4, 40000, 53)
        .payload(b"0123456789")
        .build();
    let live = FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
        .seq(2)
        .payload(b"x")
        .label(t.live_label);
    let mut v = Vec::new();

    // Truncated at every header boundary of a SYN (IPv4 and IPv6).
    for cut in [0usize, 1, 6, 12, 13] {
        v.push(h(
            format!("IPv4 SYN cut to {cut} bytes"),
            syn4[..cut].to_vec(),
            "truncated_ethernet",
        ));
    }
    for cut in [14usize, 19, 33] {
        v.push(h(
            format!("IPv4 SYN cut to {cut} bytes"),
            syn4[..cut].to_vec(),
            "truncated_ipv4",
        ));
    }
    for cut in [14usize, 53] {
        v.push(h(
            format!("IPv6 SYN cut to {cut} bytes"),
            syn6[..cut].to_vec(),
            "truncated_ipv6",
        ));
    }
    // Bad IPv4 lengths and fields.
    let mut f = syn4.clone();
    f[14] = 0x44;
    fix_ipv4_checksum(&mut f, 14);
    v.push(h("IPv4 IHL 4", f, "bad_ipv4_ihl"));
    let mut f = syn4.clone();
    f[14] = 0x4f;
    v.push(h(
        "IPv4 IHL 15 (60-byte header) in a 44-byte packet",
        f,
        "bad_ipv4_length",
    ));
    let mut f = syn4.clone();
    f[16..18].copy_from_slice(&10u16.to_be_bytes());
    fix_ipv4_checksum(&mut f, 14);
    v.push(h(
        "IPv4 total length under the header",
        f,
        "bad_ipv4_length",
    ));
    let mut f = syn4.clone();
    f[16..18].copy_from_slice(&1400u16.to_be_bytes());
    fix_ipv4_checksum(&mut f, 14);
    v.push(h("IPv4 total length past the frame", f, "truncated_ipv4"));
    let mut f = syn4.clone();
    f[24] ^= 0x55;
    v.push(h("IPv4 bad header checksum", f, "bad_ipv4_checksum"));
    let mut f = syn4.clone();
    f[14] = 0x55;
    v.push(h("IPv4 EtherType, version 5", f, "bad_ipv4_version"));
    // Fragments.
    v.push(h(
        "IPv4 non-first fragment",
        FrameBuilder::udp(cm, pm, c4, v4, 1, 53)
            .fragment(64, false)
            .build(),
        "non_first_fragment",
    ));
    v.push(h(
        "IPv6 non-first fragment",
        FrameBuilder::udp(cm, pm, c6, v6, 1, 53)
            .fragment(64, true)
            .build(),
        "non_first_fragment",
    ));
    // IPv6 extension chains.
    let mut b = FrameBuilder::tcp(cm, pm, c6, v6, 40001, sp).flags(TcpFlags::SYN);
    for _ in 0..7 {
        b = b.ipv6_ext(IpProtocol::Ipv6Opts);
    }
    v.push(h(
        "IPv6 chain of 7 extension headers",
        b.build(),
        "ipv6_ext_chain_too_long",
    ));
    let b = FrameBuilder::tcp(cm, pm, c6, v6, 40001, sp)
        .ipv6_ext(IpProtocol::Ipv6Opts)
        .ipv6_ext(IpProtocol::HopByHop);
    v.push(h("IPv6 hop-by-hop not first", b.build(), "bad_ipv6_ext"));
    let mut f = syn6.clone();
    f[18..20].copy_from_slice(&2000u16.to_be_bytes());
    v.push(h("IPv6 payload length past the frame", f, "truncated_ipv6"));
    let mut f = syn6.clone();
    f[14] = 0x40;
    v.push(h("IPv6 EtherType, version 4", f, "bad_ipv6_version"));
    // TCP and UDP headers.
    let mut f = syn4.clone();
    f[14 + 20 + 12] = 0x40;
    v.push(h("TCP data offset 4", f, "bad_tcp_offset"));
    let mut f = syn4.clone();
    f[14 + 20 + 12] = 0xf0;
    v.push(h("TCP data offset past the segment", f, "truncated_tcp"));
    let mut f = udp4.clone();
    f[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&4u16.to_be_bytes());
    v.push(h("UDP length 4", f, "bad_udp_length"));
    let mut f = udp4.clone();
    f[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&900u16.to_be_bytes());
    v.push(h("UDP length past the packet", f, "bad_udp_length"));
    v.push(h(
        "ICMP cut short",
        FrameBuilder::raw_ip(cm, pm, c4, v4, 1)
            .payload(&[8, 0, 0])
            .build(),
        "truncated_icmp",
    ));
    // MPLS.
    let mut f = syn4[..14].to_vec();
    f[12..14].copy_from_slice(&[0x88, 0x47]);
    f.extend_from_slice(&[0, 1]);
    v.push(h("MPLS EtherType, half a label", f, "truncated_mpls"));
    v.push(h(
        "MPLS stack of two labels",
        live.clone()
            .lse_raw(Lse::from_u32((t.live_label << 12) | 64))
            .build(),
        "mpls_stack_too_deep",
    ));
    v.push(h(
        "MPLS stack of three labels",
        live.clone()
            .lse_raw(Lse::from_u32((t.live_label << 12) | 64))
            .lse_raw(Lse::from_u32((t.live_label << 12) | 64))
            .build(),
        "mpls_stack_too_deep",
    ));
    for l in 0u32..16 {
        v.push(h(
            format!("reserved label {l}"),
            FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
                .lse_raw(Lse::from_u32((l << 12) | 0x100 | 64))
                .build(),
            "reserved_label",
        ));
    }
    v.push(h(
        "label TTL 0",
        FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
            .lse_raw(Lse::from_u32((t.live_label << 12) | 0x100))
            .build(),
        "label_ttl_expired",
    ));
    v.push(h(
        "label TTL 1 on the live session (pipe model: forwarded)",
        FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
            .seq(2)
            .lse_raw(Lse::from_u32((t.live_label << 12) | 0x100 | 1))
            .build(),
        "out",
    ));
    let mut f = live.clone().build();
    f[18] = 0x70;
    v.push(h(
        "label over an IP version 7 packet",
        f,
        "bad_inner_ip_version",
    ));
    v.push(h(
        "label over nothing",
        live.clone().build()[..18].to_vec(),
        "truncated_mpls",
    ));
    v.push(h(
        "unknown label 99999",
        FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
            .label(99999)
            .build(),
        "unknown_label",
    ));
    v.push(h(
        "even (server-to-client) label from the client side",
        FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
            .label(t.live_label + 1)
            .build(),
        "wrong_port_role",
    ));
    v.push(h(
        "live label, forged inner source",
        FrameBuilder::tcp(
            cm,
            pm,
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 250)),
            v4,
            50000,
            sp,
        )
        .label(t.live_label)
        .build(),
        "foreign_source",
    ));
    // VLAN tags.
    // slbd's ports are untagged (docs/security.md): a tag would leave
    // toward the servers with the client segment's VLAN ID.
    v.push(h(
        "one 802.1Q tag, live label",
        live.clone().vlan(42).build(),
        "vlan_tagged",
    ));
    v.push(h(
        "one 802.1Q tag, SYN",
        FrameBuilder::tcp(cm, pm, c4, v4, 40010, sp)
            .flags(TcpFlags::SYN)
            .vlan(7)
            .build(),
        "vlan_tagged",
    ));
    let mut f = live.clone().vlan(42).build();
    f.splice(12..12, [0x81, 0x00, 0x00, 0x07]);
    v.push(h("two 802.1Q tags", f, "vlan_tagged"));
    let mut f = live.clone().vlan(42).build();
    f[12..14].copy_from_slice(&[0x88, 0xa8]);
    v.push(h("802.1ad (QinQ) service tag", f, "other_ethertype"));
    // Sizes.
    v.push(h(
        "jumbo SYN (9000 bytes, DF): answered with fragmentation needed",
        FrameBuilder::tcp(cm, pm, c4, v4, 40002, sp)
            .flags(TcpFlags::SYN)
            .payload(&[0u8; 8900])
            .build(),
        "out",
    ));
    v.push(h(
        "jumbo SYN (9000 bytes, DF clear): slbd does not fragment",
        FrameBuilder::tcp(cm, pm, c4, v4, 40004, sp)
            .flags(TcpFlags::SYN)
            .dont_frag(false)
            .payload(&[0u8; 8900])
            .build(),
        "oversize_df_clear",
    ));
    v.push(h(
        "jumbo frame on the live label",
        live.clone().payload(&[7u8; 8900]).build(),
        "oversize",
    ));
    // Sources slbd must never answer or learn.
    let mut f = FrameBuilder::tcp(MacAddr([0x01, 0, 0x5e, 0, 0, 1]), pm, c4, v4, 40003, sp)
        .flags(TcpFlags::SYN)
        .build();
    f[6] = 0x01;
    v.push(h("multicast source MAC", f, "bad_source_mac"));
    v.push(h(
        "broadcast source MAC",
        FrameBuilder::tcp(MacAddr::BROADCAST, pm, c4, v4, 40004, sp)
            .flags(TcpFlags::SYN)
            .build(),
        "bad_source_mac",
    ));
    v.push(h(
        "zero source port",
        FrameBuilder::tcp(cm, pm, c4, v4, 0, sp)
            .flags(TcpFlags::SYN)
            .build(),
        "zero_port",
    ));
    v.push(h(
        "zero destination port",
        FrameBuilder::udp(cm, pm, c4, v4, 40005, 0).build(),
        "to_appliance",
    ));
    // Odd flags and protocols.
    v.push(h(
        "SYN+FIN to the VIP",
        FrameBuilder::tcp(cm, pm, c4, v4, 40006, sp)
            .flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::FIN.0))
            .build(),
        "no_session",
    ));
    v.push(h(
        "ACK for no session",
        FrameBuilder::tcp(cm, pm, c4, v4, 40007, sp).build(),
        "no_session",
    ));
    v.push(h(
        "broadcast IPv4 destination",
        FrameBuilder::udp(
            cm,
            MacAddr::BROADCAST,
            c4,
            IpAddr::V4(Ipv4Addr::BROADCAST),
            68,
            67,
        )
        .build(),
        "group_not_joined",
    ));
    // ARP and ND.
    let arp = builder::arp_request(cm, t.client4, t.port4);
    v.push(h("ARP cut short", arp[..30].to_vec(), "truncated_arp"));
    let mut f = arp.clone();
    f[14..16].copy_from_slice(&[0, 6]);
    v.push(h("ARP for another hardware type", f, "unsupported_arp"));
    let mut f = builder::nd_solicit(cm, t.client6, "2001:db8::1".parse().unwrap());
    f[14 + 7] = 64;
    v.push(h("NS with hop limit 64", f, "bad_nd"));
    let mut f = builder::nd_solicit(cm, t.client6, "2001:db8::1".parse().unwrap());
    let n = f.len();
    f[n - 1] ^= 0xff;
    v.push(h("NS with a bad checksum", f, "bad_icmpv6_checksum"));
    let mut lldp = vec![0u8; 60];
    lldp[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]);
    lldp[6..12].copy_from_slice(&cm.0);
    lldp[12..14].copy_from_slice(&[0x88, 0xcc]);
    v.push(h(
        "LLDP (a group slbd does not join)",
        lldp,
        "group_not_joined",
    ));
    hard_edges(t, &mut v);
    v
}

/// Issue 19's hard edges: martian and LAND sources, frames for another
/// MAC, RH0, unlabelled fragments, malformed MSS options.
fn hard_edges(t: &Target, v: &mut Vec<Hostile>) {
    let (cm, pm) = (t.client_mac, t.port_mac);
    let (v4, v6) = (IpAddr::V4(t.vip4), IpAddr::V6(t.vip6));
    let sp = t.service_port;
    let syn = |src: IpAddr, dst: IpAddr, sport: u16| {
        FrameBuilder::tcp(cm, pm, src, dst, sport, sp)
            .flags(TcpFlags::SYN)
            .mss(1460)
    };
    let v4m: [(&str, [u8; 4]); 7] = [
        ("0.0.0.0", [0, 0, 0, 0]),
        ("0.1.2.3", [0, 1, 2, 3]),
        ("127.0.0.1", [127, 0, 0, 1]),
        ("169.254.9.9", [169, 254, 9, 9]),
        ("224.0.0.1", [224, 0, 0, 1]),
        ("240.0.0.1", [240, 0, 0, 1]),
        ("255.255.255.255", [255, 255, 255, 255]),
    ];
    for (i, (name, a)) in v4m.into_iter().enumerate() {
        let src = IpAddr::V4(Ipv4Addr::from(a));
        v.push(h(
            format!("SYN from martian {name}"),
            syn(src, v4, 41000 + i as u16).build(),
            "martian_source",
        ));
    }
    for (i, name) in [
        "::",
        "::1",
        "ff02::1",
        "ff05::2",
        "::ffff:198.18.0.12",
        "fe80::12",
    ]
    .into_iter()
    .enumerate()
    {
        let src: Ipv6Addr = name.parse().unwrap();
        v.push(h(
            format!("SYN from martian {name}"),
            syn(IpAddr::V6(src), v6, 41100 + i as u16).build(),
            "martian_source",
        ));
    }
    v.push(h(
        "LAND: SYN from the VIP to itself",
        syn(v4, v4, sp).build(),
        "land_source",
    ));
    v.push(h(
        "LAND: IPv6 SYN from the VIP",
        syn(v6, v6, 41200).build(),
        "land_source",
    ));
    v.push(h(
        "LAND: SYN from slbd's own address",
        syn(IpAddr::V4(t.port4), v4, 41201).build(),
        "land_source",
    ));
    let c4 = IpAddr::V4(t.client4);
    let c6 = IpAddr::V6(t.client6);
    let other = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x99]);
    v.push(h(
        "SYN for another host's MAC",
        syn(c4, v4, 41300).macs(cm, other).build(),
        "foreign_dst_mac",
    ));
    v.push(h(
        "live label for another host's MAC",
        FrameBuilder::tcp(cm, other, c4, v4, 50000, sp)
            .seq(2)
            .label(t.live_label)
            .build(),
        "foreign_dst_mac",
    ));
    v.push(h(
        "SYN to an IPv4 multicast MAC",
        syn(c4, v4, 41301)
            .macs(cm, MacAddr([0x01, 0, 0x5e, 0, 0, 1]))
            .build(),
        "group_not_joined",
    ));
    v.push(h(
        "IPv6 SYN with a type 0 routing header",
        syn(c6, v6, 41400).ipv6_routing(0, 1).build(),
        "ipv6_routing_type0",
    ));
    v.push(h(
        "IPv4 first fragment of a SYN",
        syn(c4, v4, 41401).fragment(0, true).build(),
        "unlabelled_fragment",
    ));
    v.push(h(
        "IPv6 first fragment of a SYN",
        syn(c6, v6, 41402).fragment(0, true).build(),
        "unlabelled_fragment",
    ));
    v.push(h(
        "SYN with a 3-byte MSS option",
        FrameBuilder::tcp(cm, pm, c4, v4, 41403, sp)
            .flags(TcpFlags::SYN)
            .tcp_options(&[2, 3, 5, 0])
            .build(),
        "bad_mss_option",
    ));
    v.push(h(
        "SYN with a second, 6-byte MSS option",
        syn(c6, v6, 41404)
            .tcp_options(&[2, 6, 0x23, 0x28, 0, 0])
            .build(),
        "bad_mss_option",
    ));
    v.push(h(
        "labelled SYN with a 2-byte MSS option on the live label",
        FrameBuilder::tcp(cm, pm, c4, v4, 50000, sp)
            .flags(TcpFlags::SYN)
            .tcp_options(&[2, 2, 1, 1])
            .label(t.live_label)
            .build(),
        "bad_mss_option",
    ));
}
