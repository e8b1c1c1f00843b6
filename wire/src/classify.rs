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
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{array_at, u16_at, u32_at, u8_at};
use crate::ethernet::{self, EtherType, MacAddr};
use crate::flow::FlowKey;
use crate::icmpv6::{self, NaFlags};
use crate::ipv6::{self, ExtError};
use crate::mpls::{Lse, LSE_LEN};
use crate::{arp, checksum, icmpv4, Error, IpProtocol, IpVersion, TcpFlags};

macro_rules! drop_reasons {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why the classifier (or the worker) drops a frame. `Copy`, one
        /// byte; [`DropReason::as_str`] is a stable counter name and
        /// [`DropReason::ALL`] lists every reason in index order, so
        /// counters can be `[u64; DropReason::COUNT]` indexed by
        /// [`DropReason::index`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DropReason {
            $($(#[$doc])* $variant,)*
        }

        impl DropReason {
            /// Every reason, in index order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$variant,)*];
            /// Number of reasons.
            pub const COUNT: usize = Self::ALL.len();

            /// Stable snake_case name, for counters and logs.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(DropReason::$variant => $name,)*
                }
            }
        }
    };
}

drop_reasons! {
    /// Shorter than the Ethernet header (or its 802.1Q tag).
    TruncatedEthernet => "truncated_ethernet",
    /// A second 802.1Q / 802.1ad tag after the first.
    TooManyVlanTags => "too_many_vlan_tags",
    /// An EtherType slb does not handle (never returned by [`classify`],
    /// which says [`Classified::Other`]; for the worker and
    /// [`crate::flow::extract`]).
    UnsupportedEthertype => "unsupported_ethertype",
    /// MPLS EtherType but no complete label stack entry / no inner packet.
    TruncatedMpls => "truncated_mpls",
    /// Top label in 0..=15 (RFC 3032 §2.1).
    ReservedLabel => "reserved_label",
    /// Top label without the bottom-of-stack bit: slb uses one label.
    MplsStackTooDeep => "mpls_stack_too_deep",
    /// Label TTL 0 (see the TTL model in [`crate::mpls`]).
    LabelTtlExpired => "label_ttl_expired",
    /// The packet under the label is neither IPv4 nor IPv6.
    BadInnerIpVersion => "bad_inner_ip_version",
    /// ARP shorter than 28 bytes.
    TruncatedArp => "truncated_arp",
    /// ARP for something other than Ethernet / IPv4.
    UnsupportedArp => "unsupported_arp",
    /// IPv4 shorter than 20 bytes or than its Total Length.
    TruncatedIpv4 => "truncated_ipv4",
    /// EtherType IPv4 but version nibble not 4.
    BadIpv4Version => "bad_ipv4_version",
    /// IHL under 5.
    BadIpv4Ihl => "bad_ipv4_ihl",
    /// Total Length under the header length.
    BadIpv4Length => "bad_ipv4_length",
    /// IPv4 header checksum does not verify.
    BadIpv4Checksum => "bad_ipv4_checksum",
    /// IPv6 shorter than 40 bytes or than its Payload Length.
    TruncatedIpv6 => "truncated_ipv6",
    /// EtherType IPv6 but version nibble not 6.
    BadIpv6Version => "bad_ipv6_version",
    /// An extension header runs past the payload.
    TruncatedIpv6Ext => "truncated_ipv6_ext",
    /// Hop-by-hop options not first (RFC 8200 §4.1).
    BadIpv6Ext => "bad_ipv6_ext",
    /// More than [`crate::ipv6::MAX_EXT_HEADERS`] extension headers.
    Ipv6ExtChainTooLong => "ipv6_ext_chain_too_long",
    /// IPv4 / IPv6 fragment with a non-zero offset: no ports.
    NonFirstFragment => "non_first_fragment",
    /// TCP shorter than 20 bytes or than its data offset.
    TruncatedTcp => "truncated_tcp",
    /// TCP data offset under 5.
    BadTcpOffset => "bad_tcp_offset",
    /// UDP shorter than 8 bytes.
    TruncatedUdp => "truncated_udp",
    /// UDP Length under 8 or past the IP payload.
    BadUdpLength => "bad_udp_length",
    /// ICMP / ICMPv6 shorter than 8 bytes.
    TruncatedIcmp => "truncated_icmp",
    /// NS / NA that RFC 4861 §7.1 says to discard: hop limit not 255, code
    /// not 0, shorter than 24 bytes, a bad option.
    BadNd => "bad_nd",
    /// NS / NA whose ICMPv6 checksum does not verify.
    BadIcmpv6Checksum => "bad_icmpv6_checksum",
}

