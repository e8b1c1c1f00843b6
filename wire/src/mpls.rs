//! MPLS label stack entries (RFC 3032 §2.1) and the three operations the
//! data path does on them: [`top_label`], [`push_label`], [`pop_label`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Label                  | TC  |S|      TTL      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  Label: 20 bits; TC: traffic class, 3 bits (RFC 5462);
//!  S: bottom of stack, 1 bit; TTL: 8 bits
//! ```
//!
//! On Ethernet the stack sits between the L2 header (after the 802.1Q tag,
//! if any) and the network header, with EtherType 0x8847 (RFC 3032 §5).
//!
//! # TTL model (RFC 3443)
//!
//! slb uses the **pipe model** (RFC 3443 §3.3) with a fixed label TTL:
//! the label it pushes carries [`PIPE_TTL`] (64), the inner IP TTL / hop
//! limit is never read nor written. Reasons: slb is one hop, not an LSP
//! through a routed core, so there is no path TTL to propagate; leaving the
//! inner header untouched keeps the IPv4 header checksum valid without a
//! rewrite; and the host agent pops without a TTL copy-back (RFC 3443 §3.3:
//! in the pipe model the egress does not copy the label TTL into IP).
//!
//! On input, slbd switches a label without decrementing its TTL: the label
//! is a session identifier and slbd is the last label hop before the host.
//! A label TTL of **0** is dropped ([`crate::DropReason::LabelTtlExpired`]):
//! no conforming sender emits it (RFC 3032 §2.4.1: a TTL that reaches 0 is
//! not forwarded). A TTL of **1** is accepted and forwarded unchanged.
//!
//! # Stack depth and reserved labels
//!
//! slb only ever uses one label. The classifier drops a top label in the
//! reserved range 0..=15 (RFC 3032 §2.1, RFC 7274) as `reserved_label`, and
//! a top label without the S bit as `mpls_stack_too_deep`.
//! [`pop_label`] refuses a label without the S bit
//! ([`Error::NotBottomOfStack`]) and leaves the frame untouched.

use crate::bytes::{u16_at, u32_at, u8_at};
use crate::ethernet::{self, EtherType};
use crate::{Error, IpVersion, Result};

/// Label TTL that slb writes into every label it pushes (pipe model).
pub const PIPE_TTL: u8 = 64;

/// Length of one label stack entry.
pub const LSE_LEN: usize = 4;

/// The byte of a label stack entry that holds the traffic class (label
/// low nibble, TC, S), its TC bits and their shift: `entry[TC_BYTE] &
/// TC_MASK == tc << TC_SHIFT`.
pub const TC_BYTE: usize = 2;
/// The traffic class bits of byte [`TC_BYTE`].
pub const TC_MASK: u8 = 0x0e;
/// Where the traffic class starts in byte [`TC_BYTE`].
pub const TC_SHIFT: u8 = 1;

/// Clear the traffic class of the label stack entry at `lse_offset`
/// (label, S bit and TTL stay; nothing when the frame holds no whole
/// entry there). The worker's per-frame step for client-to-server frames:
/// no checksum covers the entry.
#[inline]
pub fn clear_tc(frame: &mut [u8], lse_offset: usize) {
    if let Some([_, _, tc, _]) = frame
        .get_mut(lse_offset..)
        .and_then(<[u8]>::first_chunk_mut::<LSE_LEN>)
    {
        *tc &= !TC_MASK;
    }
}

/// A 20-bit MPLS label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(u32);

impl Label {
    /// IPv4 Explicit NULL (RFC 3032 §2.1).
    pub const IPV4_EXPLICIT_NULL: Label = Label(0);
    /// Router Alert (RFC 3032 §2.1).
    pub const ROUTER_ALERT: Label = Label(1);
    /// IPv6 Explicit NULL (RFC 3032 §2.1).
    pub const IPV6_EXPLICIT_NULL: Label = Label(2);
    /// Implicit NULL (RFC 3032 §2.1): never appears on the wire.
    pub const IMPLICIT_NULL: Label = Label(3);
    /// Entropy Label Indicator (RFC 6790).
    pub const ENTROPY_LABEL_INDICATOR: Label = Label(7);
    /// Generic Associated Channel Label (RFC 5586).
    pub const GAL: Label = Label(13);
    /// OAM Alert (RFC 3429).
    pub const OAM_ALERT: Label = Label(14);
    /// Extension label (RFC 7274).
    pub const EXTENSION: Label = Label(15);
    /// The first non-reserved label.
    pub const FIRST_UNRESERVED: Label = Label(16);
    /// The largest label, 2^20 - 1.
    pub const MAX: Label = Label(0x000f_ffff);

