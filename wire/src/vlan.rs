//! IEEE 802.1Q customer VLAN tag. The tag follows the source MAC: the
//! frame's EtherType field holds the TPID 0x8100, then comes this 4-byte
//! header, whose last field is the EtherType of the payload.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  PCP  |D|        VID            |      Inner EtherType        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  (PCP 3 bits, D = DEI 1 bit, VID 12 bits)
//! ```
//! This view is over the Ethernet payload of a frame whose EtherType is
//! 0x8100. slb accepts at most one tag (see [`crate::ethernet::l2`]).

use crate::{Error, EtherType, Result};

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Tag control information: PCP, DEI, VID.
    pub const TCI: Field = 0..2;
    /// EtherType of the payload.
    pub const ETHERTYPE: Field = 2..4;
    /// Start of the payload.
    pub const PAYLOAD: usize = 4;
}

/// Length of the tag.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A view over an 802.1Q tag and what follows.
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
    /// `Err(Truncated)` if shorter than 4 bytes.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The raw TCI.
    pub fn tci(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::TCI];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Priority code point (3 bits).
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }
    /// Drop eligible indicator.
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }
    /// VLAN identifier (12 bits).
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }
    /// EtherType of the payload.
    pub fn ethertype(&self) -> EtherType {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType::from(u16::from_be_bytes([b[0], b[1]]))
    }
    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set the raw TCI.
    pub fn set_tci(&mut self, tci: u16) {
        self.buffer.as_mut()[field::TCI].copy_from_slice(&tci.to_be_bytes())
    }
    /// Set the payload EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&u16::from(t).to_be_bytes())
    }
}

/// Parsed 802.1Q tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Priority code point (0..=7).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (0..=4095).
    pub vid: u16,
    /// EtherType of the payload.
    pub ethertype: EtherType,
}

impl Repr {
    /// Parse.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        p.check_len()?;
        Ok(Repr {
            pcp: p.pcp(),
            dei: p.dei(),
            vid: p.vid(),
            ethertype: p.ethertype(),
        })
    }
    /// The raw TCI.
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }
    /// Tag length.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the tag.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_tci(self.tci());
        p.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tag of a real tagged frame: PCP 5 (voice), DEI 0, VID 100, IPv4.
    const TAG: [u8; 4] = [
        0xa0, 0x64, // PCP=5 (101), DEI=0, VID=0x064=100
        0x08, 0x00, // inner EtherType IPv4
    ];

    #[test]
    fn parse() {
        let p = Packet::new_checked(&TAG[..]).unwrap();
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr {
                pcp: 5,
                dei: false,
                vid: 100,
                ethertype: EtherType::Ipv4
            }
        );
        assert_eq!(Packet::new_checked(&TAG[..3]).err(), Some(Error::Truncated));
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 4];
        Repr {
            pcp: 5,
            dei: false,
            vid: 100,
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, TAG);
    }
}
