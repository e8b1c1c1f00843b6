//! The splice (issue 16's splice contract): what slbd sends and
//! reads once a cookie ACK has checked. The client's SYN is rebuilt from
//! the ACK and its cookie ([`write_replay_syn`]) and sent to the server
//! under the session's label, marked ([`mark_lse_in_place`]); the server's
//! SYN-ACK is read ([`parse_syn_ack`]) for its ISN and options; the cookie
//! ACK itself is read by [`parse_ack`]. No allocation, no panic on any
//! input.
//!
//! **The mark**: MPLS traffic class (RFC 5462) [`SPLICE_TC`] = 1 on a
//! client-to-server label stack entry tells the server's agent "spliced":
//! on a SYN, expect a marked ACK; on an ACK, it is the client's handshake
//! ACK replayed, learn the deltas. Every other client-to-server frame slbd
//! switches has its TC cleared ([`mpls::clear_tc`]), so a client that
//! sends labels cannot forge the mark.
//!
//! ```text
//!  LSE byte:   0               1               2               3
//!             +---------------+---------------+-------+-----+-+---------------+
//!             |           Label (20 bits)             | TC  |S|      TTL      |
//!             +---------------+---------------+-------+-----+-+---------------+
//!  byte 2 = (label & 0xf) << 4 | TC << 1 | S;  marked: TC = 001
//!  label 101, S, TTL 64:   00 06 51 40  ->  marked  00 06 53 40
//! ```
//!
//! **The replayed SYN** ([`write_replay_syn`]), a whole untagged frame:
//!
//! ```text
//! +------------------+---------------------+--------------------------------+
//! | Ethernet         | IPv4 / IPv6, fresh  | TCP: client port -> service    |
//! | MACs 0 (caller   | client -> service   | port, seq = client ISN, ack 0, |
//! | rewrites them),  | TTL / hop limit 64, | SYN, window as given, options: |
//! | 0x0800 / 0x86dd  | DF, ident 0         | as the cookie says (below)     |
//! +------------------+---------------------+--------------------------------+
//! ```
//!
//! Its options are the client's, as far as the cookie kept them, in the
//! order Linux writes a SYN's (`tcp_options_write`):
//!
//! ```text
//! MSS              02 04 mm mm            always: the cookie's MSS index
//! SACK-perm + TS   04 02 08 0a val 0      SACK and TS
//! NOP NOP + TS     01 01 08 0a val 0      TS only
//! NOP NOP SACK-p   01 01 04 02            SACK only
//! NOP + WS         01 03 03 ws            the cookie has a window scale
//! ```
//!
//! TS only when the cookie says the client sent timestamps and the caller
//! has a TSval (the cookie ACK's, [`AckInfo::tsval`]); TSecr 0, as in any
//! SYN (RFC 7323 §3.2).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::syn_ack::{linux_options, walk_options, write_ip_header, SynError, MAX_OPTIONS_LEN};
use super::{CookieOptions, Tuple, WSCALE_MAX};
use crate::ethernet::{self, EtherType};
use crate::mpls::{self, LSE_LEN};
use crate::tcp::{self, TcpFlags, TcpOption};
use crate::{ipv4, ipv6};

/// The MPLS traffic class that marks a client-to-server frame for the
/// server's agent (module doc).
pub const SPLICE_TC: u8 = 1;

/// Mark the label stack entry at `lse_offset` of `frame` (14, or 18
/// behind an 802.1Q tag: [`crate::mpls::TopLabel::offset`]): its TC
/// becomes [`SPLICE_TC`], the label, S bit and TTL stay. `false` (frame
/// unchanged) when the frame holds no 4 bytes at `lse_offset`. No
/// checksum covers the entry.
pub fn mark_lse_in_place(frame: &mut [u8], lse_offset: usize) -> bool {
    let Some(b) = frame
        .get_mut(lse_offset..)
        .and_then(|e| e.get_mut(..LSE_LEN))
        .and_then(|e| e.get_mut(mpls::TC_BYTE))
    else {
        return false;
    };
    *b = (*b & !mpls::TC_MASK) | (SPLICE_TC << mpls::TC_SHIFT);
    true
}