impl DropReason {
    /// Index into a counter array (`0..COUNT`).
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The coarse [`Error`] for this reason (for the slice operations that
    /// reuse the classifier).
    pub const fn to_error(self) -> Error {
        match self {
            DropReason::TruncatedEthernet
            | DropReason::TruncatedMpls
            | DropReason::TruncatedArp
            | DropReason::TruncatedIpv4
            | DropReason::TruncatedIpv6
            | DropReason::TruncatedIpv6Ext
            | DropReason::TruncatedTcp
            | DropReason::TruncatedUdp
            | DropReason::TruncatedIcmp => Error::Truncated,
            DropReason::TooManyVlanTags
            | DropReason::UnsupportedEthertype
            | DropReason::UnsupportedArp
            | DropReason::NonFirstFragment
            | DropReason::MplsStackTooDeep => Error::Unsupported,
            DropReason::BadIpv4Checksum | DropReason::BadIcmpv6Checksum => Error::Checksum,
            _ => Error::Malformed,
        }
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled frame (EtherType 0x8847) that passed the label checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelledFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// The (only) label stack entry: label >= 16, S = 1, TTL >= 1.
    pub lse: Lse,
    /// Offset of the label stack entry (14 or 18).
    pub lse_offset: usize,
    /// Offset of the inner IP header (`lse_offset + 4`).
    pub inner_offset: usize,
    /// Inner IP version.
    pub inner_version: IpVersion,
    /// Inner source address (checked by the worker against the session's
    /// client on client-to-server labels).
    pub inner_src: IpAddr,
    /// Inner TCP flags, when the inner packet is TCP (and not a non-first
    /// fragment).
    pub tcp_flags: Option<TcpFlags>,
}

/// An ARP packet (Ethernet / IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// Operation.
    pub operation: arp::Operation,
    /// Sender MAC.
    pub sender_mac: MacAddr,
    /// Sender IPv4.
    pub sender_ip: Ipv4Addr,
    /// Target MAC.
    pub target_mac: MacAddr,
    /// Target IPv4.
    pub target_ip: Ipv4Addr,
}

/// Neighbour solicitation or advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdKind {
    /// NS (type 135).
    Solicit,
    /// NA (type 136) with its flags.
    Advert(NaFlags),
}

/// An IPv6 neighbour discovery NS / NA that passed the RFC 4861 §7.1 checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// Offset of the IPv6 header.
    pub l3_offset: usize,
    /// IPv6 source (`::` for duplicate address detection).
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// NS or NA.
    pub kind: NdKind,
    /// Target address.
    pub target: Ipv6Addr,
    /// Source (NS) or target (NA) link-layer address option.
    pub lladdr: Option<MacAddr>,
}

/// What follows the IP header(s) of an unlabelled frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    /// TCP with its flags.
    Tcp {
        /// Flags.
        flags: TcpFlags,
    },
    /// UDP.
    Udp,
    /// ICMP (for IPv4).
    Icmpv4 {
        /// Type.
        msg: icmpv4::Message,
        /// Code.
        code: u8,
    },
    /// ICMPv6 other than NS / NA.
    Icmpv6 {
        /// Type.
        msg: icmpv6::Message,
        /// Code.
        code: u8,
    },
    /// Any other protocol (ports in the flow key are 0).
    Other,
}

/// An unlabelled IPv4 / IPv6 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// Offset of the IP header.
    pub l3_offset: usize,
    /// Version.
    pub version: IpVersion,
    /// (protocol, source, source port, destination, destination port);
    /// ports 0 for protocols without ports.
    pub flow: FlowKey,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Offset of the upper-layer header.
    pub l4_offset: usize,
    /// End of the IP packet in the frame (Ethernet padding excluded).
    pub l3_end: usize,
    /// What the upper layer is.
    pub l4: L4,
    /// First fragment of a fragmented packet (MF = 1, offset 0).
    pub first_fragment: bool,
}

