//! The question of a DNS query over UDP, read in place from the datagram's
//! payload: [`parse_query`] checks the header and reads the one question,
//! and [`Question`] gives its name (labels, slices of the input), type and
//! class. No allocation, no panic on any input. What follows the question
//! (answer and authority records, if a client sent any, and the additional
//! section with an EDNS OPT record, RFC 6891 §6.1.1) is not read.
//!
//! ```text
//!  Header (RFC 1035 §4.1.1), 12 bytes:
//!                                  1  1  1  1  1  1
//!    0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//!  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//!  |                      ID                       |
//!  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//!  |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |   QR 0 (a query), Opcode 0 (QUERY)
//!  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//!  |     QDCOUNT   |     ANCOUNT   |    NSCOUNT... |   QDCOUNT 1
//!  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//!
//!  Question (§4.1.2):  QNAME  len label len label ... 00   (§3.1: labels of
//!                      QTYPE  2 bytes                      1 to 63 bytes, the
//!                      QCLASS 2 bytes                      name at most 255)
//!
//!  dig example.com A:  07 'example' 03 'com' 00  00 01  00 01
//! ```
//!
//! A length byte with its top bits 11 is a compression pointer (§4.1.4):
//! allowed in a message, but the question of a query is the first name in
//! it, with nothing before it to point to, so it is refused
//! (`CompressedName`); top bits 01 or 10 are the extended label types of
//! RFC 6891 §5 (deprecated) and reserved ones, refused (`BadLabelType`).
//!
//! **Matching**: [`Question::name_has_suffix`] compares whole labels from
//! the end, ASCII case-insensitive (RFC 4343): `example.com` matches
//! `example.com` and `www.example.com`, not `badexample.com`.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// The header's length.
pub const HEADER_LEN: usize = 12;
/// The longest name, in wire form, length bytes and root included
/// (RFC 1035 §3.1).
pub const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 §3.1).
pub const MAX_LABEL_LEN: usize = 63;

/// Why a datagram is not a query slbd reads. Each is a malformed query to
/// count ([`DnsError::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// Shorter than the 12-byte header.
    TruncatedHeader,
    /// QR is 1: a response, not a query.
    NotQuery,
    /// An opcode other than 0 (QUERY): NOTIFY, UPDATE, ...
    Opcode {
        /// The opcode.
        opcode: u8,
    },
    /// QDCOUNT is not 1 (RFC 9619: a query has one question).
    QuestionCount {
        /// QDCOUNT.
        count: u16,
    },
    /// The name runs past the datagram.
    TruncatedName,
    /// A compression pointer in the question's name.
    CompressedName {
        /// Offset of the pointer in the datagram.
        at: usize,
    },
    /// A label length byte with top bits 01 or 10 (not a length).
    BadLabelType {
        /// Offset of the byte in the datagram.
        at: usize,
    },
    /// The name is longer than 255 bytes in wire form.
    NameTooLong,
    /// QTYPE and QCLASS run past the datagram.
    TruncatedQuestion,
}

impl DnsError {
    /// A stable counter name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            DnsError::TruncatedHeader => "dns_truncated_header",
            DnsError::NotQuery => "dns_not_query",
            DnsError::Opcode { .. } => "dns_bad_opcode",
            DnsError::QuestionCount { .. } => "dns_bad_question_count",
            DnsError::TruncatedName => "dns_truncated_name",
            DnsError::CompressedName { .. } => "dns_compressed_question",
            DnsError::BadLabelType { .. } => "dns_bad_label_type",
            DnsError::NameTooLong => "dns_name_too_long",
            DnsError::TruncatedQuestion => "dns_truncated_question",
        }
    }

    /// Every counter name, in declaration order.
    pub const NAMES: [&'static str; 9] = [
        "dns_truncated_header",
        "dns_not_query",
        "dns_bad_opcode",
        "dns_bad_question_count",
        "dns_truncated_name",
        "dns_compressed_question",
        "dns_bad_label_type",
        "dns_name_too_long",
        "dns_truncated_question",
    ];
}

/// A resource record type, as a question asks for it (RFC 1035 §3.2.2,
/// §3.2.3, and later RFCs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QType(pub u16);

impl QType {
    /// IPv4 address.
    pub const A: QType = QType(1);
    /// Name server.
    pub const NS: QType = QType(2);
    /// Canonical name.
    pub const CNAME: QType = QType(5);
    /// Start of authority.
    pub const SOA: QType = QType(6);
    /// Pointer (reverse lookups).
    pub const PTR: QType = QType(12);
    /// Mail exchange.
    pub const MX: QType = QType(15);
    /// Text.
    pub const TXT: QType = QType(16);
    /// IPv6 address (RFC 3596).
    pub const AAAA: QType = QType(28);
    /// Service location (RFC 2782).
    pub const SRV: QType = QType(33);
    /// Service binding (RFC 9460).
    pub const SVCB: QType = QType(64);
    /// HTTPS service binding (RFC 9460).
    pub const HTTPS: QType = QType(65);
    /// Zone transfer (over TCP; seen here, a query to refuse).
    pub const AXFR: QType = QType(252);
    /// Any (RFC 8482 answers it minimally).
    pub const ANY: QType = QType(255);
}

