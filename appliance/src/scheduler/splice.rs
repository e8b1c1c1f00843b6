//! Delayed binding on the scheduler (`syn_proxy` services): the
//! handshake's ACK with a valid cookie binds the session, and slbd makes
//! the server's handshake itself before it lets the client through.
//!
//! ```text
//!  client            worker                 scheduler                server (+agent)
//!    | SYN ------------> |                        |                        |
//!    | <-- SYN-ACK (seq = cookie)                 |                        |
//!    | ACK (ack = cookie+1) ------------------->  | cookie valid: admit,   |
//!    |                   |                        | labels N/N+1 (no entry |
//!    |                   |                        | in any table yet)      |
//!    |                   |                        | SYN (client's ISN and  |
//!    |                   |                        | options), label N, TC 1 ---------> |
//!    | data ------------ (no flow: punted) ---->  | held, unacknowledged   |
//!    |                   |                        | <--------- SYN-ACK, label N+1      |
//!    |                   |                        | consumed; entries and  |
//!    |                   |                        | flow installed;        |
//!    |                   |                        | the ACK replayed,      |
//!    |                   |                        | label N, TC 1 -------------------> | agent learns
//!    |                   |                        | held data, label N ---------------> | the deltas
//!    | <===================== switched by label only from here on =====================> |
//! ```
//!
//! The agent on the server translates every later segment (seq and
//! timestamps one way, ack, TSecr and SACK blocks the other: docs/agent.md
//! "Splicing"). The mark (MPLS traffic class 1) is what it learns from,
//! never an ordinary first ACK; workers clear the traffic class of every
//! client frame they switch, so only slbd can send it.
//!
//! Bounded (`splice_state.rs`): at most `PENDING_MAX` handshakes wait for
//! their servers, each holding at most `HELD_MAX` client frames (the
//! cookie SYN-ACK advertised a window of four segments). A server that
//! does not answer gets the SYN again every `RETRY_NS`, `TRIES` times in
//! all; then, or when it answers with a reset, the client is reset and the
//! session ends.

use super::splice_state::{
    Pending, CHECK_NS, HELD_MAX, PENDING_MAX, REPLAYED_MAX, RETRY_NS, TRIES,
};
use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_core::service::{NewPacketOutcome, PacketInfo};
use slb_core::session::{SessionKey, TcpFlags as CoreFlags};
use slb_core::BoundBy;
use slb_wire::classify::IpFrame;
use slb_wire::syn_cookie::replay::{self, AckInfo, ServerSynAck};
use slb_wire::syn_cookie::{self, counter, CookieError, CookieOptions, Tuple};
use slb_wire::{classify, Classified, FlowKey, TcpFlags};

/// The cookie tuple of a client's packet.
fn tuple_of(ip: &IpFrame) -> Tuple {
    tuple_of_flow(&ip.flow)
}

/// The cookie tuple of a client's flow.
fn tuple_of_flow(flow: &FlowKey) -> Tuple {
    Tuple {
        src: flow.src,
        dst: flow.dst,
        src_port: flow.src_port,
        dst_port: flow.dst_port,
    }
}

/// The TCP segment of a frame's IP packet at `l4..l3_end`.
fn segment<'a>(data: &'a [u8], ip: &IpFrame) -> &'a [u8] {
    data.get(ip.l4_offset..ip.l3_end).unwrap_or_default()
}

impl<F: Frame> Scheduler<F> {
    /// For a packet of no session to a `syn_proxy` service: the cookie's
    /// verdict when the packet is a handshake ACK (ACK set; SYN, RST
    /// clear), with the ACK as read; `None` for anything else (or another
    /// service).
    pub(crate) fn cookie_verdict(
        &self,
        ip: &IpFrame,
        data: &[u8],
        key: &SessionKey,
    ) -> Option<Result<(CookieOptions, AckInfo), CookieError>> {
        let slb_wire::classify::L4::Tcp { flags } = ip.l4 else {
            return None;
        };
        if !flags.contains(TcpFlags::ACK) || flags.intersects(TcpFlags::SYN | TcpFlags::RST) {
            return None;
        }
        let sid = self
            .core
            .find_service(key.protocol, key.vip, key.vip_port)?;
        self.services.get(&sid)?.syn_proxy?;
        let ack = replay::parse_ack(segment(data, ip), ip.l3_end - ip.l4_offset).ok()?;
        let wall_ms = self.shared.wall_ms();
        Some(
            syn_cookie::check_ack(
                &self.shared.cookie_key,
                &tuple_of(ip),
                ack.seq,
                ack.ack,
                counter(wall_ms / 1000),
                syn_cookie::MAX_AGE,
            )
            .map(|opts| (opts, ack)),
        )
    }

