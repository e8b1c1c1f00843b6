//! TCP resets for refused sessions (service acceptance control, claim 11
//! in docs/claims.md, with `refuse: rst`): RFC 9293 §3.10.7.1, the reply to a segment for no
//! connection: `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>` when the segment
//! had no ACK (a SYN), `<SEQ=SEG.ACK><CTL=RST>` otherwise.

use slb_wire::classify::IpFrame;
use slb_wire::{ethernet, ipv4, ipv6, tcp, EtherType, IpProtocol, MacAddr, TcpFlags};
use std::net::IpAddr;

/// Largest frame [`build`] writes: 802.1Q + IPv6 + TCP.
pub const MAX_LEN: usize = 18 + 40 + 20;

/// Writes into `out` the reset answering the TCP segment `frame` (as
/// classified in `ip`), from `our_mac` back to the sender's MAC, and
/// returns its length. None if `frame` is not TCP or too short.
pub fn build(
    frame: &[u8],
    ip: &IpFrame,
    our_mac: [u8; 6],
    out: &mut [u8; MAX_LEN],
) -> Option<usize> {
    let seg = tcp::Packet::new_checked(frame.get(ip.l4_offset..ip.l3_end)?).ok()?;
    let flags = seg.flags();
    if flags.contains(TcpFlags::RST) {
        return None; // never answer a reset with a reset
    }
    let seg_len = seg.payload().len() as u32
        + u32::from(flags.contains(TcpFlags::SYN))
        + u32::from(flags.contains(TcpFlags::FIN));
    let (seq, ack, rflags) = if flags.contains(TcpFlags::ACK) {
        (seg.ack_number(), 0, TcpFlags::RST)
    } else {
        (
            0,
            seg.seq_number().wrapping_add(seg_len),
            TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0),
        )
    };
    let (sport, dport) = (seg.src_port(), seg.dst_port());
    let client_mac = MacAddr::from_bytes(frame.get(6..12)?);

    // L2: back to the sender, keeping an 802.1Q tag if there was one.
    let l2 = ip.l3_offset;
    out[..l2].copy_from_slice(frame.get(..l2)?);
    ethernet::rewrite_macs(&mut out[..], MacAddr(our_mac), client_mac).ok()?;
    let (src, dst) = (ip.flow.dst, ip.flow.src);
    let ip_len = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = ipv4::Packet::new_unchecked(&mut out[l2..l2 + 20]);
            p.set_version(4);
            p.set_header_len(20);
            p.set_dscp_ecn(0, 0);
            p.set_total_len(40);
            p.set_ident(0);
            p.set_frag(true, false, 0);
            p.set_ttl(64);
            p.set_protocol(IpProtocol::Tcp);
            p.set_src_addr(s);
            p.set_dst_addr(d);
            p.fill_checksum();
            set_ethertype(out, l2, EtherType::IPV4);
            20
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            ipv6::Repr {
                src_addr: s,
                dst_addr: d,
                next_header: IpProtocol::Tcp,
                payload_len: 20,
                hop_limit: 64,
            }
            .emit(&mut ipv6::Packet::new_unchecked(&mut out[l2..l2 + 40]));
            set_ethertype(out, l2, EtherType::IPV6);
            40
        }
        _ => return None,
    };
    let t = l2 + ip_len;
    out[t..t + 20].fill(0);
    let mut p = tcp::Packet::new_unchecked(&mut out[t..t + 20]);
    p.set_src_port(dport);
    p.set_dst_port(sport);
    p.set_seq_number(seq);
    p.set_ack_number(ack);
    p.set_header_len(20);
    p.set_flags(rflags);
    p.set_window_len(0);
    p.set_urgent_at(0);
    p.fill_checksum(src, dst);
    Some(t + 20)
}

fn set_ethertype(out: &mut [u8], l2: usize, t: u16) {
    out[l2 - 2..l2].copy_from_slice(&t.to_be_bytes());
}
