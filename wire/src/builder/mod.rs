//! A packet builder for tests and golden fixtures (allocates; never on the
//! data path). Every checksum it emits is correct: IPv4 header, TCP / UDP /
//! ICMPv6 over their pseudo-headers, ICMPv4.
//!
//! ```
//! use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
//! use std::net::Ipv4Addr;
//!
//! let frame = FrameBuilder::tcp4(
//!     MacAddr([2, 0, 0, 0, 0, 1]),
//!     MacAddr([2, 0, 0, 0, 0, 2]),
//!     Ipv4Addr::new(198, 51, 100, 7),
//!     Ipv4Addr::new(192, 0, 2, 10),
//!     40000,
//!     80,
//! )
//! .flags(TcpFlags::SYN)
//! .mss(1460)
//! .label(101)
//! .payload(b"")
//! .build();
//! assert!(slb_wire::classify(&frame).is_ok());
//! ```
//!
//! [`FrameBuilder`] builds TCP, UDP, ICMP and raw IP frames, tagged and
//! labelled as asked; `neighbour` holds ready-made ARP and ND frames
//! ([`arp_request`], [`nd_solicit`], ...), `verify` the checksum check
//! [`checksums_valid`] that tests run on what they build or receive.

mod neighbour;
mod verify;

pub use neighbour::{arp_reply, arp_request, multicast_mac, nd_advert, nd_solicit, solicited_node};
pub use verify::checksums_valid;

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::mpls::{Label, Lse};
use crate::{icmpv4, icmpv6, ipv4, ipv6, tcp, udp, vlan};
use crate::{EtherType, IpProtocol, MacAddr, TcpFlags};

#[derive(Debug, Clone)]
enum L4Spec {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        mss: Option<u16>,
        options: Vec<u8>,
    },
    Udp {
        sport: u16,
        dport: u16,
    },
    Icmpv4 {
        msg_type: u8,
        code: u8,
        rest: [u8; 4],
    },
    Icmpv6 {
        msg_type: u8,
        code: u8,
        rest: [u8; 4],
    },
    Raw(u8),
}

/// Builds Ethernet [/802.1Q] [/MPLS...] /IPv4|IPv6 /TCP|UDP|ICMP frames.
#[derive(Debug, Clone)]
pub struct FrameBuilder {
    src_mac: MacAddr,
    dst_mac: MacAddr,
    vlan_tci: Option<u16>,
    labels: Vec<Lse>,
    raw_bos: bool,
    src_ip: IpAddr,
    dst_ip: IpAddr,
    ttl: u8,
    ident: u16,
    dont_frag: bool,
    fragment: Option<(u16, bool)>,
    ipv4_options: Vec<u8>,
    ipv6_ext: Vec<(u8, Vec<u8>)>,
    l4: L4Spec,
    payload: Vec<u8>,
}

impl FrameBuilder {
    fn new(src_mac: MacAddr, dst_mac: MacAddr, src_ip: IpAddr, dst_ip: IpAddr, l4: L4Spec) -> Self {
        FrameBuilder {
            src_mac,
            dst_mac,
            vlan_tci: None,
            labels: Vec::new(),
            raw_bos: false,
            src_ip,
            dst_ip,
            ttl: 64,
            ident: 0,
            dont_frag: true,
            fragment: None,
            ipv4_options: Vec::new(),
            ipv6_ext: Vec::new(),
            l4,
            payload: Vec::new(),
        }
    }

    /// Other Ethernet addresses (a frame sent where it was not meant to go).
    pub fn macs(mut self, src: MacAddr, dst: MacAddr) -> Self {
        self.src_mac = src;
        self.dst_mac = dst;
        self
    }