/// A query's header and question, read: the name is a slice of the
/// input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    id: u16,
    flags: u16,
    /// The name in wire form, root byte included.
    name: &'a [u8],
    qtype: QType,
    qclass: u16,
    end: usize,
}

impl<'a> Question<'a> {
    /// The query's ID.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The header's second 16 bits (QR, Opcode, AA, TC, RD, RA, Z, AD, CD,
    /// RCODE).
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// RD: the client asks for recursion.
    pub fn recursion_desired(&self) -> bool {
        self.flags & 0x0100 != 0
    }

    /// QTYPE.
    pub fn qtype(&self) -> QType {
        self.qtype
    }

    /// QCLASS (1: IN).
    pub fn qclass(&self) -> u16 {
        self.qclass
    }

    /// The name in wire form (length bytes, labels, the root's 0).
    pub fn name_wire(&self) -> &'a [u8] {
        self.name
    }

    /// The name's labels, first (leftmost) to last, the root left out:
    /// none for the root name `.`.
    pub fn labels(&self) -> Labels<'a> {
        Labels { rest: self.name }
    }

    /// The offset in the datagram where the question ends (the first
    /// record after it starts).
    pub fn end(&self) -> usize {
        self.end
    }

    /// Whether the name ends in the labels of `suffix` (dotted text, a
    /// trailing dot allowed; no escapes), whole labels, ASCII
    /// case-insensitive: `example.com` matches `example.com` and
    /// `www.example.com`, not `badexample.com`. `""` and `"."` (the root)
    /// match every name; a suffix with an empty label (`a..b`) none.
    pub fn name_has_suffix(&self, suffix: &str) -> bool {
        let suffix = suffix.strip_suffix('.').unwrap_or(suffix);
        if suffix.is_empty() {
            return true;
        }
        let want = suffix.split('.').count();
        let have = self.labels().count();
        let Some(skip) = have.checked_sub(want) else {
            return false;
        };
        self.labels()
            .skip(skip)
            .zip(suffix.split('.'))
            .all(|(l, s)| l.eq_ignore_ascii_case(s.as_bytes()))
    }
}

/// The labels of a [`Question`]'s name.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // Validated by parse_query: length bytes 1..=63, then the root 0.
        let (&len, rest) = self.rest.split_first()?;
        if len == 0 {
            self.rest = &[];
            return None;
        }
        let (label, rest) = rest.split_at_checked(usize::from(len))?;
        self.rest = rest;
        Some(label)
    }
}

/// Read the header and question of a query, `udp_payload` the UDP
/// datagram's payload (module doc). Requires QR 0, Opcode 0, QDCOUNT 1;
/// the other header fields and what follows the question are not read.
pub fn parse_query(udp_payload: &[u8]) -> Result<Question<'_>, DnsError> {
    let header = udp_payload
        .get(..HEADER_LEN)
        .ok_or(DnsError::TruncatedHeader)?;
    let be16 = |at: usize| {
        let b = header.get(at..at + 2).unwrap_or_default();
        u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ])
    };
    let id = be16(0);
    let flags = be16(2);
    if flags & 0x8000 != 0 {
        return Err(DnsError::NotQuery);
    }
    let opcode = ((flags >> 11) & 0xf) as u8;
    if opcode != 0 {
        return Err(DnsError::Opcode { opcode });
    }
    let count = be16(4);
    if count != 1 {
        return Err(DnsError::QuestionCount { count });
    }
    // The name: length bytes and labels up to the root's 0.
    let mut at = HEADER_LEN;
    loop {
        let &len = udp_payload.get(at).ok_or(DnsError::TruncatedName)?;
        match len & 0xc0 {
            0xc0 => return Err(DnsError::CompressedName { at }),
            0x40 | 0x80 => return Err(DnsError::BadLabelType { at }),
            _ => {}
        }
        at += 1 + usize::from(len);
        if at - HEADER_LEN > MAX_NAME_LEN {
            return Err(DnsError::NameTooLong);
        }
        if len == 0 {
            break;
        }
    }
    let name = udp_payload
        .get(HEADER_LEN..at)
        .ok_or(DnsError::TruncatedName)?;
    let tail = udp_payload
        .get(at..at + 4)
        .ok_or(DnsError::TruncatedQuestion)?;
    let field = |i: usize| {
        u16::from_be_bytes([
            tail.get(i).copied().unwrap_or(0),
            tail.get(i + 1).copied().unwrap_or(0),
        ])
    };
    Ok(Question {
        id,
        flags,
        name,
        qtype: QType(field(0)),
        qclass: field(2),
        end: at + 4,
    })
}
