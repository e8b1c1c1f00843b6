//! A service's layer-7 rules (issue 17) and the decision they make from a
//! session's first client data: which rule matches, the first in order.
//! Pure: no I/O, no clock, no state kept between calls; the scheduler
//! buffers the first data, calls again as more arrives, and owns the
//! limits (wait time, segments, bytes: `first_data`).
//!
//! ```text
//!  TCP  decide_stream(first payload bytes, in order, max_len)
//!       first byte 0x16 ──────────────────────────────> TLS ClientHello (tls::client_hello)
//!       otherwise, an HTTP rule present (or no TLS one) > HTTP/1.x head (http::parse_request)
//!       otherwise ────────────────────────────────────> TLS (then tls_not_handshake)
//!  UDP  decide_datagrams(first datagrams, in order, scratch)
//!       long header (first & 0xC0 == 0xC0), version 1 > QUIC Initials: keys from the DCID,
//!                                                       decrypted in scratch, CRYPTO reassembled
//!                                                       across Initials and datagrams, then
//!                                                       tls::client_hello_message
//!       a QUIC rule and no DNS rule ──────────────────> QUIC (another version, short header: Unsupported)
//!       otherwise ────────────────────────────────────> DNS query (dns::parse_query), first datagram
//! ```
//!
//! The byte sniffing comes before the rule kinds: a TLS ClientHello on a
//! service with only HTTP rules is TLS, not a malformed HTTP request. (A
//! DNS ID's first byte has the top bits 11 in a quarter of queries; the
//! four bytes after it would then be ID, flags and a QDCOUNT of 256 or
//! more to read as version 1, which no query has: version 1 decides.)
//!
//! **A match** ([`Match`]): every field given must hold; a match with no
//! field (the configuration refuses one) matches every request of its
//! kind. `method` exact; `host` and `sni` by [`crate::names::matches`]
//! (exact or `*.suffix`, case-insensitive, the Host's port stripped);
//! `path_prefix` by [`crate::http::Request::path_has_prefix`] (bytes as
//! sent, no query); `header` by presence ([`HeaderMatch::value`] `None`)
//! or an exact value of any field of that name; `alpn`: the client offers
//! that protocol; DNS `suffix` by whole labels
//! ([`crate::dns::Question::name_has_suffix`]), `qtype` exact. With
//! Encrypted Client Hello the server name read is the outer ClientHello's
//! public name, the only one visible.
//!
//! **Verdicts**, what each means for the caller:
//!
//! - [`Verdict::Rule`]`(i)`: rule `i` (its index in [`Rules::new`]'s
//!   vector) matched: its pool. Final.
//! - [`Verdict::NoMatch`]`(kind)`: the data read fine (or is of a kind no
//!   rule is about, known from its first byte), no rule matched: the
//!   default pool. Final.
//! - [`Verdict::NeedMore`]: nothing wrong so far, the request is not
//!   whole: wait for more data (another segment or datagram), then call
//!   again with all of it. Past the scheduler's limits (`timeout`,
//!   `segments`, `bytes`): the default pool, counted by that reason.
//! - [`Verdict::Fallback`]: final, no rule can be decided: `TooLong` (the
//!   request does not end within `max_len`, or a QUIC ClientHello or
//!   datagram is past what [`Scratch`] holds), `Malformed` (with the
//!   reader's counter name: the default pool or a refusal, as the
//!   service's `first_data.malformed` says), `Unsupported` (readable data
//!   slbd does not read: HTTP/2.0 or 0.9, a TLS ClientHello fragmented
//!   across records, QUIC of a version other than 1, a Version
//!   Negotiation or short header packet: the default pool). Which
//!   fallback can depend on where the data stops: a TLS record header
//!   longer than `max_len` is `TooLong` before the bytes after it, had
//!   they come, could show the ClientHello malformed.
//!
//! **Cost.** No allocation: every view is into the caller's bytes, QUIC's
//! into [`Scratch`] (the caller's, reused). Rules are at most
//! [`MAX_RULES`] (the configuration's bound), scanned in order: reading
//! is linear in the data (`max_len`, 4,096 bytes by default), and each
//! rule costs a few comparisons, except a `header` match, which walks the
//! head's fields (at most [`crate::http::MAX_HEADERS`]): at most 64 rules
//! × one head, about 256 K byte comparisons at 4,096 bytes, in the worst
//! case. QUIC: per call, one key derivation (HKDF: a few dozen SHA-256
//! blocks), one copy and AES-128-GCM decryption of each datagram given,
//! the reassembly reset (4.6 KB): the caller passing all datagrams again
//! on each call makes a session's cost quadratic in its datagrams, which
//! the `segments` limit bounds (3 by default). Scheduler-side work, once
//! per new session.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::dns::{self, DnsError, Question};
use crate::http::{self, HttpError, Parsed, Request};
use crate::quic::{CryptoReassembly, Header, InitialKeys, QuicError, VERSION_1};
use crate::tls::{self, ClientHello, TlsError};

