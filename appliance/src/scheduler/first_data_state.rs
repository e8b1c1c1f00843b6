//! The state of layer-7 binding on the scheduler (`first_data.rs`): each
//! service's rules at run time with their hit counters, and the sessions
//! waiting for their client's first data, with their bounds. Pure data;
//! `first_data.rs` drives it.

use hashbrown::HashMap;
use slb_config::{FirstData, Malformed, RuleMatch, Service};
use slb_core::service::PacketInfo;
use slb_core::ServiceId;
use slb_l7::rules::{HeaderMatch, HttpMatch, Match, Rules, TlsMatch};
use slb_wire::syn_cookie::replay::AckInfo;
use slb_wire::syn_cookie::CookieOptions;
use slb_wire::FlowKey;

/// Sessions waiting for their first data, at most; past it a new one is
/// bound at once to the default pool (`busy`).
pub(crate) const WAITING_MAX: usize = 4096;
/// Client frames held per waiting session (a TCP cookie ACK included):
/// the cookie SYN-ACK's window is four segments.
pub(crate) const WAIT_HELD_MAX: usize = 8;
/// How often the waiting sessions' deadlines are looked at.
pub(crate) const CHECK_NS: u64 = 5_000_000;

/// Why a session went to the default pool without its rules' say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Fallback {
    /// No (complete) first data within `first_data.wait_ms`: a client
    /// that waits for the server to speak first (SMTP, MySQL, SSH), or a
    /// slow one.
    Timeout = 1,
    /// `first_data.segments` segments (datagrams) without a complete
    /// request.
    Segments = 2,
    /// `first_data.bytes` bytes without a complete request.
    Bytes = 3,
    /// The request cannot be read (`first_data.malformed: default`).
    Malformed = 4,
    /// Readable but not by these rules: a QUIC version other than 1, a
    /// TLS ClientHello over several records.
    Unsupported = 5,
    /// [`WAITING_MAX`] sessions were already waiting.
    Busy = 6,
}

impl Fallback {
    pub const ALL: [Fallback; 6] = [
        Fallback::Timeout,
        Fallback::Segments,
        Fallback::Bytes,
        Fallback::Malformed,
        Fallback::Unsupported,
        Fallback::Busy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Timeout => "timeout",
            Fallback::Segments => "segments",
            Fallback::Bytes => "bytes",
            Fallback::Malformed => "malformed",
            Fallback::Unsupported => "unsupported",
            Fallback::Busy => "busy",
        }
    }

    /// Its number in [`slb_core::BoundBy::fallback`].
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Fallback> {
        Fallback::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Index into per-reason counters.
    pub fn index(self) -> usize {
        self as usize - 1
    }
}

/// One service's rules at run time: the matcher, each rule's pool, and
/// what they decided (`slbctl rules`). Rule `i` is the running
/// configuration's `rules[i]` (its name, kind and pool's name are read
/// there).
#[derive(Debug)]
pub struct L7Rt {
    pub rules: Rules,
    /// By rule: its pool's index in the session core.
    pub pools: Vec<u16>,
    /// By rule: sessions it bound.
    pub hits: Vec<u64>,
    /// Sessions whose first data matched no rule (default pool).
    pub no_match: u64,
    /// Sessions sent to the default pool, by [`Fallback::index`].
    pub fallbacks: [u64; Fallback::ALL.len()],
    /// Sessions refused for a malformed request (`malformed: refuse`).
    pub refused: u64,
    pub limits: FirstData,
}

impl L7Rt {
    /// The rules of `s`, or `None` when it has none. On a reload, `old`
    /// is the service as it was with its rules at run time: the hit
    /// counters of rules that keep their name carry over, and the
    /// default pool's.
    pub fn new(s: &Service, old: Option<(&Service, &L7Rt)>) -> Option<L7Rt> {
        if s.rules.is_empty() {
            return None;
        }
        let hits = s
            .rules
            .iter()
            .map(|r| {
                old.and_then(|(os, ort)| {
                    let i = os.rules.iter().position(|o| o.name == r.name)?;
                    ort.hits.get(i).copied()
                })
                .unwrap_or(0)
            })
            .collect();
        let old = old.map(|(_, rt)| rt);
        Some(L7Rt {
            rules: Rules::new(s.rules.iter().map(|r| matcher(&r.matcher)).collect()),
            pools: s
                .rules
                .iter()
                .map(|r| s.pool_index(&r.pool).unwrap_or(0))
                .collect(),
            hits,
            no_match: old.map_or(0, |o| o.no_match),
            fallbacks: old.map_or([0; Fallback::ALL.len()], |o| o.fallbacks),
            refused: old.map_or(0, |o| o.refused),
            limits: s.first_data,
        })
    }

    /// Whether a malformed request is refused rather than balanced.
    pub fn refuses_malformed(&self) -> bool {
        self.limits.malformed == Malformed::Refuse
    }
}

