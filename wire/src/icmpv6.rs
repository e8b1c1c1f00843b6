//! ICMPv6 (RFC 4443): echo, errors (destination unreachable, packet too
//! big, time exceeded, parameter problem), and neighbour discovery
//! solicitation / advertisement (RFC 4861 §4.3, §4.4) with the source /
//! target link-layer address options (§4.6.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Echo: Identifier / Sequence; Too Big: MTU; NA: |R|S|O| rsvd   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  NS / NA: Target Address (128 bits)                           |
//! +  ...                                                          +
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  NS / NA options:  Type (1|2) |  Length (x8)  | MAC (6) ...   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3).

use core::net::{IpAddr, Ipv6Addr};

use crate::checksum;
use crate::{Error, MacAddr, Result};

/// ICMPv6 message type. Unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// 1
    DstUnreachable,
    /// 2
    PacketTooBig,
    /// 3
    TimeExceeded,
    /// 4
    ParamProblem,
    /// 128
    EchoRequest,
    /// 129
    EchoReply,
    /// 133
    RouterSolicit,
    /// 134
    RouterAdvert,
    /// 135
    NeighborSolicit,
    /// 136
    NeighborAdvert,
    /// 137
    Redirect,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Message {
    fn from(v: u8) -> Self {
        match v {
            1 => Message::DstUnreachable,
            2 => Message::PacketTooBig,
            3 => Message::TimeExceeded,
            4 => Message::ParamProblem,
            128 => Message::EchoRequest,
            129 => Message::EchoReply,
            133 => Message::RouterSolicit,
            134 => Message::RouterAdvert,
            135 => Message::NeighborSolicit,
            136 => Message::NeighborAdvert,
            137 => Message::Redirect,
            o => Message::Unknown(o),
        }
    }
}

impl From<Message> for u8 {
    fn from(m: Message) -> u8 {
        match m {
            Message::DstUnreachable => 1,
            Message::PacketTooBig => 2,
            Message::TimeExceeded => 3,
            Message::ParamProblem => 4,
            Message::EchoRequest => 128,
            Message::EchoReply => 129,
            Message::RouterSolicit => 133,
            Message::RouterAdvert => 134,
            Message::NeighborSolicit => 135,
            Message::NeighborAdvert => 136,
            Message::Redirect => 137,
            Message::Unknown(v) => v,
        }
    }
}

impl Message {
    /// An error message (types 0..=127, RFC 4443 §2.1).
    pub fn is_error(self) -> bool {
        u8::from(self) < 128
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
    /// Packet too big MTU.
    pub const MTU: Field = 4..8;
    /// NA flags (R, S, O).
    pub const NA_FLAGS: usize = 4;
    /// NS / NA target.
    pub const TARGET: Field = 8..24;
    /// NS / NA options.
    pub const ND_OPTIONS: usize = 24;
    /// Data of echo and errors.
    pub const DATA: usize = 8;
}

/// Header length (type, code, checksum, 4 bytes).
pub const HEADER_LEN: usize = field::DATA;
/// Length of an NS / NA without options.
pub const ND_LEN: usize = field::ND_OPTIONS;

/// NA flags (RFC 4861 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NaFlags {
    /// R: sender is a router.
    pub router: bool,
    /// S: sent in response to a solicitation.
    pub solicited: bool,
    /// O: override an existing cache entry.
    pub override_: bool,
}

impl NaFlags {
    /// From byte 4 of an NA.
    pub const fn from_byte(b: u8) -> Self {
        NaFlags {
            router: b & 0x80 != 0,
            solicited: b & 0x40 != 0,
            override_: b & 0x20 != 0,
        }
    }
    /// Byte 4 of an NA.
    pub const fn to_byte(self) -> u8 {
        ((self.router as u8) << 7) | ((self.solicited as u8) << 6) | ((self.override_ as u8) << 5)
    }
}

/// ND option types (RFC 4861 §4.6).
pub mod nd_option {
    /// Source link-layer address.
    pub const SOURCE_LL_ADDR: u8 = 1;
    /// Target link-layer address.
    pub const TARGET_LL_ADDR: u8 = 2;
}

/// Find the link-layer address option of type `kind` in ND options.
/// `Err(Malformed)` for an option of length 0 or one running past the end
/// (RFC 4861 §4.6: "Nodes MUST silently discard an ND packet that contains
/// an option with length zero"), or a link-layer option shorter than 8.
pub fn nd_lladdr(options: &[u8], kind: u8) -> Result<Option<MacAddr>> {
    let mut rest = options;
    let mut found = None;
    while let [t, l, ..] = *rest {
        let len = usize::from(l) * 8;
        if len == 0 || len > rest.len() {
            return Err(Error::Malformed);
        }
        if t == kind && found.is_none() {
            match rest.get(2..8) {
                Some(mac) => found = Some(MacAddr::from_bytes(mac)),
                None => return Err(Error::Malformed),
            }
        }
        rest = rest.get(len..).unwrap_or(&[]);
    }
    if !rest.is_empty() {
        return Err(Error::Malformed);
    }
    Ok(found)
}