/// The replayed SYN's options for `opts` with MSS `mss`, timestamps when
/// the cookie has them and `tsval` is given (TSecr 0), the window scale
/// at most 14.
fn syn_options(
    opts: &CookieOptions,
    mss: u16,
    tsval: Option<u32>,
) -> ([u8; MAX_OPTIONS_LEN], usize) {
    linux_options(
        mss,
        opts.sack_ok,
        tsval.filter(|_| opts.ts_ok).map(|v| (v, 0)),
        opts.wscale.map(|w| w.min(WSCALE_MAX)),
    )
}

fn ip_header_len(tuple: &Tuple) -> usize {
    if tuple.is_v6() {
        ipv6::HEADER_LEN
    } else {
        ipv4::HEADER_LEN
    }
}

/// The length of the frame [`write_replay_syn`] writes for `tuple` and
/// `opts`, with `ts` = a TSval will be given (its `tsval` is `Some`).
pub fn replay_syn_len(tuple: &Tuple, opts: &CookieOptions, ts: bool) -> usize {
    let (_, n) = syn_options(opts, 0, ts.then_some(0));
    ethernet::HEADER_LEN + ip_header_len(tuple) + tcp::HEADER_LEN + n
}

/// Write the client's SYN, rebuilt, into `buf` as a whole untagged
/// Ethernet frame (module doc): MACs 0, a fresh IP header from
/// `tuple.src` to `tuple.dst`, TCP from `tuple.src_port` to
/// `tuple.dst_port` with seq = `client_isn` (the cookie ACK's seq - 1),
/// ack 0, SYN, `window`, and the options `opts` (from
/// [`super::check_ack`]) stand for, with timestamps (TSval `tsval`, TSecr
/// 0) when `opts.ts_ok` and `tsval` is `Some`. Checksums computed.
/// Returns the frame's length ([`replay_syn_len`]); `buf` may be longer.
///
/// Errors, `buf` then unchanged: `MixedFamily` (the tuple's addresses),
/// `BadMssIndex` (an MSS index past the table: not what [`super::check`]
/// gives), `NoRoom` (`buf` shorter than the frame).
pub fn write_replay_syn(
    buf: &mut [u8],
    tuple: &Tuple,
    client_isn: u32,
    opts: &CookieOptions,
    tsval: Option<u32>,
    window: u16,
) -> Result<usize, SynError> {
    write_replay_syn_capped(buf, tuple, client_isn, opts, tsval, window, u16::MAX)
}

/// [`write_replay_syn`] with the MSS option no larger than `max_mss` (the
/// largest a labelled segment carries: slbd clamps every SYN it forwards,
/// and writes this one clamped rather than parse it again to clamp it).
pub fn write_replay_syn_capped(
    buf: &mut [u8],
    tuple: &Tuple,
    client_isn: u32,
    opts: &CookieOptions,
    tsval: Option<u32>,
    window: u16,
    max_mss: u16,
) -> Result<usize, SynError> {
    let v6 = tuple.is_v6();
    if v6 != tuple.dst.is_ipv6() {
        return Err(SynError::MixedFamily);
    }
    let mss = opts
        .mss(v6)
        .ok_or(SynError::BadMssIndex {
            index: opts.mss_index,
        })?
        .min(max_mss);
    let (options, n) = syn_options(opts, mss, tsval);
    let l4 = ethernet::HEADER_LEN + ip_header_len(tuple);
    let tcp_len = tcp::HEADER_LEN + n;
    let need = l4 + tcp_len;
    let frame = buf.get_mut(..need).ok_or(SynError::NoRoom { need })?;
    let (head, seg) = frame.split_at_mut(l4);
    let (l2, ip) = head.split_at_mut(ethernet::HEADER_LEN);
    write_ip_header(ip, tuple.src, tuple.dst, tcp_len)?;
    let ethertype = if v6 { EtherType::IPV6 } else { EtherType::IPV4 };
    let (macs, ty) = l2.split_at_mut(ethernet::field::ETHERTYPE.start);
    macs.fill(0);
    ty.copy_from_slice(&ethertype.to_be_bytes());
    let mut p = tcp::Packet::new_unchecked(seg);
    p.set_src_port(tuple.src_port);
    p.set_dst_port(tuple.dst_port);
    p.set_seq_number(client_isn);
    p.set_ack_number(0);
    p.set_header_len(tcp_len as u8);
    p.set_flags(TcpFlags::SYN);
    p.set_window_len(window);
    p.set_urgent_at(0);
    p.options_mut()
        .copy_from_slice(options.get(..n).unwrap_or_default());
    p.fill_checksum(tuple.src, tuple.dst);
    Ok(need)
}

