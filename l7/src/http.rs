//! An HTTP/1.x request head, read in place: the request line and the
//! header field lines up to the empty line (RFC 9112 §2.1), from the bytes
//! a client has sent so far. [`parse_request`] says `Incomplete` (wait for
//! more) until the empty line arrives, an error as soon as a whole line is
//! malformed, or gives a [`Request`] whose every string is a slice of the
//! input. No allocation, no panic on any input. The body, and any request
//! pipelined after this one, are not read ([`Request::head_len`] says
//! where they start).
//!
//! ```text
//!  GET /a/b?q=1 HTTP/1.1\r\n          request-line = method SP request-target SP HTTP-version CRLF
//!  Host: example.com:8080\r\n         field-line   = field-name ":" OWS field-value OWS CRLF
//!  Accept: */*\r\n
//!  \r\n                               the end of the head: head_len counts through it
//!  [body, next request ...]           not read
//! ```
//!
//! Strict where a proxy must be (the server behind reads the same bytes
//! and must not see another request than the one slbd routed):
//!
//! * lines end in CRLF: a bare LF or a bare CR is `BadLineEnding` (RFC 9112
//!   §2.2 lets a recipient accept a bare LF; slbd does not);
//! * no whitespace between a field name and its colon (§5.1: a 400), no
//!   obs-fold (a line starting with SP or HTAB, §5.2: refused);
//! * exactly one Host field in any request, and one in every HTTP/1.1
//!   request (§3.2: a 400 otherwise); an absolute-form target's authority
//!   is the host and the Host field is not used (§3.2.2);
//! * the version is `HTTP/1.x` (§2.3; a 2.0 or 0.9 is `UnsupportedVersion`);
//! * the target is ASCII without controls or spaces (RFC 3986 characters:
//!   a raw UTF-8 byte is `BadTarget`); field values may hold obs-text
//!   (bytes 0x80 to 0xff) but no control other than HTAB (RFC 9110 §5.5).
//!
//! Empty lines before the request line are skipped (RFC 9112 §2.2).
//!
//! **Matching** (what routing rules use): [`Request::host_matches`] takes
//! `example.com` (exact) or `*.example.com` ([`crate::names::matches`]:
//! one or more whole labels before `.example.com`, the same reading as a
//! TLS server name's), port stripped.
//! [`Request::path_has_prefix`] compares bytes of the path without the
//! query, as sent (no percent-decoding, no dot-segment removal: a rule is
//! written in the form clients send).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// The most header field lines a request head may have.
pub const MAX_HEADERS: usize = 64;

/// What [`parse_request`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// The whole head is there.
    Complete(Request<'a>),
    /// No error so far, but the empty line that ends the head has not
    /// arrived: read more (at most `max_len` bytes in all).
    Incomplete,
}

/// Why a request head is refused. Each is a malformed request to count
/// ([`HttpError::as_str`]); `at` is the offset in the input of the line
/// at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// `max_len` bytes (or more) arrived without the end of the head.
    TooLong,
    /// A line ends in a bare LF, or holds a CR not followed by LF.
    BadLineEnding {
        /// Offset of the line.
        at: usize,
    },
    /// The request line is not three parts separated by single spaces.
    BadRequestLine,
    /// The method is not a token (RFC 9110 §9.1).
    BadMethod,
    /// The target is empty, holds a byte that is not a visible ASCII
    /// character, or is none of the forms RFC 9112 §3.2 allows for its
    /// method (origin, absolute, authority for CONNECT, `*` for OPTIONS;
    /// an absolute-form authority with userinfo, an empty host or a bad
    /// port).
    BadTarget,
    /// The version is not `HTTP/` DIGIT `.` DIGIT.
    BadVersion,
    /// A well-formed version other than 1.x.
    UnsupportedVersion {
        /// Its major digit.
        major: u8,
        /// Its minor digit.
        minor: u8,
    },
    /// A field line without a colon, or with an empty or non-token name.
    BadHeaderLine {
        /// Offset of the line.
        at: usize,
    },
    /// Whitespace between a field name and its colon (RFC 9112 §5.1).
    SpaceBeforeColon {
        /// Offset of the line.
        at: usize,
    },
    /// A line folded onto the one before (obs-fold, RFC 9112 §5.2).
    ObsFold {
        /// Offset of the line.
        at: usize,
    },
    /// A field value holding a control character other than HTAB.
    BadHeaderValue {
        /// Offset of the line.
        at: usize,
    },
    /// More than [`MAX_HEADERS`] field lines.
    TooManyHeaders,
    /// Two or more Host field lines (RFC 9112 §3.2).
    DuplicateHost,
    /// An HTTP/1.1 request without a Host field (RFC 9112 §3.2).
    MissingHost,
    /// A Host field value that is not `uri-host [":" port]` (RFC 9110
    /// §7.2).
    BadHost,
}

