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
//! `example.com` (exact) or `*.example.com` (a wildcard suffix: one or more
//! whole labels before `.example.com`, as nginx's `server_name`, not
//! RFC 6125's single label; never the bare `example.com`), ASCII
//! case-insensitive, port and one trailing dot of the host ignored.
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

    /// Whether the host matches `pattern` (module doc): `example.com`
    /// exactly, or `*.example.com`, a host ending in `.example.com` with at
    /// least one label before it. ASCII case-insensitive; one trailing dot
    /// of the host (a fully qualified name) is ignored. No host, no match.
    pub fn host_matches(&self, pattern: &str) -> bool {
        self.host.is_some_and(|h| host_matches(h, pattern))
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

/// Whether `host` (port stripped) matches `pattern`: [`Request::host_matches`].
pub fn host_matches(host: &str, pattern: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return !host.is_empty() && host.eq_ignore_ascii_case(pattern);
    };
    // One or more labels, a dot, the suffix; an IP literal has no labels.
    let Some(dot) = host.len().checked_sub(suffix.len() + 1) else {
        return false;
    };
    !suffix.is_empty()
        && !host.starts_with('[')
        && dot > 0
        && host.as_bytes().get(dot) == Some(&b'.')
        && host
            .get(dot + 1..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
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
    if target.is_empty() || !target.iter().all(|&b| is_vchar(b)) {
        return Err(HttpError::BadTarget);
    }
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
