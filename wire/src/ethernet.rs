//! Ethernet II frames (IEEE 802.3 clause 3.2.6 / RFC 894), with at most one
//! 802.1Q tag (see [`crate::vlan`]).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Destination MAC (6 octets)                   |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+    Source MAC (6 octets)      +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          EtherType            |   payload ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! The FCS is not part of the buffers we see (the NIC strips it).

use crate::bytes::u16_at;
use crate::{Error, Result};

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// 00:00:00:00:00:00
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The address from the first 6 bytes of `b`. Panics if shorter.
    pub fn from_bytes(b: &[u8]) -> MacAddr {
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[..6]);
        MacAddr(a)
    }
    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }
    /// Group bit set (multicast or broadcast).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
    /// ff:ff:ff:ff:ff:ff
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }
    /// Unicast (group bit clear).
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }
}

impl core::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The EtherType (IEEE registry). Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EtherType {
    /// 0x0800
    Ipv4,
    /// 0x0806
    Arp,
    /// 0x8100, IEEE 802.1Q customer tag
    Vlan,
    /// 0x86DD
    Ipv6,
    /// 0x8847, MPLS unicast (RFC 3032 §5)
    Mpls,
    /// 0x8848, MPLS multicast (RFC 5332)
    MplsMulticast,
    /// 0x88A8, IEEE 802.1ad service tag (QinQ)
    QinQ,
    /// Anything else.
    Unknown(u16),
}

impl EtherType {
    /// 0x0800 as a raw value (for the data path's direct compares).
    pub const IPV4: u16 = 0x0800;
    /// 0x0806
    pub const ARP: u16 = 0x0806;
    /// 0x8100
    pub const VLAN: u16 = 0x8100;
    /// 0x86DD
    pub const IPV6: u16 = 0x86dd;
    /// 0x8847
    pub const MPLS: u16 = 0x8847;
    /// 0x8848
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// 0x88A8
    pub const QINQ: u16 = 0x88a8;
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            Self::IPV4 => EtherType::Ipv4,
            Self::ARP => EtherType::Arp,
            Self::VLAN => EtherType::Vlan,
            Self::IPV6 => EtherType::Ipv6,
            Self::MPLS => EtherType::Mpls,
            Self::MPLS_MULTICAST => EtherType::MplsMulticast,
            Self::QINQ => EtherType::QinQ,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => EtherType::IPV4,
            EtherType::Arp => EtherType::ARP,
            EtherType::Vlan => EtherType::VLAN,
            EtherType::Ipv6 => EtherType::IPV6,
            EtherType::Mpls => EtherType::MPLS,
            EtherType::MplsMulticast => EtherType::MPLS_MULTICAST,
            EtherType::QinQ => EtherType::QINQ,
            EtherType::Unknown(v) => v,
        }
    }
}

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Destination MAC.
    pub const DESTINATION: Field = 0..6;
    /// Source MAC.
    pub const SOURCE: Field = 6..12;
    /// EtherType (or 0x8100 TPID when tagged).
    pub const ETHERTYPE: Field = 12..14;
    /// Start of the payload.
    pub const PAYLOAD: usize = 14;
}

/// Length of the untagged Ethernet header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Length of one 802.1Q tag: [`crate::vlan::HEADER_LEN`], restated because
/// `vlan` builds on this module and not the other way round (a test checks
/// that the two agree).
const TAG_LEN: usize = 4;

/// A view over an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wrap without checking (for emitting into a buffer known to be big
    /// enough).
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }
    /// Wrap untrusted input: after this, no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }
    /// `Err(Truncated)` if shorter than the header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// Destination MAC.
    pub fn dst_addr(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[field::DESTINATION])
    }
    /// Source MAC.
    pub fn src_addr(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[field::SOURCE])
    }
    /// EtherType (the TPID 0x8100 if tagged).
    pub fn ethertype(&self) -> EtherType {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType::from(u16::from_be_bytes([b[0], b[1]]))
    }
    /// Everything after the 14-byte header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Set the destination MAC.
    pub fn set_dst_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&a.0)
    }
    /// Set the source MAC.
    pub fn set_src_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&a.0)
    }
    /// Set the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&u16::from(t).to_be_bytes())
    }
    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// Parsed Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source MAC.
    pub src_addr: MacAddr,
    /// Destination MAC.
    pub dst_addr: MacAddr,
    /// EtherType.
    pub ethertype: EtherType,
}

impl Repr {
    /// Parse a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Repr> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }
    /// Header length.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_src_addr(self.src_addr);
        frame.set_dst_addr(self.dst_addr);
        frame.set_ethertype(self.ethertype);
    }
}

