//! New sessions on the scheduler: a punted first packet is classified,
//! admitted or refused by the session core, its label pair installed on
//! every core (both directions), its flow-cache entry queued for the worker
//! that saw it (plain clients), and the packet itself sent on, labelled,
//! toward its server (or held until the server's MAC is known). In a
//! cluster, a plain client's packet that does not start a session, of a
//! service with a consistent algorithm, is re-admitted by the hash
//! (`recovered_by_hash`: its flow moved here from another instance).

use super::late_frames::late_reason;
use super::reset;
use super::{Scheduler, Side};
use crate::channels::WorkerOp;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use crate::shared::drop_trace::Reason;
use crate::shared::label_table::{ClientCheck, Entry};
use crate::shared::ports::PortInfo;
use slb_core::service::{Admitted, NewPacketOutcome, PacketInfo};
use slb_core::session::{SessionKey, TcpFlags as CoreFlags};
use slb_wire::classify::{IpFrame, L4};
use slb_wire::{classify, ethernet, mpls, mss, Classified, FlowKey, MacAddr};
use std::net::IpAddr;

/// Where an unlabelled packet to a service comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A worker's punt: a plain client's packet, or any client's first.
    Punted,
    /// A label-aware client's frame on a client-to-server label this
    /// instance holds no session for, its label popped
    /// (`foreign_label.rs`): may be recovered by the hash like a plain
    /// client's.
    ForeignLabel,
}

impl<F: Frame> Scheduler<F> {
    pub(crate) fn punted_new(
        &mut self,
        worker: usize,
        port: u8,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        self.admit_unlabelled(worker, port, f, Origin::Punted, now, out);
    }