/// A view over an ICMPv6 message (the buffer is exactly the message).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wrap untrusted input. NS / NA need [`ND_LEN`] bytes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// `Truncated` if shorter than 8 bytes, or than 24 for NS / NA.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if matches!(
            self.msg_type(),
            Message::NeighborSolicit | Message::NeighborAdvert
        ) && len < ND_LEN
        {
            return Err(Error::Truncated);
        }
        Ok(())
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
    /// Packet too big: MTU.
    pub fn mtu(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::MTU];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
    /// NA flags.
    pub fn na_flags(&self) -> NaFlags {
        NaFlags::from_byte(self.buffer.as_ref()[field::NA_FLAGS])
    }
    /// NS / NA target address.
    pub fn target_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::TARGET]);
        Ipv6Addr::from(a)
    }
    /// NS / NA options.
    pub fn nd_options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::ND_OPTIONS..]
    }
    /// Data of echo and error messages.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }
    /// Whether the checksum verifies with the pseudo-header of `src`/`dst`.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        checksum::l4_v6(src, dst, 58, self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
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
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes())
    }
    /// Set bytes 4..8.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[4..8].copy_from_slice(&v)
    }
    /// Set the NS / NA target.
    pub fn set_target_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::TARGET].copy_from_slice(&a.octets())
    }
    /// Mutable data after the 8-byte header.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }
    /// Compute and store the checksum.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::l4_v6(src, dst, 58, self.buffer.as_ref());
        self.set_checksum(c)
    }
}

/// Parsed ICMPv6 header (echo / error data not included).
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
    /// Packet too big.
    PacketTooBig {
        /// MTU of the next hop.
        mtu: u32,
    },
    /// Destination unreachable.
    DstUnreachable {
        /// Code.
        code: u8,
    },
    /// Time exceeded.
    TimeExceeded {
        /// Code.
        code: u8,
    },
    /// Neighbour solicitation.
    NeighborSolicit {
        /// Target address.
        target: Ipv6Addr,
        /// Source link-layer address option.
        lladdr: Option<MacAddr>,
    },
    /// Neighbour advertisement.
    NeighborAdvert {
        /// R, S, O.
        flags: NaFlags,
        /// Target address.
        target: Ipv6Addr,
        /// Target link-layer address option.
        lladdr: Option<MacAddr>,
    },
    /// Anything else.
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
    /// Parse and verify the checksum against `src`/`dst`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>, src: Ipv6Addr, dst: Ipv6Addr) -> Result<Repr> {
        p.check_len()?;
        if !p.verify_checksum(src, dst) {
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
            (Message::PacketTooBig, 0) => Repr::PacketTooBig { mtu: p.mtu() },
            (Message::DstUnreachable, code) => Repr::DstUnreachable { code },
            (Message::TimeExceeded, code) => Repr::TimeExceeded { code },
            (Message::NeighborSolicit, 0) => Repr::NeighborSolicit {
                target: p.target_addr(),
                lladdr: nd_lladdr(p.nd_options(), nd_option::SOURCE_LL_ADDR)?,
            },
            (Message::NeighborAdvert, 0) => Repr::NeighborAdvert {
                flags: p.na_flags(),
                target: p.target_addr(),
                lladdr: nd_lladdr(p.nd_options(), nd_option::TARGET_LL_ADDR)?,
            },
            (t, code) => Repr::Other {
                msg_type: t.into(),
                code,
                rest: [b[4], b[5], b[6], b[7]],
            },
        })
    }
    /// Length of what [`Repr::emit`] writes (header, and for NS / NA the
    /// target and the link-layer option).
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::NeighborSolicit { lladdr, .. } | Repr::NeighborAdvert { lladdr, .. } => {
                ND_LEN + if lladdr.is_some() { 8 } else { 0 }
            }
            _ => HEADER_LEN,
        }
    }
    /// Write the message (checksum 0); call [`Packet::fill_checksum`] once
    /// any data is in place.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        let echo = |i: u16, s: u16| {
            let (i, s) = (i.to_be_bytes(), s.to_be_bytes());
            [i[0], i[1], s[0], s[1]]
        };
        let (t, c, rest) = match *self {
            Repr::EchoRequest { ident, seq_no } => (Message::EchoRequest, 0, echo(ident, seq_no)),
            Repr::EchoReply { ident, seq_no } => (Message::EchoReply, 0, echo(ident, seq_no)),
            Repr::PacketTooBig { mtu } => (Message::PacketTooBig, 0, mtu.to_be_bytes()),
            Repr::DstUnreachable { code } => (Message::DstUnreachable, code, [0; 4]),
            Repr::TimeExceeded { code } => (Message::TimeExceeded, code, [0; 4]),
            Repr::NeighborSolicit { .. } => (Message::NeighborSolicit, 0, [0; 4]),
            Repr::NeighborAdvert { flags, .. } => {
                (Message::NeighborAdvert, 0, [flags.to_byte(), 0, 0, 0])
            }
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
        let (target, lladdr, kind) = match *self {
            Repr::NeighborSolicit { target, lladdr } => (target, lladdr, nd_option::SOURCE_LL_ADDR),
            Repr::NeighborAdvert { target, lladdr, .. } => {
                (target, lladdr, nd_option::TARGET_LL_ADDR)
            }
            _ => return,
        };
        p.set_target_addr(target);
        if let Some(mac) = lladdr {
            let o = &mut p.buffer.as_mut()[ND_LEN..ND_LEN + 8];
            o[0] = kind;
            o[1] = 1;
            o[2..8].copy_from_slice(&mac.0);
        }
    }
}

