//! `dns` checks: the query slbd sends and the judgement of the reply, over
//! a small DNS message codec (RFC 1035 section 4.1). Only what a health
//! check needs: one question out, and of the reply the header and the
//! echoed question; answer records are not read (NOERROR is the verdict).
//!
//! Written here rather than taken from a crate: a query is 17 bytes plus
//! the name, and the reply check reads a 12-byte header and one question;
//! a DNS crate (hickory-proto, domain) would bring parsers for every record
//! type to a path that needs none of them.
//!
//! ```text
//!  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |
//! |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
//! |                    QDCOUNT                    |
//! |                    ANCOUNT                    |
//! |                    NSCOUNT                    |
//! |                    ARCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! then QDCOUNT questions: QNAME (labels), QTYPE, QCLASS.
//! ```

use slb_config::DnsCheck;

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const ID: Field = 0..2;
    pub const FLAGS: Field = 2..4;
    pub const QDCOUNT: Field = 4..6;
    pub const ANCOUNT: Field = 6..8;
    pub const ARCOUNT: Field = 10..12;
}

/// The fixed header's length.
pub const HEADER_LEN: usize = field::ARCOUNT.end;

/// Class IN (RFC 1035 section 3.2.4).
const CLASS_IN: u16 = 1;
/// Flags of the query: a standard query (opcode 0), recursion desired.
const FLAGS_QUERY_RD: u16 = 0x0100;
const FLAG_QR: u16 = 0x8000;

/// A zero-copy view of a DNS message's header.
#[derive(Debug, Clone, Copy)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Wraps untrusted input: after this no accessor panics.
    pub fn new_checked(buffer: T) -> Option<Message<T>> {
        (buffer.as_ref().len() >= HEADER_LEN).then_some(Message { buffer })
    }

    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.buffer.as_ref()[f];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn id(&self) -> u16 {
        self.u16(field::ID)
    }

    /// A response (QR set), not a query.
    pub fn is_response(&self) -> bool {
        self.u16(field::FLAGS) & FLAG_QR != 0
    }

    pub fn opcode(&self) -> u8 {
        ((self.u16(field::FLAGS) >> 11) & 0xf) as u8
    }

    pub fn rcode(&self) -> u8 {
        (self.u16(field::FLAGS) & 0xf) as u8
    }

    pub fn question_count(&self) -> u16 {
        self.u16(field::QDCOUNT)
    }

    pub fn answer_count(&self) -> u16 {
        self.u16(field::ANCOUNT)
    }

    /// What follows the header.
    pub fn body(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// The query for `name` (validated by the configuration: dot-separated
/// labels of 1 to 63 bytes) of type `qtype`, class IN, with id `id`.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&FLAGS_QUERY_RD.to_be_bytes());
    for count in [1u16, 0, 0, 0] {
        q.extend_from_slice(&count.to_be_bytes());
    }
    for label in name.split('.').filter(|l| !l.is_empty()) {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    q
}

/// What a datagram says about a `dns` probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not the answer to this query (another id, or a query): ignored,
    /// the probe keeps waiting.
    NotOurs,
    Up,
    /// Why the server is failing: `no NOERROR: SERVFAIL`, `malformed reply`.
    Down(String),
}

/// Judges `reply` to the query with id `id` for `name`/`qtype`.
pub fn judge(id: u16, name: &str, qtype: u16, reply: &[u8]) -> Verdict {
    let Some(m) = Message::new_checked(reply) else {
        return Verdict::Down("malformed reply".into());
    };
    if m.id() != id || !m.is_response() {
        return Verdict::NotOurs;
    }
    if m.rcode() != 0 {
        return Verdict::Down(format!("no NOERROR: {}", rcode_name(m.rcode())));
    }
    if m.opcode() != 0 || m.question_count() != 1 || !same_question(m.body(), name, qtype) {
        return Verdict::Down("reply to another question".into());
    }
    Verdict::Up
}

