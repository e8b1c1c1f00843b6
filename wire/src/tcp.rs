//! TCP (RFC 9293 §3.1): header, flags, options (MSS, window scale, SACK
//! permitted, timestamps; others kept as unknown), checksum over the IPv4 or
//! IPv6 pseudo-header.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! |       |       |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! The view's buffer is exactly the segment (the IP payload), since the
//! checksum covers all of it.

use core::net::IpAddr;

use crate::checksum;
use crate::{Error, Result};

/// The eight TCP flags (byte 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR
    pub const CWR: TcpFlags = TcpFlags(0x80);
    /// No flag.
    pub const NONE: TcpFlags = TcpFlags(0);

    /// All bits of `other` are set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Any bit of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }
    /// SYN set (SYN or SYN-ACK).
    pub const fn syn(self) -> bool {
        self.intersects(Self::SYN)
    }
    /// FIN set.
    pub const fn fin(self) -> bool {
        self.intersects(Self::FIN)
    }
    /// RST set.
    pub const fn rst(self) -> bool {
        self.intersects(Self::RST)
    }
    /// ACK set.
    pub const fn ack(self) -> bool {
        self.intersects(Self::ACK)
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl core::ops::BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0
    }
}

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Source port.
    pub const SRC_PORT: Field = 0..2;
    /// Destination port.
    pub const DST_PORT: Field = 2..4;
    /// Sequence number.
    pub const SEQ_NUM: Field = 4..8;
    /// Acknowledgment number.
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (high nibble).
    pub const DATA_OFF: usize = 12;
    /// Flags.
    pub const FLAGS: usize = 13;
    /// Window.
    pub const WIN_SIZE: Field = 14..16;
    /// Checksum.
    pub const CHECKSUM: Field = 16..18;
    /// Urgent pointer.
    pub const URGENT: Field = 18..20;
    /// Start of the options.
    pub const OPTIONS: usize = 20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// Option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    /// End of option list.
    pub const END: u8 = 0;
    /// No operation.
    pub const NOP: u8 = 1;
    /// Maximum segment size (RFC 9293 §3.7.1).
    pub const MSS: u8 = 2;
    /// Window scale (RFC 7323 §2).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted (RFC 2018).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (RFC 2018).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3).
    pub const TIMESTAMP: u8 = 8;
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (ends the iteration).
    EndOfList,
    /// Padding.
    NoOperation,
    /// Maximum segment size.
    Mss(u16),
    /// Window scale shift count.
    WindowScale(u8),
    /// SACK permitted.
    SackPermitted,
    /// Timestamps.
    Timestamp {
        /// TSval
        tsval: u32,
        /// TSecr
        tsecr: u32,
    },
    /// Any other option, with its data (after kind and length).
    Unknown {
        /// Kind.
        kind: u8,
        /// Data.
        data: &'a [u8],
    },
}

/// Iterator over the options of a header; yields `Err(Malformed)` once
/// (then stops) for a length under 2, past the end, or wrong for the kind.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    /// Offset of `rest` from the start of the options.
    at: usize,
}