    /// A label from its value; `None` above 2^20 - 1.
    pub const fn new(value: u32) -> Option<Label> {
        if value <= Self::MAX.0 {
            Some(Label(value))
        } else {
            None
        }
    }
    /// A label from the low 20 bits of `value`.
    pub const fn from_bits(value: u32) -> Label {
        Label(value & Self::MAX.0)
    }
    /// The value.
    pub const fn value(self) -> u32 {
        self.0
    }
    /// In the reserved range 0..=15.
    pub const fn is_reserved(self) -> bool {
        self.0 < 16
    }
    /// The name of a reserved label (RFC 3032, RFC 7274 registry), if any.
    pub const fn reserved_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "ipv4_explicit_null",
            1 => "router_alert",
            2 => "ipv6_explicit_null",
            3 => "implicit_null",
            7 => "entropy_label_indicator",
            13 => "gal",
            14 => "oam_alert",
            15 => "extension",
            4..=6 | 8..=12 => "unassigned_reserved",
            _ => return None,
        })
    }
}

/// A label stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lse {
    /// The label.
    pub label: Label,
    /// Traffic class (3 bits, RFC 5462).
    pub tc: u8,
    /// Bottom of stack.
    pub bos: bool,
    /// Time to live.
    pub ttl: u8,
}

impl Lse {
    /// The entry slb pushes: `label`, TC 0, bottom of stack, TTL [`PIPE_TTL`].
    pub const fn pipe(label: Label) -> Lse {
        Lse {
            label,
            tc: 0,
            bos: true,
            ttl: PIPE_TTL,
        }
    }
    /// Decode the 32-bit word.
    #[inline]
    pub const fn from_u32(w: u32) -> Lse {
        Lse {
            label: Label(w >> 12),
            tc: ((w >> 9) & 7) as u8,
            bos: (w >> 8) & 1 == 1,
            ttl: w as u8,
        }
    }
    /// Encode as the 32-bit word.
    #[inline]
    pub const fn to_u32(self) -> u32 {
        (self.label.0 << 12)
            | (((self.tc & 7) as u32) << 9)
            | ((self.bos as u32) << 8)
            | self.ttl as u32
    }
    /// Network-order bytes.
    pub const fn to_bytes(self) -> [u8; 4] {
        self.to_u32().to_be_bytes()
    }
}

/// Field offsets within one label stack entry.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// The whole 32-bit entry.
    pub const LSE: Field = 0..4;
    /// Start of what follows the entry.
    pub const PAYLOAD: usize = 4;
}

/// A view over one label stack entry and what follows it.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wrap untrusted input.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// `Err(Truncated)` if shorter than one entry.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < LSE_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The entry.
    pub fn lse(&self) -> Lse {
        let b = &self.buffer.as_ref()[field::LSE];
        Lse::from_u32(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// What follows the entry (another entry unless bottom of stack).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Write the entry.
    pub fn set_lse(&mut self, lse: Lse) {
        self.buffer.as_mut()[field::LSE].copy_from_slice(&lse.to_bytes())
    }
}

/// The parsed form of an entry is the [`Lse`] itself.
pub type Repr = Lse;

impl Lse {
    /// Parse from a view.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Lse> {
        p.check_len()?;
        Ok(p.lse())
    }
    /// Entry length.
    pub const fn buffer_len(&self) -> usize {
        LSE_LEN
    }
    /// Write into a view.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_lse(*self)
    }
}

/// The top label of a frame and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopLabel {
    /// The top entry.
    pub lse: Lse,
    /// Offset of the entry in the frame (14, or 18 behind an 802.1Q tag).
    pub offset: usize,
}

impl TopLabel {
    /// Offset of what follows the top entry (the inner packet when `lse.bos`).
    pub const fn payload_offset(&self) -> usize {
        self.offset + LSE_LEN
    }
}

