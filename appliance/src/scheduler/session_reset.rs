//! `on_down: reset` on the scheduler: both ends of each ended session
//! are asked for their exact sequence numbers and then reset (why and
//! how: `reset.rs`, "`on_down: reset`"). Sessions are ended by `probes.rs`;
//! the answers come here from `ending.rs` (labelled) and the punt
//! dispatcher (a plain client's, unlabelled).

use super::reset::{answer_ack, End, Ends, ANSWER_NS, PROBE_ACK, PROBE_SEQ};
use super::Scheduler;
use crate::counters::Event;
use crate::frame::Frame;
use slb_core::SessionId;
use slb_wire::{
    classify, mpls, Classified, EtherType, FrameBuilder, IpProtocol, MacAddr, TcpFlags,
};

impl<F: Frame> Scheduler<F> {
    /// What the resets of session `id` need, read before it ends.
    pub(crate) fn ends_of(&self, id: SessionId, now: u64) -> Ends {
        let s = self.core.session(id);
        let plain = self
            .services
            .get(&s.service())
            .is_none_or(|r| r.plain_clients);
        let server = self
            .core
            .service(s.service())
            .and_then(|svc| svc.pool().get(s.server()).map(|v| v.addr()))
            .and_then(|a| self.neighbours.get(&a))
            .and_then(|n| Some((n.port, n.mac?)));
        Ends {
            key: *s.key(),
            labels: s.labels(),
            plain,
            client_port: s.ingress_port() as u8,
            client_mac: s.client_mac(),
            server,
            deadline: now + ANSWER_NS,
        }
    }

    /// Sends the probes of the sessions ended since the last round;
    /// returns how many sessions.
    pub(crate) fn send_reset_probes(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        if self.resets.due.is_empty() {
            return 0;
        }
        self.resets.expire(now);
        let due = std::mem::take(&mut self.resets.due);
        let n = due.len();
        for ends in due {
            self.probe_ends(ends, out);
        }
        n
    }

    /// Sends the probes to both ends of an ended session and waits for
    /// their answers.
    fn probe_ends(&mut self, ends: Ends, out: &mut dyn FnMut(usize, F)) {
        let k = ends.key;
        let to_client = self.to_client(&ends, k.vip_port, k.client_port);
        let to_server = self.to_server(&ends, k.client_port, k.vip_port);
        for (port, b) in [to_client, to_server].into_iter().flatten() {
            let b = b
                .flags(TcpFlags::ACK)
                .seq(PROBE_SEQ)
                .ack(PROBE_ACK)
                .window(0);
            if let Some(f) = (self.alloc)(&b.build()) {
                self.counters.event(Event::ResetProbesSent);
                out(usize::from(port), f);
            }
        }
        self.resets.insert(ends);
    }

    /// A TCP segment toward the client of `e` (from the VIP; labelled S2C
    /// for a label-aware client).
    fn to_client(&self, e: &Ends, sport: u16, dport: u16) -> Option<(u8, FrameBuilder)> {
        let p = self.shared.ports.get(usize::from(e.client_port))?;
        let b = FrameBuilder::tcp(
            MacAddr(p.mac),
            MacAddr(e.client_mac),
            e.key.vip,
            e.key.client,
            sport,
            dport,
        );
        Some((
            e.client_port,
            if e.plain { b } else { b.label(e.labels.s2c()) },
        ))
    }

    /// A TCP segment toward the server of `e`, as from its client,
    /// labelled C2S.
    fn to_server(&self, e: &Ends, sport: u16, dport: u16) -> Option<(u8, FrameBuilder)> {
        let (port, mac) = e.server?;
        let p = self.shared.ports.get(usize::from(port))?;
        let b = FrameBuilder::tcp(
            MacAddr(p.mac),
            MacAddr(mac),
            e.key.client,
            e.key.vip,
            sport,
            dport,
        );
        Some((port, b.label(e.labels.c2s())))
    }

    /// A labelled frame on a label no session holds: if it is an end's
    /// answer to a reset probe, the reset goes out and the frame is
    /// consumed (None); otherwise it is handed back.
    pub(crate) fn reset_answer_labelled(
        &mut self,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) -> Option<F> {
        if self.resets.is_empty() {
            return Some(f);
        }
        self.resets.expire(now);
        let Some(top) = mpls::top_label(f.data()) else {
            return Some(f);
        };
        let label = top.lse.label.value();
        let Some(ends) = self.resets.by_label.get(&label).copied() else {
            return Some(f);
        };
        // The inner packet as an unlabelled frame, to classify it.
        let data = f.data();
        let inner = top.offset + mpls::LSE_LEN;
        let Some(version) = data.get(inner).map(|b| b >> 4) else {
            return Some(f);
        };
        let ethertype = if version == 6 {
            EtherType::IPV6
        } else {
            EtherType::IPV4
        };
        let mut plain = Vec::with_capacity(data.len());
        plain.extend_from_slice(&data[..12]);
        plain.extend_from_slice(&ethertype.to_be_bytes());
        plain.extend_from_slice(&data[inner..]);
        let end = if label == ends.labels.c2s() {
            End::Client
        } else {
            End::Server
        };
        if self.reset_end(&ends, end, &plain, out) {
            self.resets.by_label.remove(&label);
            None
        } else {
            Some(f)
        }
    }

    /// An unlabelled frame to a VIP that no session holds: if it is a
    /// plain client's answer to a reset probe, the reset goes out and the
    /// frame is consumed (None); otherwise it is handed back.
    pub(crate) fn reset_answer_plain(
        &mut self,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) -> Option<F> {
        if self.resets.is_empty() {
            return Some(f);
        }
        self.resets.expire(now);
        let Ok(Classified::Ip(ip)) = classify(f.data()) else {
            return Some(f);
        };
        let flow = (ip.flow.src, ip.flow.src_port, ip.flow.dst, ip.flow.dst_port);
        let Some(ends) = self.resets.by_flow.get(&flow).copied() else {
            return Some(f);
        };
        if self.reset_end(&ends, End::Client, f.data(), out) {
            self.resets.by_flow.remove(&flow);
            None
        } else {
            Some(f)
        }
    }

    /// Sends `<SEQ=SEG.ACK><CTL=RST>` to the end that sent `frame`
    /// (unlabelled). False if `frame` is no answer (not TCP from that end,
    /// no ACK, or a RST).
    fn reset_end(
        &mut self,
        e: &Ends,
        end: End,
        frame: &[u8],
        out: &mut dyn FnMut(usize, F),
    ) -> bool {
        let Ok(Classified::Ip(ip)) = classify(frame) else {
            return false;
        };
        let k = &e.key;
        let (from, sport) = match end {
            End::Client => (k.client, k.client_port),
            End::Server => (k.vip, k.vip_port),
        };
        if ip.flow.protocol != IpProtocol::Tcp || ip.flow.src != from || ip.flow.src_port != sport {
            return false;
        }
        let Some(ack) = answer_ack(frame, &ip) else {
            return false;
        };
        let to = match end {
            End::Client => self.to_client(e, k.vip_port, k.client_port),
            End::Server => self.to_server(e, k.client_port, k.vip_port),
        };
        let Some((port, b)) = to else {
            return false;
        };
        let rst = b.flags(TcpFlags::RST).seq(ack).ack(0).window(0).build();
        if let Some(f) = (self.alloc)(&rst) {
            self.counters.event(Event::SessionResetsSent);
            out(usize::from(port), f);
        }
        true
    }
}