/// The server's SYN-ACK to a replayed SYN, read ([`parse_syn_ack`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSynAck {
    /// The server's ISN (the SYN-ACK's sequence number).
    pub isn: u32,
    /// Its acknowledgment number (the client's ISN + 1 when it answers the
    /// replayed SYN).
    pub ack: u32,
    /// The TSval of its timestamps option.
    pub tsval: Option<u32>,
    /// The TSecr of its timestamps option.
    pub tsecr: Option<u32>,
    /// Its MSS option.
    pub mss: Option<u16>,
    /// Its window scale option (the shift as sent).
    pub wscale: Option<u8>,
    /// It sent SACK-permitted.
    pub sack_ok: bool,
}

/// Read the server's SYN-ACK in `segment`, the bytes from its TCP header
/// on (the caller slices them out of the labelled frame, and checks the
/// checksum if it wants to: no pseudo-header here). Requires SYN and ACK
/// set, RST clear (`NotSynAck`); a header cut short or with a data offset
/// under 5 is `BadHeader`, a malformed option `BadOption` (its offset in
/// the options, its kind). The last of a repeated option counts.
pub fn parse_syn_ack(segment: &[u8]) -> Result<ServerSynAck, SynError> {
    let p = tcp::Packet::new_checked(segment).map_err(|_| SynError::BadHeader)?;
    let f = p.flags();
    if !f.contains(TcpFlags::SYN | TcpFlags::ACK) || f.rst() {
        return Err(SynError::NotSynAck);
    }
    let mut s = ServerSynAck {
        isn: p.seq_number(),
        ack: p.ack_number(),
        tsval: None,
        tsecr: None,
        mss: None,
        wscale: None,
        sack_ok: false,
    };
    walk_options(p.options(), |o| match o {
        TcpOption::Mss(m) => s.mss = Some(m),
        TcpOption::WindowScale(w) => s.wscale = Some(w),
        TcpOption::SackPermitted => s.sack_ok = true,
        TcpOption::Timestamp { tsval, tsecr } => {
            s.tsval = Some(tsval);
            s.tsecr = Some(tsecr);
        }
        _ => {}
    })?;
    Ok(s)
}

/// The client's cookie ACK, read ([`parse_ack`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckInfo {
    /// Sequence number (the client's ISN + 1).
    pub seq: u32,
    /// Acknowledgment number (the cookie + 1).
    pub ack: u32,
    /// The TSval of its timestamps option: the replayed SYN's TSval.
    pub tsval: Option<u32>,
    /// The TSecr of its timestamps option (slbd's SYN-ACK TSval).
    pub tsecr: Option<u32>,
    /// Bytes of data after the TCP header.
    pub payload_len: usize,
    /// All its flags (FIN or PSH may be set with data).
    pub flags: TcpFlags,
}

