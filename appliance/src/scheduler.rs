//! The scheduler lcore's logic (brief section 2): the load balancing
//! processing unit, the session managing unit and the session label
//! managing unit of the claims, around [`slb_core::Core`].
//!
//! It drains the workers' punt and report queues, admits or refuses new
//! sessions, assigns label pairs, installs label entries in every worker's
//! table (both directions) and flow-cache entries for plain clients, sends
//! each session's first packet itself, resolves neighbours, and ends
//! sessions (FIN/RST reports, idle and linger expiry in bounded slices),
//! clearing their entries on every worker before the labels go to
//! quarantine. Pure Rust over [`Frame`]: slbd runs it on an lcore with
//! mbufs, the golden tests run it with vectors and a clock they control.

use crate::arp_nd;
use crate::counters::{Counters, Event, PathDrop};
use crate::fast_path::{
    Channels, FastPath, Punt, PuntKind, Report, ReportKind, ServiceKey, Shared, WorkerOp,
};
use crate::frame::Frame;
use crate::label_table::{ClientCheck, Entry};
use crate::neighbour::{Neighbours, Resolve, SlotAlloc};
use crate::reset;
use hashbrown::HashMap;
use slb_core::labels::LabelStatus;
use slb_core::service::{Admitted, Ended, EventOutcome, NewPacketOutcome, PacketInfo};
use slb_core::session::{EndReason, Protocol, SessionKey, TcpFlags as CoreFlags};
use slb_core::{Core, ServiceId};
use slb_wire::classify::{IpFrame, L4};
use slb_wire::{
    classify, ethernet, mpls, mss, Classified, FlowKey, IpProtocol, Label, Lse, MacAddr,
};
use std::net::IpAddr;
use std::sync::Arc;

/// Per service, what the data path needs beyond the core's view.
#[derive(Debug, Clone)]
pub struct ServiceRt {
    pub name: String,
    pub key: ServiceKey,
    /// Clients are unmodified: pop toward them, push for them.
    pub plain_clients: bool,
    /// Refuse with a TCP reset (else drop).
    pub refuse_rst: bool,
}

/// Per label pair: what the scheduler must undo when the session ends.
#[derive(Debug, Clone, Copy, Default)]
struct Side {
    client_slot: u16,
    /// Workers holding a flow-cache entry for the session.
    flow_workers: u64,
}

const PUNTS_PER_POLL: usize = 64;
const REPORTS_PER_POLL: usize = 256;
const EXPIRE_PER_POLL: usize = 64;
const NEIGHBOUR_CHECK_NS: u64 = 100_000_000;

pub struct Scheduler<F: Frame> {
    pub(crate) core: Core,
    pub(crate) shared: Arc<Shared>,
    pub(crate) chans: Vec<Arc<Channels<F>>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) services: HashMap<ServiceId, ServiceRt>,
    /// The scheduler's own fast path (replica index = number of workers):
    /// switches punted labelled frames, and frames of the scheduler's own
    /// RX queue. Its channel is the last of `chans`.
    pub(crate) local: FastPath<F>,
    pub(crate) local_id: usize,
    pub(crate) neighbours: Neighbours<F>,
    slots: SlotAlloc,
    clients: HashMap<(u8, [u8; 6]), (u16, u32)>,
    /// The `clients` key of each next-hop slot a client holds (withdraw
    /// finds it by slot in O(1) instead of scanning `clients`).
    client_of_slot: Vec<(u8, [u8; 6])>,
    sides: Vec<Side>,
    ended: Vec<Ended>,
    due: Vec<(u8, IpAddr)>,
    next_neighbour_check: u64,
    pub(crate) alloc: crate::frame::FrameAlloc<F>,
    /// The control plane's side: command queue, running configuration.
    pub(crate) ctl: crate::commands::SchedControl,
    /// Active and passive health monitoring of the servers.
    pub(crate) health: crate::health::Health,
}

