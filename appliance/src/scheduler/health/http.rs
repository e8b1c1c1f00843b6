//! `http` checks: a tiny client-side TCP in the probe machinery, and the
//! HTTP/1.1 request and response logic on top of it. Pure: segments in,
//! segments out, a verdict; `http_answer.rs` feeds it the server's
//! segments, `probes.rs` puts its own on the wire.
//!
//! Why a TCP of slbd's own rather than a kernel socket through an
//! exception path: slbd's ports belong to DPDK, so the kernel has neither
//! the address nor the route; a kernel socket would need a tap device per
//! port, addresses and neighbours kept in step with the configuration,
//! and a second thread for blocking I/O. The probe's TCP needs only the
//! client side of one short exchange, and the SYN probe already opens it.
//!
//! The exchange, with the bounds that keep it cheap:
//! - slbd sends the SYN of the `tcp` probe (no options: the server assumes
//!   MSS 536, RFC 9293 section 3.7.1).
//! - On the SYN-ACK (its ACK must be ISS + 1), one segment `ACK|PSH` with
//!   the whole request (under 536 bytes by the configuration's limits).
//! - In-order data is taken up to [`HttpCheck::MAX_RESPONSE`] bytes (4 KiB)
//!   and acknowledged; the advertised window is what is left of that, so
//!   the server sends no more. Out-of-order data is ignored (not
//!   acknowledged): the server resends it.
//! - As soon as the status line settles the check (a status outside the
//!   range, or inside it with no body text to look for), or the body text
//!   is found, or the response ends (FIN) or reaches the bound: the
//!   verdict, and a RST that frees the server's connection.
//! - No retransmission: a lost SYN, request or response segment means the
//!   probe times out, and rise/fall absorbs it like any failed probe. On
//!   the timeout an established connection is reset.
//!
//! Memory: one [`Conn`] per probe in flight (at most one per server),
//! holding at most 4 KiB of response. Work: one pass over the collected
//! bytes per segment received. The scheduler never waits: every step is
//! taken when a segment arrives or when the monitor polls.

use slb_config::HttpCheck;
use slb_wire::TcpFlags;

/// A TCP segment from the server.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub payload: &'a [u8],
}

/// A TCP segment for slbd to send to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub payload: Vec<u8>,
}

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
pub fn judge(h: &HttpCheck, response: &[u8], complete: bool) -> Option<Result<String, String>> {
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

/// One probe's connection, from slbd's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    /// Our initial sequence number (the SYN's).
    iss: u32,
    /// Set once the SYN-ACK came: the next byte we send, the next we expect.
    established: Option<(u32, u32)>,
    response: Vec<u8>,
}

impl Conn {
    pub fn new(iss: u32) -> Conn {
        Conn {
            iss,
            established: None,
            response: Vec::new(),
        }
    }

    /// Takes a segment of the server's; pushes what to send back. Returns
    /// the verdict once there is one (`Err` with why it failed); `None`
    /// while the exchange goes on or when the segment is not part of it.
    pub fn on_segment(
        &mut self,
        h: &HttpCheck,
        seg: &Segment,
        out: &mut Vec<Send>,
    ) -> Option<Result<String, String>> {
        let Some((snd_nxt, rcv_nxt)) = self.established else {
            if seg.flags.rst() && seg.flags.ack() && seg.ack == self.iss.wrapping_add(1) {
                return Some(Err("rst".into()));
            }
            if !(seg.flags.syn() && seg.flags.ack()) || seg.ack != self.iss.wrapping_add(1) {
                return None;
            }
            let req = request(h);
            let snd = self.iss.wrapping_add(1);
            let rcv = seg.seq.wrapping_add(1);
            out.push(self.send(TcpFlags::ACK | TcpFlags::PSH, snd, rcv, req.clone()));
            self.established = Some((snd.wrapping_add(req.len() as u32), rcv));
            return None;
        };
        let room = HttpCheck::MAX_RESPONSE - self.response.len();
        if seg.flags.rst() {
            // In the window we offered (RFC 9293 section 3.10.7.4).
            let off = seg.seq.wrapping_sub(rcv_nxt) as usize;
            return (off <= room).then(|| Err("rst".into()));
        }
        if seg.flags.syn() || seg.seq != rcv_nxt || (seg.payload.is_empty() && !seg.flags.fin()) {
            return None;
        }
        let take = seg.payload.len().min(room);
        self.response.extend_from_slice(&seg.payload[..take]);
        let fin = seg.flags.fin() && take == seg.payload.len();
        let rcv = rcv_nxt.wrapping_add(take as u32 + u32::from(fin));
        self.established = Some((snd_nxt, rcv));
        let complete = fin || self.response.len() == HttpCheck::MAX_RESPONSE;
        match judge(h, &self.response, complete) {
            Some(v) => {
                out.push(self.send(TcpFlags::RST, snd_nxt, 0, Vec::new()));
                Some(v)
            }
            None => {
                out.push(self.send(TcpFlags::ACK, snd_nxt, rcv, Vec::new()));
                None
            }
        }
    }

    /// The RST that ends an established connection (on a timeout).
    pub fn abort(&self) -> Option<Send> {
        let (snd_nxt, _) = self.established?;
        Some(self.send(TcpFlags::RST, snd_nxt, 0, Vec::new()))
    }

