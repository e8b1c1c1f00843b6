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

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Captured from dig 9.18.49 (`dig @198.18.0.1 example.com A`, in a
    /// network namespace): RD and AD set, one additional record, the EDNS
    /// OPT (UDP size 1232) with a client COOKIE option (RFC 7873).
    pub(crate) const DIG_A: &str = "a2ed01200001000000000001076578616d706c6503636f6d000001000100002904d000000000000c000a0008b5401acf30b882d6";
    /// Captured from the same dig: `dig @198.18.0.1 www.Example.ORG AAAA`
    /// (dig keeps the case as typed).
    pub(crate) const DIG_AAAA: &str = "91620120000100000000000103777777074578616d706c65034f524700001c000100002904d000000000000c000a0008461bbc23039d306f";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn dig_a_query() {
        let b = hex(DIG_A);
        assert_eq!(b.len(), 52);
        let q = parse_query(&b).unwrap();
        assert_eq!(
            (q.id(), q.flags(), q.recursion_desired()),
            (0xa2ed, 0x0120, true)
        );
        assert_eq!((q.qtype(), q.qclass()), (QType::A, 1));
        let labels: Vec<_> = q.labels().collect();
        assert_eq!(labels, [&b"example"[..], b"com"]);
        assert_eq!(q.name_wire(), b"\x07example\x03com\x00");
        // The OPT record follows the question.
        assert_eq!(q.end(), 29);
        assert_eq!(&b[q.end()..q.end() + 3], [0, 0, 41]);
        for (suffix, want) in [
            ("example.com", true),
            ("example.com.", true),
            ("EXAMPLE.Com", true),
            ("com", true),
            ("", true),
            (".", true),
            ("www.example.com", false),
            ("xample.com", false),
            ("ample.com", false),
            ("example", false),
            ("example..com", false),
            ("example.com..", false),
        ] {
            assert_eq!(q.name_has_suffix(suffix), want, "{suffix}");
        }
    }

    #[test]
    fn dig_aaaa_query() {
        let b = hex(DIG_AAAA);
        let q = parse_query(&b).unwrap();
        assert_eq!((q.id(), q.qtype(), q.qclass()), (0x9162, QType::AAAA, 1));
        assert_eq!(
            q.labels().collect::<Vec<_>>(),
            [&b"www"[..], b"Example", b"ORG"]
        );
        assert!(q.name_has_suffix("example.org"));
        assert!(q.name_has_suffix("www.example.org"));
        assert!(!q.name_has_suffix("badexample.org"));
        assert!(!q.name_has_suffix("a.www.example.org"));
        assert_eq!(q.end(), 12 + 17 + 4);
    }

    fn query(name: &[u8], qtype: u16) -> Vec<u8> {
        let mut b = std::vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(name);
        b.extend_from_slice(&qtype.to_be_bytes());
        b.extend_from_slice(&[0, 1]);
        b
    }

    #[test]
    fn names_at_the_limits() {
        // The root: no labels; every suffix but the root fails.
        let b = query(b"\x00", 2);
        let q = parse_query(&b).unwrap();
        assert_eq!((q.labels().count(), q.qtype()), (0, QType::NS));
        assert!(q.name_has_suffix(".") && !q.name_has_suffix("com"));
        // 63-byte labels; a 255-byte name (3 x 64 + 62 + the root).
        let mut name = Vec::new();
        for _ in 0..3 {
            name.push(63);
            name.extend_from_slice(&[b'a'; 63]);
        }
        name.push(61);
        name.extend_from_slice(&[b'b'; 61]);
        name.push(0);
        assert_eq!(name.len(), 255);
        let b = query(&name, 1);
        let q = parse_query(&b).unwrap();
        assert_eq!(
            q.labels().map(<[u8]>::len).collect::<Vec<_>>(),
            [63, 63, 63, 61]
        );
        // One byte more is too long.
        let mut long = name[..name.len() - 63].to_vec();
        long.push(62);
        long.extend_from_slice(&[b'b'; 62]);
        long.push(0);
        assert_eq!(long.len(), 256);
        assert_eq!(parse_query(&query(&long, 1)), Err(DnsError::NameTooLong));
        // Binary labels are labels: a dot inside one is not a boundary.
        let b = query(b"\x03a.b\x01c\x00", 1);
        let q = parse_query(&b).unwrap();
        assert_eq!(q.labels().count(), 2);
        assert!(q.name_has_suffix("c") && !q.name_has_suffix("b.c"));
    }

    /// Bad datagrams, each with its error.
    #[test]
    fn bad_queries() {
        use DnsError::*;
        let good = hex(DIG_A);
        let with = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] = v;
            b
        };
        let cases: &[(Vec<u8>, DnsError)] = &[
            (Vec::new(), TruncatedHeader),
            (good[..11].to_vec(), TruncatedHeader),
            (good[..12].to_vec(), TruncatedName),
            (good[..20].to_vec(), TruncatedName),
            (good[..24].to_vec(), TruncatedName),
            (good[..25].to_vec(), TruncatedQuestion),
            (good[..28].to_vec(), TruncatedQuestion),
            (with(2, 0x81), NotQuery),
            (with(2, 0x29), Opcode { opcode: 5 }),
            (with(2, 0x21), Opcode { opcode: 4 }),
            (with(5, 0), QuestionCount { count: 0 }),
            (with(5, 2), QuestionCount { count: 2 }),
            (with(4, 1), QuestionCount { count: 257 }),
            (with(12, 0xc0), CompressedName { at: 12 }),
            (with(20, 0xc0), CompressedName { at: 20 }),
            (with(20, 0x43), BadLabelType { at: 20 }),
            (with(12, 0x80), BadLabelType { at: 12 }),
        ];
        for (b, err) in cases {
            assert_eq!(parse_query(b), Err(*err), "{b:02x?}");
        }
        // The first 29 bytes are a whole query: the rest is not read.
        assert_eq!(parse_query(&good[..29]).unwrap().end(), 29);
        let mut junk = good[..29].to_vec();
        junk.extend_from_slice(&[0xc0, 0xff, 0x80]);
        assert!(parse_query(&junk).is_ok());
    }

    #[test]
    fn counter_names() {
        use DnsError::*;
        let all = [
            TruncatedHeader,
            NotQuery,
            Opcode { opcode: 1 },
            QuestionCount { count: 0 },
            TruncatedName,
            CompressedName { at: 0 },
            BadLabelType { at: 0 },
            NameTooLong,
            TruncatedQuestion,
        ];
        let names: Vec<_> = all.iter().map(DnsError::as_str).collect();
        assert_eq!(names, DnsError::NAMES);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
    }

    fn any_labels() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..=20), 0..8)
    }

    proptest! {
        /// A query built from labels reads back as them; its name has
        /// each of its own suffixes (in any case) when they are ASCII
        /// without dots.
        #[test]
        fn built_queries_read_back(labels in any_labels(), qtype in any::<u16>()) {
            let mut name = Vec::new();
            for l in &labels {
                name.push(l.len() as u8);
                name.extend_from_slice(l);
            }
            name.push(0);
            let b = query(&name, qtype);
            let q = parse_query(&b).unwrap();
            prop_assert_eq!(q.labels().collect::<Vec<_>>(), labels.iter().map(Vec::as_slice).collect::<Vec<_>>());
            prop_assert_eq!(q.qtype(), QType(qtype));
            prop_assert_eq!(q.end(), b.len());
            for k in 0..=labels.len() {
                let tail = &labels[k..];
                if tail.iter().all(|l| l.iter().all(|&c| c.is_ascii_graphic() && c != b'.')) {
                    let s: Vec<_> = tail.iter().map(|l| String::from_utf8(l.clone()).unwrap()).collect();
                    prop_assert!(q.name_has_suffix(&s.join(".").to_ascii_uppercase()));
                    // One more label in front is not a suffix.
                    let longer = format!("x.{}", s.join("."));
                    if k == 0 {
                        prop_assert!(!q.name_has_suffix(&longer));
                    }
                }
            }
            for n in 0..b.len() {
                prop_assert!(parse_query(&b[..n]).is_err());
            }
        }

        /// Any bytes: no panic; a question read lies within the input and
        /// its labels are 1 to 63 bytes, the name at most 255.
        #[test]
        fn any_bytes(mut b in proptest::collection::vec(any::<u8>(), 0..300), shape in any::<bool>()) {
            if shape && b.len() >= 12 {
                // Often a query header, so the name is reached.
                b[2] &= 0x07;
                b[4] = 0;
                b[5] = 1;
            }
            if let Ok(q) = parse_query(&b) {
                let (o, n) = (b.as_ptr() as usize, q.name_wire());
                prop_assert!(n.as_ptr() as usize >= o + 12);
                prop_assert!(n.as_ptr() as usize + n.len() + 4 == o + q.end());
                prop_assert!(q.end() <= b.len() && n.len() <= MAX_NAME_LEN);
                let mut total = 1;
                for l in q.labels() {
                    prop_assert!((1..=MAX_LABEL_LEN).contains(&l.len()));
                    total += 1 + l.len();
                }
                prop_assert_eq!(total, n.len());
            }
        }
    }
}
