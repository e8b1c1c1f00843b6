//! The labelled fast path: the label checks, then a peek at the packet
//! under the label (version, source address, TCP flags), which is not parsed
//! further: slbd does not touch it, the host checks it.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::net::IpAddr;

use super::drop_reason::DropReason;
use super::frames::LabelledFrame;
use super::l3::ext_reason;
use crate::bytes::{array_at, u16_at, u32_at, u8_at};
use crate::ipv6;
use crate::mpls::{Lse, LSE_LEN};
use crate::{IpVersion, TcpFlags};

#[inline(always)]
pub(super) fn classify_labelled(
    frame: &[u8],
    off: usize,
    vlan_tci: Option<u16>,
) -> Result<LabelledFrame, DropReason> {
    let lse = Lse::from_u32(u32_at(frame, off).ok_or(DropReason::TruncatedMpls)?);
    if lse.label.is_reserved() {
        return Err(DropReason::ReservedLabel);
    }
    if !lse.bos {
        return Err(DropReason::MplsStackTooDeep);
    }
    if lse.ttl == 0 {
        return Err(DropReason::LabelTtlExpired);
    }
    let inner = off + LSE_LEN;
    let first = u8_at(frame, inner).ok_or(DropReason::TruncatedMpls)?;
    let (inner_version, inner_src, tcp_flags) = match IpVersion::of_first_byte(first) {
        Some(IpVersion::V4) => {
            let hl = usize::from(first & 0x0f) * 4;
            if hl < 20 {
                return Err(DropReason::BadIpv4Ihl);
            }
            if frame.len() < inner + 20 {
                return Err(DropReason::TruncatedIpv4);
            }
            let src = array_at::<4>(frame, inner + 12).ok_or(DropReason::TruncatedIpv4)?;
            let proto = u8_at(frame, inner + 9).ok_or(DropReason::TruncatedIpv4)?;
            let frag = u16_at(frame, inner + 6).ok_or(DropReason::TruncatedIpv4)?;
            let flags = if proto == 6 && frag & 0x1fff == 0 {
                Some(TcpFlags(
                    u8_at(frame, inner + hl + 13).ok_or(DropReason::TruncatedTcp)?,
                ))
            } else {
                None
            };
            (IpVersion::V4, IpAddr::from(src), flags)
        }
        Some(IpVersion::V6) => {
            if frame.len() < inner + ipv6::HEADER_LEN {
                return Err(DropReason::TruncatedIpv6);
            }
            let src = array_at::<16>(frame, inner + 8).ok_or(DropReason::TruncatedIpv6)?;
            let mut nh = u8_at(frame, inner + 6).ok_or(DropReason::TruncatedIpv6)?;
            let mut l4 = inner + ipv6::HEADER_LEN;
            if !matches!(nh, 6 | 17 | 58) {
                // Rare: extension headers under a label. Walk them, bounded.
                let pl = u16_at(frame, inner + 4).ok_or(DropReason::TruncatedIpv6)?;
                let end = inner + ipv6::HEADER_LEN + usize::from(pl);
                let pkt = frame.get(inner..end).ok_or(DropReason::TruncatedIpv6)?;
                let w = ipv6::walk_ext(pkt).map_err(ext_reason)?;
                nh = u8::from(w.protocol);
                l4 = inner + w.offset;
                if w.fragment.is_some_and(|f| f.offset != 0) {
                    nh = 0xff; // no L4 header here
                }
            }
            let flags = if nh == 6 {
                Some(TcpFlags(
                    u8_at(frame, l4 + 13).ok_or(DropReason::TruncatedTcp)?,
                ))
            } else {
                None
            };
            (IpVersion::V6, IpAddr::from(src), flags)
        }
        None => return Err(DropReason::BadInnerIpVersion),
    };
    Ok(LabelledFrame {
        vlan_tci,
        lse,
        lse_offset: off,
        inner_offset: inner,
        inner_version,
        inner_src,
        tcp_flags,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::super::fixtures::*;
    use crate::classify::{classify, DropReason};
    use crate::mpls::{Label, Lse};
    use crate::{IpProtocol, IpVersion, TcpFlags};
    use core::net::IpAddr;

    #[test]
    fn labelled_fast_path() {
        let f = syn4().label(101).build();
        let l = labelled(classify(&f));
        assert_eq!(l.lse, Lse::pipe(Label::from_bits(101)));
        assert_eq!((l.lse_offset, l.inner_offset), (14, 18));
        assert_eq!(l.inner_version, IpVersion::V4);
        assert_eq!(l.inner_src, IpAddr::V4(CLIENT));
        assert_eq!(l.tcp_flags, Some(TcpFlags::SYN));

        let f = syn6()
            .flags(TcpFlags::FIN | TcpFlags::ACK)
            .vlan(7)
            .label(102)
            .build();
        let l = labelled(classify(&f));
        assert_eq!(
            (l.lse_offset, l.inner_offset, l.vlan_tci),
            (18, 22, Some(7))
        );
        assert_eq!(l.inner_src, IpAddr::V6(c6()));
        assert_eq!(l.tcp_flags, Some(TcpFlags::FIN | TcpFlags::ACK));

        let f = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 1, 2)
            .label(103)
            .build();
        assert_eq!(labelled(classify(&f)).tcp_flags, None);

        // IPv6 with a destination options header under the label.
        let f = syn6()
            .ipv6_ext(IpProtocol::Ipv6Opts)
            .flags(TcpFlags::RST)
            .label(105)
            .build();
        assert_eq!(labelled(classify(&f)).tcp_flags, Some(TcpFlags::RST));
    }

    #[test]
    fn label_ttl_model() {
        let ttl = |t: u8| {
            syn4()
                .lse(Lse {
                    label: Label::from_bits(101),
                    tc: 0,
                    bos: true,
                    ttl: t,
                })
                .build()
        };
        assert_eq!(classify(&ttl(0)), Err(DropReason::LabelTtlExpired));
        assert_eq!(labelled(classify(&ttl(1))).lse.ttl, 1);
        assert_eq!(labelled(classify(&ttl(255))).lse.ttl, 255);
    }

    #[test]
    fn label_stack_and_reserved() {
        let f = syn4().label(101).label(201).build();
        assert_eq!(classify(&f), Err(DropReason::MplsStackTooDeep));
        for l in 0..16 {
            let f = syn4().label(l).build();
            assert_eq!(classify(&f), Err(DropReason::ReservedLabel), "label {l}");
        }
        assert!(classify(&syn4().label(16).build()).is_ok());
        // Reserved wins over stack depth: an explicit-null on top of a stack.
        let f = syn4().label(101).label(0).build();
        assert_eq!(classify(&f), Err(DropReason::ReservedLabel));
    }

    #[test]
    fn labelled_truncations() {
        let f = syn4().label(101).build();
        assert_eq!(classify(&f[..16]), Err(DropReason::TruncatedMpls));
        assert_eq!(classify(&f[..18]), Err(DropReason::TruncatedMpls));
        assert_eq!(classify(&f[..30]), Err(DropReason::TruncatedIpv4));
        assert_eq!(classify(&f[..18 + 20 + 13]), Err(DropReason::TruncatedTcp));
        let mut bad = f.clone();
        bad[18] = 0x55;
        assert_eq!(classify(&bad), Err(DropReason::BadInnerIpVersion));
        let mut bad = f.clone();
        bad[18] = 0x44;
        assert_eq!(classify(&bad), Err(DropReason::BadIpv4Ihl));
        let f6 = syn6().label(101).build();
        assert_eq!(classify(&f6[..18 + 39]), Err(DropReason::TruncatedIpv6));
    }
}