impl<'a> Options<'a> {
    /// Iterate over `options` (the bytes between 20 and the data offset).
    pub fn new(options: &'a [u8]) -> Self {
        Options {
            rest: options,
            at: 0,
        }
    }
    /// Like `next`, but also gives the option's offset in the options.
    pub fn next_with_offset(&mut self) -> Option<Result<(usize, TcpOption<'a>)>> {
        let at = self.at;
        self.next().map(|r| r.map(|o| (at, o)))
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&k, after) = self.rest.split_first()?;
        match k {
            kind::END => {
                self.rest = &[];
                return Some(Ok(TcpOption::EndOfList));
            }
            kind::NOP => {
                self.rest = after;
                self.at += 1;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let len = match after.first() {
            Some(&l) if l >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
            _ => {
                self.rest = &[];
                return Some(Err(Error::Malformed));
            }
        };
        let (opt, rest) = self.rest.split_at(len);
        let data = opt.get(2..).unwrap_or(&[]);
        self.rest = rest;
        self.at += len;
        let parsed = match (k, data) {
            (kind::MSS, &[a, b]) => TcpOption::Mss(u16::from_be_bytes([a, b])),
            (kind::WINDOW_SCALE, &[s]) => TcpOption::WindowScale(s),
            (kind::SACK_PERMITTED, &[]) => TcpOption::SackPermitted,
            (kind::TIMESTAMP, &[a, b, c, d, e, f, g, h]) => TcpOption::Timestamp {
                tsval: u32::from_be_bytes([a, b, c, d]),
                tsecr: u32::from_be_bytes([e, f, g, h]),
            },
            (kind::MSS | kind::WINDOW_SCALE | kind::SACK_PERMITTED | kind::TIMESTAMP, _) => {
                self.rest = &[];
                return Some(Err(Error::Malformed));
            }
            (kind, data) => TcpOption::Unknown { kind, data },
        };
        Some(Ok(parsed))
    }
}

/// A view over a TCP segment.
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
    /// `Truncated` if shorter than 20 bytes or than the data offset;
    /// `Malformed` if the data offset is under 5.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hlen = usize::from(self.header_len());
        if hlen < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if hlen > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.b()[f];
        u16::from_be_bytes([b[0], b[1]])
    }
    fn u32(&self, f: field::Field) -> u32 {
        let b = &self.b()[f];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.u16(field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.u16(field::DST_PORT)
    }
    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        self.u32(field::SEQ_NUM)
    }
    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        self.u32(field::ACK_NUM)
    }
    /// Header length in bytes (data offset * 4).
    pub fn header_len(&self) -> u8 {
        (self.b()[field::DATA_OFF] >> 4) * 4
    }
    /// Flags.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.b()[field::FLAGS])
    }
    /// Window.
    pub fn window_len(&self) -> u16 {
        self.u16(field::WIN_SIZE)
    }
    /// Checksum.
    pub fn checksum(&self) -> u16 {
        self.u16(field::CHECKSUM)
    }
    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        self.u16(field::URGENT)
    }
    /// The raw options.
    pub fn options(&self) -> &[u8] {
        &self.b()[field::OPTIONS..usize::from(self.header_len())]
    }
    /// Iterate over the options.
    pub fn options_iter(&self) -> Options<'_> {
        Options::new(self.options())
    }
    /// The MSS option's value, if present and the options parse.
    pub fn mss(&self) -> Option<u16> {
        self.options_iter().find_map(|o| match o {
            Ok(TcpOption::Mss(m)) => Some(m),
            _ => None,
        })
    }
    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.b()[usize::from(self.header_len())..]
    }
    /// Whether the checksum verifies against the pseudo-header of `src` and
    /// `dst` (both of one family; a mixed pair never verifies).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        l4_checksum(src, dst, 6, self.b()) == Some(0)
    }
}

/// The checksum of an L4 segment (as stored: with its checksum field
/// included, `Some(0)` means it verifies), over the pseudo-header of
/// `src`/`dst`; `None` for a mixed IPv4/IPv6 pair.
pub(crate) fn l4_checksum(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> Option<u16> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some(checksum::l4_v4(s, d, proto, seg)),
        (IpAddr::V6(s), IpAddr::V6(d)) => Some(checksum::l4_v6(s, d, proto, seg)),
        _ => None,
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, f: field::Field, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes())
    }
    fn set_u32(&mut self, f: field::Field, v: u32) {
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
    /// Set sequence number.
    pub fn set_seq_number(&mut self, v: u32) {
        self.set_u32(field::SEQ_NUM, v)
    }
    /// Set acknowledgment number.
    pub fn set_ack_number(&mut self, v: u32) {
        self.set_u32(field::ACK_NUM, v)
    }
    /// Set header length in bytes (multiple of 4, 20..=60); clears the
    /// reserved bits.
    pub fn set_header_len(&mut self, len: u8) {
        self.buffer.as_mut()[field::DATA_OFF] = (len / 4) << 4;
    }
    /// Set flags.
    pub fn set_flags(&mut self, f: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = f.0
    }
    /// Set window.
    pub fn set_window_len(&mut self, v: u16) {
        self.set_u16(field::WIN_SIZE, v)
    }
    /// Set checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v)
    }
    /// Set urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        self.set_u16(field::URGENT, v)
    }
    /// Mutable options.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.header_len());
        &mut self.buffer.as_mut()[field::OPTIONS..end]
    }
    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let s = usize::from(self.header_len());
        &mut self.buffer.as_mut()[s..]
    }
    /// Compute and store the checksum over the whole buffer. A mixed
    /// IPv4/IPv6 pair leaves 0.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let c = l4_checksum(src, dst, 6, self.buffer.as_ref()).unwrap_or(0);
        self.set_checksum(c)
    }
}

/// Parsed TCP header (only MSS among the options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number.
    pub ack_number: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window.
    pub window_len: u16,
    /// MSS option.
    pub mss: Option<u16>,
}