/// Whether `body` starts with the question (`name`, `qtype`, IN), names
/// compared without regard to ASCII case (RFC 4343). A reply echoes the
/// question as sent, so a compression pointer there is a mismatch.
fn same_question(body: &[u8], name: &str, qtype: u16) -> bool {
    let mut at = 0;
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let n = usize::from(*body.get(at).unwrap_or(&0));
        match body.get(at + 1..at + 1 + n) {
            Some(l) if n == label.len() && l.eq_ignore_ascii_case(label.as_bytes()) => {}
            _ => return false,
        }
        at += 1 + n;
    }
    let mut tail = [0u8; 5];
    tail[1..3].copy_from_slice(&qtype.to_be_bytes());
    tail[3..5].copy_from_slice(&CLASS_IN.to_be_bytes());
    body.get(at..at + 5) == Some(&tail[..])
}

/// RFC 1035 section 4.1.1 and RFC 2136 section 2.2 names.
pub fn rcode_name(rcode: u8) -> String {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        n => return format!("RCODE {n}"),
    };
    name.to_string()
}

/// The id of a probe: from the clock and the source port, so consecutive
/// probes differ. Not secret: the probe is to a server slbd is configured
/// with, on its own segment; the reply must also match the server's
/// address and port, the probe's source port and the question.
pub fn probe_id(now: u64, src_port: u16) -> u16 {
    ((now >> 10) as u16) ^ src_port.rotate_left(7)
}

