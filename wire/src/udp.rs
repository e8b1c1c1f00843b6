//! UDP (RFC 768), checksum over the IPv4 or IPv6 pseudo-header.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Length             |           Checksum            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Checksum 0 means "none" over IPv4 (RFC 768); over IPv6 it is mandatory
//! (RFC 8200 §8.1). A computed 0 is sent as 0xffff.

use core::net::IpAddr;

use crate::tcp::l4_checksum;
use crate::{Error, Result};

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Source port.
    pub const SRC_PORT: Field = 0..2;
    /// Destination port.
    pub const DST_PORT: Field = 2..4;
    /// Length (header + data).
    pub const LENGTH: Field = 4..6;
    /// Checksum.
    pub const CHECKSUM: Field = 6..8;
}

/// Header length.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// A view over a UDP datagram.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wrap untrusted input: after this, no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// `Truncated` if shorter than 8 bytes or the Length field;
    /// `Malformed` if Length < 8.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let l = usize::from(self.len());
        if l < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if l > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.buffer.as_ref()[f];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.u16(field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.u16(field::DST_PORT)
    }
    /// Length field.
    pub fn len(&self) -> u16 {
        self.u16(field::LENGTH)
    }
    /// Length field below the header length.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }
    /// Checksum.
    pub fn checksum(&self) -> u16 {
        self.u16(field::CHECKSUM)
    }
    /// The data, up to Length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.len())]
    }
    /// Whether the checksum verifies; a zero checksum verifies over IPv4
    /// only.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        let seg = &self.buffer.as_ref()[..usize::from(self.len())];
        l4_checksum(src, dst, 17, seg) == Some(0)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, f: field::Field, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes())
    }
    /// Set source port.
    pub fn set_src_port(&mut self, v: u16) {
        self.set_u16(field::SRC_PORT, v)
    }
    /// Set destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        self.set_u16(field::DST_PORT, v)
    }
    /// Set length.
    pub fn set_len(&mut self, v: u16) {
        self.set_u16(field::LENGTH, v)
    }
    /// Set checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v)
    }
    /// Mutable data.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let e = usize::from(self.len());
        &mut self.buffer.as_mut()[HEADER_LEN..e]
    }
    /// Compute and store the checksum (0 is sent as 0xffff).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let e = usize::from(self.len());
        let c = l4_checksum(src, dst, 17, &self.buffer.as_ref()[..e]).unwrap_or(0);
        self.set_checksum(if c == 0 { 0xffff } else { c })
    }
}

/// Parsed UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl Repr {
    /// Parse and verify the checksum (`Checksum` if it does not verify).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>, src: IpAddr, dst: IpAddr) -> Result<Repr> {
        p.check_len()?;
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        })
    }
    /// Header length.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the header for `payload_len` bytes of data (checksum 0); call
    /// [`Packet::fill_checksum`] once the data is in place.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>, payload_len: usize) {
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len((HEADER_LEN + payload_len) as u16);
        p.set_checksum(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53));

    // 10.0.0.1:53000 -> 10.0.0.53:53, data "slb"; checksum 0x46f8
    // recomputed with the pseudo-header.
    #[rustfmt::skip]
    const DGRAM: [u8; 11] = [
        0xcf, 0x08, // source port 53000
        0x00, 0x35, // destination port 53
        0x00, 0x0b, // length 11
        0x46, 0xf8, // checksum
        b's', b'l', b'b',
    ];

    #[test]
    fn parse() {
        let p = Packet::new_checked(&DGRAM[..]).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        assert_eq!(p.payload(), b"slb");
        assert_eq!(
            Repr::parse(&p, SRC, DST).unwrap(),
            Repr {
                src_port: 53000,
                dst_port: 53
            }
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 11];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        Repr {
            src_port: 53000,
            dst_port: 53,
        }
        .emit(&mut p, 3);
        p.payload_mut().copy_from_slice(b"slb");
        p.fill_checksum(SRC, DST);
        assert_eq!(buf, DGRAM);
    }

    #[test]
    fn lengths_and_zero_checksum() {
        assert_eq!(
            Packet::new_checked(&DGRAM[..7]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&DGRAM[..10]).err(),
            Some(Error::Truncated)
        );
        let mut b = DGRAM;
        b[5] = 7;
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Malformed));
        let mut b = DGRAM;
        b[6..8].copy_from_slice(&[0, 0]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(!p.verify_checksum(v6, v6));
    }
}
