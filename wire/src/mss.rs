//! TCP MSS clamping (RFC 9293 §3.7.1 option, RFC 1624 incremental checksum
//! update) on a whole frame, labelled or not, IPv4 or IPv6.
//!
//! slbd adds a 4-byte label to every frame it forwards to a server, so it
//! lowers the MSS that SYNs (and the first server reply) announce to what
//! still fits the port MTU with the label added: a full-size segment then
//! never needs fragmenting. Only the 2-byte MSS value and the TCP checksum
//! change; IP headers, lengths and the IPv4 header checksum do not.
//!
//! Checksum offload: the update assumes the TCP checksum in the frame is a
//! complete one (as on the wire). A frame whose checksum is still a partial
//! pseudo-header sum (TX offload pending) must not be clamped this way.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::bytes::{u16_at, u8_at};
use crate::classify::{parse_l3, Classified, L4};
use crate::ethernet::{self, EtherType};
use crate::mpls::{Lse, LSE_LEN};
use crate::tcp;
use crate::{checksum, Error, IpVersion, Result};

/// Offset of the checksum in the TCP header.
const TCP_CHECKSUM: usize = 16;

/// Lower every MSS option of the TCP segment in `frame` to `max_mss` if
/// it announces more. `frame` is Ethernet (optionally one 802.1Q tag),
/// optionally one bottom-of-stack MPLS label, then IPv4 or IPv6 (extension
/// headers walked) and TCP. Returns `Ok(true)` if the frame changed,
/// `Ok(false)` if it had no MSS option or only ones already <= `max_mss`.
///
/// Every MSS option is clamped, not only the first: a SYN may carry two,
/// and Linux uses the last (`tcp_parse_options` overwrites as it goes).
/// The options are read as Linux reads them: End of List or a length that
/// is under 2 or runs past the header ends the walk, and what follows is
/// not an option to anyone.
///
/// Errors (frame unchanged): [`Error::BadOption`] for an MSS option whose
/// length is not 4 (RFC 9293 §3.2; the caller drops the SYN rather than
/// forward an MSS it cannot clamp); `Unsupported` for a non-TCP or non-IP
/// frame, a label stack deeper than one, or a non-first fragment;
/// `Truncated` / `Malformed` / `Checksum` for what the classifier would
/// drop.
pub fn clamp_mss(frame: &mut [u8], max_mss: u16) -> Result<bool> {
    let l2 = ethernet::l2(frame)?;
    let (l3, expect) = match l2.ethertype {
        EtherType::IPV4 => (l2.header_len, Some(IpVersion::V4)),
        EtherType::IPV6 => (l2.header_len, Some(IpVersion::V6)),
        EtherType::MPLS => {
            let w = crate::bytes::u32_at(frame, l2.header_len).ok_or(Error::Truncated)?;
            if !Lse::from_u32(w).bos {
                return Err(Error::Unsupported);
            }
            (l2.header_len + LSE_LEN, None)
        }
        _ => return Err(Error::Unsupported),
    };
    let ip = match parse_l3(frame, l3, l2.vlan_tci, expect).map_err(|r| r.to_error())? {
        Classified::Ip(ip) => ip,
        _ => return Err(Error::Unsupported),
    };
    if !matches!(ip.l4, L4::Tcp { .. }) {
        return Err(Error::Unsupported);
    }
    clamp_mss_at(frame, ip.l4_offset, ip.l3_end, max_mss)
}

