//! Layer-7 binding (issue 17, claim 2): a session of a service with
//! `rules` is bound only once slbd has read what its client asks for.
//!
//! ```text
//!  TCP (syn_proxy)                          UDP
//!  SYN -> cookie SYN-ACK (worker)           first datagram (no session)
//!  cookie ACK: no label yet, held           held
//!  data segments: held, read in order       more datagrams: held, read
//!        \                                   /
//!         the rules' verdict (slb_l7::rules), or a limit
//!        /                                   \
//!  admitted to the rule's pool; the         admitted to the rule's pool;
//!  server's handshake (`splice.rs`), then   the held datagrams sent on
//!  the ACK and the data replayed
//! ```
//!
//! Limits (`first_data`): the data must come within `wait_ms`, in at
//! most `segments` frames with data and `bytes` bytes; past any, the
//! session goes to the default pool by layer 4, counted by reason
//! ([`Fallback`]). A server-speaks-first protocol is the `timeout` case:
//! its client says nothing and is bound after `wait_ms`. A request that
//! cannot be read goes to the default pool, or is refused
//! (`malformed: refuse`: a reset to the client of a TCP service, a drop
//! for UDP). At most [`WAITING_MAX`] sessions wait at once, each holding
//! at most [`WAIT_HELD_MAX`] frames; the deadlines are looked at every
//! [`CHECK_NS`].

use super::first_data_state::{
    Fallback, L7Rt, Stream, Waiting, CHECK_NS, WAITING_MAX, WAIT_HELD_MAX,
};
use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_core::service::{NewPacketOutcome, PacketInfo};
use slb_core::{BoundBy, ServiceId};
use slb_l7::rules::{Fallback as Why, Verdict};
use slb_wire::classify::{IpFrame, L4};
use slb_wire::syn_cookie::replay::AckInfo;
use slb_wire::syn_cookie::CookieOptions;
use slb_wire::{FlowKey, TcpFlags};

/// What the first data decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binding {
    /// Admit to pool `group` of the service.
    Pool { group: u16, by: BoundBy },
    /// Refuse (a malformed request, `malformed: refuse`).
    Refuse,
}

/// The payload of a frame's TCP segment, and its sequence number.
fn tcp_payload<'a>(data: &'a [u8], ip: &IpFrame) -> Option<(u32, &'a [u8])> {
    let seg = data.get(ip.l4_offset..ip.l3_end)?;
    let seq = u32::from_be_bytes(seg.get(4..8)?.try_into().ok()?);
    let doff = usize::from(seg.get(12)? >> 4) * 4;
    Some((seq, seg.get(doff..)?))
}

/// The offsets of a frame's UDP payload.
fn udp_span(ip: &IpFrame) -> (usize, usize) {
    ((ip.l4_offset + 8).min(ip.l3_end), ip.l3_end)
}

impl<F: Frame> Scheduler<F> {
    /// The rules of the service of `key`, when it has rules.
    pub(crate) fn l7_service(&self, key: &slb_core::SessionKey) -> Option<ServiceId> {
        if self.l7.is_empty() {
            return None;
        }
        let sid = self
            .core
            .find_service(key.protocol, key.vip, key.vip_port)?;
        self.l7.contains_key(&sid).then_some(sid)
    }

    /// A frame of a flow waiting for its first data: held and read (and
    /// `None` returned); any other frame is given back.
    pub(crate) fn waiting_frame(
        &mut self,
        f: F,
        ip: &IpFrame,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) -> Option<F> {
        if self.waits.by_flow.is_empty() {
            return Some(f);
        }
        let Some(w) = self.waits.by_flow.get_mut(&ip.flow) else {
            return Some(f);
        };
        let Some(rt) = self.l7.get(&w.service) else {
            return Some(f);
        };
        let (cap, segments) = (usize::from(rt.limits.bytes), rt.limits.segments);
        if let L4::Tcp { flags } = ip.l4 {
            if flags.contains(TcpFlags::RST) {
                // The client gave up: nothing is bound.
                let w = self.waits.by_flow.remove(&ip.flow)?;
                self.drop_frame(PathDrop::FirstDataAbandoned, Some(w.port), &f, None);
                for h in &w.held {
                    self.drop_frame(PathDrop::FirstDataAbandoned, None, h, None);
                }
                return None;
            }
        }
        let new_bytes = match ip.l4 {
            L4::Tcp { .. } => match tcp_payload(f.data(), ip) {
                Some((seq, p)) if !p.is_empty() => {
                    w.segments = w.segments.saturating_add(1);
                    w.stream.add(seq, p, cap)
                }
                _ => 0,
            },
            _ => {
                w.segments = w.segments.saturating_add(1);
                w.spans.push(udp_span(ip));
                1
            }
        };
        w.held.push(f);
        self.counters.event(Event::FirstDataHeld);
        // Read again when there is more to read, or a limit is reached
        // (segments past a gap bring no bytes but count).
        if new_bytes > 0 || w.held.len() >= WAIT_HELD_MAX || w.segments >= segments {
            self.read_first_data(ip.flow, now, out);
        }
        None
    }