impl<F: Frame> Scheduler<F> {
    /// `shared` must hold one label table replica per worker plus one for
    /// the scheduler (the last). `alloc` makes frames for ARP/ND requests.
    pub fn new(
        core: Core,
        shared: Arc<Shared>,
        chans: Vec<Arc<Channels<F>>>,
        counters: Arc<Counters>,
        alloc: crate::frame::FrameAlloc<F>,
    ) -> Self {
        let mut chans = chans;
        let local_id = chans.len();
        let local_chan = Arc::new(Channels::new(1024, 1024, 65536));
        chans.push(local_chan.clone());
        let local = FastPath::new(local_id, shared.clone(), local_chan, counters.clone(), 4096);
        let pairs = core.labels().capacity() as usize;
        let slots = SlotAlloc::new(shared.nexthops.capacity());
        let client_of_slot = vec![(0, [0; 6]); shared.nexthops.capacity()];
        Scheduler {
            core,
            shared,
            chans,
            counters,
            services: HashMap::new(),
            local,
            local_id,
            neighbours: Neighbours::default(),
            slots,
            clients: HashMap::new(),
            client_of_slot,
            sides: vec![Side::default(); pairs],
            ended: Vec::with_capacity(EXPIRE_PER_POLL),
            due: Vec::new(),
            next_neighbour_check: 0,
            alloc,
            ctl: crate::commands::SchedControl::new(),
            health: crate::health::Health::default(),
        }
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Registers a service's data-path options and tells every worker to
    /// match its (protocol, VIP, port).
    pub fn add_service(&mut self, id: ServiceId, rt: ServiceRt) {
        for c in &self.chans {
            let _ = c.ops.push(WorkerOp::ServiceAdd(rt.key));
        }
        self.local.apply_ops();
        self.services.insert(id, rt);
    }

    /// A frame from the scheduler's own RX queue: switched like on a worker
    /// (what it cannot switch comes back through the scheduler's channel).
    #[inline]
    pub fn receive(&mut self, port: usize, f: F) -> Option<(usize, F)> {
        self.local.process(port, f)
    }

    /// Handles `f` as if worker `worker` had punted it as a new-session
    /// candidate received on `port` (for preloading sessions).
    pub fn inject_new(
        &mut self,
        worker: usize,
        port: u8,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        self.punted_new(worker, port, f, now, out);
    }

    /// Counts a frame dropped before it reached [`Self::receive`].
    pub fn count_drop(&self, r: PathDrop) {
        self.counters.path_drop(r);
    }

    /// Starts resolving `addr`, reachable on the port whose subnet holds it.
    pub fn watch_neighbour(&mut self, addr: IpAddr) -> bool {
        let Some(port) = self.port_for(addr) else {
            return false;
        };
        self.neighbours
            .ensure(addr, port, &mut self.slots)
            .is_some()
    }

    /// A MAC from the configuration (never resolved, never expires).
    pub fn static_neighbour(&mut self, addr: IpAddr, mac: [u8; 6]) -> bool {
        let Some(port) = self.port_for(addr) else {
            return false;
        };
        self.neighbours
            .set_static(addr, port, mac, &mut self.slots, &self.shared.nexthops)
    }

    pub fn neighbour_mac(&self, addr: IpAddr) -> Option<[u8; 6]> {
        self.neighbours.get(&addr).and_then(|n| n.mac)
    }

    fn port_for(&self, addr: IpAddr) -> Option<u8> {
        self.shared
            .ports
            .iter()
            .position(|p| p.on_link(addr))
            .map(|i| i as u8)
    }

    /// One round: punts, reports, an expiry slice, neighbour requests.
    /// Frames to send go to `out(port index, frame)`. Returns the work done
    /// (0 = idle).
    pub fn poll(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let mut work = 0;
        self.local.apply_ops();
        for w in 0..self.chans.len() {
            for _ in 0..PUNTS_PER_POLL {
                let Some(p) = self.chans[w].punts.pop() else {
                    break;
                };
                self.punt(w, p, now, out);
                work += 1;
            }
            for _ in 0..REPORTS_PER_POLL {
                let Some(r) = self.chans[w].reports.pop() else {
                    break;
                };
                self.report(r, now);
                work += 1;
            }
        }
        self.ended.clear();
        let mut ended = std::mem::take(&mut self.ended);
        // Sessions the workers switched traffic for are not idle, whatever
        // the core last heard (see `activity.rs`).
        let activity = &self.shared.activity;
        let mut recent = |c2s: u32, reason: EndReason| {
            let Some(first) = activity.first() else {
                return false;
            };
            let i = first.index(c2s);
            let seen = activity.iter().fold(0u8, |acc, a| acc | a.take(i));
            match reason {
                EndReason::NoReply => seen & crate::activity::S2C != 0,
                _ => seen != 0,
            }
        };
        let sweep = self
            .core
            .expire_unless_recent(now, EXPIRE_PER_POLL, &mut recent, &mut ended);
        for e in &ended {
            self.withdraw(e);
        }
        work += sweep.ended + sweep.labels_released;
        self.ended = ended;
        if now >= self.next_neighbour_check {
            self.next_neighbour_check = now + NEIGHBOUR_CHECK_NS;
            work += self.request_neighbours(now, out);
        }
        work += self.run_commands(now, out);
        work += self.run_health(now, out);
        work
    }

    fn punt(&mut self, worker: usize, p: Punt<F>, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Punt { port, kind, frame } = p;
        match kind {
            PuntKind::Label if worker == self.local_id => self.dead_label(frame),
            PuntKind::Label => self.punted_label(port as usize, frame, out),
            PuntKind::New => self.punted_new(worker, port, frame, now, out),
            PuntKind::Neighbour => self.punted_neighbour(port, frame, now, out),
            PuntKind::Probe => self.punted_probe(port, frame, now, out),
        }
    }

    /// A label the worker did not know: switch it with the scheduler's own
    /// replica (it may have raced the install), or count why it is dead.
    fn punted_label(&mut self, port: usize, f: F, out: &mut dyn FnMut(usize, F)) {
        // Not switched here means it came back on the local channel, where
        // the next round finds it dead (see `dead_label`).
        if let Some((o, f)) = self.local.process(port, f) {
            out(o, f);
        }
    }

    /// A label the scheduler's own replica does not hold: no session has
    /// it. Count whether it is withdrawn (in quarantine) or unknown.
    fn dead_label(&mut self, f: F) {
        let label = mpls::top_label(f.data())
            .map(|t| t.lse.label.value())
            .unwrap_or(0);
        let reason = match self.core.labels().status(label) {
            LabelStatus::Quarantined => PathDrop::WithdrawnLabel,
            _ => PathDrop::UnknownLabel,
        };
        self.counters.path_drop(reason);
    }

    fn punted_new(
        &mut self,
        worker: usize,
        port: u8,
        mut f: F,
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
            Ok(_) => return self.counters.path_drop(PathDrop::NotForVip),
            Err(r) => return self.counters.wire_drop(r),
        };
        // A frame too large for any server-facing port never makes a session.
        let fits = self
            .shared
            .ports
            .iter()
            .filter(|p| p.role.faces_servers())
            .any(|p| ip.l3_end - ip.l3_offset + mpls::LSE_LEN <= usize::from(p.mtu));
        if !fits {
            return self.counters.path_drop(PathDrop::Oversize);
        }
        let protocol = match ip.flow.protocol {
            IpProtocol::Tcp => Protocol::Tcp,
            IpProtocol::Udp => Protocol::Udp,
            _ => return self.counters.path_drop(PathDrop::NotForVip),
        };
        let flags = match ip.l4 {
            L4::Tcp { flags } => CoreFlags(flags.0),
            _ => CoreFlags(0),
        };
        let client_mac = match f.data().get(6..12) {
            Some(m) => [m[0], m[1], m[2], m[3], m[4], m[5]],
            None => return self.counters.path_drop(PathDrop::Rewrite),
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
        match self.core.on_new_packet(&info, now) {
            NewPacketOutcome::Admitted { admitted, replaced } => {
                if let Some(old) = replaced {
                    self.withdraw(&old);
                }
                self.counters.event(Event::SessionsAdmitted);
                if !self.install(worker, &admitted, &key, port, client_mac, &ip.flow) {
                    // No next-hop slot for the client: undo.
                    let e = self.core.end_session(admitted.session, now);
                    self.withdraw(&e);
                    return self.counters.path_drop(PathDrop::NoNextHop);
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
                self.counters.path_drop(PathDrop::Refused);
                let rst = self.services.get(&service).is_some_and(|s| s.refuse_rst);
                if rst && matches!(ip.l4, L4::Tcp { .. }) {
                    self.send_reset(port, f, &ip, out);
                }
            }
            NewPacketOutcome::NotSessionStart => self.counters.path_drop(PathDrop::NoSession),
            NewPacketOutcome::NoService => self.counters.path_drop(PathDrop::NotForVip),
        }
    }

    fn clamp_syn(&self, f: &mut F, ip: &IpFrame) {
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
    fn install(
        &mut self,
        worker: usize,
        a: &Admitted,
        key: &SessionKey,
        port: u8,
        client_mac: [u8; 6],
        flow: &FlowKey,
    ) -> bool {
        let plain = self
            .services
            .get(&a.service)
            .is_none_or(|s| s.plain_clients);
        let client_slot = match self.clients.get_mut(&(port, client_mac)) {
            Some((slot, refs)) => {
                *refs += 1;
                *slot
            }
            None => {
                let Some(slot) = self.slots.alloc() else {
                    return false;
                };
                self.shared.nexthops.set(
                    slot,
                    crate::nexthop::NextHop {
                        port,
                        mac: client_mac,
                    },
                );
                self.clients.insert((port, client_mac), (slot, 1));
                if let Some(k) = self.client_of_slot.get_mut(usize::from(slot)) {
                    *k = (port, client_mac);
                }
                slot
            }
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
            client: ClientCheck::of(key.client, &self.shared.fingerprint),
        };
        let s2c = Entry {
            nexthop: client_slot,
            pop: plain,
            want_reply: true,
            client: ClientCheck::default(),
        };
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
    fn install_flow(&mut self, worker: usize, flow: FlowKey, c2s: u32) {
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
    fn send_c2s(
        &mut self,
        mut f: F,
        c2s: u32,
        server: IpAddr,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let Some(label) = Label::new(c2s) else {
            return self.counters.path_drop(PathDrop::Rewrite);
        };
        let Some(data) = f.prepend(mpls::LSE_LEN as u16) else {
            return self.counters.path_drop(PathDrop::NoHeadroom);
        };
        if mpls::push_label(data, Lse::pipe(label)).is_err() {
            return self.counters.path_drop(PathDrop::Rewrite);
        }
        let (port, mac) = match self.neighbours.get(&server) {
            Some(n) => (n.port, n.mac),
            None => return self.counters.path_drop(PathDrop::NoNextHop),
        };
        match mac {
            Some(mac) => self.transmit(port, mac, f, out),
            None => {
                if self.neighbours.hold(&server, f).is_err() {
                    self.counters.path_drop(PathDrop::NeighbourQueueFull);
                }
                // Ask at once rather than at the next periodic check.
                if self
                    .neighbours
                    .get(&server)
                    .is_some_and(|n| n.last_request.is_none())
                {
                    self.next_neighbour_check = now;
                }
            }
        }
    }

    fn transmit(&self, port: u8, mac: [u8; 6], mut f: F, out: &mut dyn FnMut(usize, F)) {
        let Some(p) = self.shared.ports.get(port as usize) else {
            return self.counters.path_drop(PathDrop::NoNextHop);
        };
        if ethernet::rewrite_macs(f.data_mut(), MacAddr(p.mac), MacAddr(mac)).is_err() {
            return self.counters.path_drop(PathDrop::Rewrite);
        }
        let l2 = match ethernet::l2(f.data()) {
            Ok(l2) => l2.header_len,
            Err(_) => return self.counters.path_drop(PathDrop::Rewrite),
        };
        if f.len() - l2 > usize::from(p.mtu) {
            return self.counters.path_drop(PathDrop::Oversize);
        }
        self.counters.event(Event::SchedulerTx);
        out(port as usize, f);
    }

    fn send_reset(&self, port: u8, mut f: F, ip: &IpFrame, out: &mut dyn FnMut(usize, F)) {
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

    fn punted_neighbour(&mut self, port: u8, f: F, now: u64, out: &mut dyn FnMut(usize, F)) {
        let learned = match classify(f.data()) {
            Ok(Classified::Arp(a)) => Some((IpAddr::V4(a.sender_ip), a.sender_mac.0)),
            Ok(Classified::Nd(n)) => {
                let mac = n.lladdr.map(|m| m.0).or_else(|| {
                    f.data()
                        .get(6..12)
                        .map(|m| [m[0], m[1], m[2], m[3], m[4], m[5]])
                });
                mac.map(|m| (IpAddr::V6(n.target), m))
            }
            _ => None,
        };
        drop(f);
        let Some((addr, mac)) = learned else {
            return;
        };
        self.health_neighbour(addr, now);
        if let Some(Resolve::Release { port, mac, frames }) =
            self.neighbours
                .learn(addr, mac, port, now, &self.shared.nexthops)
        {
            for f in frames {
                self.transmit(port, mac, f, out);
            }
        }
    }

    fn request_neighbours(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        self.due.clear();
        let mut due = std::mem::take(&mut self.due);
        self.neighbours.due(now, 64, &mut due);
        let n = due.len();
        for &(port, addr) in &due {
            let Some(p) = self.shared.ports.get(port as usize) else {
                continue;
            };
            let bytes = match addr {
                IpAddr::V4(a) => p.ipv4.map(|(ours, _)| arp_nd::arp_request(p.mac, ours, a)),
                IpAddr::V6(a) => p
                    .ipv6
                    .map(|(ours, _)| arp_nd::neighbour_solicitation(p.mac, ours, a)),
            };
            if let Some(f) = bytes.and_then(|b| (self.alloc)(&b)) {
                self.counters.event(Event::NeighbourRequests);
                out(port as usize, f);
            }
        }
        self.due = due;
        n
    }

    fn report(&mut self, r: Report, now: u64) {
        let outcome = match r.kind {
            ReportKind::Fin => self.core.on_event(r.label, CoreFlags(CoreFlags::FIN), now),
            ReportKind::Rst => self.core.on_event(r.label, CoreFlags(CoreFlags::RST), now),
            ReportKind::FirstReply => {
                let o = self.core.on_first_reply(r.label, now);
                // The reply is seen: stop the workers reporting it.
                if let Some(mut e) = self.shared.tables.replica(self.local_id).get(r.label) {
                    if e.want_reply {
                        e.want_reply = false;
                        self.shared.tables.set(r.label, e);
                    }
                }
                o
            }
        };
        if let EventOutcome::Ended(e) = outcome {
            self.withdraw(&e);
        }
    }

    /// A session ended: clear its entries on every worker, then its
    /// flow-cache entries and client next hop. The core has already put the
    /// pair in quarantine, so no new session gets it before late frames
    /// have drained.
    pub(crate) fn withdraw(&mut self, e: &Ended) {
        let (c2s, s2c) = (e.labels.c2s(), e.labels.s2c());
        self.shared.tables.clear(c2s);
        self.shared.tables.clear(s2c);
        self.counters.event(Event::SessionsEnded);
        self.health_ended(e);
        let Some(pi) = self.core.labels().pair_index(c2s) else {
            return;
        };
        let side = std::mem::take(&mut self.sides[pi as usize]);
        if side.flow_workers != 0 {
            let flow = FlowKey {
                protocol: match e.key.protocol {
                    Protocol::Tcp => IpProtocol::Tcp,
                    Protocol::Udp => IpProtocol::Udp,
                },
                src: e.key.client,
                src_port: e.key.client_port,
                dst: e.key.vip,
                dst_port: e.key.vip_port,
            };
            for (w, c) in self.chans.iter().enumerate() {
                if side.flow_workers & (1 << w) != 0 {
                    // If the queue is full the worker finds the entry stale
                    // (label not live) and drops it itself.
                    let _ = c.ops.push(WorkerOp::FlowRemove(flow));
                }
            }
        }
        let mut free = None;
        let key = self
            .client_of_slot
            .get(usize::from(side.client_slot))
            .copied();
        if let Some(k) = key {
            if let Some(v) = self.clients.get_mut(&k).filter(|v| v.0 == side.client_slot) {
                v.1 = v.1.saturating_sub(1);
                if v.1 == 0 {
                    free = Some(k);
                }
            }
        }
        if let Some(k) = free {
            self.clients.remove(&k);
            self.shared.nexthops.clear(side.client_slot);
            self.slots.release(side.client_slot);
        }
    }
}
