//! The scheduler's side of health monitoring: it feeds the
//! [`HealthMonitor`](super::health::HealthMonitor) its targets from the
//! running configuration, turns its probe actions into frames out of the
//! server-facing port that holds each server's subnet, hands it the
//! answers the workers punt ([`PuntKind::Probe`]), and applies its state
//! changes to the session core (and ends a down server's sessions when its
//! service says `on_down: reset`).
//!
//! TCP and UDP probes leave from slbd's own port address; a SYN-ACK is
//! answered with a RST so the server frees the half-open connection. The
//! workers punt TCP and UDP to slbd's own address on a probe port.
//!
//! [`PuntKind::Probe`]: crate::channels::PuntKind::Probe

use super::health::{stream, Action, ProbeKind, ServerKey, Target, TcpAnswer};
use super::Scheduler;
use crate::counters::Event;
use crate::frame::Frame;
use crate::worker::arp_nd;
use slb_core::service::Ended;
use slb_core::session::EndReason;
use slb_wire::classify::L4;
use slb_wire::{classify, tcp, udp, Classified, FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

impl<F: Frame> Scheduler<F> {
    /// Turns active probing on or off.
    pub fn set_health_enabled(&mut self, on: bool) {
        self.health.enabled = on;
    }

    pub fn health(&self) -> &super::health::HealthMonitor {
        &self.health
    }

    /// Points the monitor at the running configuration's servers (keeping
    /// the state of servers that stay) and sets every server's core state
    /// from its operator state and health.
    pub(crate) fn sync_health(&mut self) {
        let mut targets = Vec::new();
        for s in &self.config.services {
            for v in &s.servers {
                let Some(key) = self.server_key(&s.name, &v.name) else {
                    continue;
                };
                let target = Target {
                    service: s.name.clone(),
                    server: v.name.clone(),
                    addr: v.address,
                    health: s.server_health(v).clone(),
                    admin: v.state,
                };
                targets.push((key, target));
            }
        }
        let keys: Vec<ServerKey> = targets.iter().map(|(k, _)| *k).collect();
        self.health.sync(targets);
        for key in keys {
            self.set_core_state(key);
        }
    }

    /// The core state of `key` from operator state and health.
    fn set_core_state(&mut self, key: ServerKey) {
        let Some(state) = self.health.probe(key).map(|p| p.core_state()) else {
            return;
        };
        if let Some(s) = self.core.service_mut(key.0) {
            if s.pool().get(key.1).is_some_and(|v| v.state() != state) {
                let _ = s.pool_mut().set_state(key.1, state);
            }
        }
    }

    /// Sends due probes and applies what the monitor decided.
    pub(crate) fn run_health(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let mut actions = Vec::new();
        let work = self.health.poll(now, &mut actions);
        self.health_actions(actions, now, out);
        work + self.send_reset_probes(now, out)
    }

    fn health_actions(&mut self, actions: Vec<Action>, now: u64, out: &mut dyn FnMut(usize, F)) {
        for a in actions {
            match a {
                Action::Probe { addr, kind, .. } => self.send_probe(addr, kind, out),
                Action::Segment {
                    addr,
                    src_port,
                    dst_port,
                    send,
                } => self.send_segment(addr, src_port, dst_port, &send, out),
                Action::Changed {
                    key,
                    up,
                    reset_sessions,
                } => {
                    self.set_core_state(key);
                    if !up {
                        if let Some(s) = self.core.service_mut(key.0) {
                            let _ = s.pool_mut().record_failure(key.1);
                        }
                    }
                    if reset_sessions {
                        self.end_sessions_of(key, now);
                    }
                }
            }
        }
    }

    /// Ends every session of server `key` and withdraws its labels; both
    /// ends of each get a reset (`reset.rs`: probed at the next round for
    /// their exact sequence numbers).
    fn end_sessions_of(&mut self, key: ServerKey, now: u64) {
        let ids: Vec<_> = self
            .core
            .sessions()
            .iter()
            .filter(|(_, s)| s.service() == key.0 && s.server() == key.1)
            .map(|(id, _)| id)
            .collect();
        let n = ids.len();
        for id in ids {
            let ends = self.ends_of(id, now);
            let e = self.end_now(id, now);
            if e.key.protocol == slb_core::Protocol::Tcp {
                self.resets.push(ends);
            }
        }
        if let Some(p) = self.health.probe(key) {
            tracing::info!(service = %p.target.service, server = %p.target.server, sessions = n, "sessions of a down server ended (on_down reset)");
        }
    }

    fn send_probe(&mut self, addr: IpAddr, kind: ProbeKind, out: &mut dyn FnMut(usize, F)) {
        // Without a port or a MAC nothing goes out: the probe times out,
        // which is the truth (the server is unreachable).
        let Some(pi) = self.port_for(addr) else {
            return;
        };
        if !matches!(kind, ProbeKind::Neighbour) {
            self.watch_neighbour(addr);
        }
        let Some(port) = self.shared.ports.get(usize::from(pi)) else {
            return;
        };
        let bytes = match kind {
            ProbeKind::Tcp {
                src_port,
                dst_port,
                seq,
            } => {
                let Some(mac) = self.neighbour_mac(addr) else {
                    return;
                };
                let Some(src) = port.address_like(addr) else {
                    return;
                };
                FrameBuilder::tcp(
                    MacAddr(port.mac),
                    MacAddr(mac),
                    src,
                    addr,
                    src_port,
                    dst_port,
                )
                .flags(TcpFlags::SYN)
                .seq(seq)
                .build()
            }
            ProbeKind::Udp {
                src_port,
                dst_port,
                payload,
            } => {
                let (Some(mac), Some(src)) = (self.neighbour_mac(addr), port.address_like(addr))
                else {
                    return;
                };
                FrameBuilder::udp(
                    MacAddr(port.mac),
                    MacAddr(mac),
                    src,
                    addr,
                    src_port,
                    dst_port,
                )
                .payload(&payload)
                .build()
            }
            ProbeKind::Neighbour => match (addr, port.address_like(addr)) {
                (IpAddr::V4(a), Some(IpAddr::V4(ours))) => arp_nd::arp_request(port.mac, ours, a),
                (IpAddr::V6(a), Some(IpAddr::V6(ours))) => {
                    arp_nd::neighbour_solicitation(port.mac, ours, a)
                }
                _ => return,
            },
        };
        if let Some(f) = (self.alloc)(&bytes) {
            self.counters.event(Event::ProbesSent);
            out(usize::from(pi), f);
        }
    }

    /// A segment of a probe's stream (`http`), out of the port that
    /// holds the server's subnet (like the probe's SYN).
    fn send_segment(
        &mut self,
        addr: IpAddr,
        src_port: u16,
        dst_port: u16,
        send: &stream::Send,
        out: &mut dyn FnMut(usize, F),
    ) {
        let Some(pi) = self.port_for(addr) else {
            return;
        };
        let (Some(port), Some(mac)) = (
            self.shared.ports.get(usize::from(pi)),
            self.neighbour_mac(addr),
        ) else {
            return;
        };
        let Some(src) = port.address_like(addr) else {
            return;
        };
        let bytes = FrameBuilder::tcp(
            MacAddr(port.mac),
            MacAddr(mac),
            src,
            addr,
            src_port,
            dst_port,
        )
        .flags(send.flags)
        .seq(send.seq)
        .ack(send.ack)
        .window(send.window)
        .payload(&send.payload)
        .build();
        if let Some(f) = (self.alloc)(&bytes) {
            out(usize::from(pi), f);
        }
    }

    /// A TCP or UDP answer to slbd's own address on a probe port.
    pub(crate) fn punted_probe(&mut self, port: u8, f: F, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Ok(Classified::Ip(ip)) = classify(f.data()) else {
            return;
        };
        if ip.l4 == L4::Udp {
            let datagram = f
                .data()
                .get(ip.l4_offset..ip.l3_end)
                .and_then(|b| udp::Packet::new_checked(b).ok());
            let (src, sport, dport) = (ip.flow.src, ip.flow.src_port, ip.flow.dst_port);
            let mut actions = Vec::new();
            if let Some(d) = datagram {
                self.health
                    .udp_answer(src, sport, dport, d.payload(), now, &mut actions);
            }
            self.health_actions(actions, now, out);
            return;
        }
        let L4::Tcp { flags } = ip.l4 else { return };
        let segment = f
            .data()
            .get(ip.l4_offset..ip.l3_end)
            .and_then(|b| tcp::Packet::new_checked(b).ok());
        if let Some(t) = &segment {
            let seg = stream::Segment {
                flags,
                seq: t.seq_number(),
                ack: t.ack_number(),
                payload: t.payload(),
            };
            let (src, sport, dport) = (ip.flow.src, ip.flow.src_port, ip.flow.dst_port);
            let mut actions = Vec::new();
            if self
                .health
                .stream_segment(src, sport, dport, &seg, now, &mut actions)
            {
                self.health_actions(actions, now, out);
                return;
            }
        }
        let answer = if flags.contains(TcpFlags::SYN) && flags.contains(TcpFlags::ACK) {
            TcpAnswer::SynAck
        } else if flags.contains(TcpFlags::RST) {
            TcpAnswer::Rst
        } else {
            return;
        };
        let (src, sport, dport) = (ip.flow.src, ip.flow.src_port, ip.flow.dst_port);
        let mut actions = Vec::new();
        if !self
            .health
            .tcp_answer(src, sport, dport, answer, now, &mut actions)
        {
            return;
        }
        self.health_actions(actions, now, out);
        if answer != TcpAnswer::SynAck {
            return;
        }
        // Close the half-open connection on the server.
        let ack = f
            .data()
            .get(ip.l4_offset..ip.l3_end)
            .and_then(|b| tcp::Packet::new_checked(b).ok())
            .map(|t| t.ack_number());
        let eth_src = f.data().get(6..12).map(MacAddr::from_bytes);
        if let (Some(ack), Some(p), Some(mac)) =
            (ack, self.shared.ports.get(port as usize), eth_src)
        {
            let rst = FrameBuilder::tcp(MacAddr(p.mac), mac, ip.flow.dst, src, dport, sport)
                .flags(TcpFlags::RST)
                .seq(ack)
                .build();
            if let Some(fr) = (self.alloc)(&rst) {
                out(port as usize, fr);
            }
        }
    }

    /// An ARP reply / neighbour advertisement from `addr` (ARP probes).
    pub(crate) fn health_neighbour(&mut self, addr: IpAddr, now: u64) {
        let mut actions = Vec::new();
        self.health.neighbour_answer(addr, now, &mut actions);
        self.health_actions(actions, now, &mut |_, _| {});
    }

    /// Passive signal: a session whose server never answered its SYN.
    pub(crate) fn health_ended(&mut self, e: &Ended) {
        if e.reason != EndReason::NoReply {
            return;
        }
        let mut actions = Vec::new();
        self.health
            .session_no_reply((e.service, e.server), e.ended_at, &mut actions);
        self.health_actions(actions, e.ended_at, &mut |_, _| {});
    }
}