/// Read the top label of an MPLS unicast frame, with or without one 802.1Q
/// tag, without parsing anything else. `None` if the frame is not MPLS
/// unicast or too short. At most three loads and two compares.
#[inline]
pub fn top_label(frame: &[u8]) -> Option<TopLabel> {
    let mut offset = ethernet::HEADER_LEN;
    let mut ethertype = u16_at(frame, 12)?;
    if ethertype == EtherType::VLAN {
        ethertype = u16_at(frame, 16)?;
        offset += crate::vlan::HEADER_LEN;
    }
    if ethertype != EtherType::MPLS {
        return None;
    }
    let lse = Lse::from_u32(u32_at(frame, offset)?);
    Some(TopLabel { lse, offset })
}

/// Push one label stack entry onto an Ethernet frame, in place.
///
/// The caller made 4 bytes of room in front of the frame (mbuf prepend):
/// `frame[0..4]` is that fresh space, `frame[4..]` the original frame,
/// untagged or with one 802.1Q tag, carrying IPv4 or IPv6. The MAC
/// addresses (and the tag) move forward by 4 bytes, the EtherType becomes
/// 0x8847 and `lse` is written where the old EtherType was, in front of the
/// IP header, which does not move.
///
/// ```text
/// before: [ room 4 ][ dst src (tag) | type ][ IP ...
/// after:  [ dst src (tag) | 8847 ][  LSE   ][ IP ...
/// ```
///
/// Errors (the frame is then unchanged): `Truncated` if `frame` cannot hold
/// room + L2 header; `Unsupported` if the original EtherType is not IPv4 or
/// IPv6, or the frame has two tags. `lse` is written as given: pass
/// [`Lse::pipe`] for slb's single bottom-of-stack label.
#[inline]
pub fn push_label(frame: &mut [u8], lse: Lse) -> Result<()> {
    let orig = frame.get(LSE_LEN..).ok_or(Error::Truncated)?;
    let l2 = ethernet::l2(orig)?;
    if l2.ethertype != EtherType::IPV4 && l2.ethertype != EtherType::IPV6 {
        return Err(Error::Unsupported);
    }
    // Bytes before the EtherType: MACs, and the TPID + TCI when tagged.
    let moved = l2.header_len - 2;
    frame.copy_within(LSE_LEN..LSE_LEN + moved, 0);
    let rest = frame
        .get_mut(moved..moved + 2 + LSE_LEN)
        .ok_or(Error::Truncated)?;
    let (ty, entry) = rest.split_at_mut(2);
    ty.copy_from_slice(&EtherType::MPLS.to_be_bytes());
    entry.copy_from_slice(&lse.to_bytes());
    Ok(())
}

/// [`push_label`] followed by [`crate::ethernet::rewrite_macs`], in one
/// pass: the new MACs are written where they go instead of the old ones
/// being moved there first (the data path rewrites them on every pushed
/// frame). Only a tag (TPID + TCI) moves. Same checks and errors as
/// [`push_label`]; the frame is unchanged on error.
#[inline]
pub fn push_label_rewrite(
    frame: &mut [u8],
    lse: Lse,
    src: ethernet::MacAddr,
    dst: ethernet::MacAddr,
) -> Result<()> {
    let orig = frame.get(LSE_LEN..).ok_or(Error::Truncated)?;
    // Untagged IPv4 / IPv6 (the usual case) needs no L2 parse.
    let moved = match orig.get(12..14) {
        Some([0x08, 0x00] | [0x86, 0xdd]) => 12,
        _ => {
            let l2 = ethernet::l2(orig)?;
            if l2.ethertype != EtherType::IPV4 && l2.ethertype != EtherType::IPV6 {
                return Err(Error::Unsupported);
            }
            l2.header_len - 2
        }
    };
    if moved > 12 {
        frame.copy_within(LSE_LEN + 12..LSE_LEN + moved, 12);
    }
    let head = frame
        .get_mut(..moved + 2 + LSE_LEN)
        .ok_or(Error::Truncated)?;
    let (macs, rest) = head.split_at_mut(12);
    let (d, s) = macs.split_at_mut(6);
    d.copy_from_slice(&dst.0);
    s.copy_from_slice(&src.0);
    let (ty, entry) = rest.split_at_mut(moved - 12 + 2);
    let ty_at = moved - 12;
    ty.get_mut(ty_at..)
        .ok_or(Error::Truncated)?
        .copy_from_slice(&EtherType::MPLS.to_be_bytes());
    entry.copy_from_slice(&lse.to_bytes());
    Ok(())
}

