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
pub const SYN: u8 = 0x02;
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
    };
    let csum = fold(sum16(&seg, pseudo_sum(src, dst, proto, seg.len())));
    let at = if proto == UDP { 6 } else { 16 };
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
            f.extend_from_slice(&((label << 12) | (s << 8) | 64).to_be_bytes());
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
    pub payload: Vec<u8>,
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
    let (seq, ack, tcp_flags, payload) = match proto {
        UDP => (0, 0, 0, l4.get(8..)?.to_vec()),
        TCP => {
            let off = usize::from(l4.get(12)? >> 4) * 4;
            (word(4)?, word(8)?, *l4.get(13)?, l4.get(off..)?.to_vec())
        }
        _ => return None,
    };
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
        payload,
        ip_header_ok,
    })
}
