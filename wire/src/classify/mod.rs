//! The per-packet frame classifier: one pass over the headers the worker
//! needs, no allocation, no panic (enforced below by clippy's
//! `indexing_slicing`, `unwrap_used`, `expect_used`, `panic` lints: every
//! read is a checked `get`).
//!
//! ```text
//! Ethernet [802.1Q] ─┬─ 0x8847 MPLS ── one label, S=1, label >= 16, TTL >= 1
//!                    │                 └─ inner IPv4/IPv6: source, TCP flags  -> Labelled
//!                    ├─ 0x0806 ARP (Ethernet/IPv4)                            -> Arp
//!                    ├─ 0x0800 IPv4 ─┬─ ICMPv6 NS/NA (IPv6 only)              -> Nd
//!                    ├─ 0x86DD IPv6 ─┴─ TCP / UDP / ICMP / other              -> Ip
//!                    └─ anything else                                         -> Other
//! ```
//!
//! What is checked, and what is not:
//! * unlabelled IPv4: version, IHL, total length against the frame, header
//!   checksum; a non-first fragment is dropped (`non_first_fragment`: it has
//!   no ports, slb cannot map it to a session, and it does not reassemble).
//!   First fragments (MF=1, offset 0) are classified and flagged.
//! * unlabelled IPv6: version, payload length against the frame, the
//!   extension header walk ([`crate::ipv6::walk_ext`], at most
//!   [`crate::ipv6::MAX_EXT_HEADERS`]); fragments as IPv4.
//! * L4: TCP data offset, UDP length; L4 checksums are **not** verified on
//!   the data path (the receiving host does), except for ND, which slbd
//!   answers itself (checksum, hop limit 255 and code 0 per RFC 4861 §7.1).
//! * labelled frames (the fast path): only the label checks, the inner
//!   version nibble, the inner source address and, for inner TCP, the flags
//!   byte. The inner IPv4 header checksum is not verified: slbd does not
//!   touch the inner packet, the host verifies it.
//!
//! The parts:
//! * this module: [`classify`], the entry point, and the two fast entry
//!   points for the worker's common frames, [`classify_untagged_mpls`] and
//!   [`classify_untagged_ipv4`], which return the frame type itself;
//! * `labelled`: the labelled fast path (label checks, a peek at the inner
//!   packet);
//! * `l3`: the full parse of an IP packet and its upper-layer header (the
//!   unlabelled path, and the packet under a label for [`crate::flow`] and
//!   [`crate::mss`]), ND included;
//! * `frames`: what the classifier returns ([`Classified`] and the frame
//!   types); `drop_reason`: why it drops a frame ([`DropReason`]).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod drop_reason;
mod frames;
mod l3;
mod labelled;

#[cfg(test)]
mod fixtures;

pub use drop_reason::DropReason;
pub use frames::{ArpFrame, Classified, IpFrame, LabelledFrame, NdFrame, NdKind, L4};
pub(crate) use l3::parse_l3;

use crate::{arp, ethernet, Error, EtherType, IpVersion};
use l3::parse_v4_ip;
use labelled::classify_labelled;

/// Classify one Ethernet frame. Never panics, never allocates.
#[inline]
pub fn classify(frame: &[u8]) -> Result<Classified, DropReason> {
    let l2 = ethernet::l2(frame).map_err(|e| match e {
        Error::Unsupported => DropReason::TooManyVlanTags,
        _ => DropReason::TruncatedEthernet,
    })?;
    let off = l2.header_len;
    match l2.ethertype {
        EtherType::MPLS => classify_labelled(frame, off, l2.vlan_tci).map(Classified::Labelled),
        EtherType::IPV4 => parse_l3(frame, off, l2.vlan_tci, Some(IpVersion::V4)),
        EtherType::IPV6 => parse_l3(frame, off, l2.vlan_tci, Some(IpVersion::V6)),
        EtherType::ARP => classify_arp(frame, off, l2.vlan_tci).map(Classified::Arp),
        ethertype => Ok(Classified::Other {
            vlan_tci: l2.vlan_tci,
            ethertype,
        }),
    }
}