/// [`clamp_mss`] for a frame the caller has already classified: the TCP
/// header starts at `l4_offset` and the IP packet ends at `l3_end` (from
/// [`crate::classify::IpFrame`] of this very frame, unchanged since), so
/// nothing is parsed again. Same results and errors for the TCP part;
/// out-of-range offsets give `Truncated`, frame unchanged.
pub fn clamp_mss_at(
    frame: &mut [u8],
    l4_offset: usize,
    l3_end: usize,
    max_mss: u16,
) -> Result<bool> {
    // First pass: is there anything to clamp, and is every MSS option
    // well-formed? Nothing is written unless both hold.
    let mut over = false;
    mss_options(frame, l4_offset, |_, v| over |= v > max_mss)?;
    if !over {
        return Ok(false);
    }
    let mut at = [0usize; MAX_MSS_OPTIONS];
    let mut n = 0;
    mss_options(frame, l4_offset, |off, v| {
        if v > max_mss {
            if let Some(slot) = at.get_mut(n) {
                *slot = off;
                n += 1;
            }
        }
    })?;
    let seg = frame.get_mut(l4_offset..l3_end).ok_or(Error::Truncated)?;
    for &off in at.get(..n).unwrap_or(&[]) {
        let old_check = u16_at(seg, TCP_CHECKSUM).ok_or(Error::Truncated)?;
        let new_check = checksum::replace_bytes(seg, off, &max_mss.to_be_bytes(), old_check)
            .ok_or(Error::Truncated)?;
        crate::bytes::put_u16(seg, TCP_CHECKSUM, new_check).ok_or(Error::Truncated)?;
    }
    Ok(true)
}

/// Checks the MSS options of the TCP header at `l4_offset` without
/// changing anything: `Err(Error::BadOption)` when one is not 4 bytes long
/// (what [`clamp_mss_at`] would refuse), `Truncated` when the header is cut.
pub fn check_mss_at(frame: &[u8], l4_offset: usize) -> Result<()> {
    mss_options(frame, l4_offset, |_, _| ())
}

/// At most this many MSS options fit in 40 bytes of options.
const MAX_MSS_OPTIONS: usize = 10;