/// [`pop_label`] with the MACs of the unlabelled frame set to `src` /
/// `dst` (instead of [`crate::ethernet::rewrite_macs`] before the pop):
/// only a tag moves. Same checks and errors; unchanged on error.
#[inline]
pub fn pop_label_rewrite(
    frame: &mut [u8],
    src: ethernet::MacAddr,
    dst: ethernet::MacAddr,
) -> Result<Popped> {
    let l2 = ethernet::l2(frame)?;
    if l2.ethertype != EtherType::MPLS {
        return Err(Error::Unsupported);
    }
    let lse = Lse::from_u32(u32_at(frame, l2.header_len).ok_or(Error::Truncated)?);
    if !lse.bos {
        return Err(Error::NotBottomOfStack);
    }
    let first = u8_at(frame, l2.header_len + LSE_LEN).ok_or(Error::Truncated)?;
    let version = IpVersion::of_first_byte(first).ok_or(Error::Malformed)?;
    let moved = l2.header_len - 2;
    if moved > 12 {
        frame.copy_within(12..moved, LSE_LEN + 12);
    }
    let head = frame
        .get_mut(LSE_LEN..LSE_LEN + moved + 2)
        .ok_or(Error::Truncated)?;
    let (macs, rest) = head.split_at_mut(12);
    let (d, s) = macs.split_at_mut(6);
    d.copy_from_slice(&dst.0);
    s.copy_from_slice(&src.0);
    rest.get_mut(moved - 12..)
        .ok_or(Error::Truncated)?
        .copy_from_slice(&u16::from(version.ethertype()).to_be_bytes());
    Ok(Popped {
        lse,
        version,
        trim: LSE_LEN,
    })
}

/// What [`pop_label`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Popped {
    /// The entry that was removed.
    pub lse: Lse,
    /// The version of the inner packet, which chose the new EtherType.
    pub version: IpVersion,
    /// Bytes the caller must now trim from the front of the frame (mbuf
    /// adj): always [`LSE_LEN`].
    pub trim: usize,
}