/// [`classify`] for an untagged MPLS unicast frame (EtherType 0x8847 at
/// bytes 12..14), returning the [`LabelledFrame`] itself: the worker's
/// labelled fast path, which skips the L2 parse and the [`Classified`]
/// enum (a ~100-byte value moved on every frame). `None` when the frame is
/// not untagged MPLS unicast (then call [`classify`]); otherwise exactly
/// what [`classify`] gives for it (`Ok(Classified::Labelled(l))` is
/// `Some(Ok(l))`).
#[inline]
pub fn classify_untagged_mpls(frame: &[u8]) -> Option<Result<LabelledFrame, DropReason>> {
    if frame.get(12..14)? != EtherType::MPLS.to_be_bytes() {
        return None;
    }
    Some(classify_labelled(frame, ethernet::HEADER_LEN, None))
}

/// [`classify`] for an untagged IPv4 frame (EtherType 0x0800 at bytes
/// 12..14), returning the [`IpFrame`] itself (no [`Classified`] enum): the
/// worker's plain-client path. `None` when the frame is not untagged IPv4
/// (then call [`classify`]); otherwise exactly what [`classify`] gives
/// (`Ok(Classified::Ip(i))` is `Some(Ok(i))`), header checksum included.
#[inline]
pub fn classify_untagged_ipv4(frame: &[u8]) -> Option<Result<IpFrame, DropReason>> {
    if frame.get(12..14)? != EtherType::IPV4.to_be_bytes() {
        return None;
    }
    let pkt = frame.get(ethernet::HEADER_LEN..).unwrap_or(&[]);
    Some(match pkt.first() {
        None => Err(DropReason::TruncatedIpv4),
        Some(b) if b >> 4 != 4 => Err(DropReason::BadIpv4Version),
        Some(_) => parse_v4_ip(pkt, ethernet::HEADER_LEN, None),
    })
}

/// The inner IP packet of the labelled frame `frame` ([`classify`] gave
/// `l`), parsed fully as an unlabelled one would be (ports, TCP flags,
/// where its upper-layer header and data lie: what the labelled fast path
/// does not read). Offsets are into `frame`. An ICMPv6 neighbour message
/// under a label is no flow: `BadInnerIpVersion`, as
/// [`crate::flow::extract`] would give for anything but IP.
pub fn inner_ip(frame: &[u8], l: &LabelledFrame) -> Result<IpFrame, DropReason> {
    match parse_l3(frame, l.inner_offset, l.vlan_tci, None)? {
        Classified::Ip(ip) => Ok(ip),
        _ => Err(DropReason::BadInnerIpVersion),
    }
}