/// The outcome of [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classified {
    /// MPLS unicast with one valid label: switch by label.
    Labelled(LabelledFrame),
    /// ARP.
    Arp(ArpFrame),
    /// IPv6 NS / NA.
    Nd(NdFrame),
    /// Unlabelled IPv4 / IPv6 (TCP, UDP, ICMP, other).
    Ip(IpFrame),
    /// Another EtherType (LLDP, MPLS multicast, QinQ, ...).
    Other {
        /// Raw 802.1Q TCI if tagged.
        vlan_tci: Option<u16>,
        /// The EtherType.
        ethertype: u16,
    },
}

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

#[inline(always)]
fn classify_labelled(
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

fn ext_reason(e: ExtError) -> DropReason {
    match e {
        ExtError::Truncated => DropReason::TruncatedIpv6Ext,
        ExtError::TooLong => DropReason::Ipv6ExtChainTooLong,
        ExtError::Malformed => DropReason::BadIpv6Ext,
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

/// Parse the IP packet at `l3` (and its upper-layer header) fully: the
/// unlabelled path of [`classify`], and the inner packet for
/// [`crate::flow::extract`] and [`crate::mss::clamp_mss`]. `expect` is the
/// version the EtherType announced (`None`: take the nibble, under a label).
pub(crate) fn parse_l3(
    frame: &[u8],
    l3: usize,
    vlan_tci: Option<u16>,
    expect: Option<IpVersion>,
) -> Result<Classified, DropReason> {
    let first = u8_at(frame, l3);
    let version = match (expect, first.and_then(IpVersion::of_first_byte)) {
        (Some(IpVersion::V4), Some(IpVersion::V4)) | (None, Some(IpVersion::V4)) => IpVersion::V4,
        (Some(IpVersion::V6), Some(IpVersion::V6)) | (None, Some(IpVersion::V6)) => IpVersion::V6,
        (Some(IpVersion::V4), _) if first.is_none() => return Err(DropReason::TruncatedIpv4),
        (Some(IpVersion::V6), _) if first.is_none() => return Err(DropReason::TruncatedIpv6),
        (Some(IpVersion::V4), _) => return Err(DropReason::BadIpv4Version),
        (Some(IpVersion::V6), _) => return Err(DropReason::BadIpv6Version),
        (None, _) if first.is_none() => return Err(DropReason::TruncatedMpls),
        (None, _) => return Err(DropReason::BadInnerIpVersion),
    };
    let pkt = frame.get(l3..).unwrap_or(&[]);
    match version {
        IpVersion::V4 => parse_v4(pkt, l3, vlan_tci),
        IpVersion::V6 => parse_v6(pkt, l3, vlan_tci),
    }
}

fn parse_v4(pkt: &[u8], l3: usize, vlan_tci: Option<u16>) -> Result<Classified, DropReason> {
    parse_v4_ip(pkt, l3, vlan_tci).map(Classified::Ip)
}

#[inline(always)]
fn parse_v4_ip(pkt: &[u8], l3: usize, vlan_tci: Option<u16>) -> Result<IpFrame, DropReason> {
    let first = u8_at(pkt, 0).ok_or(DropReason::TruncatedIpv4)?;
    let header: [u8; 20] = array_at(pkt, 0).ok_or(DropReason::TruncatedIpv4)?;
    let hl = usize::from(first & 0x0f) * 4;
    if hl < 20 {
        return Err(DropReason::BadIpv4Ihl);
    }
    let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if total < hl {
        return Err(DropReason::BadIpv4Length);
    }
    let whole = pkt.get(..total).ok_or(DropReason::TruncatedIpv4)?;
    let hdr = whole.get(..hl).ok_or(DropReason::TruncatedIpv4)?;
    // The usual 20-byte header is summed from the fixed-size copy: the
    // compiler unrolls it to five loads and adds.
    let hsum = if hl == 20 {
        checksum::sum(&header)
    } else {
        checksum::sum(hdr)
    };
    if hsum != 0xffff {
        return Err(DropReason::BadIpv4Checksum);
    }
    let frag = u16::from_be_bytes([header[6], header[7]]);
    if frag & 0x1fff != 0 {
        return Err(DropReason::NonFirstFragment);
    }
    let first_fragment = frag & 0x2000 != 0;
    let [_, _, _, _, _, _, _, _, ttl, proto, _, _, s0, s1, s2, s3, d0, d1, d2, d3] = header;
    let src = IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3));
    let dst = IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3));
    let l4_off = l3 + hl;
    let l3_end = l3 + total;
    let seg = whole.get(hl..).unwrap_or(&[]);
    let protocol = IpProtocol::from(proto);
    let (l4, sport, dport) = parse_l4(protocol, seg, first_fragment)?;
    Ok(IpFrame {
        vlan_tci,
        l3_offset: l3,
        version: IpVersion::V4,
        flow: FlowKey {
            protocol,
            src,
            src_port: sport,
            dst,
            dst_port: dport,
        },
        ttl,
        l4_offset: l4_off,
        l3_end,
        l4,
        first_fragment,
    })
}

