//! ICMP for IPv4 (RFC 792): echo, destination unreachable (with the
//! next-hop MTU of RFC 1191 §4), time exceeded, and others kept by number.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Echo: Identifier / Sequence; Unreachable: unused / MTU      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data (echo) or the offending IP header + 8 bytes (errors)   ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//! ```
//! The checksum covers the ICMP message only (no pseudo-header).

use crate::checksum;
use crate::{Error, Result};

/// ICMPv4 message type. Unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// 0
    EchoReply,
    /// 3
    DstUnreachable,
    /// 5
    Redirect,
    /// 8
    EchoRequest,
    /// 11
    TimeExceeded,
    /// 12
    ParamProblem,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Message {
    fn from(v: u8) -> Self {
        match v {
            0 => Message::EchoReply,
            3 => Message::DstUnreachable,
            5 => Message::Redirect,
            8 => Message::EchoRequest,
            11 => Message::TimeExceeded,
            12 => Message::ParamProblem,
            o => Message::Unknown(o),
        }
    }
}

impl From<Message> for u8 {
    fn from(m: Message) -> u8 {
        match m {
            Message::EchoReply => 0,
            Message::DstUnreachable => 3,
            Message::Redirect => 5,
            Message::EchoRequest => 8,
            Message::TimeExceeded => 11,
            Message::ParamProblem => 12,
            Message::Unknown(v) => v,
        }
    }
}

impl Message {
    /// An error message (quotes the offending packet).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Message::DstUnreachable
                | Message::Redirect
                | Message::TimeExceeded
                | Message::ParamProblem
        )
    }
}

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum.
    pub const CHECKSUM: Field = 2..4;
    /// Echo identifier.
    pub const ECHO_IDENT: Field = 4..6;
    /// Echo sequence number.
    pub const ECHO_SEQNO: Field = 6..8;
    /// Next-hop MTU of "fragmentation needed" (RFC 1191).
    pub const MTU: Field = 6..8;
    /// Start of the data.
    pub const DATA: usize = 8;
}

/// Header length.
pub const HEADER_LEN: usize = field::DATA;

/// Destination unreachable, code 3: port unreachable (RFC 792).
pub const UNREACH_PORT: u8 = 3;
/// Destination unreachable, code 4: fragmentation needed and DF set
/// (RFC 792), with the next-hop MTU (RFC 1191 §4).
pub const UNREACH_FRAG_NEEDED: u8 = 4;

/// A view over an ICMPv4 message (the buffer is exactly the message).
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
    /// `Truncated` if shorter than 8 bytes.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.buffer.as_ref()[f];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Type.
    pub fn msg_type(&self) -> Message {
        Message::from(self.buffer.as_ref()[field::TYPE])
    }
    /// Code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
    /// Checksum.
    pub fn checksum(&self) -> u16 {
        self.u16(field::CHECKSUM)
    }
    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        self.u16(field::ECHO_IDENT)
    }
    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        self.u16(field::ECHO_SEQNO)
    }
    /// Next-hop MTU (destination unreachable, code 4).
    pub fn next_hop_mtu(&self) -> u16 {
        self.u16(field::MTU)
    }
    /// Data after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }
    /// Whether the checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, f: field::Field, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes())
    }
    /// Set type.
    pub fn set_msg_type(&mut self, m: Message) {
        self.buffer.as_mut()[field::TYPE] = m.into()
    }
    /// Set code.
    pub fn set_msg_code(&mut self, c: u8) {
        self.buffer.as_mut()[field::CODE] = c
    }
    /// Set checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v)
    }
    /// Set the 4 bytes after the checksum.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[4..8].copy_from_slice(&v)
    }
    /// Mutable data.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }
    /// Compute and store the checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::sum(self.buffer.as_ref()));
        self.set_checksum(c)
    }
}

/// Parsed ICMPv4 header (data not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr {
    /// Echo request.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
    },
    /// Destination unreachable; `next_hop_mtu` is meaningful for code 4.
    DstUnreachable {
        /// Code.
        code: u8,
        /// Next-hop MTU (RFC 1191).
        next_hop_mtu: u16,
    },
    /// Time exceeded.
    TimeExceeded {
        /// Code.
        code: u8,
    },
    /// Anything else, with the raw rest of the header.
    Other {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// Bytes 4..8.
        rest: [u8; 4],
    },
}

impl Repr {
    /// Parse and verify the checksum.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        p.check_len()?;
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        let b = p.buffer.as_ref();
        Ok(match (p.msg_type(), p.msg_code()) {
            (Message::EchoRequest, 0) => Repr::EchoRequest {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
            },
            (Message::EchoReply, 0) => Repr::EchoReply {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
            },
            (Message::DstUnreachable, code) => Repr::DstUnreachable {
                code,
                next_hop_mtu: p.next_hop_mtu(),
            },
            (Message::TimeExceeded, code) => Repr::TimeExceeded { code },
            (t, code) => Repr::Other {
                msg_type: t.into(),
                code,
                rest: [b[4], b[5], b[6], b[7]],
            },
        })
    }
    /// Header length.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the header (checksum 0); call [`Packet::fill_checksum`] once
    /// the data is in place.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        let (t, c, rest) = match *self {
            Repr::EchoRequest { ident, seq_no } => (Message::EchoRequest, 0, echo(ident, seq_no)),
            Repr::EchoReply { ident, seq_no } => (Message::EchoReply, 0, echo(ident, seq_no)),
            Repr::DstUnreachable { code, next_hop_mtu } => {
                let m = next_hop_mtu.to_be_bytes();
                (Message::DstUnreachable, code, [0, 0, m[0], m[1]])
            }
            Repr::TimeExceeded { code } => (Message::TimeExceeded, code, [0; 4]),
            Repr::Other {
                msg_type,
                code,
                rest,
            } => (Message::from(msg_type), code, rest),
        };
        p.set_msg_type(t);
        p.set_msg_code(c);
        p.set_checksum(0);
        p.set_rest_of_header(rest);
    }
}

fn echo(ident: u16, seq_no: u16) -> [u8; 4] {
    let i = ident.to_be_bytes();
    let s = seq_no.to_be_bytes();
    [i[0], i[1], s[0], s[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    // Echo request id 0x1234 seq 1, data "abcdefgh"; checksum 0x5435
    // recomputed.
    #[rustfmt::skip]
    const ECHO: [u8; 16] = [
        0x08,       // type: echo request
        0x00,       // code
        0x54, 0x35, // checksum
        0x12, 0x34, // identifier
        0x00, 0x01, // sequence number
        b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h',
    ];

    #[test]
    fn parse() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1
            }
        );
        assert_eq!(p.data(), b"abcdefgh");
        assert_eq!(
            Packet::new_checked(&ECHO[..7]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 16];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        Repr::EchoRequest {
            ident: 0x1234,
            seq_no: 1,
        }
        .emit(&mut p);
        p.data_mut().copy_from_slice(b"abcdefgh");
        p.fill_checksum();
        assert_eq!(buf, ECHO);
    }

    #[test]
    fn frag_needed_roundtrip() {
        let mut buf = [0xa5u8; 8 + 28];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        let r = Repr::DstUnreachable {
            code: 4,
            next_hop_mtu: 1496,
        };
        r.emit(&mut p);
        p.data_mut().fill(0);
        p.fill_checksum();
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), r);
        assert!(p.msg_type().is_error());
        assert_eq!(Message::from(42), Message::Unknown(42));
    }
}