    /// Admits, joins or drops an unlabelled packet to a service (see the
    /// module's documentation).
    pub(crate) fn admit_unlabelled(
        &mut self,
        worker: usize,
        port: u8,
        f: F,
        origin: Origin,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        // Untagged IPv4 (most new sessions) without the general classifier.
        let cls = match slb_wire::classify::classify_untagged_ipv4(f.data()) {
            Some(r) => r.map(Classified::Ip),
            None => classify(f.data()),
        };
        let ip = match cls {
            Ok(Classified::Ip(ip)) => ip,
            Ok(_) => return self.drop_frame(PathDrop::NotForVip, Some(port), &f, None),
            Err(r) => return self.drop_frame(r, Some(port), &f, None),
        };
        // A flow waiting for its first data (layer-7 rules).
        let mut f = if self.waits.by_flow.is_empty() {
            f
        } else {
            match self.waiting_frame(f, &ip, now, out) {
                Some(f) => f,
                None => return,
            }
        };
        // A frame too large for every server-facing port once labelled
        // never makes a session; its client hears why (`worker/icmp.rs`).
        let widest = self
            .shared
            .ports
            .iter()
            .filter(|p| p.role.faces_servers())
            .map(|p| p.mtu)
            .max()
            .unwrap_or(0);
        if ip.l3_end - ip.l3_offset + mpls::LSE_LEN > usize::from(widest) {
            if let Some((p, f)) = self.local.too_big(usize::from(port), &ip, widest, f) {
                self.counters.event(Event::SchedulerTx);
                out(p, f);
            }
            return;
        }
        let Some(protocol) = crate::shared::core_protocol(ip.flow.protocol) else {
            return self.drop_frame(PathDrop::NotForVip, Some(port), &f, None);
        };
        let flags = match ip.l4 {
            L4::Tcp { flags } => CoreFlags(flags.0),
            _ => CoreFlags(0),
        };
        // A SYN whose MSS option cannot be clamped makes no session.
        if flags.0 & CoreFlags::SYN != 0
            && mss::check_mss_at(f.data(), ip.l4_offset) == Err(slb_wire::Error::BadOption)
        {
            return self.drop_frame(slb_wire::DropReason::BadMssOption, Some(port), &f, None);
        }
        let client_mac = match f.data().get(6..12) {
            Some(m) => [m[0], m[1], m[2], m[3], m[4], m[5]],
            None => return self.drop_frame(PathDrop::Rewrite, Some(port), &f, None),
        };
        let key = SessionKey {
            protocol,
            vip: ip.flow.dst,
            vip_port: ip.flow.dst_port,
            client: ip.flow.src,
            client_port: ip.flow.src_port,
        };
        let info = PacketInfo {
            key,
            tcp_flags: flags,
            client_mac,
            ingress_port: u16::from(port),
            bytes: f.len() as u32,
        };
        // A UDP service with layer-7 rules: a flow of no session waits
        // for its first datagram(s) to be read (`first_data.rs`).
        if protocol == slb_core::Protocol::Udp {
            if let Some(sid) = self.l7_service(&key) {
                if self.core.find(&key).is_none() {
                    return self.wait_first_data(sid, worker, port, f, &ip, &info, None, now, out);
                }
            }
        }
        let mut outcome = self.core.on_new_packet(&info, now);
        // Delayed binding: a handshake ACK of a `syn_proxy` service whose
        // cookie is good binds the session (`splice.rs`). A bad cookie is
        // dropped as such, unless the flow is a late one (its session
        // ended here) or one a consistent hash can recover.
        if outcome == NewPacketOutcome::NotSessionStart {
            match self.cookie_verdict(&ip, f.data(), &key) {
                // Layer-7 rules: bound once the first data is read.
                Some(Ok(cookie)) => match self.l7_service(&key) {
                    Some(sid) => {
                        return self.wait_first_data(
                            sid,
                            worker,
                            port,
                            f,
                            &ip,
                            &info,
                            Some(cookie),
                            now,
                            out,
                        )
                    }
                    None => {
                        let l4 = (0, slb_core::BoundBy::L4);
                        let (held, flow) = (vec![f], ip.flow);
                        return self
                            .bind_spliced(worker, port, held, flow, &info, cookie, l4, now, out);
                    }
                },
                Some(Err(e))
                    if !self.recovers(&key, origin) && self.recent_ends.by_flow(&key).is_none() =>
                {
                    let r = match e {
                        slb_wire::syn_cookie::CookieError::Stale => PathDrop::CookieStale,
                        _ => PathDrop::CookieForged,
                    };
                    return self.drop_frame(r, Some(port), &f, None);
                }
                _ => {}
            }
        }
        // A plain client's flow that ECMP moved here from another
        // instance: re-admitted by the hash (cluster mode, consistent
        // algorithms; `Core::recover`).
        let recovering =
            outcome == NewPacketOutcome::NotSessionStart && self.recovers(&key, origin);
        if recovering {
            outcome = self.core.recover(&info, now);
        }
        match outcome {
            NewPacketOutcome::Admitted { admitted, replaced } => {
                if let Some(old) = replaced {
                    self.withdraw(&old);
                }
                self.counters.event(Event::SessionsAdmitted);
                if recovering {
                    self.counters.event(Event::RecoveredByHash);
                }
                if !self.install(
                    worker, &admitted, &key, port, client_mac, &ip.flow, true, now,
                ) {
                    return self.drop_frame(PathDrop::NoNextHop, Some(port), &f, None);
                }
                self.clamp_syn(&mut f, &ip);
                self.send_c2s(f, admitted.labels.c2s(), admitted.server_addr, now, out);
            }
            NewPacketOutcome::Existing {
                session,
                labels,
                ended,
                ..
            } => {
                // A packet that ended the session (RST) leaves it dead in the
                // core: take what we need from the `Ended` record then.
                let (service, server) = match &ended {
                    Some(e) => (e.service, e.server),
                    None => {
                        let s = self.core.session(session);
                        (s.service(), s.server())
                    }
                };
                let server_addr = self
                    .core
                    .service(service)
                    .and_then(|s| s.pool().get(server).map(|srv| srv.addr()));
                // Its server has not answered the replayed SYN yet.
                if ended.is_none() && self.splices.waiting(labels.c2s()) {
                    return self.hold_for_splice(labels.c2s(), port, f);
                }
                let plain = self.services.get(&service).is_some_and(|s| s.plain_clients);
                if ended.is_none() && plain {
                    self.install_flow(worker, ip.flow, labels.c2s());
                }
                self.clamp_syn(&mut f, &ip);
                match server_addr {
                    Some(server) => self.send_c2s(f, labels.c2s(), server, now, out),
                    None => self.counters.path_drop(PathDrop::NoNextHop),
                }
                if let Some(e) = ended {
                    self.withdraw(&e);
                }
            }
            NewPacketOutcome::Refused { service, .. } => {
                self.drop_frame(PathDrop::Refused, Some(port), &f, None);
                // A reset answers a refused SYN only: a recovered flow's
                // segment is dropped (its client retransmits or gives up).
                let rst = !recovering && self.services.get(&service).is_some_and(|s| s.refuse_rst);
                if rst && matches!(ip.l4, L4::Tcp { .. }) {
                    self.send_reset(port, f, &ip, out);
                }
            }
            NewPacketOutcome::NotSessionStart => {
                // (On a label no session holds, the label is what is
                // unknown: counted as a labelled frame would be.)
                let none = match origin {
                    Origin::Punted => PathDrop::NoSession,
                    Origin::ForeignLabel => PathDrop::UnknownLabel,
                };
                let end = self.recent_ends.by_flow(&key);
                let (reason, late) = late_reason(end, now, none);
                self.drop_frame(reason, Some(port), &f, late);
            }
            NewPacketOutcome::NoService => {
                self.drop_frame(PathDrop::NotForVip, Some(port), &f, None)
            }
        }
    }

