//! A tiny client-side TCP for the probes that need a stream (`http`,
//! `tls`): the client side of one short exchange, in the probe machinery.
//! Pure: segments in, segments out, a verdict; `stream_answer.rs` feeds it
//! the server's segments, `probes.rs` puts its own on the wire. What runs
//! over it is an [`App`] (`http.rs`, `tls.rs`).
//!
//! Why a TCP of slbd's own rather than a kernel socket through an
//! exception path: slbd's ports belong to DPDK, so the kernel has neither
//! the address nor the route; a kernel socket would need a tap device per
//! port, addresses and neighbours kept in step with the configuration,
//! and a second thread for blocking I/O. A probe's TCP needs only the
//! client side of one short exchange, and the SYN probe already opens it.
//!
//! The exchange, with the bounds that keep it cheap:
//! - slbd sends the SYN of the `tcp` probe (no options: the server assumes
//!   MSS 536, RFC 9293 section 3.7.1, so slbd sends at most [`MSS`] bytes a
//!   segment).
//! - On the SYN-ACK (its ACK must be ISS + 1), the app's first bytes (the
//!   HTTP request, the TLS ClientHello).
//! - In-order data is taken up to the app's bound (4 KiB for `http`,
//!   16 KiB for `tls`) and acknowledged, with what the app answers; the
//!   advertised window is what is left of the bound, so the server sends
//!   no more. Out-of-order data is ignored (not acknowledged).
//! - Once the app has its verdict: a RST that frees the server's
//!   connection. A RST from the server within the window is a failure.
//! - No retransmission: a lost segment either way means the probe times
//!   out, and rise/fall absorbs it like any failed probe. On the timeout
//!   an established connection is reset.
//!
//! Memory: one [`Conn`] per probe in flight (at most one per server) and
//! what its app keeps (at most its bound). The scheduler never waits:
//! every step is taken when a segment arrives or when the monitor polls.

use slb_wire::TcpFlags;

/// The most slbd sends in one segment: the MSS a server assumes without
/// the option (RFC 9293 section 3.7.1).
pub const MSS: usize = 536;

/// A success (what it was, like `status 200`) or why the check failed.
pub type Verdict = Result<String, String>;

/// What runs over a probe's stream.
pub trait App: std::fmt::Debug + std::marker::Send {
    /// The first bytes to send, once connected.
    fn start(&mut self, out: &mut Vec<u8>);
    /// In-order bytes from the server; `complete`: nothing more will come
    /// (FIN, or the bound reached). Bytes to send back go to `out`.
    fn received(&mut self, data: &[u8], complete: bool, out: &mut Vec<u8>) -> Option<Verdict>;
    /// How many bytes of the server's to read at most.
    fn bound(&self) -> usize;
}

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

/// One probe's connection, from slbd's side.
#[derive(Debug)]
pub struct Conn {
    /// Our initial sequence number (the SYN's).
    iss: u32,
    /// Set once the SYN-ACK came: the next byte we send, the next we expect.
    established: Option<(u32, u32)>,
    /// Bytes of the server's taken so far.
    received: usize,
    app: Box<dyn App>,
}

impl Conn {
    pub fn new(iss: u32, app: Box<dyn App>) -> Conn {
        Conn {
            iss,
            established: None,
            received: 0,
            app,
        }
    }

    /// Takes a segment of the server's; pushes what to send back. Returns
    /// the verdict once there is one; `None` while the exchange goes on or
    /// when the segment is not part of it.
    pub fn on_segment(&mut self, seg: &Segment, out: &mut Vec<Send>) -> Option<Verdict> {
        let Some((snd_nxt, rcv_nxt)) = self.established else {
            if seg.flags.rst() && seg.flags.ack() && seg.ack == self.iss.wrapping_add(1) {
                return Some(Err("rst".into()));
            }
            if !(seg.flags.syn() && seg.flags.ack()) || seg.ack != self.iss.wrapping_add(1) {
                return None;
            }
            let mut data = Vec::new();
            self.app.start(&mut data);
            let rcv = seg.seq.wrapping_add(1);
            let snd = self.send_data(self.iss.wrapping_add(1), rcv, &data, out);
            self.established = Some((snd, rcv));
            return None;
        };
        let room = self.app.bound() - self.received;
        if seg.flags.rst() {
            // In the window we offered (RFC 9293 section 3.10.7.4).
            let off = seg.seq.wrapping_sub(rcv_nxt) as usize;
            return (off <= room).then(|| Err("rst".into()));
        }
        if seg.flags.syn() || seg.seq != rcv_nxt || (seg.payload.is_empty() && !seg.flags.fin()) {
            return None;
        }
        let take = seg.payload.len().min(room);
        self.received += take;
        let fin = seg.flags.fin() && take == seg.payload.len();
        let rcv = rcv_nxt.wrapping_add(take as u32 + u32::from(fin));
        let complete = fin || self.received == self.app.bound();
        let mut data = Vec::new();
        let verdict = self.app.received(&seg.payload[..take], complete, &mut data);
        let snd = self.send_data(snd_nxt, rcv, &data, out);
        self.established = Some((snd, rcv));
        match verdict {
            Some(v) => {
                out.push(self.send(TcpFlags::RST, snd, 0, Vec::new()));
                Some(v)
            }
            None => {
                if data.is_empty() {
                    out.push(self.send(TcpFlags::ACK, snd, rcv, Vec::new()));
                }
                None
            }
        }
    }

