//! Session sync datagrams (issue 15): the UDP payload one slbd instance
//! sends its peers, a header and then session records packed back to
//! back.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Magic ("SLBS")                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Version    |     Kind      |        Sender instance        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Record count          |       Reserved (zero)         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Records (kind 1 only) ...
//! ```
//!
//! Kinds: 1 records, 2 dump request (send me every session you switch),
//! 3 dump end (that was all of them). The records are
//! `slb_core::SessionRecord`s (38 bytes IPv4, 74 IPv6), which this crate
//! does not decode: [`Packet::records`] is their bytes. A dump request and
//! a dump end carry none (count 0).

use crate::{Error, Result};

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Magic.
    pub const MAGIC: Field = 0..4;
    /// Version.
    pub const VERSION: usize = 4;
    /// Kind.
    pub const KIND: usize = 5;
    /// Sender instance.
    pub const SENDER: Field = 6..8;
    /// Record count.
    pub const COUNT: Field = 8..10;
    /// Reserved, zero.
    pub const RESERVED: Field = 10..12;
    /// The records.
    pub const RECORDS: usize = 12;
}

/// Header length.
pub const HEADER_LEN: usize = field::RECORDS;
/// "SLBS".
pub const MAGIC: [u8; 4] = *b"SLBS";
/// The only version.
pub const VERSION: u8 = 1;

/// What a datagram is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Session records.
    Records,
    /// Send me every session you switch.
    DumpRequest,
    /// The dump is complete.
    DumpEnd,
}

impl Kind {
    /// The kind of a code.
    pub fn from_code(c: u8) -> Option<Kind> {
        match c {
            1 => Some(Kind::Records),
            2 => Some(Kind::DumpRequest),
            3 => Some(Kind::DumpEnd),
            _ => None,
        }
    }

    /// Its code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Records => 1,
            Kind::DumpRequest => 2,
            Kind::DumpEnd => 3,
        }
    }
}

/// A view over a sync payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap untrusted input: after this, no accessor panics. `Truncated`
    /// if shorter than the header; `Malformed` for a wrong magic, version,
    /// kind or reserved field, or records on a kind that has none.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[field::MAGIC] != MAGIC || b[field::VERSION] != VERSION || b[field::RESERVED] != [0, 0]
        {
            return Err(Error::Malformed);
        }
        match Kind::from_code(b[field::KIND]) {
            None => Err(Error::Malformed),
            Some(Kind::Records) => Ok(()),
            Some(_) if self.count() != 0 || b.len() != HEADER_LEN => Err(Error::Malformed),
            Some(_) => Ok(()),
        }
    }

    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.buffer.as_ref()[f];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The kind (checked by `new_checked`; `DumpEnd` for an unknown code
    /// on an unchecked view).
    pub fn kind(&self) -> Kind {
        Kind::from_code(self.buffer.as_ref()[field::KIND]).unwrap_or(Kind::DumpEnd)
    }

    /// The sending instance's id.
    pub fn sender(&self) -> u16 {
        self.u16(field::SENDER)
    }

    /// How many records follow, by the sender's count.
    pub fn count(&self) -> u16 {
        self.u16(field::COUNT)
    }

    /// The records' bytes.
    pub fn records(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes a header (`buffer` at least [`HEADER_LEN`] long).
    pub fn emit_header(&mut self, kind: Kind, sender: u16, count: u16) {
        let b = self.buffer.as_mut();
        b[field::MAGIC].copy_from_slice(&MAGIC);
        b[field::VERSION] = VERSION;
        b[field::KIND] = kind.code();
        b[field::SENDER].copy_from_slice(&sender.to_be_bytes());
        b[field::COUNT].copy_from_slice(&count.to_be_bytes());
        b[field::RESERVED].copy_from_slice(&[0, 0]);
    }

    /// Sets the record count (after the records are written).
    pub fn set_count(&mut self, count: u16) {
        self.buffer.as_mut()[field::COUNT].copy_from_slice(&count.to_be_bytes());
    }
}

/// A header as bytes.
pub fn header(kind: Kind, sender: u16, count: u16) -> [u8; HEADER_LEN] {
    let mut h = [0; HEADER_LEN];
    Packet::new_unchecked(&mut h[..]).emit_header(kind, sender, count);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_header() {
        assert_eq!(
            header(Kind::Records, 2, 38),
            [b'S', b'L', b'B', b'S', 1, 1, 0, 2, 0, 38, 0, 0]
        );
        assert_eq!(
            header(Kind::DumpRequest, 0x0102, 0),
            [b'S', b'L', b'B', b'S', 1, 2, 1, 2, 0, 0, 0, 0]
        );
        let h = header(Kind::DumpEnd, 5, 0);
        let p = Packet::new_checked(&h[..]).unwrap();
        assert_eq!((p.kind(), p.sender(), p.count()), (Kind::DumpEnd, 5, 0));
        assert!(p.records().is_empty());
    }

    #[test]
    fn records_follow_the_header() {
        let mut b = [0u8; HEADER_LEN + 3];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.emit_header(Kind::Records, 1, 0);
        p.set_count(1);
        b[HEADER_LEN..].copy_from_slice(&[7, 8, 9]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            (p.kind(), p.count(), p.records()),
            (Kind::Records, 1, &[7, 8, 9][..])
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        let good = header(Kind::Records, 1, 0);
        assert_eq!(
            Packet::new_checked(&good[..HEADER_LEN - 1]).unwrap_err(),
            Error::Truncated
        );
        for (i, v) in [(0, b'X'), (4, 2), (5, 0), (5, 4), (10, 1), (11, 1)] {
            let mut b = good;
            b[i] = v;
            assert_eq!(
                Packet::new_checked(&b[..]).unwrap_err(),
                Error::Malformed,
                "byte {i} = {v}"
            );
        }
        // A dump request or end carries no records.
        let mut b = [0u8; HEADER_LEN + 1];
        b[..HEADER_LEN].copy_from_slice(&header(Kind::DumpRequest, 1, 0));
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Malformed);
        let h = header(Kind::DumpEnd, 1, 1);
        assert_eq!(Packet::new_checked(&h[..]).unwrap_err(), Error::Malformed);
    }

    proptest! {
        /// Any bytes: an error or a view whose accessors do not panic.
        #[test]
        fn decode_never_panics(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&b[..]) {
                let _ = (p.kind(), p.sender(), p.count(), p.records().len());
            }
        }

        #[test]
        fn header_round_trips(kind in 1u8..=3, sender in any::<u16>(), count in any::<u16>()) {
            let kind = Kind::from_code(kind).unwrap();
            let count = if kind == Kind::Records { count } else { 0 };
            let h = header(kind, sender, count);
            let p = Packet::new_checked(&h[..]).unwrap();
            prop_assert_eq!((p.kind(), p.sender(), p.count()), (kind, sender, count));
        }
    }
}