fn parse_v6(pkt: &[u8], l3: usize, vlan_tci: Option<u16>) -> Result<Classified, DropReason> {
    let header: [u8; 40] = array_at(pkt, 0).ok_or(DropReason::TruncatedIpv6)?;
    let pl = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let whole = pkt
        .get(..ipv6::HEADER_LEN + pl)
        .ok_or(DropReason::TruncatedIpv6)?;
    let w = ipv6::walk_ext(whole).map_err(ext_reason)?;
    if w.fragment.is_some_and(|f| f.offset != 0) {
        return Err(DropReason::NonFirstFragment);
    }
    let first_fragment = w.fragment.is_some_and(|f| f.more);
    let src = array_at::<16>(&header, 8)
        .map(Ipv6Addr::from)
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    let dst = array_at::<16>(&header, 24)
        .map(Ipv6Addr::from)
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    let hop_limit = u8_at(&header, 7).unwrap_or(0);
    let seg = whole.get(w.offset..).unwrap_or(&[]);
    if w.protocol == IpProtocol::Icmpv6 {
        if let Some(&t) = seg.first() {
            if t == 135 || t == 136 {
                return parse_nd(seg, l3, vlan_tci, src, dst, hop_limit).map(Classified::Nd);
            }
        }
    }
    let (l4, sport, dport) = parse_l4(w.protocol, seg, first_fragment)?;
    Ok(Classified::Ip(IpFrame {
        vlan_tci,
        l3_offset: l3,
        version: IpVersion::V6,
        flow: FlowKey {
            protocol: w.protocol,
            src: IpAddr::V6(src),
            src_port: sport,
            dst: IpAddr::V6(dst),
            dst_port: dport,
        },
        ttl: hop_limit,
        l4_offset: l3 + w.offset,
        l3_end: l3 + whole.len(),
        l4,
        first_fragment,
    }))
}

/// The upper layer: kind, source port, destination port.
fn parse_l4(
    proto: IpProtocol,
    seg: &[u8],
    first_fragment: bool,
) -> Result<(L4, u16, u16), DropReason> {
    match proto {
        IpProtocol::Tcp => {
            let h: [u8; 20] = array_at(seg, 0).ok_or(DropReason::TruncatedTcp)?;
            let hl = usize::from(h[12] >> 4) * 4;
            if hl < 20 {
                return Err(DropReason::BadTcpOffset);
            }
            if hl > seg.len() {
                return Err(DropReason::TruncatedTcp);
            }
            let sport = u16::from_be_bytes([h[0], h[1]]);
            let dport = u16::from_be_bytes([h[2], h[3]]);
            Ok((
                L4::Tcp {
                    flags: TcpFlags(h[13]),
                },
                sport,
                dport,
            ))
        }
        IpProtocol::Udp => {
            let h: [u8; 8] = array_at(seg, 0).ok_or(DropReason::TruncatedUdp)?;
            let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if len < 8 || (len > seg.len() && !first_fragment) {
                return Err(DropReason::BadUdpLength);
            }
            let sport = u16::from_be_bytes([h[0], h[1]]);
            let dport = u16::from_be_bytes([h[2], h[3]]);
            Ok((L4::Udp, sport, dport))
        }
        IpProtocol::Icmp => {
            let h: [u8; 8] = array_at(seg, 0).ok_or(DropReason::TruncatedIcmp)?;
            Ok((
                L4::Icmpv4 {
                    msg: icmpv4::Message::from(h[0]),
                    code: h[1],
                },
                0,
                0,
            ))
        }
        IpProtocol::Icmpv6 => {
            let h: [u8; 8] = array_at(seg, 0).ok_or(DropReason::TruncatedIcmp)?;
            Ok((
                L4::Icmpv6 {
                    msg: icmpv6::Message::from(h[0]),
                    code: h[1],
                },
                0,
                0,
            ))
        }
        _ => Ok((L4::Other, 0, 0)),
    }
}