impl Repr {
    /// Parse and verify the checksum against `src`/`dst`: `Checksum` if it
    /// does not verify, `Malformed` if the options do not parse.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>, src: IpAddr, dst: IpAddr) -> Result<Repr> {
        p.check_len()?;
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let mut mss = None;
        for o in p.options_iter() {
            if let TcpOption::Mss(m) = o? {
                mss = Some(m)
            }
        }
        Ok(Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
            mss,
        })
    }
    /// Header length (20, or 24 with MSS).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN + if self.mss.is_some() { 4 } else { 0 }
    }
    /// Write the header (checksum 0, urgent 0). Call
    /// [`Packet::fill_checksum`] once the payload is in place.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq_number(self.seq_number);
        p.set_ack_number(self.ack_number);
        p.set_header_len(self.header_len() as u8);
        p.set_flags(self.flags);
        p.set_window_len(self.window_len);
        p.set_checksum(0);
        p.set_urgent_at(0);
        if let Some(m) = self.mss {
            let o = p.options_mut();
            o[0] = kind::MSS;
            o[1] = 4;
            o[2..4].copy_from_slice(&m.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    // A Linux SYN (options as Linux 6.x sends them), 10.0.0.1:43210 ->
    // 10.0.0.2:80; checksum 0x0322 recomputed with the pseudo-header.
    #[rustfmt::skip]
    const SYN: [u8; 40] = [
        0xa8, 0xca,             // source port 43210
        0x00, 0x50,             // destination port 80
        0x1a, 0x2b, 0x3c, 0x4d, // sequence number
        0x00, 0x00, 0x00, 0x00, // acknowledgment number
        0xa0,                   // data offset 10 (40 bytes)
        0x02,                   // flags SYN
        0xfa, 0xf0,             // window 64240
        0x03, 0x22,             // checksum
        0x00, 0x00,             // urgent pointer
        0x02, 0x04, 0x05, 0xb4, // MSS 1460
        0x04, 0x02,             // SACK permitted
        0x08, 0x0a, 0x0a, 0x1b, 0x2c, 0x3d, 0x00, 0x00, 0x00, 0x00, // TS
        0x01,                   // NOP
        0x03, 0x03, 0x07,       // window scale 7
    ];

    #[test]
    fn parse_syn() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        assert!(!p.verify_checksum(DST, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3))));
        assert_eq!(p.flags(), TcpFlags::SYN);
        assert_eq!(p.mss(), Some(1460));
        let opts: std::vec::Vec<_> = p.options_iter().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamp {
                    tsval: 0x0a1b_2c3d,
                    tsecr: 0
                },
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
            ]
        );
        let r = Repr::parse(&p, SRC, DST).unwrap();
        assert_eq!(r.src_port, 43210);
        assert_eq!(r.dst_port, 80);
        assert_eq!(r.seq_number, 0x1a2b_3c4d);
        assert_eq!(r.window_len, 64240);
        assert_eq!(r.mss, Some(1460));
    }

    #[test]
    fn emit_mss_only() {
        let r = Repr {
            src_port: 43210,
            dst_port: 80,
            seq_number: 0x1a2b_3c4d,
            ack_number: 0,
            flags: TcpFlags::SYN,
            window_len: 64240,
            mss: Some(1460),
        };
        let mut buf = [0xa5u8; 24];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        r.emit(&mut p);
        p.fill_checksum(SRC, DST);
        assert_eq!(&buf[..12], &SYN[..12]);
        assert_eq!(buf[12], 0x60);
        assert_eq!(buf[13], 0x02);
        assert_eq!(&buf[14..16], &SYN[14..16]);
        assert_eq!(&buf[18..24], &[0, 0, 2, 4, 5, 0xb4]);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        assert_eq!(Repr::parse(&p, SRC, DST).unwrap(), r);
    }

    #[test]
    fn bad_offsets_and_options() {
        assert_eq!(
            Packet::new_checked(&SYN[..19]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&SYN[..39]).err(),
            Some(Error::Truncated)
        );
        let mut b = SYN;
        b[12] = 0x40; // data offset 4
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Malformed));
        // Option length 0 and option past the end.
        assert_eq!(
            Options::new(&[2, 0, 5, 0xb4]).next(),
            Some(Err(Error::Malformed))
        );
        assert_eq!(
            Options::new(&[8, 10, 0]).next(),
            Some(Err(Error::Malformed))
        );
        // MSS with length 3 is malformed; unknown kinds are kept.
        assert_eq!(Options::new(&[2, 3, 5]).next(), Some(Err(Error::Malformed)));
        assert_eq!(
            Options::new(&[30, 3, 9]).next(),
            Some(Ok(TcpOption::Unknown {
                kind: 30,
                data: &[9]
            }))
        );
        // End of list stops.
        let mut it = Options::new(&[0, 2, 4, 5, 0xb4]);
        assert_eq!(it.next(), Some(Ok(TcpOption::EndOfList)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn flags_ops() {
        let f = TcpFlags::SYN | TcpFlags::ACK;
        assert!(f.syn() && f.ack() && !f.fin() && !f.rst());
        assert!(f.contains(TcpFlags::SYN));
        assert!(!f.contains(TcpFlags::SYN | TcpFlags::FIN));
    }
}