impl HttpError {
    /// A stable counter name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            HttpError::TooLong => "http_head_too_long",
            HttpError::BadLineEnding { .. } => "http_bad_line_ending",
            HttpError::BadRequestLine => "http_bad_request_line",
            HttpError::BadMethod => "http_bad_method",
            HttpError::BadTarget => "http_bad_target",
            HttpError::BadVersion => "http_bad_version",
            HttpError::UnsupportedVersion { .. } => "http_unsupported_version",
            HttpError::BadHeaderLine { .. } => "http_bad_header_line",
            HttpError::SpaceBeforeColon { .. } => "http_space_before_colon",
            HttpError::ObsFold { .. } => "http_obs_fold",
            HttpError::BadHeaderValue { .. } => "http_bad_header_value",
            HttpError::TooManyHeaders => "http_too_many_headers",
            HttpError::DuplicateHost => "http_duplicate_host",
            HttpError::MissingHost => "http_missing_host",
            HttpError::BadHost => "http_bad_host",
        }
    }

    /// Every counter name, in declaration order.
    pub const NAMES: [&'static str; 15] = [
        "http_head_too_long",
        "http_bad_line_ending",
        "http_bad_request_line",
        "http_bad_method",
        "http_bad_target",
        "http_bad_version",
        "http_unsupported_version",
        "http_bad_header_line",
        "http_space_before_colon",
        "http_obs_fold",
        "http_bad_header_value",
        "http_too_many_headers",
        "http_duplicate_host",
        "http_missing_host",
        "http_bad_host",
    ];
}

/// The four forms of a request target (RFC 9112 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`.
    Origin,
    /// `scheme://authority/path?query` (to a proxy).
    Absolute,
    /// `host:port`, CONNECT's.
    Authority,
    /// `*`, OPTIONS's.
    Asterisk,
}

/// A request head, read: slices of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    method: &'a str,
    target: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    minor: u8,
    form: TargetForm,
    host: Option<&'a str>,
    port: Option<&'a str>,
    /// The field lines, each with its CRLF, without the empty line.
    fields: &'a [u8],
    field_count: usize,
    head_len: usize,
}

impl<'a> Request<'a> {
    /// The method, case-sensitive as sent (`GET`).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request target as sent (`/a/b?q=1`, `http://h/a`, `h:443`, `*`).
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The path without the query: the origin-form target's, or the
    /// absolute-form's after its authority (empty when it has none: it
    /// stands for `/`, RFC 9112 §3.2.1); empty for authority-form, `*`
    /// for asterisk-form.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The query, after the `?` (fragment, if a client sent one, kept).
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The form of the target (RFC 9112 §3.2).
    pub fn form(&self) -> TargetForm {
        self.form
    }

    /// The minor version: 0 or 1 (any digit of an `HTTP/1.x`).
    pub fn minor_version(&self) -> u8 {
        self.minor
    }

    /// The host the request names, port stripped, case as sent, an IPv6
    /// literal with its brackets (`[2001:db8::1]`): the absolute-form
    /// target's authority, else the Host field. `None` when there is none
    /// (an HTTP/1.0 request without Host) or it is empty.
    pub fn host(&self) -> Option<&'a str> {
        self.host
    }

    /// The port after the host, digits as sent, when one was given.
    pub fn port(&self) -> Option<&'a str> {
        self.port
    }

    /// The bytes of the head, through its empty line: the body or the next
    /// pipelined request starts here.
    pub fn head_len(&self) -> usize {
        self.head_len
    }

    /// The number of field lines.
    pub fn header_count(&self) -> usize {
        self.field_count
    }

    /// The field lines in order: name as sent, value without the
    /// whitespace around it.
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.fields }
    }

    /// The value of the first field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a field named `name` (ASCII case-insensitive) was sent.
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// Whether any field named `name` (ASCII case-insensitive) has exactly
    /// the value `value` (case-sensitive, whitespace around it not
    /// counted).
    pub fn header_value_is(&self, name: &str, value: &[u8]) -> bool {
        self.headers()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value)
    }

    /// Whether the host matches `pattern` ([`crate::names::matches`]:
    /// `example.com` exactly, or `*.example.com`, one or more labels before
    /// `.example.com`). No host, no match.
    pub fn host_matches(&self, pattern: &str) -> bool {
        self.host.is_some_and(|h| crate::names::matches(h, pattern))
    }

    /// Whether the path (without the query) starts with `prefix`, bytes as
    /// sent. An empty path (absolute-form without one) is `/`.
    pub fn path_has_prefix(&self, prefix: &str) -> bool {
        let path = match (self.form, self.path) {
            (TargetForm::Absolute, "") => "/",
            (_, path) => path,
        };
        path.as_bytes().starts_with(prefix.as_bytes())
    }
}

