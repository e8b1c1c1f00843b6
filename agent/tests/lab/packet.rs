//! Frames for the lab: a small builder for what A sends, a parser for what
//! A captures. Layouts: Ethernet II, RFC 3032 section 2.1 label stack entry
//! (label 20 bits | TC 3 | S 1 | TTL 8), IPv4 (RFC 791), IPv6 (RFC 8200),
//! UDP (RFC 768), TCP (RFC 9293).

use std::net::IpAddr;

use super::{MAC_A, MAC_B};

pub const ETH_IP: u16 = 0x0800;
pub const ETH_IPV6: u16 = 0x86dd;
pub const ETH_MPLS: u16 = 0x8847;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// Transport part of a packet A sends.
pub enum L4<'a> {
    Udp {
        sport: u16,
        dport: u16,
        payload: &'a [u8],
    },
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
    },
    /// TCP with options (a multiple of 4 bytes) and a payload.
    TcpFull {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        options: &'a [u8],
        payload: &'a [u8],
    },
    /// An ICMP (IPv4) or ICMPv6 message: type, code, then `body` (for an
    /// error: 4 bytes of MTU/unused, then the quoted packet). The checksum
    /// is computed (with the pseudo-header for ICMPv6).
    Icmp { kind: u8, code: u8, body: &'a [u8] },
}

/// The transport checksum of a captured TCP/UDP segment verifies.
pub fn l4_checksum_ok(p: &Parsed) -> bool {
    fold(sum16(&p.l4, pseudo_sum(p.src, p.dst, p.proto, p.l4.len()))) == 0
}

/// The checksum field of a captured TCP/UDP segment holds what
/// CHECKSUM_PARTIAL leaves there for the device to complete: the folded
/// pseudo-header sum (a veth with TX checksum offload on carries that).
pub fn l4_partial_checksum_ok(p: &Parsed) -> bool {
    let at = if p.proto == UDP { 6 } else { 16 };
    let field = u16::from_be_bytes([p.l4[at], p.l4[at + 1]]);
    field == !fold(pseudo_sum(p.src, p.dst, p.proto, p.l4.len()))
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for chunk in data.chunks(2) {
        let word = if chunk.len() == 2 {
            u16::from_be_bytes([chunk[0], chunk[1]])
        } else {
            u16::from_be_bytes([chunk[0], 0])
        };
        acc += u32::from(word);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut acc = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = sum16(&s.octets(), acc);
            acc = sum16(&d.octets(), acc);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = sum16(&s.octets(), acc);
            acc = sum16(&d.octets(), acc);
        }
        _ => panic!("mixed address families"),
    }
    acc + u32::from(proto) + len as u32
}

/// Ethernet A -> B, the given label stack (S set on the last), then an IP
/// packet src -> dst carrying l4, all checksums valid.
pub fn frame(labels: &[u32], src: IpAddr, dst: IpAddr, l4: L4) -> Vec<u8> {
    frame_tc(labels, 0, src, dst, l4)
}

/// As `frame`, with traffic class `tc` (RFC 5462; slbd's splice mark is 1)
/// in every label stack entry.
pub fn frame_tc(labels: &[u32], tc: u8, src: IpAddr, dst: IpAddr, l4: L4) -> Vec<u8> {
    let (proto, mut seg) = match l4 {
        L4::Udp {
            sport,
            dport,
            payload,
        } => {
            let mut s = Vec::new();
            s.extend_from_slice(&sport.to_be_bytes());
            s.extend_from_slice(&dport.to_be_bytes());
            s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            s.extend_from_slice(&[0, 0]);
            s.extend_from_slice(payload);
            (UDP, s)
        }
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
        } => {
            let mut s = Vec::new();
            s.extend_from_slice(&sport.to_be_bytes());
            s.extend_from_slice(&dport.to_be_bytes());
            s.extend_from_slice(&seq.to_be_bytes());
            s.extend_from_slice(&ack.to_be_bytes());
            s.push(5 << 4); // data offset: 20 bytes, no options
            s.push(flags);
            s.extend_from_slice(&64240u16.to_be_bytes()); // window
            s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
            (TCP, s)
        }
        L4::TcpFull {
            sport,
            dport,
            seq,
            ack,
            flags,
            options,
            payload,
        } => {
            assert_eq!(options.len() % 4, 0, "TCP options pad to 4 bytes");
            let mut s = Vec::new();
            s.extend_from_slice(&sport.to_be_bytes());
            s.extend_from_slice(&dport.to_be_bytes());
            s.extend_from_slice(&seq.to_be_bytes());
            s.extend_from_slice(&ack.to_be_bytes());
            s.push((((20 + options.len()) / 4) as u8) << 4);
            s.push(flags);
            s.extend_from_slice(&502u16.to_be_bytes()); // window (scaled by 7: 64 kB)
            s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
            s.extend_from_slice(options);
            s.extend_from_slice(payload);
            (TCP, s)
        }
        L4::Icmp { kind, code, body } => {
            let mut s = vec![kind, code, 0, 0];
            s.extend_from_slice(body);
            (if src.is_ipv4() { ICMP } else { ICMPV6 }, s)
        }
    };
    let csum = match proto {
        ICMP => fold(sum16(&seg, 0)),
        _ => fold(sum16(&seg, pseudo_sum(src, dst, proto, seg.len()))),
    };
    let at = match proto {
        UDP => 6,
        ICMP | ICMPV6 => 2,
        _ => 16,
    };
    // UDP sends an all-zero checksum as 0xffff (RFC 768).
    let csum = if proto == UDP && csum == 0 {
        0xffff
    } else {
        csum
    };
    seg[at..at + 2].copy_from_slice(&csum.to_be_bytes());

    let mut ip = Vec::new();
    let ethertype = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            ip.extend_from_slice(&[0x45, 0]);
            ip.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&[0x12, 0x34, 0x40, 0]); // id, DF
            ip.extend_from_slice(&[64, proto, 0, 0]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let c = fold(sum16(&ip, 0));
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            ETH_IP
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            ip.extend_from_slice(&[0x60, 0, 0, 0]);
            ip.extend_from_slice(&(seg.len() as u16).to_be_bytes());
            ip.extend_from_slice(&[proto, 64]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ETH_IPV6
        }
        _ => panic!("mixed address families"),
    };
    ip.extend_from_slice(&seg);

    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    if labels.is_empty() {
        f.extend_from_slice(&ethertype.to_be_bytes());
    } else {
        f.extend_from_slice(&ETH_MPLS.to_be_bytes());
        for (i, label) in labels.iter().enumerate() {
            let s = u32::from(i + 1 == labels.len());
            let tc = u32::from(tc & 7);
            f.extend_from_slice(&((label << 12) | (tc << 9) | (s << 8) | 64).to_be_bytes());
        }
    }
    f.extend_from_slice(&ip);
    f
}

