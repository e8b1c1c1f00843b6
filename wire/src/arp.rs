//! ARP for IPv4 over Ethernet (RFC 826). Only hardware type 1 (Ethernet),
//! protocol type 0x0800, hardware length 6, protocol length 4.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Hardware type (1)        |    Protocol type (0x0800)     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  HLEN (6)     |   PLEN (4)    |          Operation            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Sender hardware address (6)                   |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |  Sender protocol address (4)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                               |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                 Target hardware address (6)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Target protocol address (4)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::Ipv4Addr;

use crate::{Error, MacAddr, Result};

/// ARP operation (RFC 826; IANA "Operation Codes"). Unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// 1
    Request,
    /// 2
    Reply,
    /// Anything else.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Self {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            o => Operation::Unknown(o),
        }
    }
}

impl From<Operation> for u16 {
    fn from(o: Operation) -> u16 {
        match o {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(v) => v,
        }
    }
}

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Hardware type.
    pub const HTYPE: Field = 0..2;
    /// Protocol type.
    pub const PTYPE: Field = 2..4;
    /// Hardware address length.
    pub const HLEN: usize = 4;
    /// Protocol address length.
    pub const PLEN: usize = 5;
    /// Operation.
    pub const OPER: Field = 6..8;
    /// Sender hardware address.
    pub const SHA: Field = 8..14;
    /// Sender protocol address.
    pub const SPA: Field = 14..18;
    /// Target hardware address.
    pub const THA: Field = 18..24;
    /// Target protocol address.
    pub const TPA: Field = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;

/// A view over an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn v4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
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
    /// `Err(Truncated)` if shorter than 28 bytes.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.buffer.as_ref()[f];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Hardware type.
    pub fn hardware_type(&self) -> u16 {
        self.u16(field::HTYPE)
    }
    /// Protocol type.
    pub fn protocol_type(&self) -> u16 {
        self.u16(field::PTYPE)
    }
    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }
    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }
    /// Operation.
    pub fn operation(&self) -> Operation {
        Operation::from(self.u16(field::OPER))
    }
    /// Sender MAC.
    pub fn source_hardware_addr(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[field::SHA])
    }
    /// Sender IPv4 address.
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        v4(&self.buffer.as_ref()[field::SPA])
    }
    /// Target MAC.
    pub fn target_hardware_addr(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[field::THA])
    }
    /// Target IPv4 address.
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        v4(&self.buffer.as_ref()[field::TPA])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, f: field::Field, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes())
    }
    /// Set hardware type.
    pub fn set_hardware_type(&mut self, v: u16) {
        self.set_u16(field::HTYPE, v)
    }
    /// Set protocol type.
    pub fn set_protocol_type(&mut self, v: u16) {
        self.set_u16(field::PTYPE, v)
    }
    /// Set hardware address length.
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v
    }
    /// Set protocol address length.
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v
    }
    /// Set operation.
    pub fn set_operation(&mut self, o: Operation) {
        self.set_u16(field::OPER, o.into())
    }
    /// Set sender MAC.
    pub fn set_source_hardware_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&a.0)
    }
    /// Set sender IPv4 address.
    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&a.octets())
    }
    /// Set target MAC.
    pub fn set_target_hardware_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&a.0)
    }
    /// Set target IPv4 address.
    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&a.octets())
    }
}

/// Parsed Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Operation.
    pub operation: Operation,
    /// Sender MAC.
    pub source_hardware_addr: MacAddr,
    /// Sender IPv4 address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target MAC.
    pub target_hardware_addr: MacAddr,
    /// Target IPv4 address.
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// Parse; `Err(Unsupported)` unless Ethernet (1) / IPv4 (0x0800) / 6 / 4.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        p.check_len()?;
        if p.hardware_type() != 1
            || p.protocol_type() != 0x0800
            || p.hardware_len() != 6
            || p.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(Repr {
            operation: p.operation(),
            source_hardware_addr: p.source_hardware_addr(),
            source_protocol_addr: p.source_protocol_addr(),
            target_hardware_addr: p.target_hardware_addr(),
            target_protocol_addr: p.target_protocol_addr(),
        })
    }
    /// Packet length (28).
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }
    /// Write the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_hardware_type(1);
        p.set_protocol_type(0x0800);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(self.operation);
        p.set_source_hardware_addr(self.source_hardware_addr);
        p.set_source_protocol_addr(self.source_protocol_addr);
        p.set_target_hardware_addr(self.target_hardware_addr);
        p.set_target_protocol_addr(self.target_protocol_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // "Who has 192.168.122.1? Tell 192.168.122.50", from a capture on a
    // libvirt bridge.
    #[rustfmt::skip]
    const REQUEST: [u8; 28] = [
        0x00, 0x01,                         // hardware type: Ethernet
        0x08, 0x00,                         // protocol type: IPv4
        0x06,                               // hardware length
        0x04,                               // protocol length
        0x00, 0x01,                         // operation: request
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // sender MAC
        0xc0, 0xa8, 0x7a, 0x32,             // sender IP 192.168.122.50
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC: unknown
        0xc0, 0xa8, 0x7a, 0x01,             // target IP 192.168.122.1
    ];

    fn repr() -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            source_protocol_addr: Ipv4Addr::new(192, 168, 122, 50),
            target_hardware_addr: MacAddr::ZERO,
            target_protocol_addr: Ipv4Addr::new(192, 168, 122, 1),
        }
    }

    #[test]
    fn parse() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 28];
        repr().emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REQUEST);
    }

    #[test]
    fn truncated_and_unsupported() {
        assert_eq!(
            Packet::new_checked(&REQUEST[..27]).err(),
            Some(Error::Truncated)
        );
        let mut other = REQUEST;
        other[1] = 6; // IEEE 802 hardware type
        let p = Packet::new_checked(&other[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::Unsupported));
        assert_eq!(Operation::from(9), Operation::Unknown(9));
    }
}