/// A configured rule as the matcher reads it.
fn matcher(m: &RuleMatch) -> Match {
    let hello = |h: &slb_config::HelloMatch| TlsMatch {
        sni: h.sni.clone(),
        alpn: h.alpn.clone(),
    };
    match m {
        RuleMatch::Http(h) => Match::Http(HttpMatch {
            method: h.method.clone(),
            host: h.host.clone(),
            path_prefix: h.path_prefix.clone(),
            header: h.header.as_ref().map(|h| HeaderMatch {
                name: h.name.clone(),
                value: h.value.clone(),
            }),
        }),
        RuleMatch::Tls(h) => Match::Tls(hello(h)),
        RuleMatch::Quic(h) => Match::Quic(hello(h)),
        RuleMatch::Dns(d) => Match::Dns(slb_l7::rules::DnsMatch {
            suffix: d.suffix.clone(),
            qtype: d.qtype,
        }),
    }
}

/// A TCP client's data in sequence order, from its first byte after the
/// handshake, up to a cap.
#[derive(Debug)]
pub(crate) struct Stream {
    /// The sequence number of the next byte wanted.
    pub(crate) next_seq: u32,
    pub(crate) bytes: Vec<u8>,
    /// A segment arrived past a gap: its bytes wait for the client's
    /// retransmission (they are held, not read).
    pub(crate) gap: bool,
}

impl Stream {
    pub(crate) fn new(first_seq: u32) -> Stream {
        Stream {
            next_seq: first_seq,
            bytes: Vec::new(),
            gap: false,
        }
    }

    /// Adds a segment of `payload` at `seq`, keeping at most `cap` bytes
    /// in all. Returns how many new bytes it brought (0: a repeat, or past
    /// a gap).
    pub(crate) fn add(&mut self, seq: u32, payload: &[u8], cap: usize) -> usize {
        // How far into the payload the wanted byte is (sequence space
        // wraps: RFC 9293's modular comparison).
        let skip = self.next_seq.wrapping_sub(seq) as i32;
        if skip < 0 {
            self.gap = true;
            return 0;
        }
        let Some(new) = payload.get(skip as usize..) else {
            return 0;
        };
        let room = cap.saturating_sub(self.bytes.len());
        let take = new.len().min(room);
        self.bytes
            .extend_from_slice(new.get(..take).unwrap_or_default());
        // Bytes past the cap still move the window: the cap is a verdict
        // (`bytes`), not a gap.
        self.next_seq = self.next_seq.wrapping_add(new.len() as u32);
        new.len()
    }
}

/// A session waiting for its client's first data: no label, no server
/// yet; its frames held.
pub(crate) struct Waiting<F> {
    pub(crate) service: ServiceId,
    pub(crate) worker: usize,
    pub(crate) port: u8,
    pub(crate) info: PacketInfo,
    /// TCP: the cookie's options and the handshake ACK as read.
    pub(crate) cookie: Option<(CookieOptions, AckInfo)>,
    /// The frames as they came (TCP: the cookie ACK first).
    pub(crate) held: Vec<F>,
    /// UDP: each held datagram's payload, as offsets into its frame.
    pub(crate) spans: Vec<(usize, usize)>,
    pub(crate) stream: Stream,
    /// Frames that carried data.
    pub(crate) segments: u8,
    pub(crate) deadline: u64,
}

/// The sessions waiting for their first data, by client flow.
pub(crate) struct Waits<F> {
    pub(crate) by_flow: HashMap<FlowKey, Waiting<F>>,
    pub(crate) next_check: u64,
}

impl<F> Default for Waits<F> {
    fn default() -> Self {
        Waits {
            by_flow: HashMap::new(),
            next_check: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_takes_bytes_in_order_once() {
        let mut s = Stream::new(u32::MAX - 1);
        assert_eq!(s.add(u32::MAX - 1, b"GET ", 16), 4);
        // A repeat, then one overlapping the end of what is in (its first
        // byte, sequence number 1, is the space already read).
        assert_eq!(s.add(u32::MAX - 1, b"GET ", 16), 0);
        assert_eq!(s.next_seq, 2, "wrapped past 2^32");
        assert_eq!(s.add(1, b" / HTTP", 16), 6);
        assert_eq!(s.bytes, b"GET / HTTP");
        // Past a gap: held, not read.
        assert_eq!(s.add(100, b"xyz", 16), 0);
        assert!(s.gap);
        // The cap keeps the bytes, the window still moves.
        assert_eq!(s.add(s.next_seq, b"/1.1\r\nHost: a\r\n", 16), 15);
        assert_eq!(s.bytes.len(), 16);
    }

    #[test]
    fn fallback_codes_round_trip() {
        for f in Fallback::ALL {
            assert_eq!(Fallback::from_code(f.code()), Some(f));
            assert_eq!(
                slb_core::BoundBy::fallback(f.code()).fallback_reason(),
                Some(f.code())
            );
        }
        assert_eq!(Fallback::from_code(0), None);
    }
}