    /// A handshake ACK with a valid cookie: admit the session as its SYN
    /// would have been, to pool `group` (`by` what chose it: layer-7
    /// rules, `first_data.rs`; else the default pool by layer 4), and
    /// start the server's handshake. `held` is the cookie ACK, then what
    /// the client sent after it (waiting for its first data).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bind_spliced(
        &mut self,
        worker: usize,
        port: u8,
        held: Vec<F>,
        flow: FlowKey,
        info: &PacketInfo,
        (opts, ack): (CookieOptions, AckInfo),
        (group, by): (u16, BoundBy),
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        if self.splices.len() >= PENDING_MAX {
            for f in &held {
                self.drop_frame(PathDrop::SplicePendingFull, Some(port), f, None);
            }
            return;
        }
        let syn = PacketInfo {
            tcp_flags: CoreFlags(CoreFlags::SYN),
            ..*info
        };
        let admitted = match self.core.on_new_packet_in(&syn, group, now) {
            NewPacketOutcome::Admitted { admitted, replaced } => {
                if let Some(old) = replaced {
                    self.withdraw(&old);
                }
                admitted
            }
            NewPacketOutcome::Refused { service, .. } => {
                let rst = self.services.get(&service).is_some_and(|s| s.refuse_rst);
                let mut held = held.into_iter();
                if let Some(ack) = held.next() {
                    self.drop_frame(PathDrop::Refused, Some(port), &ack, None);
                    if rst {
                        let _ = self.reset_from_held(port, ack, out);
                    }
                }
                for f in held {
                    self.drop_frame(PathDrop::Refused, Some(port), &f, None);
                }
                return;
            }
            _ => {
                for f in &held {
                    self.drop_frame(PathDrop::NoSession, Some(port), f, None);
                }
                return;
            }
        };
        self.core.set_bound_by(admitted.session, by);
        self.counters.event(Event::SessionsAdmitted);
        self.counters.event(Event::SynCookiesValid);
        let p = Pending {
            admitted,
            key: info.key,
            worker,
            port,
            client_mac: info.client_mac,
            flow,
            tuple: tuple_of_flow(&flow),
            client_isn: ack.seq.wrapping_sub(1),
            opts,
            client_tsval: ack.tsval,
            held,
            syn_sent: now,
            tries: 0,
        };
        let c2s = admitted.labels.c2s();
        self.splices.pending.insert(c2s, p);
        self.send_replay_syn(c2s, now, out);
    }

    /// The client's SYN, rebuilt from the cookie, to the server: marked.
    fn send_replay_syn(&mut self, c2s: u32, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Some(p) = self.splices.pending.get_mut(&c2s) else {
            return;
        };
        p.tries += 1;
        p.syn_sent = now;
        let mut buf = [0u8; 128];
        // Clamped as every SYN slbd forwards (the cookie's MSS table may
        // say more than a labelled segment can carry): written so.
        let max_mss = self.shared.max_mss(p.tuple.is_v6());
        let n = match replay::write_replay_syn_capped(
            &mut buf,
            &p.tuple,
            p.client_isn,
            &p.opts,
            p.client_tsval,
            u16::MAX,
            max_mss,
        ) {
            Ok(n) => n,
            Err(_) => return self.counters.path_drop(PathDrop::Rewrite),
        };
        let server = p.admitted.server_addr;
        let Some(f) = (self.alloc)(buf.get(..n).unwrap_or_default()) else {
            return self.counters.path_drop(PathDrop::NoHeadroom);
        };
        self.send_c2s_tc(f, c2s, replay::SPLICE_TC, server, now, out);
    }

    /// A client frame of a session whose server has not answered yet
    /// (`Splices::waiting`): held, or dropped past `HELD_MAX`.
    pub(crate) fn hold_for_splice(&mut self, c2s: u32, port: u8, f: F) {
        match self.splices.pending.get_mut(&c2s) {
            Some(p) if p.held.len() < HELD_MAX => {
                p.held.push(f);
                self.counters.event(Event::SpliceHeld);
            }
            _ => self.drop_frame(PathDrop::SpliceHoldFull, Some(port), &f, None),
        }
    }

    /// A labelled frame no table knows: the server's answer to a replayed
    /// SYN is consumed here (`None`); anything else is given back.
    pub(crate) fn server_handshake(
        &mut self,
        port: u8,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) -> Option<F> {
        if self.splices.pending.is_empty() {
            return Some(f);
        }
        let lf = match classify(f.data()) {
            Ok(Classified::Labelled(lf)) => lf,
            _ => return Some(f),
        };
        // A server-to-client label (even) of a session that waits.
        let label = lf.lse.label.value();
        let c2s = label.wrapping_sub(1);
        let Some(p) = self.splices.pending.get(&c2s).filter(|_| label & 1 == 0) else {
            return Some(f);
        };
        let inner = slb_wire::classify::inner_ip(f.data(), &lf).ok();
        // The session's server answering its client: the reverse tuple.
        let ours = inner.is_some_and(|ip| {
            let k = ip.flow;
            k.src == p.tuple.dst
                && k.dst == p.tuple.src
                && k.src_port == p.tuple.dst_port
                && k.dst_port == p.tuple.src_port
        });
        if !ours || !self.sent_by_server(&f, p.admitted.server_addr) {
            self.drop_frame(PathDrop::ForeignServer, Some(port), &f, None);
            return None;
        }
        let flags = lf.tcp_flags.unwrap_or(TcpFlags(0));
        if flags.contains(TcpFlags::RST) {
            self.counters.event(Event::SpliceRefused);
            self.abandon(c2s, now, out);
            return None;
        }
        let answer = inner.and_then(|ip| replay::parse_syn_ack(segment(f.data(), &ip)).ok());
        match answer {
            Some(a) if a.ack == p.client_isn.wrapping_add(1) => {
                self.complete(c2s, &a, now, out);
            }
            // Not the answer to the SYN slbd sent (another ISN acked, or
            // no SYN-ACK at all): the handshake still waits.
            _ => self.drop_frame(PathDrop::SpliceBadAnswer, Some(port), &f, None),
        }
        None
    }

    /// Whether `f`'s source MAC is the server's at `addr`.
    fn sent_by_server(&self, f: &F, addr: std::net::IpAddr) -> bool {
        self.neighbours
            .get(&addr)
            .and_then(|n| n.mac)
            .is_some_and(|m| f.data().get(6..12) == Some(&m[..]))
    }

    /// The server answered: install the session everywhere, replay the
    /// client's ACK marked, then what the client sent after it.
    fn complete(&mut self, c2s: u32, a: &ServerSynAck, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Some(mut p) = self.splices.pending.remove(&c2s) else {
            return;
        };
        if let Some(adv) = self
            .services
            .get(&p.admitted.service)
            .and_then(|s| s.syn_proxy)
        {
            let mss_low = a.mss.is_some_and(|m| m < adv.mss);
            let ws_differs = p.opts.wscale.is_some() && a.wscale != Some(adv.window_scale);
            if mss_low || ws_differs {
                self.counters.event(Event::SpliceOptionMismatch);
            }
        }
        // The server's first segment after its SYN-ACK is reported: the
        // replayed ACK arrived (`replay_answered`).
        if !self.install(
            p.worker,
            &p.admitted,
            &p.key,
            p.port,
            p.client_mac,
            &p.flow,
            true,
            now,
        ) {
            for f in p.held.drain(..) {
                self.drop_frame(PathDrop::NoNextHop, None, &f, None);
            }
            return;
        }
        // The server's SYN-ACK is its first reply (response time, and
        // the session is established).
        if let slb_core::service::EventOutcome::Ended(e) = self.core.on_first_reply(c2s, now) {
            self.withdraw(&e);
        }
        // A SYN-ACK the server repeats comes back here, not to the client.
        if let Some(mut e) = self.shared.tables.replica(self.local_id).get(c2s + 1) {
            e.spliced = true;
            self.shared.tables.set(c2s + 1, e);
        }
        self.counters.event(Event::SessionsSpliced);
        let server = p.admitted.server_addr;
        if let Some(ack) = p.held.first() {
            self.keep_replayed(c2s, ack.data().to_vec(), server);
        }
        for (i, f) in p.held.drain(..).enumerate() {
            let tc = if i == 0 { replay::SPLICE_TC } else { 0 };
            self.send_c2s_tc(f, c2s, tc, server, now, out);
        }
    }

    /// Gives up a handshake (the server refused or never answered): the
    /// client, which believes it is connected, is reset from the ACK it
    /// sent; the session ends.
    fn abandon(&mut self, c2s: u32, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Some(mut p) = self.splices.pending.remove(&c2s) else {
            return;
        };
        let mut held = p.held.drain(..);
        if let Some(ack) = held.next() {
            if let Err(ack) = self.reset_from_held(p.port, ack, out) {
                self.drop_frame(PathDrop::SpliceAbandoned, None, &ack, None);
            }
        }
        for f in held {
            self.drop_frame(PathDrop::SpliceAbandoned, None, &f, None);
        }
        self.end_now(p.admitted.session, now);
    }

    /// Keeps the ACK replayed for `c2s`, for [`Self::syn_ack_again`].
    fn keep_replayed(&mut self, c2s: u32, ack: Vec<u8>, server: std::net::IpAddr) {
        if self.splices.replayed.len() < REPLAYED_MAX {
            self.splices.replayed.insert(c2s, (ack, server));
        }
    }

    /// The server of the session holding S2C label `s2c` sent its SYN-ACK
    /// again after the session was installed: the replayed ACK did not
    /// reach it (nor its agent, which still waits for the mark). Sent
    /// again, marked, while the copy is kept (until the server's first
    /// segment after the SYN-ACK, or the session's end).
    pub(crate) fn syn_ack_again(&mut self, s2c: u32, now: u64, out: &mut dyn FnMut(usize, F)) {
        if s2c & 1 == 1 {
            return;
        }
        let c2s = s2c - 1;
        let Some((ack, server)) = self.splices.replayed.get(&c2s) else {
            return;
        };
        let server = *server;
        let Some(f) = (self.alloc)(ack) else {
            return;
        };
        self.counters.event(Event::SpliceAckResent);
        self.send_c2s_tc(f, c2s, replay::SPLICE_TC, server, now, out);
    }

    /// The server of the session holding `s2c` sent a segment after its
    /// SYN-ACK: it has the replayed ACK; the copy goes.
    pub(crate) fn replay_answered(&mut self, s2c: u32) {
        if s2c & 1 == 0 && !self.splices.replayed.is_empty() {
            self.splices.replayed.remove(&(s2c - 1));
        }
    }

    /// A session ended while its server's handshake was under way (the
    /// client reset it, it expired, it was ended by hand): its held frames
    /// go.
    pub(crate) fn splice_withdrawn(&mut self, c2s: u32) {
        self.splices.replayed.remove(&c2s);
        if let Some(p) = self.splices.pending.remove(&c2s) {
            for f in &p.held {
                self.drop_frame(PathDrop::SpliceAbandoned, None, f, None);
            }
        }
    }

    /// Every [`CHECK_NS`]: SYNs again to servers that have not answered
    /// in [`RETRY_NS`], handshakes given up after [`TRIES`].
    pub(crate) fn run_splices(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        if self.splices.pending.is_empty() || now < self.splices.next_check {
            return 0;
        }
        self.splices.next_check = now + CHECK_NS;
        let due: Vec<(u32, bool)> = self
            .splices
            .pending
            .iter()
            .filter(|(_, p)| now >= p.syn_sent + RETRY_NS)
            .map(|(c2s, p)| (*c2s, p.tries >= TRIES))
            .collect();
        for &(c2s, give_up) in &due {
            if give_up {
                self.counters.event(Event::SpliceTimeouts);
                self.abandon(c2s, now, out);
            } else {
                self.counters.event(Event::SpliceSynRetries);
                self.send_replay_syn(c2s, now, out);
            }
        }
        due.len()
    }
}