    /// Pushes `data` from `seq` in segments of at most [`MSS`] bytes, the
    /// last with PSH; returns the next sequence number.
    fn send_data(&self, mut seq: u32, ack: u32, data: &[u8], out: &mut Vec<Send>) -> u32 {
        let chunks = data.chunks(MSS);
        let n = chunks.len();
        for (i, c) in chunks.enumerate() {
            let flags = if i + 1 == n {
                TcpFlags::ACK | TcpFlags::PSH
            } else {
                TcpFlags::ACK
            };
            out.push(self.send(flags, seq, ack, c.to_vec()));
            seq = seq.wrapping_add(c.len() as u32);
        }
        seq
    }

    /// The RST that ends an established connection (on a timeout).
    pub fn abort(&self) -> Option<Send> {
        let (snd_nxt, _) = self.established?;
        Some(self.send(TcpFlags::RST, snd_nxt, 0, Vec::new()))
    }

    fn send(&self, flags: TcpFlags, seq: u32, ack: u32, payload: Vec<u8>) -> Send {
        let window = if flags.ack() {
            (self.app.bound() - self.received).min(usize::from(u16::MAX)) as u16
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
    use crate::scheduler::health::http::tests::check;
    use crate::scheduler::health::http::{request, HttpApp};
    use slb_config::HttpCheck;

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

    fn conn(h: &HttpCheck) -> Conn {
        Conn::new(ISS, Box::new(HttpApp::new(h.clone())))
    }

    /// A connection past the SYN-ACK; the request it sent.
    fn established(h: &HttpCheck) -> (Conn, Send) {
        let mut c = conn(h);
        let mut out = Vec::new();
        let v = c.on_segment(&seg(TcpFlags::SYN | TcpFlags::ACK, IRS, b""), &mut out);
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
        let mut c = conn(&h);
        let mut out = Vec::new();
        let mut s = seg(TcpFlags::SYN | TcpFlags::ACK, IRS, b"");
        s.ack = ISS + 2;
        assert_eq!(c.on_segment(&s, &mut out), None);
        assert!(out.is_empty());
        // A RST to the SYN: nothing listens.
        let v = c.on_segment(&seg(TcpFlags::RST | TcpFlags::ACK, 0, b""), &mut out);
        assert_eq!(v, Some(Err("rst".into())));
    }

    #[test]
    fn in_order_data_is_acknowledged_until_the_verdict_then_reset() {
        let h = check(Some("all ok"));
        let (mut c, req) = established(&h);
        let snd = ISS + 1 + req.payload.len() as u32;
        let mut out = Vec::new();
        let head = b"HTTP/1.1 200 OK\r\n";
        let v = c.on_segment(&seg(TcpFlags::ACK, IRS + 1, head), &mut out);
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
        let v = c.on_segment(&seg(TcpFlags::ACK, rcv + 10, b"all ok"), &mut out);
        assert_eq!((v, out.len()), (None, 0));
        // A pure ACK of the request: nothing to do.
        let v = c.on_segment(&seg(TcpFlags::ACK, rcv, b""), &mut out);
        assert_eq!((v, out.len()), (None, 0));
        let v = c.on_segment(&seg(TcpFlags::ACK, rcv, b"\r\nall ok"), &mut out);
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
        let v = c.on_segment(&seg(TcpFlags::ACK | TcpFlags::FIN, IRS + 1, body), &mut out);
        assert_eq!(v, Some(Err("status 200, body without the text".into())));
        // 4 KiB at most: a longer response is judged on its first 4096 bytes.
        let (mut c, _) = established(&h);
        let mut big = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big.resize(3000, b'x');
        out.clear();
        assert_eq!(
            c.on_segment(&seg(TcpFlags::ACK, IRS + 1, &big), &mut out),
            None
        );
        let more = [b'y'; 3000];
        let v = c.on_segment(&seg(TcpFlags::ACK, IRS + 3001, &more), &mut out);
        assert_eq!(v, Some(Err("status 200, body without the text".into())));
        assert_eq!(c.received, HttpCheck::MAX_RESPONSE);
    }

    #[test]
    fn a_reset_in_the_window_fails_the_check_and_abort_resets_an_open_connection() {
        let h = check(None);
        let (mut c, req) = established(&h);
        let mut out = Vec::new();
        // Far outside the window: ignored (blind reset).
        assert_eq!(
            c.on_segment(&seg(TcpFlags::RST, IRS + 100_000, b""), &mut out),
            None
        );
        let v = c.on_segment(&seg(TcpFlags::RST, IRS + 1, b""), &mut out);
        assert_eq!(v, Some(Err("rst".into())));
        assert!(out.is_empty(), "no answer to a reset");
        let snd = ISS + 1 + req.payload.len() as u32;
        assert_eq!(
            c.abort().map(|s| (s.flags, s.seq)),
            Some((TcpFlags::RST, snd))
        );
        assert_eq!(
            conn(&h).abort(),
            None,
            "nothing to reset before the SYN-ACK"
        );
    }
}