/// Pop the (single, bottom-of-stack) label of an MPLS unicast frame, in
/// place: the L2 header moves back by 4 bytes over the entry and its
/// EtherType is restored from the IP version nibble of the inner packet
/// (4 -> 0x0800, 6 -> 0x86DD). Afterwards `frame[4..]` is the unlabelled
/// frame and the caller trims [`Popped::trim`] bytes from the front.
///
/// Errors (the frame is then unchanged): `Truncated`; `Unsupported` if the
/// frame is not MPLS unicast or has two tags; `NotBottomOfStack` if the top
/// entry has S = 0 (slb never pops into a stack); `Malformed` if the inner
/// version nibble is neither 4 nor 6.
#[inline]
pub fn pop_label(frame: &mut [u8]) -> Result<Popped> {
    let l2 = ethernet::l2(frame)?;
    if l2.ethertype != EtherType::MPLS {
        return Err(Error::Unsupported);
    }
    let lse = Lse::from_u32(u32_at(frame, l2.header_len).ok_or(Error::Truncated)?);
    if !lse.bos {
        return Err(Error::NotBottomOfStack);
    }
    let first = u8_at(frame, l2.header_len + LSE_LEN).ok_or(Error::Truncated)?;
    let version = IpVersion::of_first_byte(first).ok_or(Error::Malformed)?;
    let moved = l2.header_len - 2;
    frame.copy_within(0..moved, LSE_LEN);
    let ty = frame
        .get_mut(LSE_LEN + moved..LSE_LEN + moved + 2)
        .ok_or(Error::Truncated)?;
    ty.copy_from_slice(&u16::from(version.ethertype()).to_be_bytes());
    Ok(Popped {
        lse,
        version,
        trim: LSE_LEN,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    // An Ethernet/MPLS/IPv4 frame as slbd emits it (label 101, pipe TTL).
    #[rustfmt::skip]
    const LABELLED: [u8; 38] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst MAC (server)
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src MAC (slbd port)
        0x88, 0x47,                         // EtherType MPLS unicast
        0x00, 0x06, 0x51, 0x40,             // label 101 (0x00065), TC 0, S 1, TTL 64
        // IPv4 header, 20 bytes, 192.0.2.1 -> 192.0.2.2, TCP; checksum
        // left 0: push/pop never read past the version nibble
        0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06,
        0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    ];

    #[test]
    fn lse_bits() {
        let l = Lse::from_u32(0x0006_5140);
        assert_eq!(l.label.value(), 101);
        assert_eq!(l.tc, 0);
        assert!(l.bos);
        assert_eq!(l.ttl, 64);
        assert_eq!(Lse::pipe(Label::new(101).unwrap()), l);
        // Max label, TC 7, S 0, TTL 255: every bit of the word set but S.
        let m = Lse {
            label: Label::MAX,
            tc: 7,
            bos: false,
            ttl: 255,
        };
        assert_eq!(m.to_u32(), 0xffff_feff);
        assert_eq!(Lse::from_u32(0xffff_feff), m);
        assert_eq!(Label::new(0x10_0000), None);
        assert_eq!(Label::from_bits(0x10_0001).value(), 1);
    }

    #[test]
    fn reserved_names() {
        assert_eq!(
            Label::IPV4_EXPLICIT_NULL.reserved_name(),
            Some("ipv4_explicit_null")
        );
        assert_eq!(Label::EXTENSION.reserved_name(), Some("extension"));
        assert_eq!(
            Label::from_bits(5).reserved_name(),
            Some("unassigned_reserved")
        );
        assert!(Label::from_bits(15).is_reserved());
        assert!(!Label::FIRST_UNRESERVED.is_reserved());
        assert_eq!(Label::FIRST_UNRESERVED.reserved_name(), None);
    }

    #[test]
    fn view_parse_emit() {
        let p = Packet::new_checked(&LABELLED[14..]).unwrap();
        assert_eq!(Lse::parse(&p).unwrap(), Lse::pipe(Label::from_bits(101)));
        assert_eq!(p.payload()[0], 0x45);
        let mut buf = [0xa5u8; 4];
        Lse::pipe(Label::from_bits(101)).emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, [0x00, 0x06, 0x51, 0x40]);
        assert_eq!(Packet::new_checked(&buf[..3]).err(), Some(Error::Truncated));
    }

    #[test]
    fn top_label_untagged_tagged() {
        let t = top_label(&LABELLED).unwrap();
        assert_eq!(t.offset, 14);
        assert_eq!(t.payload_offset(), 18);
        assert_eq!(t.lse.label.value(), 101);
        let tagged = tag(&LABELLED);
        let t = top_label(&tagged).unwrap();
        assert_eq!(t.offset, 18);
        assert_eq!(t.lse.ttl, 64);
        assert_eq!(top_label(&LABELLED[..17]), None);
        let mut ip = LABELLED;
        ip[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(top_label(&ip), None);
    }

    fn tag(frame: &[u8]) -> Vec<u8> {
        let mut v = frame[..12].to_vec();
        v.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]); // VID 100
        v.extend_from_slice(&frame[12..]);
        v
    }

    fn unlabelled() -> Vec<u8> {
        let mut v = LABELLED[..12].to_vec();
        v.extend_from_slice(&[0x08, 0x00]);
        v.extend_from_slice(&LABELLED[18..]);
        v
    }

    #[test]
    fn push_exact_bytes() {
        let mut buf = [0xa5u8; 4].to_vec();
        buf.extend_from_slice(&unlabelled());
        push_label(&mut buf, Lse::pipe(Label::from_bits(101))).unwrap();
        assert_eq!(buf, LABELLED);
    }

    #[test]
    fn push_tagged_exact_bytes() {
        let mut buf = [0xa5u8; 4].to_vec();
        buf.extend_from_slice(&tag(&unlabelled()));
        push_label(&mut buf, Lse::pipe(Label::from_bits(101))).unwrap();
        assert_eq!(buf, tag(&LABELLED));
    }

    #[test]
    fn pop_exact_bytes() {
        let mut buf = LABELLED;
        let popped = pop_label(&mut buf).unwrap();
        assert_eq!(popped.trim, 4);
        assert_eq!(popped.version, IpVersion::V4);
        assert_eq!(popped.lse.label.value(), 101);
        assert_eq!(&buf[4..], &unlabelled()[..]);
    }

    #[test]
    fn pop_ipv6_sets_86dd() {
        let mut buf = LABELLED;
        buf[18] = 0x60;
        pop_label(&mut buf).unwrap();
        assert_eq!(&buf[16..18], &[0x86, 0xdd]);
    }

    #[test]
    fn pop_refusals_leave_frame_untouched() {
        // Not bottom of stack.
        let mut buf = LABELLED;
        buf[16] &= !0x01;
        let before = buf;
        assert_eq!(pop_label(&mut buf), Err(Error::NotBottomOfStack));
        assert_eq!(buf, before);
        // Inner version 5.
        let mut buf = LABELLED;
        buf[18] = 0x55;
        let before = buf;
        assert_eq!(pop_label(&mut buf), Err(Error::Malformed));
        assert_eq!(buf, before);
        // Not MPLS.
        let mut buf = unlabelled();
        assert_eq!(pop_label(&mut buf), Err(Error::Unsupported));
        // Truncated: no inner byte.
        let mut buf = LABELLED[..18].to_vec();
        assert_eq!(pop_label(&mut buf), Err(Error::Truncated));
    }

    #[test]
    fn push_refusals() {
        let mut short = [0u8; 17];
        assert_eq!(
            push_label(&mut short, Lse::pipe(Label::MAX)),
            Err(Error::Truncated)
        );
        let mut arp = [0u8; 4 + 42];
        arp[16..18].copy_from_slice(&[0x08, 0x06]);
        let before = arp;
        assert_eq!(
            push_label(&mut arp, Lse::pipe(Label::MAX)),
            Err(Error::Unsupported)
        );
        assert_eq!(arp, before);
    }

    fn arb_ip_frame() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<[u8; 12]>(),
            prop::option::of(any::<u16>()),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 1..200),
        )
            .prop_map(|(macs, tci, v6, mut payload)| {
                let mut f = macs.to_vec();
                if let Some(tci) = tci {
                    f.extend_from_slice(&[0x81, 0x00]);
                    f.extend_from_slice(&tci.to_be_bytes());
                }
                if v6 {
                    f.extend_from_slice(&[0x86, 0xdd]);
                    payload[0] = 0x60 | (payload[0] & 0x0f);
                } else {
                    f.extend_from_slice(&[0x08, 0x00]);
                    payload[0] = 0x40 | (payload[0] & 0x0f);
                }
                f.extend_from_slice(&payload);
                f
            })
    }

    proptest! {
        #[test]
        fn push_then_pop_is_identity(frame in arb_ip_frame(), label in 16u32..=0xfffff, room in any::<[u8; 4]>()) {
            let mut buf = room.to_vec();
            buf.extend_from_slice(&frame);
            let lse = Lse::pipe(Label::from_bits(label));
            push_label(&mut buf, lse).unwrap();
            let top = top_label(&buf).unwrap();
            prop_assert_eq!(top.lse, lse);
            let popped = pop_label(&mut buf).unwrap();
            prop_assert_eq!(popped.lse, lse);
            prop_assert_eq!(&buf[popped.trim..], &frame[..]);
        }

        #[test]
        fn rewrite_variants_equal_push_pop_then_rewrite(frame in arb_ip_frame(), label in 16u32..=0xfffff,
                                                        room in any::<[u8; 4]>(), a in any::<[u8; 6]>(), b in any::<[u8; 6]>()) {
            let (src, dst) = (ethernet::MacAddr(a), ethernet::MacAddr(b));
            let lse = Lse::pipe(Label::from_bits(label));
            let mut one = room.to_vec();
            one.extend_from_slice(&frame);
            let mut two = one.clone();
            push_label(&mut one, lse).unwrap();
            ethernet::rewrite_macs(&mut one, src, dst).unwrap();
            push_label_rewrite(&mut two, lse, src, dst).unwrap();
            prop_assert_eq!(&one, &two);
            let p1 = pop_label(&mut one).unwrap();
            ethernet::rewrite_macs(&mut one[p1.trim..], dst, src).unwrap();
            let p2 = pop_label_rewrite(&mut two, dst, src).unwrap();
            prop_assert_eq!(p1, p2);
            prop_assert_eq!(&one[p1.trim..], &two[p2.trim..]);
        }

        #[test]
        fn rewrite_variants_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..64), w in any::<u32>()) {
            let m = ethernet::MacAddr([1; 6]);
            let before = bytes.clone();
            if push_label_rewrite(&mut bytes.clone(), Lse::from_u32(w), m, m).is_err() {
                let mut c = before.clone();
                let _ = push_label_rewrite(&mut c, Lse::from_u32(w), m, m);
                prop_assert_eq!(&c, &before);
            }
            if pop_label_rewrite(&mut bytes, m, m).is_err() {
                prop_assert_eq!(&bytes, &before);
            }
        }

        #[test]
        fn ops_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..64), w in any::<u32>()) {
            let _ = top_label(&bytes);
            let _ = push_label(&mut bytes.clone(), Lse::from_u32(w));
            let _ = pop_label(&mut bytes);
        }
    }
}