    /// TCP over IPv4 or IPv6 (both addresses of one family). Defaults: flags
    /// ACK, seq 1, ack 0, window 64240, TTL 64, DF, no options.
    pub fn tcp(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        sport: u16,
        dport: u16,
    ) -> Self {
        Self::new(
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            L4Spec::Tcp {
                sport,
                dport,
                seq: 1,
                ack: 0,
                flags: TcpFlags::ACK,
                window: 64240,
                mss: None,
                options: Vec::new(),
            },
        )
    }
    /// TCP over IPv4.
    pub fn tcp4(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: Ipv4Addr,
        dst_ip: Ipv4Addr,
        sport: u16,
        dport: u16,
    ) -> Self {
        Self::tcp(src_mac, dst_mac, src_ip.into(), dst_ip.into(), sport, dport)
    }
    /// TCP over IPv6.
    pub fn tcp6(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: Ipv6Addr,
        dst_ip: Ipv6Addr,
        sport: u16,
        dport: u16,
    ) -> Self {
        Self::tcp(src_mac, dst_mac, src_ip.into(), dst_ip.into(), sport, dport)
    }
    /// UDP over IPv4 or IPv6.
    pub fn udp(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        sport: u16,
        dport: u16,
    ) -> Self {
        Self::new(
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            L4Spec::Udp { sport, dport },
        )
    }
    /// UDP over IPv4.
    pub fn udp4(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: Ipv4Addr,
        dst_ip: Ipv4Addr,
        sport: u16,
        dport: u16,
    ) -> Self {
        Self::udp(src_mac, dst_mac, src_ip.into(), dst_ip.into(), sport, dport)
    }
    /// UDP over IPv6.
    pub fn udp6(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: Ipv6Addr,
        dst_ip: Ipv6Addr,
        sport: u16,
        dport: u16,
    ) -> Self {
        Self::udp(src_mac, dst_mac, src_ip.into(), dst_ip.into(), sport, dport)
    }
    /// ICMP echo request (ICMPv4 or ICMPv6 after the address family).
    pub fn echo_request(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        ident: u16,
        seq: u16,
    ) -> Self {
        let (i, s) = (ident.to_be_bytes(), seq.to_be_bytes());
        let rest = [i[0], i[1], s[0], s[1]];
        let l4 = if src_ip.is_ipv4() {
            L4Spec::Icmpv4 {
                msg_type: 8,
                code: 0,
                rest,
            }
        } else {
            L4Spec::Icmpv6 {
                msg_type: 128,
                code: 0,
                rest,
            }
        };
        Self::new(src_mac, dst_mac, src_ip, dst_ip, l4)
    }
    /// Any ICMP / ICMPv6 message: type, code, bytes 4..8; data via
    /// [`FrameBuilder::payload`].
    pub fn icmp(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        msg_type: u8,
        code: u8,
        rest: [u8; 4],
    ) -> Self {
        let l4 = if src_ip.is_ipv4() {
            L4Spec::Icmpv4 {
                msg_type,
                code,
                rest,
            }
        } else {
            L4Spec::Icmpv6 {
                msg_type,
                code,
                rest,
            }
        };
        Self::new(src_mac, dst_mac, src_ip, dst_ip, l4)
    }
    /// An IP packet of protocol `protocol` whose payload is given raw.
    pub fn raw_ip(
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        protocol: u8,
    ) -> Self {
        Self::new(src_mac, dst_mac, src_ip, dst_ip, L4Spec::Raw(protocol))
    }

    /// One 802.1Q tag with this VLAN id (PCP 0).
    pub fn vlan(mut self, vid: u16) -> Self {
        self.vlan_tci = Some(vid & 0x0fff);
        self
    }
    /// One 802.1Q tag with this raw TCI.
    pub fn vlan_tci(mut self, tci: u16) -> Self {
        self.vlan_tci = Some(tci);
        self
    }
    /// Push `label` as slb does ([`Lse::pipe`]: TC 0, S 1, TTL 64). Calling
    /// it again stacks another label on top (the S bits are fixed up).
    pub fn label(self, label: u32) -> Self {
        self.lse(Lse::pipe(Label::from_bits(label)))
    }
    /// Push an arbitrary entry (its S bit is recomputed at build: set on
    /// the bottom entry only).
    pub fn lse(mut self, lse: Lse) -> Self {
        self.labels.insert(0, lse);
        self
    }
    /// Push an entry exactly as given; the S bits of all entries are then
    /// left as given (to build malformed stacks).
    pub fn lse_raw(mut self, lse: Lse) -> Self {
        self.labels.insert(0, lse);
        self.raw_bos = true;
        self
    }
    /// TCP flags.
    pub fn flags(mut self, f: TcpFlags) -> Self {
        if let L4Spec::Tcp { flags, .. } = &mut self.l4 {
            *flags = f;
        }
        self
    }
    /// TCP sequence number.
    pub fn seq(mut self, v: u32) -> Self {
        if let L4Spec::Tcp { seq, .. } = &mut self.l4 {
            *seq = v;
        }
        self
    }
    /// TCP acknowledgment number.
    pub fn ack(mut self, v: u32) -> Self {
        if let L4Spec::Tcp { ack, .. } = &mut self.l4 {
            *ack = v;
        }
        self
    }
    /// TCP window.
    pub fn window(mut self, v: u16) -> Self {
        if let L4Spec::Tcp { window, .. } = &mut self.l4 {
            *window = v;
        }
        self
    }
    /// TCP MSS option (first option).
    pub fn mss(mut self, v: u16) -> Self {
        if let L4Spec::Tcp { mss, .. } = &mut self.l4 {
            *mss = Some(v);
        }
        self
    }
    /// Raw TCP options after the MSS (padded with End-of-List to 4 bytes).
    pub fn tcp_options(mut self, raw: &[u8]) -> Self {
        if let L4Spec::Tcp { options, .. } = &mut self.l4 {
            options.extend_from_slice(raw);
        }
        self
    }
    /// L4 payload (for raw IP: the whole IP payload).
    pub fn payload(mut self, p: &[u8]) -> Self {
        self.payload = p.to_vec();
        self
    }
    /// IPv4 TTL / IPv6 hop limit.
    pub fn ttl(mut self, v: u8) -> Self {
        self.ttl = v;
        self
    }
    /// IPv4 identification (and IPv6 fragment identification).
    pub fn ident(mut self, v: u16) -> Self {
        self.ident = v;
        self
    }
    /// IPv4 DF flag (default set).
    pub fn dont_frag(mut self, v: bool) -> Self {
        self.dont_frag = v;
        self
    }
    /// Make it a fragment: offset in bytes (multiple of 8), MF flag. IPv6
    /// gets a fragment header at the end of its extension chain.
    pub fn fragment(mut self, offset: u16, more: bool) -> Self {
        self.fragment = Some((offset, more));
        self
    }
    /// IPv4 options (padded with End-of-Options to 4 bytes).
    pub fn ipv4_options(mut self, raw: &[u8]) -> Self {
        self.ipv4_options = raw.to_vec();
        self
    }
    /// Append an 8-byte IPv6 extension header of this kind (hop-by-hop,
    /// routing (type 0 style, segments left 0), destination options with
    /// PadN).
    pub fn ipv6_ext(mut self, kind: IpProtocol) -> Self {
        let body = match kind {
            IpProtocol::Ipv6Route => alloc::vec![0, 0, 0, 0, 0, 0],
            _ => alloc::vec![1, 4, 0, 0, 0, 0],
        };
        self.ipv6_ext.push((kind.into(), body));
        self
    }
    /// Append an 8-byte IPv6 routing header of `routing_type` with
    /// `segments_left` (0: RFC 2460's type 0, deprecated by RFC 5095; 2:
    /// mobile IPv6, RFC 6275).
    pub fn ipv6_routing(mut self, routing_type: u8, segments_left: u8) -> Self {
        let body = alloc::vec![routing_type, segments_left, 0, 0, 0, 0];
        self.ipv6_ext.push((IpProtocol::Ipv6Route.into(), body));
        self
    }