    /// A new session of a service with rules waits for its first data,
    /// from `f`: a TCP service's cookie ACK (`cookie`: the cookie's
    /// options and the ACK as read), or a UDP flow's first datagram. No
    /// label, no server yet: `f` is held and read as any later frame of
    /// the flow is ([`Self::waiting_frame`]). Past [`WAITING_MAX`]
    /// waiting, the session is bound at once to the default pool (`busy`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn wait_first_data(
        &mut self,
        sid: ServiceId,
        worker: usize,
        port: u8,
        f: F,
        ip: &IpFrame,
        info: &PacketInfo,
        cookie: Option<(CookieOptions, AckInfo)>,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let wait = self
            .l7
            .get(&sid)
            .map_or(0, |rt| rt.limits.wait.as_nanos() as u64);
        let mut w = Waiting {
            service: sid,
            worker,
            port,
            info: *info,
            cookie,
            held: Vec::with_capacity(WAIT_HELD_MAX),
            spans: Vec::new(),
            // The client's data starts after its ISN + 1: the ACK's seq.
            stream: Stream::new(cookie.map_or(0, |(_, ack)| ack.seq)),
            segments: 0,
            deadline: now + wait,
        };
        self.counters.event(Event::FirstDataWaits);
        if self.waits.by_flow.len() >= WAITING_MAX {
            w.held.push(f);
            let b = self.fallback_counted(sid, Fallback::Busy);
            return self.bind_waiting(ip.flow, w, b, now, out);
        }
        self.waits.by_flow.insert(ip.flow, w);
        // Taken: the flow waits now.
        let _ = self.waiting_frame(f, ip, now, out);
    }

    /// Runs the rules over what the waiting session `flow` has sent, and
    /// binds it when they (or a limit) decide.
    fn read_first_data(&mut self, flow: FlowKey, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Some(w) = self.waits.by_flow.get(&flow) else {
            return;
        };
        let Some(rt) = self.l7.get(&w.service) else {
            return;
        };
        let verdict = if w.cookie.is_some() {
            rt.rules
                .decide_stream(&w.stream.bytes, usize::from(rt.limits.bytes))
        } else {
            let grams: Vec<&[u8]> = w
                .held
                .iter()
                .zip(&w.spans)
                .map(|(f, &(a, b))| f.data().get(a..b).unwrap_or_default())
                .collect();
            rt.rules.decide_datagrams(&grams, &mut self.l7_scratch)
        };
        let sid = w.service;
        let full = w.segments >= rt.limits.segments || w.held.len() >= WAIT_HELD_MAX;
        let binding = match verdict {
            Verdict::Rule(i) => {
                let group = rt.pools.get(i).copied().unwrap_or(0);
                self.counters.event(Event::FirstDataRuleMatched);
                if let Some(h) = self.l7.get_mut(&sid).and_then(|rt| rt.hits.get_mut(i)) {
                    *h += 1;
                }
                Binding::Pool {
                    group,
                    by: BoundBy::rule(i),
                }
            }
            Verdict::NoMatch(_) => {
                self.counters.event(Event::FirstDataNoMatch);
                if let Some(rt) = self.l7.get_mut(&sid) {
                    rt.no_match += 1;
                }
                Binding::Pool {
                    group: 0,
                    by: BoundBy::NO_MATCH,
                }
            }
            Verdict::NeedMore if full => self.fallback_counted(sid, Fallback::Segments),
            Verdict::NeedMore => return,
            Verdict::Fallback(Why::TooLong(_)) => self.fallback_counted(sid, Fallback::Bytes),
            Verdict::Fallback(Why::Unsupported(..)) => {
                self.fallback_counted(sid, Fallback::Unsupported)
            }
            Verdict::Fallback(Why::Malformed(..)) => {
                if rt.refuses_malformed() {
                    Binding::Refuse
                } else {
                    self.fallback_counted(sid, Fallback::Malformed)
                }
            }
        };
        if let Some(w) = self.waits.by_flow.remove(&flow) {
            self.bind_waiting(flow, w, binding, now, out);
        }
    }

    /// The default pool for `why`, counted.
    fn fallback_counted(&mut self, sid: ServiceId, why: Fallback) -> Binding {
        self.counters.event(match why {
            Fallback::Timeout => Event::FirstDataTimeout,
            Fallback::Segments => Event::FirstDataSegments,
            Fallback::Bytes => Event::FirstDataBytes,
            Fallback::Malformed => Event::FirstDataMalformed,
            Fallback::Unsupported => Event::FirstDataUnsupported,
            Fallback::Busy => Event::FirstDataBusy,
        });
        if let Some(rt) = self.l7.get_mut(&sid) {
            rt.fallbacks[why.index()] += 1;
        }
        Binding::Pool {
            group: 0,
            by: BoundBy::fallback(why.code()),
        }
    }

    /// Binds (or refuses) a session that waited: TCP through the server's
    /// handshake (`splice.rs`), UDP at once, its held frames sent on.
    fn bind_waiting(
        &mut self,
        flow: FlowKey,
        w: Waiting<F>,
        binding: Binding,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let Binding::Pool { group, by } = binding else {
            return self.refuse_waiting(w, out);
        };
        if let Some(cookie) = w.cookie {
            return self.bind_spliced(
                w.worker,
                w.port,
                w.held,
                flow,
                &w.info,
                cookie,
                (group, by),
                now,
                out,
            );
        }
        let mut held = w.held.into_iter();
        match self.core.on_new_packet_in(&w.info, group, now) {
            NewPacketOutcome::Admitted { admitted, replaced } => {
                if let Some(old) = replaced {
                    self.withdraw(&old);
                }
                self.counters.event(Event::SessionsAdmitted);
                let (key, mac) = (w.info.key, w.info.client_mac);
                if !self.install(w.worker, &admitted, &key, w.port, mac, &flow, true, now) {
                    for f in held {
                        self.drop_frame(PathDrop::NoNextHop, Some(w.port), &f, None);
                    }
                    return;
                }
                self.core.set_bound_by(admitted.session, by);
                for f in held {
                    self.send_c2s(f, admitted.labels.c2s(), admitted.server_addr, now, out);
                }
            }
            _ => {
                for f in held.by_ref() {
                    self.drop_frame(PathDrop::Refused, Some(w.port), &f, None);
                }
            }
        }
    }

    /// A malformed request, refused: a TCP client is reset (from its
    /// cookie ACK, as a refused session is), a UDP one hears nothing.
    fn refuse_waiting(&mut self, w: Waiting<F>, out: &mut dyn FnMut(usize, F)) {
        self.counters.event(Event::FirstDataRefused);
        if let Some(rt) = self.l7.get_mut(&w.service) {
            rt.refused += 1;
        }
        let mut held = w.held.into_iter();
        if w.cookie.is_some() {
            if let Some(ack) = held.next() {
                self.drop_frame(PathDrop::FirstDataRefused, Some(w.port), &ack, None);
                let _ = self.reset_from_held(w.port, ack, out);
            }
        }
        for f in held {
            self.drop_frame(PathDrop::FirstDataRefused, Some(w.port), &f, None);
        }
    }

    /// Every [`CHECK_NS`]: sessions whose first data did not come in time
    /// go to the default pool (`timeout`).
    pub(crate) fn run_first_data(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        if self.waits.by_flow.is_empty() || now < self.waits.next_check {
            return 0;
        }
        self.waits.next_check = now + CHECK_NS;
        let due: Vec<(FlowKey, ServiceId)> = self
            .waits
            .by_flow
            .iter()
            .filter(|(_, w)| now >= w.deadline)
            .map(|(k, w)| (*k, w.service))
            .collect();
        for &(flow, sid) in &due {
            let b = self.fallback_counted(sid, Fallback::Timeout);
            if let Some(w) = self.waits.by_flow.remove(&flow) {
                self.bind_waiting(flow, w, b, now, out);
            }
        }
        due.len()
    }

    /// The rules of service `sid` at run time (`slbctl rules`).
    pub fn rules_of(&self, sid: ServiceId) -> Option<&L7Rt> {
        self.l7.get(&sid)
    }
}