/// The layer-2 header of a frame as the data path sees it: at most one
/// 802.1Q tag, then the EtherType of what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2 {
    /// The raw 802.1Q TCI if the frame is tagged.
    pub vlan_tci: Option<u16>,
    /// The EtherType after the tag (if any).
    pub ethertype: u16,
    /// Length of the L2 header: 14, or 18 when tagged. The payload starts here.
    pub header_len: usize,
}

/// Read the L2 header of `frame`: `Err(Truncated)` if short,
/// `Err(Unsupported)` for a second tag (0x8100 or 0x88A8 after 0x8100).
/// A frame that starts with an 802.1ad tag (0x88A8) is returned as is, with
/// that EtherType: slb does not handle QinQ.
#[inline]
pub fn l2(frame: &[u8]) -> Result<L2> {
    let ethertype = u16_at(frame, 12).ok_or(Error::Truncated)?;
    if ethertype != EtherType::VLAN {
        return Ok(L2 {
            vlan_tci: None,
            ethertype,
            header_len: HEADER_LEN,
        });
    }
    let tci = u16_at(frame, 14).ok_or(Error::Truncated)?;
    let inner = u16_at(frame, 16).ok_or(Error::Truncated)?;
    if inner == EtherType::VLAN || inner == EtherType::QINQ {
        return Err(Error::Unsupported);
    }
    Ok(L2 {
        vlan_tci: Some(tci),
        ethertype: inner,
        header_len: HEADER_LEN + TAG_LEN,
    })
}

/// Rewrite the source and destination MAC in place (the label switch's
/// whole L2 rewrite). `Err(Truncated)` if `frame` is shorter than 12 bytes.
#[inline]
pub fn rewrite_macs(frame: &mut [u8], src: MacAddr, dst: MacAddr) -> Result<()> {
    let macs = frame.get_mut(0..12).ok_or(Error::Truncated)?;
    let (d, s) = macs.split_at_mut(6);
    d.copy_from_slice(&dst.0);
    s.copy_from_slice(&src.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_len_is_the_vlan_header() {
        assert_eq!(TAG_LEN, crate::vlan::HEADER_LEN);
    }

    // A real frame header (ARP request from a Linux host, as seen by
    // tcpdump -XX): broadcast destination, 52:54:00:12:34:56 source, ARP.
    const FRAME: [u8; 14] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // source: QEMU OUI
        0x08, 0x06, // EtherType: ARP
    ];

    #[test]
    fn parse() {
        let f = Frame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.dst_addr(), MacAddr::BROADCAST);
        assert_eq!(f.src_addr(), MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert_eq!(f.ethertype(), EtherType::Arp);
        assert!(f.payload().is_empty());
        let r = Repr::parse(&f).unwrap();
        assert_eq!(r.ethertype, EtherType::Arp);
    }

    #[test]
    fn emit() {
        let r = Repr {
            src_addr: MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            dst_addr: MacAddr::BROADCAST,
            ethertype: EtherType::Arp,
        };
        let mut buf = [0xa5u8; 14];
        r.emit(&mut Frame::new_unchecked(&mut buf[..]));
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Frame::new_checked(&FRAME[..13]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(l2(&FRAME[..13]), Err(Error::Truncated));
    }

    #[test]
    fn unknown_ethertype_kept() {
        assert_eq!(EtherType::from(0x88cc), EtherType::Unknown(0x88cc));
        assert_eq!(u16::from(EtherType::Unknown(0x88cc)), 0x88cc);
    }

    #[test]
    fn l2_tagged_and_double_tagged() {
        let mut f = [0u8; 22];
        f[12..14].copy_from_slice(&[0x81, 0x00]);
        f[14..16].copy_from_slice(&[0x20, 0x64]); // PCP 1, VID 100
        f[16..18].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(
            l2(&f),
            Ok(L2 {
                vlan_tci: Some(0x2064),
                ethertype: 0x0800,
                header_len: 18
            })
        );
        assert_eq!(l2(&f[..17]), Err(Error::Truncated));
        f[16..18].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(l2(&f), Err(Error::Unsupported));
    }

    #[test]
    fn rewrite() {
        let mut f = FRAME;
        rewrite_macs(
            &mut f,
            MacAddr([1, 2, 3, 4, 5, 6]),
            MacAddr([7, 8, 9, 10, 11, 12]),
        )
        .unwrap();
        assert_eq!(&f[..12], &[7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6]);
        assert_eq!(&f[12..], &[0x08, 0x06]);
        assert_eq!(
            rewrite_macs(&mut f[..11], MacAddr::ZERO, MacAddr::ZERO),
            Err(Error::Truncated)
        );
    }
}