/// One label stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lse {
    pub label: u32,
    pub tc: u8,
    pub bottom: bool,
    pub ttl: u8,
}

/// What A captured.
#[derive(Debug)]
pub struct Parsed {
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    pub labels: Vec<Lse>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub tcp_flags: u8,
    /// TCP options (empty for UDP).
    pub tcp_options: Vec<u8>,
    pub payload: Vec<u8>,
    /// The IP packet (from the IP header on) and its transport segment.
    pub ip: Vec<u8>,
    pub l4: Vec<u8>,
    /// IPv4 header checksum verifies (always true for IPv6).
    pub ip_header_ok: bool,
}

/// Parses Ethernet, any label stack, IPv4/IPv6 and TCP/UDP; None for
/// anything else or a length that does not add up.
pub fn parse(f: &[u8]) -> Option<Parsed> {
    let dst_mac: [u8; 6] = f.get(0..6)?.try_into().ok()?;
    let src_mac: [u8; 6] = f.get(6..12)?.try_into().ok()?;
    let mut ethertype = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    let mut at = 14;
    let mut labels = Vec::new();
    if ethertype == ETH_MPLS {
        loop {
            let w = u32::from_be_bytes(f.get(at..at + 4)?.try_into().ok()?);
            at += 4;
            let lse = Lse {
                label: w >> 12,
                tc: ((w >> 9) & 7) as u8,
                bottom: w & 0x100 != 0,
                ttl: w as u8,
            };
            labels.push(lse);
            if lse.bottom {
                break;
            }
        }
        ethertype = match f.get(at)? >> 4 {
            4 => ETH_IP,
            6 => ETH_IPV6,
            _ => return None,
        };
    }
    let ip = &f[at..];
    let (src, dst, proto, l4, ip_header_ok) = match ethertype {
        ETH_IP => {
            let ihl = usize::from(ip.first()? & 0xf) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            if total < ihl || total > ip.len() {
                return None;
            }
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let ok = fold(sum16(ip.get(..ihl)?, 0)) == 0;
            (IpAddr::from(s), IpAddr::from(d), ip[9], &ip[ihl..total], ok)
        }
        ETH_IPV6 => {
            let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            if 40 + plen > ip.len() {
                return None;
            }
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (
                IpAddr::from(s),
                IpAddr::from(d),
                ip[6],
                &ip[40..40 + plen],
                true,
            )
        }
        _ => return None,
    };
    let port =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*l4.get(i)?, *l4.get(i + 1)?])) };
    let word =
        |i: usize| -> Option<u32> { Some(u32::from_be_bytes(l4.get(i..i + 4)?.try_into().ok()?)) };
    let (seq, ack, tcp_flags, tcp_options, payload) = match proto {
        UDP => (0, 0, 0, Vec::new(), l4.get(8..)?.to_vec()),
        TCP => {
            let off = usize::from(l4.get(12)? >> 4) * 4;
            (
                word(4)?,
                word(8)?,
                *l4.get(13)?,
                l4.get(20..off)?.to_vec(),
                l4.get(off..)?.to_vec(),
            )
        }
        _ => return None,
    };
    let ip_len = ip.len() - ip_tail(ethertype, ip)?;
    Some(Parsed {
        dst_mac,
        src_mac,
        labels,
        src,
        dst,
        proto,
        sport: port(0)?,
        dport: port(2)?,
        seq,
        ack,
        tcp_flags,
        tcp_options,
        payload,
        ip: ip[..ip_len].to_vec(),
        l4: l4.to_vec(),
        ip_header_ok,
    })
}

/// Bytes after the IP packet (Ethernet padding).
fn ip_tail(ethertype: u16, ip: &[u8]) -> Option<usize> {
    let len = match ethertype {
        ETH_IP => usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?])),
        _ => 40 + usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?])),
    };
    ip.len().checked_sub(len)
}

/// TSval and TSecr of a TCP timestamps option (RFC 7323), if present.
pub fn timestamps(options: &[u8]) -> Option<(u32, u32)> {
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            0 => return None,
            1 => i += 1,
            kind => {
                let len = usize::from(*options.get(i + 1)?);
                if len < 2 {
                    return None;
                }
                if kind == 8 && len == 10 {
                    let ts = options.get(i + 2..i + 10)?;
                    let word = |at: usize| u32::from_be_bytes(ts[at..at + 4].try_into().unwrap());
                    return Some((word(0), word(4)));
                }
                i += len;
            }
        }
    }
    None
}