/// The query of check `d` with id `id`.
pub fn query_of(d: &DnsCheck, id: u16) -> Vec<u8> {
    query(id, &d.name, d.query_type.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for example.com type A, id 0x1234, as dig sends it (RD
    /// set, no EDNS): RFC 1035 section 4.1.
    const QUERY: [u8; 29] = [
        0x12, 0x34, // id
        0x01, 0x00, // QR 0, opcode 0, RD 1
        0x00, 0x01, // QDCOUNT 1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // AN, NS, AR 0
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', // "example"
        3, b'c', b'o', b'm', 0, // "com", root
        0x00, 0x01, // QTYPE A
        0x00, 0x01, // QCLASS IN
    ];

    /// The response: QR, RD, RA, NOERROR, one answer 93.184.216.34
    /// (a pointer to the question's name), TTL 3600.
    fn response(rcode: u8) -> Vec<u8> {
        let mut r = QUERY.to_vec();
        r[2] = 0x81;
        r[3] = 0x80 | rcode;
        r[7] = 1; // ANCOUNT 1
        r.extend_from_slice(&[
            0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
        ]);
        r
    }

    #[test]
    fn the_query_is_byte_for_byte_rfc_1035() {
        assert_eq!(query(0x1234, "example.com", 1), QUERY);
        assert_eq!(query(0x1234, "example.com.", 1), QUERY);
        let aaaa = query(7, "Example.COM", 28);
        assert_eq!(&aaaa[aaaa.len() - 4..], &[0, 28, 0, 1]);
    }

    #[test]
    fn the_header_view() {
        let r = response(0);
        let m = Message::new_checked(&r[..]).unwrap();
        assert_eq!(
            (m.id(), m.is_response(), m.opcode(), m.rcode()),
            (0x1234, true, 0, 0)
        );
        assert_eq!((m.question_count(), m.answer_count()), (1, 1));
        assert!(Message::new_checked(&r[..11]).is_none());
        let q = Message::new_checked(&QUERY[..]).unwrap();
        assert!(!q.is_response());
    }

    #[test]
    fn noerror_with_the_same_question_is_up() {
        assert_eq!(judge(0x1234, "example.com", 1, &response(0)), Verdict::Up);
        // Names compare without regard to case.
        assert_eq!(judge(0x1234, "EXAMPLE.com", 1, &response(0)), Verdict::Up);
    }

    #[test]
    fn other_rcodes_questions_and_garbage_are_down() {
        assert_eq!(
            judge(0x1234, "example.com", 1, &response(2)),
            Verdict::Down("no NOERROR: SERVFAIL".into())
        );
        assert_eq!(
            judge(0x1234, "example.com", 1, &response(3)),
            Verdict::Down("no NOERROR: NXDOMAIN".into())
        );
        assert_eq!(
            judge(0x1234, "example.com", 1, &response(15)),
            Verdict::Down("no NOERROR: RCODE 15".into())
        );
        let other = Verdict::Down("reply to another question".into());
        assert_eq!(judge(0x1234, "example.org", 1, &response(0)), other);
        assert_eq!(judge(0x1234, "example.com", 28, &response(0)), other);
        assert_eq!(judge(0x1234, "example.co", 1, &response(0)), other);
        // Cut inside the question.
        assert_eq!(judge(0x1234, "example.com", 1, &response(0)[..20]), other);
        assert_eq!(
            judge(0x1234, "example.com", 1, &[0x12, 0x34, 0x81]),
            Verdict::Down("malformed reply".into())
        );
    }

    #[test]
    fn another_id_or_a_query_is_not_ours() {
        assert_eq!(
            judge(0x1235, "example.com", 1, &response(0)),
            Verdict::NotOurs
        );
        assert_eq!(judge(0x1234, "example.com", 1, &QUERY), Verdict::NotOurs);
    }

    mod monitor {
        use super::super::super::tests::{changes, monitor, target, MS, S1};
        use super::super::super::{Action, HealthMonitor, ProbeKind};
        use super::super::*;
        use slb_config::{DnsType, HealthKind, ServerState as Admin};
        use std::net::IpAddr;

        fn check() -> HealthKind {
            HealthKind::Dns(DnsCheck {
                port: 53,
                name: "example.com".into(),
                query_type: DnsType::A,
            })
        }

        /// Polls at `now`: the one probe's source port and query.
        fn probe(m: &mut HealthMonitor, now: u64) -> (u16, Vec<u8>) {
            let mut a = Vec::new();
            m.poll(now, &mut a);
            match &a[..] {
                [Action::Probe {
                    kind:
                        ProbeKind::Udp {
                            src_port,
                            dst_port: 53,
                            payload,
                        },
                    ..
                }] => (*src_port, payload.clone()),
                _ => panic!("no DNS probe: {a:?}"),
            }
        }

        /// The server's response to `query`.
        fn answer(query: &[u8], rcode: u8) -> Vec<u8> {
            let mut r = query.to_vec();
            r[2] |= 0x80;
            r[3] = 0x80 | rcode;
            r
        }

        const S: &str = "198.18.1.11";

        #[test]
        fn noerror_is_a_success_and_servfail_a_failure_that_says_so() {
            let mut m = monitor(target(check(), Admin::Up));
            let s: IpAddr = S.parse().unwrap();
            let (port, q) = probe(&mut m, MS);
            let id = u16::from_be_bytes([q[0], q[1]]);
            assert_eq!(q, query(id, "example.com", 1));
            let mut a = Vec::new();
            assert!(m.udp_answer(s, 53, port, &answer(&q, 0), 3 * MS, &mut a));
            let p = m.probe(S1).unwrap();
            assert_eq!(
                (p.successes, p.last_result.as_deref(), p.rtt_ewma_ns),
                (1, Some("noerror"), Some(2 * MS))
            );
            for i in 1..=3 {
                let (port, q) = probe(&mut m, MS + i * 100 * MS);
                assert!(m.udp_answer(s, 53, port, &answer(&q, 2), MS + i * 100 * MS, &mut a));
            }
            assert_eq!(changes(&a), vec![false]);
            assert_eq!(
                m.probe(S1).unwrap().last_result.as_deref(),
                Some("no NOERROR: SERVFAIL")
            );
        }

        #[test]
        fn a_reply_with_another_id_is_ignored_and_the_probe_times_out() {
            let mut m = monitor(target(check(), Admin::Up));
            let s: IpAddr = S.parse().unwrap();
            let (port, q) = probe(&mut m, MS);
            let mut wrong = answer(&q, 0);
            wrong[1] ^= 1;
            let mut a = Vec::new();
            assert!(!m.udp_answer(s, 53, port, &wrong, 2 * MS, &mut a));
            // Still pending: the right answer is taken.
            assert!(m.udp_answer(s, 53, port, &answer(&q, 0), 3 * MS, &mut a));
            // The next probe, answered with another id only: timeout.
            let (port, q) = probe(&mut m, 101 * MS);
            let mut wrong = answer(&q, 0);
            wrong[0] ^= 0x80;
            assert!(!m.udp_answer(s, 53, port, &wrong, 102 * MS, &mut a));
            m.poll(160 * MS, &mut a);
            assert_eq!(m.probe(S1).unwrap().last_result.as_deref(), Some("timeout"));
        }
    }

    #[test]
    fn probe_ids_differ_between_probes() {
        assert_ne!(
            probe_id(1_000_000_000, 61000),
            probe_id(2_000_000_000, 61001)
        );
        assert_ne!(
            probe_id(1_000_000_000, 61000),
            probe_id(1_000_000_000, 61001)
        );
    }
}