    fn send(&self, flags: TcpFlags, seq: u32, ack: u32, payload: Vec<u8>) -> Send {
        let window = if flags.ack() {
            (HttpCheck::MAX_RESPONSE - self.response.len()) as u16
        } else {
            0
        };
        Send {
            flags,
            seq,
            ack,
            window,
            payload,
        }
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

    const ISS: u32 = 0x5b5b_0001;
    pub(crate) const IRS: u32 = 7000;

    fn seg(flags: TcpFlags, seq: u32, payload: &[u8]) -> Segment<'_> {
        Segment {
            flags,
            seq,
            ack: ISS + 1,
            payload,
        }
    }

    /// A connection past the SYN-ACK; the request it sent.
    fn established(h: &HttpCheck) -> (Conn, Send) {
        let mut c = Conn::new(ISS);
        let mut out = Vec::new();
        let v = c.on_segment(h, &seg(TcpFlags::SYN | TcpFlags::ACK, IRS, b""), &mut out);
        assert_eq!(v, None);
        let [req] = &out[..] else { panic!("{out:?}") };
        (c, req.clone())
    }

    #[test]
    fn the_syn_ack_is_answered_with_the_request_in_one_segment() {
        let h = check(None);
        let (_, req) = established(&h);
        assert_eq!(
            req,
            Send {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: ISS + 1,
                ack: IRS + 1,
                window: 4096,
                payload: request(&h),
            }
        );
        // A SYN-ACK for another ISS is not ours.
        let mut c = Conn::new(ISS);
        let mut out = Vec::new();
        let mut s = seg(TcpFlags::SYN | TcpFlags::ACK, IRS, b"");
        s.ack = ISS + 2;
        assert_eq!(c.on_segment(&h, &s, &mut out), None);
        assert!(out.is_empty());
        // A RST to the SYN: nothing listens.
        let v = c.on_segment(&h, &seg(TcpFlags::RST | TcpFlags::ACK, 0, b""), &mut out);
        assert_eq!(v, Some(Err("rst".into())));
    }

    #[test]
    fn in_order_data_is_acknowledged_until_the_verdict_then_reset() {
        let h = check(Some("all ok"));
        let (mut c, req) = established(&h);
        let snd = ISS + 1 + req.payload.len() as u32;
        let mut out = Vec::new();
        let head = b"HTTP/1.1 200 OK\r\n";
        let v = c.on_segment(&h, &seg(TcpFlags::ACK, IRS + 1, head), &mut out);
        assert_eq!(v, None, "the body text is still to come");
        let rcv = IRS + 1 + head.len() as u32;
        assert_eq!(
            out.pop(),
            Some(Send {
                flags: TcpFlags::ACK,
                seq: snd,
                ack: rcv,
                window: 4096 - head.len() as u16,
                payload: vec![],
            })
        );
        // Out of order (a segment lost before it): ignored, not acknowledged.
        let v = c.on_segment(&h, &seg(TcpFlags::ACK, rcv + 10, b"all ok"), &mut out);
        assert_eq!((v, out.len()), (None, 0));
        // A pure ACK of the request: nothing to do.
        let v = c.on_segment(&h, &seg(TcpFlags::ACK, rcv, b""), &mut out);
        assert_eq!((v, out.len()), (None, 0));
        let v = c.on_segment(&h, &seg(TcpFlags::ACK, rcv, b"\r\nall ok"), &mut out);
        assert_eq!(v, Some(Ok("status 200".into())));
        assert_eq!(
            out,
            vec![Send {
                flags: TcpFlags::RST,
                seq: snd,
                ack: 0,
                window: 0,
                payload: vec![],
            }]
        );
    }

    #[test]
    fn fin_ends_the_response_and_the_bound_is_kept() {
        let h = check(Some("never there"));
        let (mut c, _) = established(&h);
        let mut out = Vec::new();
        let body = b"HTTP/1.1 200 OK\r\n\r\nsomething else";
        let v = c.on_segment(
            &h,
            &seg(TcpFlags::ACK | TcpFlags::FIN, IRS + 1, body),
            &mut out,
        );
        assert_eq!(v, Some(Err("status 200, body without the text".into())));
        // 4 KiB at most: a longer response is judged on its first 4096 bytes.
        let (mut c, _) = established(&h);
        let mut big = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big.resize(3000, b'x');
        out.clear();
        assert_eq!(
            c.on_segment(&h, &seg(TcpFlags::ACK, IRS + 1, &big), &mut out),
            None
        );
        let more = [b'y'; 3000];
        let v = c.on_segment(&h, &seg(TcpFlags::ACK, IRS + 3001, &more), &mut out);
        assert_eq!(v, Some(Err("status 200, body without the text".into())));
        assert_eq!(c.response.len(), HttpCheck::MAX_RESPONSE);
    }

    #[test]
    fn a_reset_in_the_window_fails_the_check_and_abort_resets_an_open_connection() {
        let h = check(None);
        let (mut c, req) = established(&h);
        let mut out = Vec::new();
        // Far outside the window: ignored (blind reset).
        assert_eq!(
            c.on_segment(&h, &seg(TcpFlags::RST, IRS + 100_000, b""), &mut out),
            None
        );
        let v = c.on_segment(&h, &seg(TcpFlags::RST, IRS + 1, b""), &mut out);
        assert_eq!(v, Some(Err("rst".into())));
        assert!(out.is_empty(), "no answer to a reset");
        let snd = ISS + 1 + req.payload.len() as u32;
        assert_eq!(
            c.abort().map(|s| (s.flags, s.seq)),
            Some((TcpFlags::RST, snd))
        );
        assert_eq!(
            Conn::new(ISS).abort(),
            None,
            "nothing to reset before the SYN-ACK"
        );
    }
}