fn classify_arp(frame: &[u8], off: usize, vlan_tci: Option<u16>) -> Result<ArpFrame, DropReason> {
    let p = frame
        .get(off..off + arp::PACKET_LEN)
        .ok_or(DropReason::TruncatedArp)?;
    let p = arp::Packet::new_checked(p).map_err(|_| DropReason::TruncatedArp)?;
    let r = arp::Repr::parse(&p).map_err(|_| DropReason::UnsupportedArp)?;
    Ok(ArpFrame {
        vlan_tci,
        operation: r.operation,
        sender_mac: r.source_hardware_addr,
        sender_ip: r.source_protocol_addr,
        target_mac: r.target_hardware_addr,
        target_ip: r.target_protocol_addr,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::builder::arp_request;
    use proptest::prelude::*;

    /// A labelled frame's inner packet reads as the same packet unlabelled
    /// does, its offsets moved by the label; v4 and v6, tagged too.
    #[test]
    fn inner_ip_is_the_unlabelled_packet() {
        for b in [syn4().payload(b"data"), syn6(), syn4().vlan(7)] {
            let plain = ip(classify(&b.build()));
            let f = b.label(101).build();
            let l = labelled(classify(&f));
            let inner = inner_ip(&f, &l).unwrap();
            assert_eq!((inner.flow, inner.l4), (plain.flow, plain.l4));
            assert_eq!(inner.l4_offset, plain.l4_offset + 4);
            assert_eq!(inner.l3_end, plain.l3_end + 4);
            assert_eq!(inner.l3_end, f.len());
            // Cut inside the inner header: the unlabelled path's reason.
            assert!(inner_ip(&f[..l.inner_offset + 10], &l).is_err());
        }
    }

    #[test]
    fn arp() {
        let f = arp_request(CM, CLIENT, VIP);
        match classify(&f) {
            Ok(Classified::Arp(a)) => {
                assert_eq!(a.operation, arp::Operation::Request);
                assert_eq!((a.sender_mac, a.sender_ip, a.target_ip), (CM, CLIENT, VIP));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(classify(&f[..41]), Err(DropReason::TruncatedArp));
        let mut bad = f.clone();
        bad[14 + 1] = 6;
        assert_eq!(classify(&bad), Err(DropReason::UnsupportedArp));
    }

    #[test]
    fn truncated_ethernet_and_vlan() {
        let f = syn4().vlan(5).build();
        assert_eq!(classify(&f[..13]), Err(DropReason::TruncatedEthernet));
        assert_eq!(classify(&f[..17]), Err(DropReason::TruncatedEthernet));
        assert_eq!(classify(&[]), Err(DropReason::TruncatedEthernet));
        // Double tag (802.1Q in 802.1Q).
        let mut dbl = f[..16].to_vec();
        dbl.extend_from_slice(&[0x81, 0x00, 0x00, 0x06]);
        dbl.extend_from_slice(&f[16..]);
        assert_eq!(classify(&dbl), Err(DropReason::TooManyVlanTags));
    }

    #[test]
    fn other_ethertypes() {
        let mut f = syn4().build();
        f[12..14].copy_from_slice(&[0x88, 0xcc]); // LLDP
        assert_eq!(
            classify(&f),
            Ok(Classified::Other {
                vlan_tci: None,
                ethertype: 0x88cc
            })
        );
        f[12..14].copy_from_slice(&[0x88, 0x48]); // MPLS multicast
        assert!(matches!(
            classify(&f),
            Ok(Classified::Other {
                ethertype: 0x8848,
                ..
            })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn classify_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = classify(&bytes);
            let _ = crate::flow::extract(&bytes);
            let _ = crate::flow::from_ip(&bytes);
            let _ = crate::mss::clamp_mss(&mut bytes.clone(), 1200);
        }

        /// Valid headers, then arbitrary corruption of one byte and an
        /// arbitrary cut: reaches deep paths that random bytes rarely do.
        #[test]
        fn classify_mutated_frames_never_panics(
            v6 in any::<bool>(), vlan in any::<bool>(), label in any::<bool>(),
            at in any::<usize>(), val in any::<u8>(), cut in any::<usize>(),
        ) {
            let mut b = if v6 { syn6() } else { syn4() };
            if vlan { b = b.vlan(3); }
            if label { b = b.label(1001); }
            let mut f = b.build();
            let n = f.len();
            f[at % n] = val;
            f.truncate(cut % (n + 1));
            let _ = classify(&f);
            let _ = crate::flow::extract(&f);
            let _ = crate::mss::clamp_mss(&mut f, 536);
            fast_mpls_agrees(&f);
            fast_ipv4_agrees(&f);
        }

        #[test]
        fn fast_mpls_agrees_on_arbitrary_bytes(mut bytes in prop::collection::vec(any::<u8>(), 0..128), mpls in any::<bool>()) {
            if mpls && bytes.len() >= 14 {
                bytes[12] = 0x88;
                bytes[13] = 0x47;
            }
            fast_mpls_agrees(&bytes);
            if bytes.len() >= 14 {
                bytes[12] = 0x08;
                bytes[13] = 0x00;
                if bytes.len() > 14 && mpls {
                    bytes[14] = 0x45;
                }
            }
            fast_ipv4_agrees(&bytes);
        }
    }

    /// `classify_untagged_ipv4` is `classify` for untagged IPv4, None otherwise.
    fn fast_ipv4_agrees(f: &[u8]) {
        match classify_untagged_ipv4(f) {
            Some(r) => {
                assert_eq!(r.map(Classified::Ip), classify(f));
            }
            None => assert!(f.len() < 14 || f[12..14] != [0x08, 0x00]),
        }
    }

    /// `classify_untagged_mpls` is `classify` for untagged MPLS, None otherwise.
    fn fast_mpls_agrees(f: &[u8]) {
        match classify_untagged_mpls(f) {
            Some(r) => {
                assert_eq!(r.map(Classified::Labelled), classify(f));
            }
            None => assert!(f.len() < 14 || f[12..14] != [0x88, 0x47]),
        }
    }
}