    fn l4_bytes(&self) -> (u8, Vec<u8>) {
        let (src, dst) = (self.src_ip, self.dst_ip);
        match &self.l4 {
            L4Spec::Tcp {
                sport,
                dport,
                seq,
                ack,
                flags,
                window,
                mss,
                options,
            } => {
                let mut opts = Vec::new();
                if let Some(m) = mss {
                    opts.extend_from_slice(&[tcp::kind::MSS, 4]);
                    opts.extend_from_slice(&m.to_be_bytes());
                }
                opts.extend_from_slice(options);
                while opts.len() & 3 != 0 {
                    opts.push(tcp::kind::END);
                }
                let hl = tcp::HEADER_LEN + opts.len();
                let mut b = alloc::vec![0u8; hl + self.payload.len()];
                let mut p = tcp::Packet::new_unchecked(&mut b[..]);
                tcp::Repr {
                    src_port: *sport,
                    dst_port: *dport,
                    seq_number: *seq,
                    ack_number: *ack,
                    flags: *flags,
                    window_len: *window,
                    mss: None,
                }
                .emit(&mut p);
                p.set_header_len(hl as u8);
                p.options_mut().copy_from_slice(&opts);
                p.payload_mut().copy_from_slice(&self.payload);
                p.fill_checksum(src, dst);
                (6, b)
            }
            L4Spec::Udp { sport, dport } => {
                let mut b = alloc::vec![0u8; udp::HEADER_LEN + self.payload.len()];
                let mut p = udp::Packet::new_unchecked(&mut b[..]);
                udp::Repr {
                    src_port: *sport,
                    dst_port: *dport,
                }
                .emit(&mut p, self.payload.len());
                p.payload_mut().copy_from_slice(&self.payload);
                p.fill_checksum(src, dst);
                (17, b)
            }
            L4Spec::Icmpv4 {
                msg_type,
                code,
                rest,
            } => {
                let mut b = alloc::vec![0u8; icmpv4::HEADER_LEN + self.payload.len()];
                let mut p = icmpv4::Packet::new_unchecked(&mut b[..]);
                icmpv4::Repr::Other {
                    msg_type: *msg_type,
                    code: *code,
                    rest: *rest,
                }
                .emit(&mut p);
                p.data_mut().copy_from_slice(&self.payload);
                p.fill_checksum();
                (1, b)
            }
            L4Spec::Icmpv6 {
                msg_type,
                code,
                rest,
            } => {
                let mut b = alloc::vec![0u8; icmpv6::HEADER_LEN + self.payload.len()];
                let mut p = icmpv6::Packet::new_unchecked(&mut b[..]);
                icmpv6::Repr::Other {
                    msg_type: *msg_type,
                    code: *code,
                    rest: *rest,
                }
                .emit(&mut p);
                p.data_mut().copy_from_slice(&self.payload);
                if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
                    p.fill_checksum(s, d);
                }
                (58, b)
            }
            L4Spec::Raw(proto) => (*proto, self.payload.clone()),
        }
    }

    /// The IP packet (no L2).
    pub fn build_ip(&self) -> Vec<u8> {
        let (proto, l4) = self.l4_bytes();
        match (self.src_ip, self.dst_ip) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut opts = self.ipv4_options.clone();
                while opts.len() & 3 != 0 {
                    opts.push(0);
                }
                let hl = ipv4::HEADER_LEN + opts.len();
                let mut b = alloc::vec![0u8; hl + l4.len()];
                let mut p = ipv4::Packet::new_unchecked(&mut b[..]);
                ipv4::Repr {
                    src_addr: s,
                    dst_addr: d,
                    protocol: IpProtocol::from(proto),
                    payload_len: l4.len(),
                    ttl: self.ttl,
                    ident: self.ident,
                    dont_frag: self.dont_frag,
                }
                .emit(&mut p);
                p.set_header_len(hl as u8);
                p.set_total_len((hl + l4.len()) as u16);
                if let Some((off, more)) = self.fragment {
                    p.set_frag(false, more, off);
                }
                p.options_mut().copy_from_slice(&opts);
                p.payload_mut().copy_from_slice(&l4);
                p.fill_checksum();
                b
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut chain: Vec<(u8, Vec<u8>)> = self.ipv6_ext.clone();
                if let Some((off, more)) = self.fragment {
                    let om = (off & 0xfff8) | u16::from(more);
                    let mut body = om.to_be_bytes().to_vec();
                    body.extend_from_slice(&u32::from(self.ident).to_be_bytes());
                    chain.push((44, body));
                }
                let mut ext = Vec::new();
                for (i, (_, body)) in chain.iter().enumerate() {
                    let next = chain.get(i + 1).map(|c| c.0).unwrap_or(proto);
                    ext.push(next);
                    if chain.get(i).map(|c| c.0) == Some(44) {
                        ext.push(0);
                    } else {
                        ext.push(((body.len() + 2) / 8 - 1) as u8);
                    }
                    ext.extend_from_slice(body);
                }
                let first = chain.first().map(|c| c.0).unwrap_or(proto);
                let mut b = alloc::vec![0u8; ipv6::HEADER_LEN + ext.len() + l4.len()];
                let mut p = ipv6::Packet::new_unchecked(&mut b[..]);
                ipv6::Repr {
                    src_addr: s,
                    dst_addr: d,
                    next_header: IpProtocol::from(first),
                    payload_len: ext.len() + l4.len(),
                    hop_limit: self.ttl,
                }
                .emit(&mut p);
                let pl = p.payload_mut();
                pl[..ext.len()].copy_from_slice(&ext);
                pl[ext.len()..].copy_from_slice(&l4);
                b
            }
            _ => panic!("FrameBuilder: source and destination must be of one IP family"),
        }
    }

    /// The whole frame.
    pub fn build(&self) -> Vec<u8> {
        let ip = self.build_ip();
        let ethertype = if self.src_ip.is_ipv4() {
            EtherType::Ipv4
        } else {
            EtherType::Ipv6
        };
        let mut labels = self.labels.clone();
        if !self.raw_bos {
            let n = labels.len();
            for (i, l) in labels.iter_mut().enumerate() {
                l.bos = i + 1 == n;
            }
        }
        let payload_type = if labels.is_empty() {
            ethertype
        } else {
            EtherType::Mpls
        };
        l2_frame(
            self.src_mac,
            self.dst_mac,
            self.vlan_tci,
            payload_type,
            &labels,
            &ip,
        )
    }
}

/// An Ethernet frame around `payload`: MACs, the 802.1Q tag if `tci` is
/// set, the EtherType, then the label stack entries.
pub(super) fn l2_frame(
    src: MacAddr,
    dst: MacAddr,
    tci: Option<u16>,
    ethertype: EtherType,
    labels: &[Lse],
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(18 + labels.len() * 4 + payload.len());
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    if let Some(tci) = tci {
        f.extend_from_slice(&EtherType::VLAN.to_be_bytes());
        let mut tag = [0u8; vlan::HEADER_LEN];
        let mut p = vlan::Packet::new_unchecked(&mut tag[..]);
        p.set_tci(tci);
        p.set_ethertype(ethertype);
        f.extend_from_slice(&tag);
    } else {
        f.extend_from_slice(&u16::from(ethertype).to_be_bytes());
    }
    for l in labels {
        f.extend_from_slice(&l.to_bytes());
    }
    f.extend_from_slice(payload);
    f
}
