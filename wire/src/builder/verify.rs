//! [`checksums_valid`]: every checksum of a frame, recomputed from scratch.

use crate::mpls::Lse;
use crate::{checksum, ipv4, ipv6, EtherType, IpProtocol};

/// Recompute every checksum of `frame` from scratch and say whether they
/// all match what is stored (IPv4 header, TCP / UDP / ICMP / ICMPv6), on
/// the IP packet or, for a labelled frame, on the inner packet. For tests.
pub fn checksums_valid(frame: &[u8]) -> bool {
    let Ok(l2) = crate::ethernet::l2(frame) else {
        return false;
    };
    let mut off = l2.header_len;
    if l2.ethertype == EtherType::MPLS {
        loop {
            let Some(w) = crate::bytes::u32_at(frame, off) else {
                return false;
            };
            off += 4;
            if Lse::from_u32(w).bos {
                break;
            }
        }
    }
    let Some(ip) = frame.get(off..) else {
        return false;
    };
    match ip.first().map(|b| b >> 4) {
        Some(4) => {
            let Ok(p) = ipv4::Packet::new_checked(ip) else {
                return false;
            };
            if !p.verify_checksum() {
                return false;
            }
            let (s, d) = (p.src_addr(), p.dst_addr());
            let seg = p.payload();
            match p.protocol() {
                IpProtocol::Tcp | IpProtocol::Udp => {
                    if p.protocol() == IpProtocol::Udp && seg.get(6..8) == Some(&[0, 0]) {
                        return true;
                    }
                    checksum::l4_v4(s, d, p.protocol().into(), seg) == 0
                }
                IpProtocol::Icmp => checksum::sum(seg) == 0xffff,
                _ => true,
            }
        }
        Some(6) => {
            let Ok(p) = ipv6::Packet::new_checked(ip) else {
                return false;
            };
            let whole = &ip[..ipv6::HEADER_LEN + usize::from(p.payload_len())];
            let Ok(w) = ipv6::walk_ext(whole) else {
                return false;
            };
            let seg = &whole[w.offset..];
            match w.protocol {
                IpProtocol::Tcp | IpProtocol::Udp | IpProtocol::Icmpv6 => {
                    checksum::l4_v6(p.src_addr(), p.dst_addr(), w.protocol.into(), seg) == 0
                }
                _ => true,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::FrameBuilder;
    use crate::{MacAddr, TcpFlags};
    use core::net::{Ipv4Addr, Ipv6Addr};

    const M: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    #[test]
    fn built_frames_verify_and_a_flipped_bit_does_not() {
        let c = Ipv4Addr::new(198, 51, 100, 7);
        let v = Ipv4Addr::new(192, 0, 2, 10);
        let c6: Ipv6Addr = "2001:db8:1::7".parse().unwrap();
        let v6: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let frames = [
            FrameBuilder::tcp4(M, M, c, v, 1, 80)
                .flags(TcpFlags::SYN)
                .mss(1460)
                .build(),
            FrameBuilder::udp6(M, M, v6, c6, 53, 5353)
                .payload(b"answer")
                .vlan(7)
                .build(),
            FrameBuilder::tcp6(M, M, c6, v6, 1, 443)
                .payload(b"x")
                .label(101)
                .build(),
            FrameBuilder::echo_request(M, M, c.into(), v.into(), 1, 1)
                .payload(b"ping")
                .build(),
        ];
        for f in frames {
            assert!(checksums_valid(&f), "{f:02x?}");
            let mut bad = f.clone();
            *bad.last_mut().unwrap() ^= 0x01;
            assert!(!checksums_valid(&bad), "{bad:02x?}");
        }
        assert!(!checksums_valid(&[0; 10]));
    }
}