    /// Whether a packet that does not start a session may be re-admitted
    /// by the hash (`Core::recover`): only in a cluster, for a service of
    /// plain clients, or of label-aware ones when the packet came on a
    /// label this instance does not hold (the core checks the algorithm).
    fn recovers(&self, key: &SessionKey, origin: Origin) -> bool {
        self.config.in_cluster()
            && self
                .core
                .find_service(key.protocol, key.vip, key.vip_port)
                .and_then(|id| self.services.get(&id))
                .is_some_and(|rt| rt.plain_clients == (origin == Origin::Punted))
    }

    pub(crate) fn clamp_syn(&self, f: &mut F, ip: &IpFrame) {
        if let L4::Tcp { flags } = ip.l4 {
            if flags.contains(slb_wire::TcpFlags::SYN) {
                let v6 = matches!(ip.flow.dst, IpAddr::V6(_));
                // `ip` is this frame's classification: no second parse.
                if let Ok(true) = mss::clamp_mss_at(
                    f.data_mut(),
                    ip.l4_offset,
                    ip.l3_end,
                    self.shared.max_mss(v6),
                ) {
                    self.counters.event(Event::MssClamped);
                }
            }
        }
    }

    /// Label entries on every worker for both directions, and the
    /// flow-cache entry on the worker that saw the flow (plain clients).
    /// `want_reply`: the workers report the server's first reply. False
    /// when no next-hop slot is left for the client: the admitted session
    /// is then ended (`end_now`), and the caller drops its frames.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn install(
        &mut self,
        worker: usize,
        a: &Admitted,
        key: &SessionKey,
        port: u8,
        client_mac: [u8; 6],
        flow: &FlowKey,
        want_reply: bool,
        now: u64,
    ) -> bool {
        let plain = self
            .services
            .get(&a.service)
            .is_none_or(|s| s.plain_clients);
        let Some(client_slot) = self
            .slots
            .acquire_client((port, client_mac), &self.shared.nexthops)
        else {
            self.end_now(a.session, now);
            return false;
        };
        let server_slot = match self.neighbours.get(&a.server_addr) {
            Some(n) => n.slot,
            None => {
                let p = self.port_for(a.server_addr).unwrap_or(0);
                match self.neighbours.ensure(a.server_addr, p, &mut self.slots) {
                    Some(n) => n.slot,
                    None => 0,
                }
            }
        };
        let c2s = Entry {
            nexthop: server_slot,
            pop: false,
            want_reply: false,
            spliced: false,
            client: ClientCheck::of(key.client, &self.shared.fingerprint),
        };
        let s2c = Entry::s2c(client_slot, plain, want_reply, server_slot);
        // A reused pair starts with no traffic of its own.
        if let Some(first) = self.shared.activity.first() {
            let i = first.index(a.labels.c2s());
            for act in &self.shared.activity {
                act.take(i);
            }
        }
        self.shared.tables.set(a.labels.s2c(), s2c);
        self.shared.tables.set(a.labels.c2s(), c2s);
        if let Some(pi) = self.core.labels().pair_index(a.labels.c2s()) {
            self.sides[pi as usize] = Side {
                client_slot,
                flow_workers: 0,
            };
        }
        if plain {
            self.install_flow(worker, *flow, a.labels.c2s());
        }
        true
    }

    /// Queues the flow-cache entry of a plain client's session on the
    /// worker that saw its flow, and remembers it for withdrawal.
    pub(crate) fn install_flow(&mut self, worker: usize, flow: FlowKey, c2s: u32) {
        let Some(pi) = self.core.labels().pair_index(c2s) else {
            return;
        };
        if let Some(c) = self.chans.get(worker) {
            if c.ops.push(WorkerOp::FlowAdd(flow, c2s)).is_ok() {
                self.sides[pi as usize].flow_workers |= 1 << worker;
            }
        }
    }

    /// Pushes the C2S label and sends toward the server (or holds the frame
    /// until the server's MAC is known).
    pub(crate) fn send_c2s(
        &mut self,
        f: F,
        c2s: u32,
        server: IpAddr,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        self.send_c2s_tc(f, c2s, 0, server, now, out);
    }

    /// The frame `f` to the server with label `c2s` and traffic class
    /// `tc` (the splice mark, or 0).
    pub(crate) fn send_c2s_tc(
        &mut self,
        mut f: F,
        c2s: u32,
        tc: u8,
        server: IpAddr,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let Some(label) = slb_wire::Label::new(c2s) else {
            return self.drop_frame(PathDrop::Rewrite, None, &f, None);
        };
        let Some(data) = f.prepend(mpls::LSE_LEN as u16) else {
            return self.drop_frame(PathDrop::NoHeadroom, None, &f, None);
        };
        let lse = slb_wire::Lse {
            tc,
            ..slb_wire::Lse::pipe(label)
        };
        if mpls::push_label(data, lse).is_err() {
            return self.drop_frame(PathDrop::Rewrite, None, &f, None);
        }
        let (port, mac) = match self.neighbours.get(&server) {
            Some(n) => (n.port, n.mac),
            None => return self.drop_frame(PathDrop::NoNextHop, None, &f, None),
        };
        self.send_or_hold(f, server, port, mac, now, out);
    }

    /// Sends `f` to the neighbour `addr` out of `port` when its MAC is
    /// known; else holds it while the MAC is resolved (what the hold queue
    /// refuses is counted `neighbour_queue_full`) and asks at once rather
    /// than at the next periodic check.
    pub(crate) fn send_or_hold(
        &mut self,
        f: F,
        addr: IpAddr,
        port: u8,
        mac: Option<[u8; 6]>,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        if let Some(mac) = mac {
            return self.transmit(port, mac, f, out);
        }
        if self.neighbours.hold(&addr, f).is_err() {
            self.counters.path_drop(PathDrop::NeighbourQueueFull);
        }
        if self
            .neighbours
            .get(&addr)
            .is_some_and(|n| n.last_request.is_none())
        {
            self.next_neighbour_check = now;
        }
    }

    pub(crate) fn transmit(&self, port: u8, mac: [u8; 6], mut f: F, out: &mut dyn FnMut(usize, F)) {
        let Some(p) = self.shared.ports.get(port as usize) else {
            return self.drop_frame(PathDrop::NoNextHop, None, &f, None);
        };
        if ethernet::rewrite_macs(f.data_mut(), MacAddr(p.mac), MacAddr(mac)).is_err() {
            return self.drop_frame(PathDrop::Rewrite, None, &f, None);
        }
        if let Err(r) = fits_mtu(p, &f, PathDrop::Rewrite.into()) {
            return self.drop_frame(r, None, &f, None);
        }
        self.counters.event(Event::SchedulerTx);
        out(port as usize, f);
    }

    /// A reset to the client from `f`, a frame it sent that was held
    /// (its classification gone with the punt: read again), built in
    /// `f`'s buffer. `Err(f)` when `f` is not an IP frame: nothing sent.
    pub(crate) fn reset_from_held(
        &self,
        port: u8,
        f: F,
        out: &mut dyn FnMut(usize, F),
    ) -> Result<(), F> {
        match classify(f.data()) {
            Ok(Classified::Ip(ip)) => {
                self.send_reset(port, f, &ip, out);
                Ok(())
            }
            _ => Err(f),
        }
    }

    pub(crate) fn send_reset(
        &self,
        port: u8,
        mut f: F,
        ip: &IpFrame,
        out: &mut dyn FnMut(usize, F),
    ) {
        let Some(p) = self.shared.ports.get(port as usize) else {
            return;
        };
        let mut buf = [0u8; reset::MAX_LEN];
        let Some(n) = reset::build(f.data(), ip, p.mac, &mut buf) else {
            return;
        };
        if !f.set_len(n) {
            return;
        }
        f.data_mut().copy_from_slice(&buf[..n]);
        self.counters.event(Event::ResetsSent);
        out(port as usize, f);
    }
}

/// Whether `f`'s L3 packet fits port `p`'s MTU: `Oversize` when it does
/// not, `unreadable` when it has no L2 header to measure it by.
pub(crate) fn fits_mtu<F: Frame>(p: &PortInfo, f: &F, unreadable: Reason) -> Result<(), Reason> {
    let l2 = ethernet::l2(f.data()).map_err(|_| unreadable)?.header_len;
    if f.len() - l2 > usize::from(p.mtu) {
        return Err(PathDrop::Oversize.into());
    }
    Ok(())
}
