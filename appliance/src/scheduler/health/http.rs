//! `http` checks: the HTTP/1.1 request and the judgement of the response,
//! run over the probe's own TCP (`stream.rs`) as an [`App`]. Pure.
//!
//! The request fits one segment (the configuration's limits keep it under
//! 536 bytes); at most [`HttpCheck::MAX_RESPONSE`] bytes (4 KiB) of the
//! response are read. The verdict comes as soon as the status line
//! settles it (a status outside the range, or inside it with no body text
//! to look for), or the body text is found, or the response ends (FIN) or
//! reaches the bound. The body text is looked for in the bytes as
//! received (headers included; a chunked body's chunk boundaries too).

use super::stream::{App, Verdict};
use slb_config::HttpCheck;

/// The request of check `h`: everything the server needs and nothing it
/// may keep the connection open for.
pub fn request(h: &HttpCheck) -> Vec<u8> {
    format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: slbd-health\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        h.method, h.path, h.host
    )
    .into_bytes()
}

/// The verdict on the response received so far; `None`: need more.
/// `complete`: nothing more will come (FIN, or the bound reached).
pub fn judge(h: &HttpCheck, response: &[u8], complete: bool) -> Option<Verdict> {
    let Some(end) = find(response, b"\r\n") else {
        return complete.then(|| Err("no status line".into()));
    };
    let Some(status) = status_code(&response[..end]) else {
        return Some(Err("malformed status line".into()));
    };
    if !(h.status.0..=h.status.1).contains(&status) {
        return Some(Err(format!("status {status}")));
    }
    match &h.body {
        None => Some(Ok(format!("status {status}"))),
        Some(text) if find(response, text.as_bytes()).is_some() => {
            Some(Ok(format!("status {status}")))
        }
        Some(_) if complete => Some(Err(format!("status {status}, body without the text"))),
        Some(_) => None,
    }
}

/// `HTTP/1.1 200 OK` (RFC 9112 section 4): the three-digit code.
fn status_code(line: &[u8]) -> Option<u16> {
    let rest = line
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| line.strip_prefix(b"HTTP/1.0 "))?;
    let digits = rest.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|&b| b != b' ') {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An `http` check over a probe's stream.
#[derive(Debug)]
pub struct HttpApp {
    check: HttpCheck,
    response: Vec<u8>,
}

impl HttpApp {
    pub fn new(check: HttpCheck) -> HttpApp {
        HttpApp {
            check,
            response: Vec::new(),
        }
    }
}

impl App for HttpApp {
    fn start(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&request(&self.check));
    }

    fn received(&mut self, data: &[u8], complete: bool, _out: &mut Vec<u8>) -> Option<Verdict> {
        self.response.extend_from_slice(data);
        judge(&self.check, &self.response, complete)
    }

    fn bound(&self) -> usize {
        HttpCheck::MAX_RESPONSE
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn check(body: Option<&str>) -> HttpCheck {
        HttpCheck {
            port: 80,
            method: "GET".into(),
            path: "/healthz".into(),
            host: "www.example.test".into(),
            status: (200, 399),
            body: body.map(str::to_string),
        }
    }

    #[test]
    fn the_request() {
        assert_eq!(
            request(&check(None)),
            b"GET /healthz HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: slbd-health\r\n\
              Accept: */*\r\nConnection: close\r\n\r\n"
        );
        // The largest the configuration allows fits the smallest MSS.
        let big = HttpCheck {
            method: "M".repeat(16),
            path: format!("/{}", "p".repeat(HttpCheck::MAX_PATH - 1)),
            host: "h".repeat(HttpCheck::MAX_HOST),
            ..check(None)
        };
        assert!(request(&big).len() <= 536, "{}", request(&big).len());
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK"), Some(200));
        assert_eq!(status_code(b"HTTP/1.0 503 Service Unavailable"), Some(503));
        assert_eq!(status_code(b"HTTP/1.1 204"), Some(204));
        assert_eq!(status_code(b"HTTP/1.1 2000 OK"), None);
        assert_eq!(status_code(b"HTTP/1.1 2x0 OK"), None);
        assert_eq!(status_code(b"HTTP/2 200"), None);
        assert_eq!(status_code(b"SSH-2.0-OpenSSH"), None);
    }

    #[test]
    fn judging_responses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nall ok\n";
        let h = check(None);
        assert_eq!(judge(&h, b"HTTP/1.1 2", false), None);
        assert_eq!(
            judge(&h, b"HTTP/1.1 2", true),
            Some(Err("no status line".into()))
        );
        assert_eq!(judge(&h, ok, false), Some(Ok("status 200".into())));
        assert_eq!(
            judge(&h, b"HTTP/1.1 503 Busy\r\n", false),
            Some(Err("status 503".into()))
        );
        assert_eq!(
            judge(&h, b"HTTP/1.1 OK\r\n", false),
            Some(Err("malformed status line".into()))
        );
        let h = check(Some("all ok"));
        assert_eq!(judge(&h, &ok[..30], false), None);
        assert_eq!(judge(&h, ok, false), Some(Ok("status 200".into())));
        assert_eq!(
            judge(&h, &ok[..30], true),
            Some(Err("status 200, body without the text".into()))
        );
        // The status decides first: a 500 with the text is down.
        assert_eq!(
            judge(&h, b"HTTP/1.1 500 x\r\n\r\nall ok", false),
            Some(Err("status 500".into()))
        );
    }
}