/// Verify an ICMPv6 checksum given addresses as `IpAddr` (false unless
/// both are IPv6).
pub fn verify(src: IpAddr, dst: IpAddr, message: &[u8]) -> bool {
    match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => checksum::l4_v6(s, d, 58, message) == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    // NS from fe80::1 to the solicited-node group ff02::1:ff00:2 for
    // 2001:db8::2, with the source link-layer address option; checksum
    // 0xc6a3 recomputed with the pseudo-header.
    #[rustfmt::skip]
    const NS: [u8; 32] = [
        0x87,                   // type 135: neighbour solicitation
        0x00,                   // code
        0xc6, 0xa3,             // checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target 2001:db8::2
        0x01,                   // option: source link-layer address
        0x01,                   // length 1 (8 bytes)
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // MAC
    ];

    // The NA answering it, 2001:db8::2 -> fe80::1, flags S and O, target
    // link-layer address 02:00:00:00:00:02; checksum 0xb9a9.
    #[rustfmt::skip]
    const NA: [u8; 32] = [
        0x88,                   // type 136: neighbour advertisement
        0x00,                   // code
        0xb9, 0xa9,             // checksum
        0x60, 0x00, 0x00, 0x00, // R=0 S=1 O=1, reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target
        0x02,                   // option: target link-layer address
        0x01,                   // length 1
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // MAC
    ];

    // Echo request fe80::1 -> ff02::1, id 0x1234, seq 1, "abcdefgh";
    // checksum 0xde64.
    #[rustfmt::skip]
    const ECHO: [u8; 16] = [
        0x80, 0x00, 0xde, 0x64, 0x12, 0x34, 0x00, 0x01,
        b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h',
    ];

    fn ns() -> Repr {
        Repr::NeighborSolicit {
            target: a("2001:db8::2"),
            lladdr: Some(MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56])),
        }
    }

    fn na() -> Repr {
        Repr::NeighborAdvert {
            flags: NaFlags {
                router: false,
                solicited: true,
                override_: true,
            },
            target: a("2001:db8::2"),
            lladdr: Some(MacAddr([2, 0, 0, 0, 0, 2])),
        }
    }

    #[test]
    fn parse_ns_na_echo() {
        let p = Packet::new_checked(&NS[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, a("fe80::1"), a("ff02::1:ff00:2")).unwrap(),
            ns()
        );
        let p = Packet::new_checked(&NA[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, a("2001:db8::2"), a("fe80::1")).unwrap(),
            na()
        );
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, a("fe80::1"), a("ff02::1")).unwrap(),
            Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1
            }
        );
        assert_eq!(
            Repr::parse(&p, a("fe80::2"), a("ff02::1")),
            Err(Error::Checksum)
        );
    }

    #[test]
    fn emit_ns_na() {
        let mut buf = [0xa5u8; 32];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        ns().emit(&mut p);
        p.fill_checksum(a("fe80::1"), a("ff02::1:ff00:2"));
        assert_eq!(buf, NS);
        let mut buf = [0xa5u8; 32];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        na().emit(&mut p);
        p.fill_checksum(a("2001:db8::2"), a("fe80::1"));
        assert_eq!(buf, NA);
        assert_eq!(na().buffer_len(), 32);
    }

    #[test]
    fn nd_options_and_truncation() {
        assert_eq!(Packet::new_checked(&NS[..23]).err(), Some(Error::Truncated));
        assert_eq!(
            Packet::new_checked(&ECHO[..7]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            nd_lladdr(&[1, 0, 0, 0, 0, 0, 0, 0], 1),
            Err(Error::Malformed)
        );
        assert_eq!(
            nd_lladdr(&[1, 2, 0, 0, 0, 0, 0, 0], 1),
            Err(Error::Malformed)
        );
        assert_eq!(nd_lladdr(&[1, 1, 0, 0], 1), Err(Error::Malformed));
        assert_eq!(nd_lladdr(&[], 1), Ok(None));
        // Nonce option (14) then SLLA: skipped then found.
        let opts = [14, 1, 1, 2, 3, 4, 5, 6, 1, 1, 9, 9, 9, 9, 9, 9];
        assert_eq!(nd_lladdr(&opts, 1), Ok(Some(MacAddr([9; 6]))));
        assert_eq!(nd_lladdr(&opts, 2), Ok(None));
    }
}