/// Read the client's cookie ACK in `segment`, the bytes from its TCP
/// header on, `ip_payload_len` of them the segment (the IP header's
/// payload length past any extension header: `segment` may run on into
/// Ethernet padding). Requires ACK set, SYN and RST clear (`NotAck`, as
/// Linux's `cookie_v4_check`); a segment shorter than `ip_payload_len`,
/// or a header cut short or with a data offset under 5, is `BadHeader`; a
/// malformed option `BadOption`. Seq and ack go to [`super::check_ack`].
pub fn parse_ack(segment: &[u8], ip_payload_len: usize) -> Result<AckInfo, SynError> {
    let seg = segment.get(..ip_payload_len).ok_or(SynError::BadHeader)?;
    let p = tcp::Packet::new_checked(seg).map_err(|_| SynError::BadHeader)?;
    let flags = p.flags();
    if !flags.ack() || flags.syn() || flags.rst() {
        return Err(SynError::NotAck);
    }
    let mut a = AckInfo {
        seq: p.seq_number(),
        ack: p.ack_number(),
        tsval: None,
        tsecr: None,
        payload_len: p.payload().len(),
        flags,
    };
    walk_options(p.options(), |o| {
        if let TcpOption::Timestamp { tsval, tsecr } = o {
            a.tsval = Some(tsval);
            a.tsecr = Some(tsecr);
        }
    })?;
    Ok(a)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::super::syn_ack::{parse_syn, syn_ack_in_place, Advertise};
    use super::super::tests::{any_addr_pair, any_options};
    use super::*;
    use crate::builder::{checksums_valid, FrameBuilder};
    use crate::mpls::{Label, Lse};
    use crate::MacAddr;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;
    use std::vec::Vec;

    const M: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    #[test]
    fn mark_and_clear_touch_only_the_tc_bits() {
        // Label 101, TC 0, S, TTL 64 at 14; a byte either side.
        let mut f = [0xffu8; 20];
        f[14..18].copy_from_slice(&[0x00, 0x06, 0x51, 0x40]);
        assert!(mark_lse_in_place(&mut f, 14));
        assert_eq!(f[13..19], [0xff, 0x00, 0x06, 0x53, 0x40, 0xff]);
        assert_eq!(
            Lse::from_u32(u32::from_be_bytes([f[14], f[15], f[16], f[17]])),
            Lse {
                tc: SPLICE_TC,
                ..Lse::pipe(Label::from_bits(101))
            }
        );
        // Marking twice changes nothing more.
        assert!(mark_lse_in_place(&mut f, 14));
        assert_eq!(f[16], 0x53);
        mpls::clear_tc(&mut f, 14);
        assert_eq!(f[13..19], [0xff, 0x00, 0x06, 0x51, 0x40, 0xff]);
        mpls::clear_tc(&mut f, 14);
        assert_eq!(f[13..19], [0xff, 0x00, 0x06, 0x51, 0x40, 0xff]);
        // TC 7, S clear, label low nibble 0xf, TTL 255: TC alone changes.
        let mut g = [0xab, 0xcd, 0xfe, 0xff];
        assert!(mark_lse_in_place(&mut g, 0));
        assert_eq!(g, [0xab, 0xcd, 0xf2, 0xff]);
        let mut g = [0xab, 0xcd, 0xfe, 0xff];
        mpls::clear_tc(&mut g, 0);
        assert_eq!(g, [0xab, 0xcd, 0xf0, 0xff]);
    }

    #[test]
    fn mark_and_clear_past_the_frame_do_nothing() {
        let mut f = [0x51u8; 17];
        for at in [14, 17, 100, usize::MAX - 1, usize::MAX] {
            assert!(!mark_lse_in_place(&mut f, at), "{at}");
            mpls::clear_tc(&mut f, at);
        }
        assert_eq!(f, [0x51; 17]);
        // 4 bytes exactly at the end: marked.
        assert!(mark_lse_in_place(&mut f, 13));
        assert_eq!(f[15], 0x53);
    }

    fn t4() -> Tuple {
        Tuple {
            src: Ipv4Addr::new(198, 18, 0, 10).into(),
            dst: Ipv4Addr::new(198, 18, 1, 1).into(),
            src_port: 40000,
            dst_port: 80,
        }
    }

    const ALL: CookieOptions = CookieOptions {
        mss_index: 3,
        wscale: Some(7),
        sack_ok: true,
        ts_ok: true,
    };

    #[test]
    fn replay_syn_errors_leave_the_buffer_alone() {
        let mut b = [0xa5u8; 100];
        let mixed = Tuple {
            dst: IpAddr::V6(Ipv6Addr::LOCALHOST),
            ..t4()
        };
        assert_eq!(
            write_replay_syn(&mut b, &mixed, 1, &ALL, None, 1),
            Err(SynError::MixedFamily)
        );
        let bad = CookieOptions {
            mss_index: 4,
            ..ALL
        };
        assert_eq!(
            write_replay_syn(&mut b, &t4(), 1, &bad, None, 1),
            Err(SynError::BadMssIndex { index: 4 })
        );
        let need = replay_syn_len(&t4(), &ALL, true);
        assert_eq!(need, 14 + 20 + 20 + 20);
        assert_eq!(
            write_replay_syn(&mut b[..need - 1], &t4(), 1, &ALL, Some(5), 1),
            Err(SynError::NoRoom { need })
        );
        assert_eq!(b, [0xa5; 100]);
        assert_eq!(
            write_replay_syn(&mut b[..need], &t4(), 1, &ALL, Some(5), 1),
            Ok(need)
        );
        // TS in the cookie but no TSval to send: no timestamps option.
        assert_eq!(replay_syn_len(&t4(), &ALL, false), 14 + 20 + 20 + 12);
        let n = write_replay_syn(&mut b, &t4(), 1, &ALL, None, 1).unwrap();
        assert_eq!(b[54..n], [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
        // A window scale over 14 is sent as 14; TSval without ts_ok is
        // not sent.
        let o = CookieOptions {
            wscale: Some(200),
            ts_ok: false,
            sack_ok: false,
            mss_index: 0,
        };
        assert_eq!(replay_syn_len(&t4(), &o, true), 14 + 20 + 20 + 8);
        let n = write_replay_syn(&mut b, &t4(), 1, &o, Some(9), 1).unwrap();
        assert_eq!(b[54..n], [2, 4, 0x02, 0x18, 1, 3, 3, 14]);
        assert!(checksums_valid(&b[..n]));
    }

    /// SYN-ACK segments slbd's own writer makes, read back: the fields
    /// [`syn_ack_in_place`] put there.
    #[test]
    fn syn_ack_reads_back_what_the_cookie_syn_ack_wrote() {
        let syn = FrameBuilder::tcp4(
            M,
            M,
            Ipv4Addr::new(198, 18, 0, 10),
            Ipv4Addr::new(198, 18, 1, 1),
            40000,
            80,
        )
        .flags(TcpFlags::SYN)
        .seq(77)
        .mss(1460)
        .tcp_options(&[4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 2])
        .build();
        let s = parse_syn(&syn).unwrap();
        let mut b = syn.clone();
        let adv = Advertise {
            mss: 1400,
            wscale: 7,
            window: 100,
        };
        let n = syn_ack_in_place(&mut b, &s, 0xdead_beef, &adv, 0x0102_0304).unwrap();
        assert_eq!(
            parse_syn_ack(&b[34..n]),
            Ok(ServerSynAck {
                isn: 0xdead_beef,
                ack: 78,
                tsval: Some(0x0102_0304),
                tsecr: Some(9),
                mss: Some(1400),
                wscale: Some(7),
                sack_ok: true,
            })
        );
        // Not a SYN-ACK: the SYN itself, an ACK.
        assert_eq!(parse_syn_ack(&syn[34..]), Err(SynError::NotSynAck));
        assert_eq!(parse_ack(&syn[34..], syn.len() - 34), Err(SynError::NotAck));
        assert_eq!(parse_ack(&b[34..n], n - 34), Err(SynError::NotAck));
    }

    #[test]
    fn syn_ack_flags_and_options() {
        let seg = |flags: TcpFlags, opts: &[u8]| -> Vec<u8> {
            FrameBuilder::tcp4(M, M, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 80, 1)
                .flags(flags)
                .tcp_options(opts)
                .build()[34..]
                .to_vec()
        };
        let sa = TcpFlags::SYN | TcpFlags::ACK;
        assert_eq!(
            parse_syn_ack(&seg(sa | TcpFlags::RST, &[])),
            Err(SynError::NotSynAck)
        );
        assert_eq!(
            parse_syn_ack(&seg(TcpFlags::ACK, &[])),
            Err(SynError::NotSynAck)
        );
        // ECE with a SYN-ACK (ECN, RFC 3168) is a SYN-ACK.
        let s = parse_syn_ack(&seg(sa | TcpFlags::ECE, &[])).unwrap();
        assert_eq!(
            (s.mss, s.wscale, s.tsval, s.sack_ok),
            (None, None, None, false)
        );
        // Bad option lengths, at their offsets.
        assert_eq!(
            parse_syn_ack(&seg(sa, &[1, 2, 3, 1, 0])),
            Err(SynError::BadOption { at: 1, kind: 2 })
        );
        assert_eq!(
            parse_syn_ack(&seg(sa, &[1, 1, 1, 8, 10, 0, 0, 0])),
            Err(SynError::BadOption { at: 3, kind: 8 })
        );
        assert_eq!(
            parse_syn_ack(&seg(sa, &[3, 2, 0, 0])),
            Err(SynError::BadOption { at: 0, kind: 3 })
        );
        // Truncated headers.
        let full = seg(sa, &[2, 4, 5, 0xb4]);
        assert_eq!(parse_syn_ack(&full[..23]), Err(SynError::BadHeader));
        assert_eq!(parse_syn_ack(&full[..19]), Err(SynError::BadHeader));
        assert_eq!(parse_syn_ack(&full).unwrap().mss, Some(1460));
    }

    #[test]
    fn ack_lengths_flags_and_timestamps() {
        let f = FrameBuilder::tcp4(
            M,
            M,
            Ipv4Addr::new(198, 18, 0, 10),
            Ipv4Addr::new(198, 18, 1, 1),
            40000,
            80,
        )
        .flags(TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN)
        .seq(0x1122_3345)
        .ack(0xd8c6_a28f)
        .tcp_options(&[1, 1, 8, 10, 0, 0, 1, 0, 0x0a, 0x0b, 0x0c, 0x0d])
        .payload(b"GET / HTTP/1.0\r\n\r\n")
        .build();
        let seg = &f[34..];
        let a = parse_ack(seg, seg.len()).unwrap();
        assert_eq!(
            a,
            AckInfo {
                seq: 0x1122_3345,
                ack: 0xd8c6_a28f,
                tsval: Some(256),
                tsecr: Some(0x0a0b_0c0d),
                payload_len: 18,
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
            }
        );
        // Ethernet padding after the segment is not payload.
        let mut padded = seg.to_vec();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(parse_ack(&padded, seg.len()), Ok(a));
        // The IP length says more than there is; less than the header.
        assert_eq!(parse_ack(seg, seg.len() + 1), Err(SynError::BadHeader));
        assert_eq!(parse_ack(seg, 31), Err(SynError::BadHeader));
        // Exactly the header: no payload.
        assert_eq!(parse_ack(seg, 32).unwrap().payload_len, 0);
        for bad in [
            TcpFlags::SYN | TcpFlags::ACK,
            TcpFlags::RST | TcpFlags::ACK,
            TcpFlags::PSH,
        ] {
            let mut s = seg.to_vec();
            s[13] = bad.0;
            assert_eq!(parse_ack(&s, s.len()), Err(SynError::NotAck), "{bad:?}");
        }
        let mut s = seg.to_vec();
        s[23] = 9; // the timestamps' length byte
        assert_eq!(
            parse_ack(&s, s.len()),
            Err(SynError::BadOption { at: 2, kind: 8 })
        );
    }

    #[test]
    fn a_capped_replay_says_the_cap_and_nothing_else_changes() {
        let t = Tuple {
            src: Ipv4Addr::new(198, 18, 0, 10).into(),
            dst: Ipv4Addr::new(198, 19, 0, 1).into(),
            src_port: 40000,
            dst_port: 80,
        };
        let opts = CookieOptions {
            mss_index: 3,
            wscale: Some(7),
            sack_ok: true,
            ts_ok: true,
        };
        let mut a = [0u8; 128];
        let mut b = [0u8; 128];
        let n = write_replay_syn(&mut a, &t, 1000, &opts, Some(5), 65535).unwrap();
        let m = write_replay_syn_capped(&mut b, &t, 1000, &opts, Some(5), 65535, 1456).unwrap();
        assert_eq!(n, m);
        assert_eq!(parse_syn(&a[..n]).unwrap().options.mss, Some(1460));
        let capped = parse_syn(&b[..m]).unwrap();
        assert_eq!(capped.options.mss, Some(1456));
        // What the clamp would have made of the uncapped one.
        crate::mss::clamp_mss(&mut a[..n], 1456).unwrap();
        assert_eq!(a[..n], b[..m]);
        // A cap above the table's value changes nothing.
        let m = write_replay_syn_capped(&mut b, &t, 1000, &opts, Some(5), 65535, 9000).unwrap();
        let n = write_replay_syn(&mut a, &t, 1000, &opts, Some(5), 65535).unwrap();
        assert_eq!(a[..n], b[..m]);
    }

    fn any_tuple() -> impl Strategy<Value = Tuple> {
        (any_addr_pair(), any::<u16>(), any::<u16>()).prop_map(
            |((src, dst), src_port, dst_port)| Tuple {
                src,
                dst,
                src_port,
                dst_port,
            },
        )
    }

    proptest! {
        /// The replayed SYN reads back, through the same parser as a
        /// client's SYN, as the tuple, ISN and options it was written
        /// from; its checksums verify; its length is `replay_syn_len`.
        #[test]
        fn replay_syn_round_trips(
            t in any_tuple(),
            isn in any::<u32>(),
            opts in any_options(),
            tsval in proptest::option::of(any::<u32>()),
            window in any::<u16>(),
            room in 0usize..8,
        ) {
            let need = replay_syn_len(&t, &opts, tsval.is_some());
            let mut b = std::vec![0xa5u8; need + room];
            prop_assert_eq!(write_replay_syn(&mut b, &t, isn, &opts, tsval, window), Ok(need));
            let f = &b[..need];
            prop_assert!(checksums_valid(f));
            prop_assert_eq!(&f[..12], &[0u8; 12][..]);
            let s = parse_syn(f).unwrap();
            prop_assert_eq!(s.tuple, t);
            prop_assert_eq!(s.isn, isn);
            prop_assert_eq!(s.options.cookie_options(t.is_v6()), CookieOptions {
                ts_ok: opts.ts_ok && tsval.is_some(),
                ..opts
            });
            prop_assert_eq!(s.options.mss, opts.mss(t.is_v6()));
            prop_assert_eq!(s.options.tsval, tsval.filter(|_| opts.ts_ok));
            prop_assert!(!s.options.signed && !s.options.fast_open);
            let ip = if t.is_v6() { 40 } else { 20 };
            let seg = &f[14 + ip..];
            prop_assert_eq!(u16::from_be_bytes([seg[14], seg[15]]), window);
            prop_assert_eq!(&seg[8..12], &[0u8; 4]);
        }

        /// Any bytes, any claimed length: an error or a reading, never a
        /// panic; a reading's payload fits the segment.
        #[test]
        fn parsers_take_anything(
            seg in proptest::collection::vec(any::<u8>(), 0..80),
            ip_len in 0usize..100,
        ) {
            let _ = parse_syn_ack(&seg);
            if let Ok(a) = parse_ack(&seg, ip_len) {
                prop_assert!(a.payload_len + tcp::HEADER_LEN <= ip_len);
                prop_assert!(ip_len <= seg.len());
            }
        }

        /// A well-formed header with random option bytes: the parsers
        /// reach the option walk and agree with `tcp::Options` on whether
        /// the block is well formed.
        #[test]
        fn parsers_take_any_options(
            opts in proptest::collection::vec(any::<u8>(), 0..40),
            syn in any::<bool>(),
        ) {
            let flags = if syn { TcpFlags::SYN | TcpFlags::ACK } else { TcpFlags::ACK };
            let f = FrameBuilder::tcp4(M, M, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 2)
                .flags(flags)
                .tcp_options(&opts)
                .build();
            let seg = &f[34..];
            let well_formed = crate::tcp::Packet::new_checked(seg)
                .unwrap()
                .options_iter()
                .all(|o| o.is_ok());
            if syn {
                prop_assert_eq!(parse_syn_ack(seg).is_ok(), well_formed);
            } else {
                prop_assert_eq!(parse_ack(seg, seg.len()).is_ok(), well_formed);
            }
        }
    }
}