/// Calls `each(offset of the value in the segment, value)` for every MSS
/// option of the TCP header at `l4_offset`, walking the options as Linux's
/// `tcp_parse_options` does: End of List stops, NOP is one byte, a length
/// under 2 or past the options stops (the rest is not parsed by anyone).
/// An MSS option whose length is not 4 is `Err(Error::BadOption)`.
fn mss_options(frame: &[u8], l4_offset: usize, mut each: impl FnMut(usize, u16)) -> Result<()> {
    let hl = usize::from(u8_at(frame, l4_offset + 12).ok_or(Error::Truncated)? >> 4) * 4;
    let opts = frame
        .get(l4_offset + 20..l4_offset + hl)
        .ok_or(Error::Truncated)?;
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            tcp::kind::END => break,
            tcp::kind::NOP => i += 1,
            _ => {
                let len = usize::from(u8_at(opts, i + 1).unwrap_or(0));
                if len < 2 || i + len > opts.len() {
                    break;
                }
                if kind == tcp::kind::MSS {
                    let v = u16_at(opts, i + 2).filter(|_| len == 4);
                    each(20 + i + 2, v.ok_or(Error::BadOption)?);
                }
                i += len;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::builder::{checksums_valid, FrameBuilder};
    use crate::{IpProtocol, MacAddr, TcpFlags};
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;

    const CM: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const SM: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    fn syn4(mss: u16) -> FrameBuilder {
        FrameBuilder::tcp4(
            CM,
            SM,
            Ipv4Addr::new(198, 51, 100, 7),
            Ipv4Addr::new(192, 0, 2, 10),
            40000,
            80,
        )
        .flags(TcpFlags::SYN)
        .mss(mss)
    }

    /// A SYN without options (the test gives them).
    fn bare_syn4() -> FrameBuilder {
        FrameBuilder::tcp4(
            CM,
            SM,
            Ipv4Addr::new(198, 51, 100, 7),
            Ipv4Addr::new(192, 0, 2, 10),
            40000,
            80,
        )
        .flags(TcpFlags::SYN)
    }

    #[test]
    fn clamp_at_offsets_equals_clamp() {
        for (mss, max) in [(1460u16, 1400u16), (1300, 1400), (9000, 1456)] {
            let f = syn4(mss).build();
            let ip = match crate::classify(&f).unwrap() {
                crate::Classified::Ip(ip) => ip,
                _ => unreachable!(),
            };
            let (mut a, mut b) = (f.clone(), f.clone());
            let ra = clamp_mss(&mut a, max).unwrap();
            let rb = clamp_mss_at(&mut b, ip.l4_offset, ip.l3_end, max).unwrap();
            assert_eq!((ra, &a), (rb, &b));
            assert!(checksums_valid(&b));
        }
        let mut f = syn4(1460).build();
        let n = f.len();
        assert_eq!(clamp_mss_at(&mut f, n, n + 40, 1000), Err(Error::Truncated));
    }

    fn mss_of(frame: &[u8]) -> Option<u16> {
        let c = crate::classify(frame).ok()?;
        let off = match c {
            crate::Classified::Ip(i) => i.l4_offset,
            crate::Classified::Labelled(l) => {
                match crate::classify::parse_l3(frame, l.inner_offset, None, None).ok()? {
                    crate::Classified::Ip(i) => i.l4_offset,
                    _ => return None,
                }
            }
            _ => return None,
        };
        let hl = usize::from(frame[off + 12] >> 4) * 4;
        crate::tcp::Packet::new_unchecked(&frame[off..off + hl]).mss()
    }

    #[test]
    fn clamps_and_keeps_checksums() {
        let mut f = syn4(1460).build();
        assert_eq!(clamp_mss(&mut f, 1456), Ok(true));
        assert_eq!(mss_of(&f), Some(1456));
        assert!(checksums_valid(&f));
        // Byte-exact: same as a frame built with MSS 1456 from the start.
        assert_eq!(f, syn4(1456).build());
        // Already small enough: unchanged.
        let mut g = syn4(1400).build();
        let before = g.clone();
        assert_eq!(clamp_mss(&mut g, 1456), Ok(false));
        assert_eq!(g, before);
    }

    #[test]
    fn clamps_at_odd_offset_labelled_vlan_v6() {
        // NOP first puts the MSS value at an odd offset in the segment.
        let mut f = FrameBuilder::tcp6(
            CM,
            SM,
            "2001:db8:1::7".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
            1,
            443,
        )
        .flags(TcpFlags::SYN)
        .tcp_options(&[1, 2, 4, 0x23, 0x28, 1, 1, 1]) // NOP, MSS 9000, NOPs
        .vlan(10)
        .label(777)
        .build();
        assert_eq!(clamp_mss(&mut f, 1436), Ok(true));
        assert_eq!(mss_of(&f), Some(1436));
        assert!(checksums_valid(&f));
    }

    #[test]
    fn no_mss_or_not_tcp() {
        let mut f =
            FrameBuilder::tcp4(CM, SM, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 2).build();
        assert_eq!(clamp_mss(&mut f, 500), Ok(false));
        let mut u =
            FrameBuilder::udp4(CM, SM, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 2).build();
        assert_eq!(clamp_mss(&mut u, 500), Err(Error::Unsupported));
        let mut deep = syn4(1460).label(100).label(200).build();
        assert_eq!(clamp_mss(&mut deep, 500), Err(Error::Unsupported));
        let mut bad = syn4(1460).tcp_options(&[8, 40]).build();
        let before = bad.clone();
        // MSS comes first, so it is found before the bad option.
        assert_eq!(clamp_mss(&mut bad, 500), Ok(true));
        // An option length past the options ends the walk, as in Linux:
        // no MSS, nothing to clamp.
        let mut bad2 = FrameBuilder::tcp4(CM, SM, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 2)
            .tcp_options(&[8, 40, 0, 0])
            .build();
        let b2 = bad2.clone();
        assert_eq!(clamp_mss(&mut bad2, 500), Ok(false));
        assert_eq!(bad2, b2);
        assert_ne!(bad, before);
    }

    #[test]
    fn every_mss_option_is_clamped() {
        // Two MSS options (Linux uses the last): both lowered.
        let opts = [2, 4, 0x05, 0xb4, 1, 1, 2, 4, 0x23, 0x28]; // 1460, NOPs, 9000
        let mut f = bare_syn4().tcp_options(&opts).build();
        assert_eq!(clamp_mss(&mut f, 1400), Ok(true));
        let want = bare_syn4()
            .tcp_options(&[2, 4, 0x05, 0x78, 1, 1, 2, 4, 0x05, 0x78])
            .build();
        assert_eq!(f, want);
        assert!(checksums_valid(&f));
        // Only the one over the bound changes.
        let mut g = bare_syn4()
            .tcp_options(&[2, 4, 0x04, 0x00, 2, 4, 0x23, 0x28])
            .build();
        assert_eq!(clamp_mss(&mut g, 1400), Ok(true));
        let want = bare_syn4()
            .tcp_options(&[2, 4, 0x04, 0x00, 2, 4, 0x05, 0x78])
            .build();
        assert_eq!(g, want);
    }

    #[test]
    fn malformed_mss_option_is_refused_unchanged() {
        for opts in [
            &[2u8, 3, 0x23, 1][..],                          // length 3
            &[2, 6, 0x23, 0x28, 0, 0][..],                   // length 6
            &[2, 4, 0x05, 0xb4, 2, 5, 0x23, 0x28, 0, 1][..], // good, then bad
        ] {
            let mut f = bare_syn4().tcp_options(opts).build();
            let before = f.clone();
            assert_eq!(clamp_mss(&mut f, 1400), Err(Error::BadOption), "{opts:?}");
            assert_eq!(f, before);
            let ip = match crate::classify(&f).unwrap() {
                crate::Classified::Ip(ip) => ip,
                _ => unreachable!(),
            };
            assert_eq!(check_mss_at(&f, ip.l4_offset), Err(Error::BadOption));
        }
        // After a broken option nothing is an option: not refused.
        let mut f = bare_syn4().tcp_options(&[30, 1, 2, 3, 0, 0, 0, 0]).build();
        assert_eq!(clamp_mss(&mut f, 1400), Ok(false));
    }

    fn addr_pair(v6: bool, a: u128, b: u128) -> (IpAddr, IpAddr) {
        if v6 {
            (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))
        } else {
            (
                IpAddr::V4(Ipv4Addr::from(a as u32)),
                IpAddr::V4(Ipv4Addr::from(b as u32)),
            )
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Whatever the addresses, ports, payload, option layout, VLAN and
        /// label, clamping leaves every checksum valid by recomputation,
        /// and the MSS is min(old, max).
        #[test]
        fn clamping_keeps_checksums_valid(
            v6 in any::<bool>(), a in any::<u128>(), b in any::<u128>(),
            sport in any::<u16>(), dport in any::<u16>(), seq in any::<u32>(),
            mss in any::<u16>(), max in any::<u16>(), nops in 0usize..4,
            payload in prop::collection::vec(any::<u8>(), 0..64),
            vlan in prop::option::of(0u16..4096), label in prop::option::of(16u32..=0xfffff),
            ext in any::<bool>(),
        ) {
            let (s, d) = addr_pair(v6, a, b);
            let mut opts = std::vec![1u8; nops];
            opts.extend_from_slice(&[2, 4]);
            opts.extend_from_slice(&mss.to_be_bytes());
            let mut fb = FrameBuilder::tcp(CM, SM, s, d, sport, dport)
                .flags(TcpFlags::SYN).seq(seq).tcp_options(&opts).payload(&payload);
            if v6 && ext { fb = fb.ipv6_ext(IpProtocol::Ipv6Opts); }
            if let Some(v) = vlan { fb = fb.vlan(v); }
            if let Some(l) = label { fb = fb.label(l); }
            let mut f = fb.build();
            prop_assert!(checksums_valid(&f));
            let changed = clamp_mss(&mut f, max).unwrap();
            prop_assert_eq!(changed, mss > max);
            prop_assert_eq!(mss_of(&f), Some(mss.min(max)));
            prop_assert!(checksums_valid(&f));
            // Byte-exact with a frame built directly with the clamped MSS.
            let mut opts2 = std::vec![1u8; nops];
            opts2.extend_from_slice(&[2, 4]);
            opts2.extend_from_slice(&mss.min(max).to_be_bytes());
            let mut fb2 = FrameBuilder::tcp(CM, SM, s, d, sport, dport)
                .flags(TcpFlags::SYN).seq(seq).tcp_options(&opts2).payload(&payload);
            if v6 && ext { fb2 = fb2.ipv6_ext(IpProtocol::Ipv6Opts); }
            if let Some(v) = vlan { fb2 = fb2.vlan(v); }
            if let Some(l) = label { fb2 = fb2.label(l); }
            prop_assert_eq!(f, fb2.build());
        }
    }
}