fn parse_nd(
    msg: &[u8],
    l3: usize,
    vlan_tci: Option<u16>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
) -> Result<NdFrame, DropReason> {
    // RFC 4861 §7.1.1 / §7.1.2: hop limit 255 (not forwarded), code 0,
    // ICMP length 24 or more, valid checksum, options with length > 0.
    let head: [u8; 24] = array_at(msg, 0).ok_or(DropReason::BadNd)?;
    if hop_limit != 255 || head[1] != 0 {
        return Err(DropReason::BadNd);
    }
    if checksum::l4_v6(src, dst, 58, msg) != 0 {
        return Err(DropReason::BadIcmpv6Checksum);
    }
    let target = array_at::<16>(&head, 8)
        .map(Ipv6Addr::from)
        .ok_or(DropReason::BadNd)?;
    let options = msg.get(icmpv6::ND_LEN..).unwrap_or(&[]);
    let (kind, opt) = if head[0] == 135 {
        (NdKind::Solicit, icmpv6::nd_option::SOURCE_LL_ADDR)
    } else {
        (
            NdKind::Advert(NaFlags::from_byte(head[4])),
            icmpv6::nd_option::TARGET_LL_ADDR,
        )
    };
    let lladdr = icmpv6::nd_lladdr(options, opt).map_err(|_| DropReason::BadNd)?;
    Ok(NdFrame {
        vlan_tci,
        l3_offset: l3,
        src,
        dst,
        kind,
        target,
        lladdr,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::builder::{arp_request, nd_advert, nd_solicit, FrameBuilder};
    use crate::mpls::Label;
    use proptest::prelude::*;
    use std::vec::Vec;

    const CM: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const SM: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

    fn c6() -> Ipv6Addr {
        "2001:db8:1::7".parse().unwrap()
    }
    fn vip6() -> Ipv6Addr {
        "2001:db8::10".parse().unwrap()
    }
    fn syn4() -> FrameBuilder {
        FrameBuilder::tcp4(CM, SM, CLIENT, VIP, 40000, 80)
            .flags(TcpFlags::SYN)
            .mss(1460)
    }
    fn syn6() -> FrameBuilder {
        FrameBuilder::tcp6(CM, SM, c6(), vip6(), 40000, 443)
            .flags(TcpFlags::SYN)
            .mss(1440)
    }
    fn ip(c: Result<Classified, DropReason>) -> IpFrame {
        match c {
            Ok(Classified::Ip(i)) => i,
            other => panic!("not IP: {other:?}"),
        }
    }
    fn labelled(c: Result<Classified, DropReason>) -> LabelledFrame {
        match c {
            Ok(Classified::Labelled(l)) => l,
            other => panic!("not labelled: {other:?}"),
        }
    }

    /// A real-capture-shaped SYN, written out byte by byte (Ethernet, IPv4,
    /// TCP with MSS 1460), checksums 0x4e87 (IP) and 0x145f (TCP) checked by
    /// recomputation in `checksums_valid` and against the builder.
    #[rustfmt::skip]
    const SYN_FRAME: [u8; 58] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst MAC
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src MAC
        0x08, 0x00,                         // IPv4
        0x45, 0x00, 0x00, 0x2c,             // v4, IHL 5, total 44
        0x00, 0x00, 0x40, 0x00,             // ident 0, DF
        0x40, 0x06, 0x4e, 0x87,             // TTL 64, TCP, checksum
        0xc6, 0x33, 0x64, 0x07,             // 198.51.100.7
        0xc0, 0x00, 0x02, 0x0a,             // 192.0.2.10
        0x9c, 0x40, 0x00, 0x50,             // 40000 -> 80
        0x00, 0x00, 0x00, 0x01,             // seq 1
        0x00, 0x00, 0x00, 0x00,             // ack 0
        0x60, 0x02, 0xfa, 0xf0,             // offset 6, SYN, window 64240
        0x14, 0x5f, 0x00, 0x00,             // checksum, urgent
        0x02, 0x04, 0x05, 0xb4,             // MSS 1460
    ];

    #[test]
    fn golden_syn_bytes_match_builder() {
        let built = syn4().build();
        assert!(crate::builder::checksums_valid(&SYN_FRAME));
        assert_eq!(built, SYN_FRAME);
    }

    #[test]
    fn unlabelled_tcp4() {
        let i = ip(classify(&SYN_FRAME));
        assert_eq!(i.version, IpVersion::V4);
        assert_eq!(i.l3_offset, 14);
        assert_eq!(i.l4_offset, 34);
        assert_eq!(i.l3_end, 58);
        assert_eq!(i.ttl, 64);
        assert_eq!(
            i.l4,
            L4::Tcp {
                flags: TcpFlags::SYN
            }
        );
        assert_eq!(
            i.flow,
            FlowKey {
                protocol: IpProtocol::Tcp,
                src: CLIENT.into(),
                src_port: 40000,
                dst: VIP.into(),
                dst_port: 80
            }
        );
        assert!(!i.first_fragment);
        assert_eq!(i.vlan_tci, None);
    }

    #[test]
    fn unlabelled_tcp6_udp_vlan() {
        let i = ip(classify(&syn6().vlan(100).build()));
        assert_eq!(i.vlan_tci, Some(100));
        assert_eq!(i.l3_offset, 18);
        assert_eq!(i.l4_offset, 58);
        assert_eq!(i.flow.src, IpAddr::V6(c6()));
        assert_eq!(i.flow.dst_port, 443);
        let u = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 5353, 53)
            .payload(b"q")
            .build();
        let i = ip(classify(&u));
        assert_eq!(i.l4, L4::Udp);
        assert_eq!(
            (i.flow.protocol, i.flow.src_port, i.flow.dst_port),
            (IpProtocol::Udp, 5353, 53)
        );
    }

    #[test]
    fn ethernet_padding_ignored() {
        // A 54-byte ACK padded to 60 bytes by the sender's NIC.
        let mut f = FrameBuilder::tcp4(CM, SM, CLIENT, VIP, 1, 2).build();
        assert_eq!(f.len(), 54);
        f.resize(60, 0);
        let i = ip(classify(&f));
        assert_eq!(i.l3_end, 54);
    }

    #[test]
    fn icmp() {
        let f = FrameBuilder::echo_request(CM, SM, CLIENT.into(), VIP.into(), 7, 1)
            .payload(b"ping")
            .build();
        let i = ip(classify(&f));
        assert_eq!(
            i.l4,
            L4::Icmpv4 {
                msg: icmpv4::Message::EchoRequest,
                code: 0
            }
        );
        assert_eq!((i.flow.src_port, i.flow.dst_port), (0, 0));
        let f = FrameBuilder::echo_request(CM, SM, c6().into(), vip6().into(), 7, 1).build();
        assert_eq!(
            ip(classify(&f)).l4,
            L4::Icmpv6 {
                msg: icmpv6::Message::EchoRequest,
                code: 0
            }
        );
        let f = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 47)
            .payload(&[0; 8])
            .build();
        assert_eq!(ip(classify(&f)).l4, L4::Other);
        let f = FrameBuilder::echo_request(CM, SM, CLIENT.into(), VIP.into(), 7, 1).build();
        assert_eq!(classify(&f[..f.len() - 1]), Err(DropReason::TruncatedIpv4));
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
    fn nd() {
        let target = vip6();
        let f = nd_solicit(CM, c6(), target);
        match classify(&f) {
            Ok(Classified::Nd(n)) => {
                assert_eq!(n.kind, NdKind::Solicit);
                assert_eq!(n.target, target);
                assert_eq!(n.lladdr, Some(CM));
                assert_eq!(n.src, c6());
            }
            other => panic!("{other:?}"),
        }
        let f = nd_advert(SM, CM, target, c6(), target);
        match classify(&f) {
            Ok(Classified::Nd(n)) => {
                assert!(
                    matches!(n.kind, NdKind::Advert(fl) if fl.solicited && fl.override_ && !fl.router)
                );
                assert_eq!(n.lladdr, Some(SM));
            }
            other => panic!("{other:?}"),
        }
        // Hop limit not 255: forwarded ND is discarded (RFC 4861 §7.1.1).
        let mut bad = nd_solicit(CM, c6(), target);
        bad[14 + 7] = 64;
        assert_eq!(classify(&bad), Err(DropReason::BadNd));
        // Bad checksum.
        let mut bad = nd_solicit(CM, c6(), target);
        bad[14 + 40 + 2] ^= 0xff;
        assert_eq!(classify(&bad), Err(DropReason::BadIcmpv6Checksum));
        // Too short for a target.
        let f = FrameBuilder::icmp(CM, SM, c6().into(), vip6().into(), 135, 0, [0; 4])
            .ttl(255)
            .build();
        assert_eq!(classify(&f), Err(DropReason::BadNd));
    }

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

    #[test]
    fn ipv4_header_errors() {
        let f = syn4().build();
        let set = |i: usize, v: u8| {
            let mut b = f.clone();
            b[i] = v;
            b
        };
        assert_eq!(classify(&f[..14 + 19]), Err(DropReason::TruncatedIpv4));
        assert_eq!(classify(&set(14, 0x65)), Err(DropReason::BadIpv4Version));
        assert_eq!(classify(&set(14, 0x44)), Err(DropReason::BadIpv4Ihl));
        assert_eq!(classify(&set(14, 0x4f)), Err(DropReason::BadIpv4Length)); // 60 > total 44
        assert_eq!(classify(&set(17, 10)), Err(DropReason::BadIpv4Length)); // total 10
        assert_eq!(classify(&set(17, 0xff)), Err(DropReason::TruncatedIpv4)); // total 255
        assert_eq!(classify(&set(24, 0)), Err(DropReason::BadIpv4Checksum));
        assert_eq!(classify(&f[..f.len() - 1]), Err(DropReason::TruncatedIpv4));
    }

    #[test]
    fn ipv4_options() {
        // Router Alert (RFC 2113): 94 04 00 00.
        let f = syn4().ipv4_options(&[0x94, 0x04, 0x00, 0x00]).build();
        assert!(crate::builder::checksums_valid(&f));
        let i = ip(classify(&f));
        assert_eq!(i.l4_offset, 14 + 24);
        assert_eq!(i.flow.dst_port, 80);
        assert_eq!(
            i.l4,
            L4::Tcp {
                flags: TcpFlags::SYN
            }
        );
    }

    #[test]
    fn fragments() {
        let first = syn4().fragment(0, true).build();
        let i = ip(classify(&first));
        assert!(i.first_fragment);
        assert_eq!(i.flow.src_port, 40000);
        let later = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 6)
            .fragment(1480, false)
            .payload(&[0; 8])
            .build();
        assert_eq!(classify(&later), Err(DropReason::NonFirstFragment));
        // UDP first fragment: the UDP length covers more than this fragment.
        let mut big = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 1, 2)
            .payload(&[7; 64])
            .fragment(0, true)
            .build();
        big.truncate(14 + 20 + 16);
        big[16..18].copy_from_slice(&36u16.to_be_bytes());
        let mut p = crate::ipv4::Packet::new_unchecked(&mut big[14..]);
        p.fill_checksum();
        let i = ip(classify(&big));
        assert!(i.first_fragment);
        assert_eq!(i.l4, L4::Udp);
        // IPv6.
        let first6 = syn6().fragment(0, true).build();
        let i = ip(classify(&first6));
        assert!(i.first_fragment);
        assert_eq!(i.flow.dst_port, 443);
        let later6 = FrameBuilder::raw_ip(CM, SM, c6().into(), vip6().into(), 6)
            .fragment(1448, true)
            .payload(&[0; 8])
            .build();
        assert_eq!(classify(&later6), Err(DropReason::NonFirstFragment));
        // Under a label, a non-first fragment is switched (no flags).
        let mut l = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 6)
            .fragment(1480, false)
            .payload(&[0; 8])
            .label(101)
            .build();
        assert_eq!(labelled(classify(&l)).tcp_flags, None);
        l.truncate(38);
        assert!(classify(&l).is_ok());
    }

    #[test]
    fn ipv6_ext_chains() {
        let mut b = syn6();
        for _ in 0..crate::ipv6::MAX_EXT_HEADERS {
            b = b.ipv6_ext(IpProtocol::Ipv6Opts);
        }
        let ok = b.clone().build();
        let i = ip(classify(&ok));
        assert_eq!(i.l4_offset, 14 + 40 + 8 * crate::ipv6::MAX_EXT_HEADERS);
        assert_eq!(i.flow.dst_port, 443);
        let long = b.clone().ipv6_ext(IpProtocol::Ipv6Opts).build();
        assert_eq!(classify(&long), Err(DropReason::Ipv6ExtChainTooLong));
        assert_eq!(
            classify(&long.clone()[..]),
            Err(DropReason::Ipv6ExtChainTooLong)
        );
        let hbh_late = syn6()
            .ipv6_ext(IpProtocol::Ipv6Opts)
            .ipv6_ext(IpProtocol::HopByHop)
            .build();
        assert_eq!(classify(&hbh_late), Err(DropReason::BadIpv6Ext));
        let routed = syn6()
            .ipv6_ext(IpProtocol::HopByHop)
            .ipv6_ext(IpProtocol::Ipv6Route)
            .build();
        assert_eq!(ip(classify(&routed)).l4_offset, 14 + 56);
        // An extension header claiming more than the payload.
        let mut t = syn6().ipv6_ext(IpProtocol::Ipv6Opts).build();
        t[14 + 41] = 50;
        assert_eq!(classify(&t), Err(DropReason::TruncatedIpv6Ext));
    }

    #[test]
    fn ipv6_header_errors() {
        let f = syn6().build();
        assert_eq!(classify(&f[..14 + 39]), Err(DropReason::TruncatedIpv6));
        assert_eq!(classify(&f[..f.len() - 1]), Err(DropReason::TruncatedIpv6));
        let mut b = f.clone();
        b[14] = 0x40;
        assert_eq!(classify(&b), Err(DropReason::BadIpv6Version));
    }

    #[test]
    fn l4_errors() {
        let f = syn4().build();
        let mut b = f.clone();
        b[34 + 12] = 0x40; // data offset 4
        assert_eq!(classify(&b), Err(DropReason::BadTcpOffset));
        let mut b = f.clone();
        b[34 + 12] = 0xf0; // data offset 15 = 60 > 24
        assert_eq!(classify(&b), Err(DropReason::TruncatedTcp));
        // TCP shorter than 20 bytes inside a consistent IPv4 packet.
        let short = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 6)
            .payload(&[0; 10])
            .build();
        assert_eq!(classify(&short), Err(DropReason::TruncatedTcp));
        let short = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 17)
            .payload(&[0; 7])
            .build();
        assert_eq!(classify(&short), Err(DropReason::TruncatedUdp));
        let mut u = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 1, 2)
            .payload(b"abc")
            .build();
        u[34 + 5] = 200;
        assert_eq!(classify(&u), Err(DropReason::BadUdpLength));
        u[34 + 5] = 4;
        assert_eq!(classify(&u), Err(DropReason::BadUdpLength));
        let short = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 1)
            .payload(&[8, 0, 0])
            .build();
        assert_eq!(classify(&short), Err(DropReason::TruncatedIcmp));
    }

    #[test]
    fn drop_reason_names_are_unique_and_indexed() {
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(r
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        assert_eq!(DropReason::LabelTtlExpired.as_str(), "label_ttl_expired");
        assert_eq!(core::mem::size_of::<DropReason>(), 1);
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