/// The field lines of a [`Request`]: `(name, value)`.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        // Validated by parse_request: every line ends in CRLF and has a
        // token, a colon, a value.
        let lf = self.rest.iter().position(|&b| b == b'\n')?;
        let line = self.rest.get(..lf.checked_sub(1)?)?;
        self.rest = self.rest.get(lf + 1..)?;
        let colon = line.iter().position(|&b| b == b':')?;
        let name = core::str::from_utf8(line.get(..colon)?).ok()?;
        Some((name, trim_ows(line.get(colon + 1..)?)))
    }
}

/// Read the request head at the start of `buf`, at most `max_len` bytes of
/// it (module doc). `Incomplete` while every whole line is good and the
/// empty line has not come within `buf`; `TooLong` once `buf` holds
/// `max_len` bytes without it.
pub fn parse_request(buf: &[u8], max_len: usize) -> Result<Parsed<'_>, HttpError> {
    let window = buf.get(..max_len).unwrap_or(buf);
    let more = || {
        if buf.len() >= max_len {
            Err(HttpError::TooLong)
        } else {
            Ok(Parsed::Incomplete)
        }
    };
    // Skip empty lines before the request line.
    let mut pos = 0;
    let line = loop {
        let Some((line, next)) = next_line(window, pos)? else {
            return more();
        };
        pos = next;
        if !line.is_empty() {
            break line;
        }
    };
    let mut req = request_line(line)?;
    let fields_start = pos;
    let mut count = 0usize;
    let mut host_field: Option<&[u8]> = None;
    loop {
        let at = pos;
        let Some((line, next)) = next_line(window, pos)? else {
            return more();
        };
        pos = next;
        if line.is_empty() {
            req.fields = window.get(fields_start..at).unwrap_or_default();
            req.head_len = pos;
            break;
        }
        count += 1;
        if count > MAX_HEADERS {
            return Err(HttpError::TooManyHeaders);
        }
        let (name, value) = field_line(line, at)?;
        if name.eq_ignore_ascii_case(b"host") {
            if host_field.is_some() {
                return Err(HttpError::DuplicateHost);
            }
            host_field = Some(value);
        }
    }
    req.field_count = count;
    match host_field {
        None if req.minor >= 1 => return Err(HttpError::MissingHost),
        // An absolute- or authority-form target's authority wins (RFC
        // 9112 §3.2.2, §3.2.3); the field must still be valid.
        Some(v) => {
            let v = core::str::from_utf8(v).map_err(|_| HttpError::BadHost)?;
            let (h, p) = split_authority(v).ok_or(HttpError::BadHost)?;
            if matches!(req.form, TargetForm::Origin | TargetForm::Asterisk) {
                req.host = Some(h).filter(|h| !h.is_empty());
                req.port = p;
            }
        }
        None => {}
    }
    Ok(Parsed::Complete(req))
}

/// The line starting at `pos` of `buf`, without its CRLF, and where the
/// next starts; `None` when no LF has come yet. Checks the line ending.
fn next_line(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, HttpError> {
    let rest = buf.get(pos..).unwrap_or_default();
    let bad = HttpError::BadLineEnding { at: pos };
    let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
        // No LF yet: a CR before the last byte is already bare.
        let body = rest.get(..rest.len().saturating_sub(1)).unwrap_or_default();
        return if body.contains(&b'\r') {
            Err(bad)
        } else {
            Ok(None)
        };
    };
    let end = lf.checked_sub(1).ok_or(bad)?;
    let line = rest.get(..end).ok_or(bad)?;
    if rest.get(end) != Some(&b'\r') || line.contains(&b'\r') {
        return Err(bad);
    }
    Ok(Some((line, pos + lf + 1)))
}