/// The most rules a service has (the configuration refuses more); what
/// the module doc's cost bound assumes.
pub const MAX_RULES: usize = 64;

/// The longest datagram [`Rules::decide_datagrams`] decrypts (a jumbo
/// frame's UDP payload); a QUIC datagram past it is `TooLong`.
pub const MAX_DATAGRAM: usize = 9216;

/// ContentType handshake (RFC 8446 §5.1): a TLS stream's first byte.
const TLS_HANDSHAKE: u8 = 0x16;
/// A long header's form and fixed bits (RFC 9000 §17.2).
const LONG_HEADER: u8 = 0xc0;

/// The protocol a rule reads, and a session's first data is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An HTTP/1.x request head (TCP).
    Http,
    /// A TLS ClientHello (TCP).
    Tls,
    /// A DNS query (UDP).
    Dns,
    /// A QUIC v1 client's Initials: their ClientHello (UDP).
    Quic,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 4] = [Kind::Http, Kind::Tls, Kind::Dns, Kind::Quic];

    /// Its name, as in the configuration's rules (`"http"`...).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tls => "tls",
            Kind::Dns => "dns",
            Kind::Quic => "quic",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Kind::Http => 1,
            Kind::Tls => 2,
            Kind::Dns => 4,
            Kind::Quic => 8,
        }
    }
}

/// What one rule asks of a session's first data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// An HTTP/1.x request.
    Http(HttpMatch),
    /// A TLS ClientHello over TCP.
    Tls(TlsMatch),
    /// A DNS query.
    Dns(DnsMatch),
    /// A QUIC v1 Initial's ClientHello.
    Quic(TlsMatch),
}

impl Match {
    /// Its kind.
    pub const fn kind(&self) -> Kind {
        match self {
            Match::Http(_) => Kind::Http,
            Match::Tls(_) => Kind::Tls,
            Match::Dns(_) => Kind::Dns,
            Match::Quic(_) => Kind::Quic,
        }
    }
}

/// An HTTP rule's fields (module doc: each given must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpMatch {
    /// The method, exact (`GET`).
    pub method: Option<String>,
    /// `example.com` or `*.example.com`, against the request's host.
    pub host: Option<String>,
    /// A prefix of the path, starting with `/`.
    pub path_prefix: Option<String>,
    /// A header field.
    pub header: Option<HeaderMatch>,
}

/// A header field an HTTP rule asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    /// The field name (ASCII case-insensitive).
    pub name: String,
    /// The value, exact (whitespace around it not counted); `None`: the
    /// field's presence is enough.
    pub value: Option<String>,
}

/// A TLS or QUIC rule's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsMatch {
    /// `example.com` or `*.example.com`, against the server name (SNI).
    pub sni: Option<String>,
    /// A protocol the client offers by ALPN (`h2`, `h3`).
    pub alpn: Option<String>,
}

/// A DNS rule's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsMatch {
    /// A domain the question's name is or is under (whole labels).
    pub suffix: Option<String>,
    /// The question's type, exact (28 for AAAA).
    pub qtype: Option<u16>,
}

impl HttpMatch {
    /// Whether `req` satisfies every field given.
    pub fn matches(&self, req: &Request<'_>) -> bool {
        self.method.as_deref().is_none_or(|m| req.method() == m)
            && self.host.as_deref().is_none_or(|h| req.host_matches(h))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| req.path_has_prefix(p))
            && self.header.as_ref().is_none_or(|h| match &h.value {
                None => req.has_header(&h.name),
                Some(v) => req.header_value_is(&h.name, v.as_bytes()),
            })
    }
}

impl TlsMatch {
    /// Whether `hello` satisfies every field given.
    pub fn matches(&self, hello: &ClientHello<'_>) -> bool {
        self.sni.as_deref().is_none_or(|s| hello.sni_matches(s))
            && self
                .alpn
                .as_deref()
                .is_none_or(|a| hello.offers_alpn(a.as_bytes()))
    }
}