/// RFC 9110 §5.6.2: tchar.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Visible ASCII: what a request target is made of.
fn is_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// The request line: method, target (its path, query, and for absolute-
/// and authority-form the host), version. The rest of the Request empty.
fn request_line(line: &[u8]) -> Result<Request<'_>, HttpError> {
    let sp = line
        .iter()
        .position(|&b| b == b' ')
        .ok_or(HttpError::BadRequestLine)?;
    let method = line.get(..sp).unwrap_or_default();
    let rest = line.get(sp + 1..).unwrap_or_default();
    let sp2 = rest
        .iter()
        .position(|&b| b == b' ')
        .ok_or(HttpError::BadRequestLine)?;
    let target = rest.get(..sp2).unwrap_or_default();
    let version = rest.get(sp2 + 1..).unwrap_or_default();
    if !is_token(method) {
        return Err(HttpError::BadMethod);
    }
    if target.is_empty() || !target.iter().all(|&b| is_vchar(b)) {
        return Err(HttpError::BadTarget);
    }
    let minor = match *version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            let (major, minor) = (major - b'0', minor - b'0');
            if major != 1 {
                return Err(HttpError::UnsupportedVersion { major, minor });
            }
            minor
        }
        _ => return Err(HttpError::BadVersion),
    };
    let method = core::str::from_utf8(method).map_err(|_| HttpError::BadMethod)?;
    let target = core::str::from_utf8(target).map_err(|_| HttpError::BadTarget)?;
    let mut req = Request {
        method,
        target,
        path: "",
        query: None,
        minor,
        form: TargetForm::Origin,
        host: None,
        port: None,
        fields: &[],
        field_count: 0,
        head_len: 0,
    };
    let path_and_query = if target.starts_with('/') {
        target
    } else if target == "*" {
        if method != "OPTIONS" {
            return Err(HttpError::BadTarget);
        }
        req.path = target;
        req.form = TargetForm::Asterisk;
        return Ok(req);
    } else if method == "CONNECT" {
        // authority-form = uri-host ":" port (RFC 9112 §3.2.3).
        let (h, p) = split_authority(target).ok_or(HttpError::BadTarget)?;
        if h.is_empty() || p.is_none_or(str::is_empty) {
            return Err(HttpError::BadTarget);
        }
        req.host = Some(h);
        req.port = p;
        req.form = TargetForm::Authority;
        req.path = target.get(target.len()..).unwrap_or_default();
        return Ok(req);
    } else {
        // absolute-form: scheme "://" authority path-abempty ["?" query].
        let (scheme, rest) = target.split_once("://").ok_or(HttpError::BadTarget)?;
        let mut s = scheme.bytes();
        if !s.next().is_some_and(|b| b.is_ascii_alphabetic())
            || !s.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(HttpError::BadTarget);
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, pq) = rest.split_at_checked(end).ok_or(HttpError::BadTarget)?;
        if authority.contains('@') {
            return Err(HttpError::BadTarget);
        }
        let (h, p) = split_authority(authority).ok_or(HttpError::BadTarget)?;
        if h.is_empty() {
            return Err(HttpError::BadTarget);
        }
        req.host = Some(h);
        req.port = p;
        req.form = TargetForm::Absolute;
        pq
    };
    match path_and_query.split_once('?') {
        Some((path, query)) => {
            req.path = path;
            req.query = Some(query);
        }
        None => req.path = path_and_query,
    }
    Ok(req)
}

/// `uri-host [":" port]` (RFC 3986 §3.2.2, §3.2.3): the host (an IPv6 or
/// future literal in brackets, kept) and the port digits (at most 5).
/// `None` when malformed. The host may be empty.
fn split_authority(a: &str) -> Option<(&str, Option<&str>)> {
    let (host, rest) = if a.starts_with('[') {
        let close = a.find(']')?;
        let (host, rest) = a.split_at_checked(close + 1)?;
        let inner = host.get(1..close)?;
        let ok = |b: u8| b.is_ascii_alphanumeric() || b":.-_~%!$&'()*+,;=".contains(&b);
        if inner.is_empty() || !inner.bytes().all(ok) {
            return None;
        }
        (host, rest)
    } else {
        let end = a.find(':').unwrap_or(a.len());
        let (host, rest) = a.split_at_checked(end)?;
        let ok = |b: u8| b.is_ascii_alphanumeric() || b".-_~%!$&'()*+,;=".contains(&b);
        if !host.bytes().all(ok) {
            return None;
        }
        (host, rest)
    };
    let port = match rest.strip_prefix(':') {
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p),
        Some(_) => return None,
        None if rest.is_empty() => None,
        None => return None,
    };
    Some((host, port))
}

/// A field line: its name and its trimmed value.
fn field_line(line: &[u8], at: usize) -> Result<(&[u8], &[u8]), HttpError> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err(HttpError::ObsFold { at });
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HttpError::BadHeaderLine { at })?;
    let name = line.get(..colon).unwrap_or_default();
    if matches!(name.last(), Some(b' ' | b'\t')) {
        return Err(HttpError::SpaceBeforeColon { at });
    }
    if !is_token(name) {
        return Err(HttpError::BadHeaderLine { at });
    }
    let value = line.get(colon + 1..).unwrap_or_default();
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(HttpError::BadHeaderValue { at });
    }
    Ok((name, trim_ows(value)))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Captured from curl 7.88.1 (`curl http://198.18.0.1:8080/p`, in a
    /// network namespace).
    pub(crate) const CURL: &[u8] =
        b"GET /p HTTP/1.1\r\nHost: 198.18.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
    /// Captured from curl 7.88.1 through a proxy (`curl -x
    /// http://198.18.0.1:8080 'http://example.com/a/b?q=1'`): absolute-form.
    pub(crate) const CURL_PROXY: &[u8] = b"GET http://example.com/a/b?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n";

    fn complete(buf: &[u8]) -> Request<'_> {
        match parse_request(buf, 8192) {
            Ok(Parsed::Complete(r)) => r,
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(buf)),
        }
    }

    #[test]
    fn curl_request() {
        let r = complete(CURL);
        assert_eq!(
            (
                r.method(),
                r.target(),
                r.path(),
                r.query(),
                r.minor_version()
            ),
            ("GET", "/p", "/p", None, 1)
        );
        assert_eq!((r.host(), r.port()), (Some("198.18.0.1"), Some("8080")));
        assert_eq!(r.form(), TargetForm::Origin);
        assert_eq!(r.head_len(), CURL.len());
        assert_eq!(r.header_count(), 3);
        let h: Vec<_> = r.headers().collect();
        assert_eq!(
            h,
            [
                ("Host", &b"198.18.0.1:8080"[..]),
                ("User-Agent", b"curl/7.88.1"),
                ("Accept", b"*/*"),
            ]
        );
        assert_eq!(r.header("user-agent"), Some(&b"curl/7.88.1"[..]));
        assert_eq!(r.header("ACCEPT"), Some(&b"*/*"[..]));
        assert_eq!(r.header("Accept-Encoding"), None);
        assert!(r.has_header("accept") && !r.has_header("cookie"));
        assert!(r.header_value_is("accept", b"*/*"));
        assert!(!r.header_value_is("accept", b"*/* "));
        assert!(r.host_matches("198.18.0.1"));
        assert!(r.path_has_prefix("/") && r.path_has_prefix("/p") && !r.path_has_prefix("/pq"));

        // The brief's form of it, `curl -v http://h/p`.
        let r = complete(
            b"GET /p HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        );
        assert_eq!((r.host(), r.port(), r.path()), (Some("h"), None, "/p"));
    }

    #[test]
    fn curl_through_a_proxy_absolute_form() {
        let r = complete(CURL_PROXY);
        assert_eq!(r.form(), TargetForm::Absolute);
        assert_eq!(r.target(), "http://example.com/a/b?q=1");
        assert_eq!((r.path(), r.query()), ("/a/b", Some("q=1")));
        assert_eq!((r.host(), r.port()), (Some("example.com"), None));
        assert_eq!(r.header("proxy-connection"), Some(&b"Keep-Alive"[..]));
        assert!(r.path_has_prefix("/a/") && !r.path_has_prefix("/a/b?"));
        // The authority wins over the Host field (RFC 9112 §3.2.2).
        let r = complete(b"GET http://Www.Example.ORG:8001 HTTP/1.1\r\nHost: other\r\n\r\n");
        assert_eq!(
            (r.host(), r.port()),
            (Some("Www.Example.ORG"), Some("8001"))
        );
        assert_eq!((r.path(), r.query()), ("", None));
        assert!(r.path_has_prefix("/") && r.host_matches("www.example.org"));
        let r = complete(b"GET https://[2001:db8::1]:443?x HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!((r.host(), r.port()), (Some("[2001:db8::1]"), Some("443")));
        assert_eq!((r.path(), r.query()), ("", Some("x")));
    }

    /// RFC 9112 §3.2's examples of the four forms, and RFC 9110 §1.2's
    /// request; RFC 9112 §2.2's empty lines before the request line.
    #[test]
    fn rfc_examples() {
        let r = complete(b"GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
        assert_eq!(
            (r.path(), r.query(), r.host()),
            ("/where", Some("q=now"), Some("www.example.org"))
        );
        let r = complete(
            b"GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
        );
        assert_eq!(
            (r.host(), r.path()),
            (Some("www.example.org"), "/pub/WWW/TheProject.html")
        );
        let r =
            complete(b"CONNECT server.example.com:80 HTTP/1.1\r\nHost: server.example.com\r\n\r\n");
        assert_eq!(r.form(), TargetForm::Authority);
        assert_eq!(
            (r.host(), r.port(), r.path()),
            (Some("server.example.com"), Some("80"), "")
        );
        assert!(!r.path_has_prefix("/"));
        let r = complete(b"OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n");
        assert_eq!(r.form(), TargetForm::Asterisk);
        assert_eq!(
            (r.path(), r.host(), r.port()),
            ("*", Some("www.example.org"), Some("8001"))
        );
        let hello = b"GET /hello.txt HTTP/1.1\r\nUser-Agent: curl/7.64.1\r\nHost: www.example.com\r\nAccept-Language: en, mi\r\n\r\n";
        let r = complete(hello);
        assert_eq!(r.header("accept-language"), Some(&b"en, mi"[..]));
        assert_eq!(r.host(), Some("www.example.com"));
        let mut lead = b"\r\n\r\n".to_vec();
        lead.extend_from_slice(hello);
        let r = complete(&lead);
        assert_eq!((r.method(), r.head_len()), ("GET", lead.len()));
    }

    #[test]
    fn http_1_0_needs_no_host_and_empty_hosts_are_none() {
        let r = complete(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(
            (r.minor_version(), r.host(), r.header_count()),
            (0, None, 0)
        );
        assert!(!r.host_matches("") && !r.host_matches("*.com"));
        let r = complete(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
        assert_eq!(r.host(), None);
        let r = complete(b"GET / HTTP/1.1\r\nhOsT: \t[::1]:80 \t\r\nX: \r\n\r\n");
        assert_eq!((r.host(), r.port()), (Some("[::1]"), Some("80")));
        assert_eq!(r.header("x"), Some(&b""[..]));
        // Values keep obs-text and inner whitespace.
        let r = complete(b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a \xe9\tb\r\n\r\n");
        assert_eq!(r.header("x-a"), Some(&b"a \xe9\tb"[..]));
    }

    #[test]
    fn pipelined_request_is_not_read() {
        let mut two = CURL.to_vec();
        two.extend_from_slice(b"GET /second HTTP/1.1\r\nHost: other\r\n\r\nbody");
        let r = complete(&two);
        assert_eq!(
            (r.path(), r.host(), r.head_len()),
            ("/p", Some("198.18.0.1"), CURL.len())
        );
        assert_eq!(r.header_count(), 3);
        assert_eq!(r.headers().count(), 3);
        // Garbage after the head is not read either.
        let mut junk = CURL.to_vec();
        junk.extend_from_slice(b"\x00\xff\r\r\n");
        assert_eq!(complete(&junk), complete(CURL));
    }

    /// Every prefix of a good head is Incomplete; the whole is Complete.
    #[test]
    fn split_at_every_byte() {
        for req in [CURL, CURL_PROXY, b"GET / HTTP/1.0\r\n\r\n"] {
            for n in 0..req.len() {
                assert_eq!(
                    parse_request(&req[..n], 8192),
                    Ok(Parsed::Incomplete),
                    "{n}"
                );
            }
            assert!(matches!(parse_request(req, 8192), Ok(Parsed::Complete(_))));
        }
    }

    #[test]
    fn max_len() {
        let n = CURL.len();
        assert!(matches!(parse_request(CURL, n), Ok(Parsed::Complete(_))));
        assert_eq!(parse_request(CURL, n - 1), Err(HttpError::TooLong));
        assert_eq!(parse_request(&CURL[..n - 1], n), Ok(Parsed::Incomplete));
        assert_eq!(
            parse_request(&CURL[..n - 2], n - 2),
            Err(HttpError::TooLong)
        );
        assert_eq!(parse_request(b"", 0), Err(HttpError::TooLong));
        assert_eq!(parse_request(b"", 1), Ok(Parsed::Incomplete));
        // An error inside the limit is reported as itself.
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nA : b\r\n", 23),
            Err(HttpError::SpaceBeforeColon { at: 16 })
        );
    }

    #[test]
    fn too_many_headers() {
        let mut req = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 1..MAX_HEADERS {
            req.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        let r = complete(&req);
        assert_eq!(
            (r.header_count(), r.headers().count()),
            (MAX_HEADERS, MAX_HEADERS)
        );
        assert_eq!(r.header("x-63"), Some(&b"63"[..]));
        req.truncate(req.len() - 2);
        req.extend_from_slice(b"X-64: 64\r\n");
        assert_eq!(parse_request(&req, 8192), Err(HttpError::TooManyHeaders));
    }

    /// Malformed heads, each with its error (an ending `\r\n` is added).
    #[test]
    fn bad_requests() {
        use HttpError::*;
        let cases: &[(&[u8], HttpError)] = &[
            (b"GET / HTTP/1.1\nHost: h\r\n", BadLineEnding { at: 0 }),
            (b"GET / HTTP/1.1\r\nHost: h\n", BadLineEnding { at: 16 }),
            (
                b"GET / HTTP/1.1\r\nHost: h\rX: y\r\n",
                BadLineEnding { at: 16 },
            ),
            (b"GET /\rx", BadLineEnding { at: 0 }),
            (b"GET\r\n", BadRequestLine),
            (b"GET /\r\n", BadRequestLine),
            (b" GET / HTTP/1.1\r\n", BadMethod),
            (b"G(T / HTTP/1.1\r\n", BadMethod),
            (b"GET  / HTTP/1.1\r\n", BadTarget),
            (b"GET / HTTP/1.1 \r\n", BadVersion),
            (b"GET / http/1.1\r\n", BadVersion),
            (b"GET / HTTP/1.10\r\n", BadVersion),
            (b"GET / HTTP/1\r\n", BadVersion),
            (
                b"GET / HTTP/2.0\r\n",
                UnsupportedVersion { major: 2, minor: 0 },
            ),
            (
                b"GET / HTTP/0.9\r\n",
                UnsupportedVersion { major: 0, minor: 9 },
            ),
            (b"GET /\xc3\xa9 HTTP/1.1\r\n", BadTarget),
            (b"GET /a\x7f HTTP/1.1\r\n", BadTarget),
            (b"GET * HTTP/1.1\r\n", BadTarget),
            (b"GET example.com HTTP/1.1\r\n", BadTarget),
            (b"GET http://u@h/ HTTP/1.1\r\n", BadTarget),
            (b"GET http:///a HTTP/1.1\r\n", BadTarget),
            (b"GET http://h:8x/ HTTP/1.1\r\n", BadTarget),
            (b"GET 1http://h/ HTTP/1.1\r\n", BadTarget),
            (b"CONNECT h HTTP/1.1\r\n", BadTarget),
            (b"CONNECT h: HTTP/1.1\r\n", BadTarget),
            (b"CONNECT :80 HTTP/1.1\r\n", BadTarget),
            (
                b"GET / HTTP/1.1\r\nHost : h\r\n",
                SpaceBeforeColon { at: 16 },
            ),
            (
                b"GET / HTTP/1.1\r\nHost\t: h\r\n",
                SpaceBeforeColon { at: 16 },
            ),
            (
                b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n",
                ObsFold { at: 31 },
            ),
            (b"GET / HTTP/1.1\r\n\tHost: h\r\n", ObsFold { at: 16 }),
            (b"GET / HTTP/1.1\r\nHost h\r\n", BadHeaderLine { at: 16 }),
            (b"GET / HTTP/1.1\r\n: h\r\n", BadHeaderLine { at: 16 }),
            (b"GET / HTTP/1.1\r\nHo\"st: h\r\n", BadHeaderLine { at: 16 }),
            (
                b"GET / HTTP/1.1\r\nHost: h\x00\r\n",
                BadHeaderValue { at: 16 },
            ),
            (
                b"GET / HTTP/1.1\r\nHost: h\x7f\r\n",
                BadHeaderValue { at: 16 },
            ),
            (b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n", DuplicateHost),
            (
                b"GET http://h/ HTTP/1.0\r\nHost: a\r\nHOST: b\r\n",
                DuplicateHost,
            ),
            (b"GET / HTTP/1.1\r\nX: y\r\n", MissingHost),
            (b"GET / HTTP/1.1\r\nHost: a b\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: a:b\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: a:123456\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: [::1\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: []\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: [::1]x\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: u@h\r\n", BadHost),
            (b"GET / HTTP/1.1\r\nHost: h\xe9\r\n", BadHost),
            // An absolute-form request's Host field must still be valid.
            (b"GET http://h/ HTTP/1.1\r\nHost: a/b\r\n", BadHost),
        ];
        for (head, err) in cases {
            let mut buf = head.to_vec();
            buf.extend_from_slice(b"\r\n");
            assert_eq!(
                parse_request(&buf, 8192),
                Err(*err),
                "{:?}",
                String::from_utf8_lossy(head)
            );
            // The error does not wait for the end of the head, except
            // those that need all of it.
            if !matches!(
                err,
                DuplicateHost | MissingHost | BadHost | BadLineEnding { .. }
            ) {
                assert_eq!(
                    parse_request(head, 8192),
                    Err(*err),
                    "{:?}",
                    String::from_utf8_lossy(head)
                );
            }
        }
    }

    #[test]
    fn counter_names() {
        use HttpError::*;
        let all = [
            TooLong,
            BadLineEnding { at: 0 },
            BadRequestLine,
            BadMethod,
            BadTarget,
            BadVersion,
            UnsupportedVersion { major: 2, minor: 0 },
            BadHeaderLine { at: 0 },
            SpaceBeforeColon { at: 0 },
            ObsFold { at: 0 },
            BadHeaderValue { at: 0 },
            TooManyHeaders,
            DuplicateHost,
            MissingHost,
            BadHost,
        ];
        let names: Vec<_> = all.iter().map(HttpError::as_str).collect();
        assert_eq!(names, HttpError::NAMES);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
    }

    /// A head from parts that are each valid, joined as RFC 9112 says.
    fn any_head() -> impl Strategy<Value = (Vec<u8>, String, String, String)> {
        (
            "[A-Z]{1,8}",
            "(/[a-zA-Z0-9._~%-]{0,8}){1,4}(\\?[a-z=&]{0,8})?",
            "[a-z0-9]{1,8}(\\.[a-z0-9]{1,8}){0,3}",
            proptest::collection::vec(("[A-Za-z0-9-]{1,12}", "[ -~]{0,16}"), 0..10),
        )
            .prop_map(|(method, target, host, fields)| {
                let mut b = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
                for (n, v) in &fields {
                    if !n.eq_ignore_ascii_case("host") {
                        b.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
                    }
                }
                b.extend_from_slice(b"\r\n");
                (b, method, target, host)
            })
    }

    fn within(outer: &[u8], inner: &[u8]) -> bool {
        let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
        i >= o && i + inner.len() <= o + outer.len()
    }

    /// Every slice a Request gives is inside the input's head.
    fn check_slices(buf: &[u8], r: &Request<'_>) -> Result<(), TestCaseError> {
        let head = &buf[..r.head_len()];
        prop_assert!(within(head, r.method().as_bytes()));
        prop_assert!(within(head, r.target().as_bytes()));
        prop_assert!(within(head, r.path().as_bytes()));
        for s in [r.query(), r.host(), r.port()].into_iter().flatten() {
            prop_assert!(within(head, s.as_bytes()));
        }
        let mut n = 0;
        for (name, value) in r.headers() {
            prop_assert!(within(head, name.as_bytes()) && within(head, value));
            prop_assert_eq!(r.header(name).is_some(), true);
            n += 1;
        }
        prop_assert_eq!(n, r.header_count());
        Ok(())
    }

    proptest! {
        #[test]
        fn good_heads_parse_and_every_prefix_waits(
            (head, method, target, host) in any_head(),
            tail in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let mut buf = head.clone();
            buf.extend_from_slice(&tail);
            let Ok(Parsed::Complete(r)) = parse_request(&buf, head.len()) else {
                return Err(TestCaseError::fail("not complete"));
            };
            prop_assert_eq!(r.head_len(), head.len());
            prop_assert_eq!(r.method(), method.as_str());
            prop_assert_eq!(r.target(), target.as_str());
            prop_assert_eq!(r.host(), Some(host.as_str()));
            prop_assert!(r.host_matches(&host.to_uppercase()));
            prop_assert!(r.path_has_prefix(r.path()));
            prop_assert!(target.starts_with(r.path()));
            check_slices(&buf, &r)?;
            for n in 0..head.len() {
                prop_assert_eq!(parse_request(&head[..n], head.len()), Ok(Parsed::Incomplete));
            }
            prop_assert_eq!(parse_request(&buf, head.len() - 1), Err(HttpError::TooLong));
        }

        /// Any bytes, any limit: no panic; a Complete head lies within
        /// the limit and its slices within it; a prefix of the input is
        /// Incomplete or reads the same (an error or the same head).
        #[test]
        fn any_bytes(
            buf in proptest::collection::vec(any::<u8>(), 0..200),
            max in 0usize..256,
            cut in any::<prop::sample::Index>(),
        ) {
            let whole = parse_request(&buf, max);
            if let Ok(Parsed::Complete(r)) = &whole {
                prop_assert!(r.head_len() <= max.min(buf.len()));
                check_slices(&buf, r)?;
            }
            let n = cut.index(buf.len() + 1);
            let part = parse_request(&buf[..n], max);
            if part != Ok(Parsed::Incomplete) && whole != Err(HttpError::TooLong) {
                prop_assert_eq!(part, whole);
            }
        }

        /// Request-shaped bytes (a good line, then random field bytes from
        /// a small alphabet) reach the field checks.
        #[test]
        fn request_shaped(
            fields in proptest::collection::vec(
                prop::sample::select(&b"Hh:ost \t\r\nX-a\x00\x80[]1"[..]), 0..120),
        ) {
            let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
            buf.extend_from_slice(&fields);
            if let Ok(Parsed::Complete(r)) = parse_request(&buf, 4096) {
                check_slices(&buf, &r)?;
                prop_assert!(r.host().is_none() || r.has_header("host"));
            }
        }
    }
}