impl DnsMatch {
    /// Whether `q` satisfies every field given.
    pub fn matches(&self, q: &Question<'_>) -> bool {
        self.suffix.as_deref().is_none_or(|s| q.name_has_suffix(s))
            && self.qtype.is_none_or(|t| q.qtype().0 == t)
    }
}

/// What a session's first data decides (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The first matching rule's index.
    Rule(usize),
    /// Read fine, no rule matched: the default pool.
    NoMatch(Kind),
    /// Not whole yet: call again with more data.
    NeedMore,
    /// No rule can be decided.
    Fallback(Fallback),
}

/// Why no rule can be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The request does not end within the cap.
    TooLong(Kind),
    /// The data is not a well-formed request of the kind: the reader's
    /// counter name (`HttpError::as_str`...).
    Malformed(Kind, &'static str),
    /// Well-formed data slbd does not read: the reader's counter name.
    Unsupported(Kind, &'static str),
}

impl Fallback {
    /// The kind the data was read as.
    pub const fn kind(&self) -> Kind {
        match self {
            Fallback::TooLong(k) | Fallback::Malformed(k, _) | Fallback::Unsupported(k, _) => *k,
        }
    }

    /// The reason's name: `too_long`, `malformed` or `unsupported`.
    pub const fn reason(&self) -> &'static str {
        match self {
            Fallback::TooLong(_) => "too_long",
            Fallback::Malformed(..) => "malformed",
            Fallback::Unsupported(..) => "unsupported",
        }
    }
}

/// The reusable buffers [`Rules::decide_datagrams`] decrypts QUIC in
/// (decryption is in place, and the caller's datagrams are not touched):
/// about 14 KB, so keep one (boxed) per scheduler, not one per session.
#[derive(Clone)]
pub struct Scratch {
    datagram: [u8; MAX_DATAGRAM],
    crypto: CryptoReassembly,
}

impl Scratch {
    /// Empty buffers, on the heap.
    pub fn new() -> std::boxed::Box<Scratch> {
        std::boxed::Box::new(Scratch {
            datagram: [0; MAX_DATAGRAM],
            crypto: CryptoReassembly::new(),
        })
    }
}

impl core::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

/// A service's rules, in order: the first that matches wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    matches: Vec<Match>,
    /// The kinds present, one bit each ([`Kind::bit`]).
    kinds: u8,
}

impl Rules {
    /// The rules, in order (at most [`MAX_RULES`], each with at least one
    /// field: the configuration checks both).
    pub fn new(matches: Vec<Match>) -> Rules {
        let kinds = matches.iter().fold(0, |k, m| k | m.kind().bit());
        Rules { matches, kinds }
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.matches.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.matches.is_empty()
    }

    /// The rules, in order.
    pub fn matches(&self) -> &[Match] {
        &self.matches
    }

    /// Whether any rule is of `kind`.
    pub fn has(&self, kind: Kind) -> bool {
        self.kinds & kind.bit() != 0
    }

    /// TCP: `data` is the client's first payload bytes, in order (several
    /// segments joined); `max_len` caps what may be read (the service's
    /// `first_data.bytes`). Module doc.
    pub fn decide_stream(&self, data: &[u8], max_len: usize) -> Verdict {
        let kind = match data.first() {
            Some(&TLS_HANDSHAKE) => Kind::Tls,
            _ if self.has(Kind::Http) || !self.has(Kind::Tls) => Kind::Http,
            _ => Kind::Tls,
        };
        // Nothing may be read: too long whatever comes (the kind from the
        // first byte when there is one).
        if max_len == 0 {
            return Verdict::Fallback(Fallback::TooLong(kind));
        }
        if data.is_empty() {
            return Verdict::NeedMore;
        }
        if !self.has(kind) {
            return Verdict::NoMatch(kind);
        }
        match kind {
            Kind::Http => self.http(data, max_len),
            _ => self.tls(data, max_len),
        }
    }

    /// UDP: the session's first datagram(s), in arrival order: a QUIC
    /// ClientHello over several Initials and datagrams; a DNS query's
    /// first datagram decides. `scratch` is where QUIC is decrypted.
    /// Module doc.
    pub fn decide_datagrams(&self, datagrams: &[&[u8]], scratch: &mut Scratch) -> Verdict {
        let Some(&first) = datagrams.first() else {
            return Verdict::NeedMore;
        };
        let v1 = matches!(first, [f, a, b, c, d, ..]
            if f & LONG_HEADER == LONG_HEADER && u32::from_be_bytes([*a, *b, *c, *d]) == VERSION_1);
        let kind = if v1 || (self.has(Kind::Quic) && !self.has(Kind::Dns)) {
            Kind::Quic
        } else {
            Kind::Dns
        };
        if !self.has(kind) {
            return Verdict::NoMatch(kind);
        }
        match kind {
            Kind::Quic => self.quic(datagrams, first, scratch),
            _ => self.dns(first),
        }
    }

    /// The first rule for which `f` holds.
    fn first(&self, f: impl Fn(&Match) -> bool, kind: Kind) -> Verdict {
        match self.matches.iter().position(f) {
            Some(i) => Verdict::Rule(i),
            None => Verdict::NoMatch(kind),
        }
    }

    fn http(&self, data: &[u8], max_len: usize) -> Verdict {
        match http::parse_request(data, max_len) {
            Ok(Parsed::Complete(req)) => self.first(
                |m| matches!(m, Match::Http(h) if h.matches(&req)),
                Kind::Http,
            ),
            Ok(Parsed::Incomplete) => Verdict::NeedMore,
            Err(e) => Verdict::Fallback(http_fallback(e)),
        }
    }

    fn tls(&self, data: &[u8], max_len: usize) -> Verdict {
        match tls::client_hello(data, max_len) {
            Ok(hello) => self.first(
                |m| matches!(m, Match::Tls(t) if t.matches(&hello)),
                Kind::Tls,
            ),
            Err(TlsError::Incomplete { .. }) => Verdict::NeedMore,
            Err(e) => Verdict::Fallback(tls_fallback(Kind::Tls, e)),
        }
    }

    fn dns(&self, datagram: &[u8]) -> Verdict {
        match dns::parse_query(datagram) {
            Ok(q) => self.first(|m| matches!(m, Match::Dns(d) if d.matches(&q)), Kind::Dns),
            Err(e) => Verdict::Fallback(dns_fallback(e)),
        }
    }

    fn quic(&self, datagrams: &[&[u8]], first: &[u8], scratch: &mut Scratch) -> Verdict {
        let Scratch { datagram, crypto } = scratch;
        let keys = match Header::parse(first) {
            Ok(h) => InitialKeys::client(h.dcid),
            Err(e) => return Verdict::Fallback(quic_fallback(e)),
        };
        *crypto = CryptoReassembly::new();
        for d in datagrams {
            let Some(copy) = datagram.get_mut(..d.len()) else {
                return Verdict::Fallback(Fallback::TooLong(Kind::Quic));
            };
            copy.copy_from_slice(d);
            if let Err(e) = crypto.feed_datagram(copy, &keys) {
                return Verdict::Fallback(quic_fallback(e));
            }
        }
        let Some(msg) = crypto.client_hello() else {
            return Verdict::NeedMore;
        };
        match tls::client_hello_message(msg) {
            Ok(hello) => self.first(
                |m| matches!(m, Match::Quic(t) if t.matches(&hello)),
                Kind::Quic,
            ),
            // The reassembly gave the whole message: a wait cannot be.
            Err(e) => Verdict::Fallback(tls_fallback(Kind::Quic, e)),
        }
    }
}

fn http_fallback(e: HttpError) -> Fallback {
    match e {
        HttpError::TooLong => Fallback::TooLong(Kind::Http),
        HttpError::UnsupportedVersion { .. } => Fallback::Unsupported(Kind::Http, e.as_str()),
        _ => Fallback::Malformed(Kind::Http, e.as_str()),
    }
}

fn tls_fallback(kind: Kind, e: TlsError) -> Fallback {
    match e {
        TlsError::TooLong { .. } => Fallback::TooLong(kind),
        TlsError::FragmentedAcrossRecords { .. } => Fallback::Unsupported(kind, e.as_str()),
        _ => Fallback::Malformed(kind, e.as_str()),
    }
}

fn dns_fallback(e: DnsError) -> Fallback {
    Fallback::Malformed(Kind::Dns, e.as_str())
}

fn quic_fallback(e: QuicError) -> Fallback {
    match e {
        QuicError::ClientHelloTooLarge { .. } | QuicError::CryptoPastCapacity { .. } => {
            Fallback::TooLong(Kind::Quic)
        }
        QuicError::UnsupportedVersion { .. }
        | QuicError::VersionNegotiation
        | QuicError::ShortHeader => Fallback::Unsupported(Kind::Quic, e.as_str()),
        _ => Fallback::Malformed(Kind::Quic, e.as_str()),
    }
}

#[cfg(test)]
mod tests;
