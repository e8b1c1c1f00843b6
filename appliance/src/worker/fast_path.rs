//! The worker's per-packet path: the packet analysing unit and the label
//! switching unit of the claims (docs/claims.md).
//!
//! 1. MPLS: top label -> this core's label table -> checks (live, port
//!    role, client address for client-to-server) -> L2 rewrite -> pop
//!    toward plain clients -> out. Unknown labels go to the scheduler,
//!    which knows every session (a reply racing a table update is
//!    forwarded, not lost).
//! 2. ARP / ND for slbd's addresses and the VIPs: answered here, in place.
//!    Replies to slbd's own requests go to the scheduler.
//! 3. Unlabelled IP to a service: flow cache hit -> push the session's
//!    client-to-server label and switch; miss -> to the scheduler (new
//!    session). Queue full -> dropped and counted, so a flood of new
//!    sessions never slows established ones.
//! 4. ICMP to slbd or a VIP, and frames too big once labelled: `icmp.rs`.
//! 5. Everything else: dropped and counted by reason.
//!
//! No locks, no allocation, no system call: the label table and next hops
//! are atomics written by the scheduler; the flow cache and service set are
//! this worker's own, changed only through its op queue between bursts.

use super::arp_nd;
use super::burst::{BurstHints, Hint};
use super::flow_cache::FlowCache;
use super::icmp_limits::IcmpLimits;
use super::poll_loop::Handler;
use crate::channels::{Channels, Punt, PuntKind, Report, ReportKind, ServiceKey, WorkerOp};
use crate::counters::{Counters, Event, PathDrop};
use crate::dpdk::{Drain, Mbuf};
use crate::frame::Frame;
use crate::shared::drop_trace::Reason;
use crate::shared::label_table::ClientCheck;
use crate::shared::ports::PortRole;
use crate::shared::Shared;
use hashbrown::{HashMap, HashSet};
use slb_wire::classify::{ArpFrame, IpFrame, LabelledFrame, NdFrame, NdKind, L4};
use slb_wire::syn_cookie::syn_ack::Advertise;
use slb_wire::{
    arp, classify, ethernet, mpls, mss, Classified, DropReason, Label, Lse, MacAddr, TcpFlags,
};
use std::net::IpAddr;
use std::sync::Arc;
/// Ops a worker applies per loop iteration at most, so a burst of
/// installs never starves RX.
const OPS_PER_POLL: usize = 256;

/// One worker's data path.
pub struct FastPath<F> {
    worker: usize,
    pub(super) shared: Arc<Shared>,
    chan: Arc<Channels<F>>,
    pub(super) counters: Arc<Counters>,
    pub(super) flows: FlowCache,
    /// The staged burst's hints (`burst.rs`), and the frame in hand's.
    hints: BurstHints,
    hint: Hint,
    services: HashSet<ServiceKey>,
    /// The IPv4 members of `services` as one word each
    /// ([`ServiceKey::v4_word`]): the per-frame lookup hashes a u64.
    services_v4: HashSet<u64>,
    /// Services with `syn_proxy`: what their cookie SYN-ACKs advertise.
    pub(super) syn_proxy: HashMap<ServiceKey, Advertise>,
    /// VIP addresses with a count of services on each (ARP/ND answers).
    pub(super) vips: HashMap<IpAddr, u32>,
    /// ICMP settings and this lcore's token buckets.
    pub(super) icmp: IcmpLimits,
}

impl<F: Frame> FastPath<F> {
    pub fn new(
        worker: usize,
        shared: Arc<Shared>,
        chan: Arc<Channels<F>>,
        counters: Arc<Counters>,
        flow_capacity: usize,
    ) -> Self {
        FastPath {
            worker,
            shared,
            chan,
            counters,
            flows: FlowCache::with_capacity(flow_capacity),
            hints: BurstHints::default(),
            hint: Hint::NONE,
            services: HashSet::new(),
            services_v4: HashSet::new(),
            syn_proxy: HashMap::new(),
            vips: HashMap::new(),
            icmp: IcmpLimits::default(),
        }
    }

    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// Applies pending ops from the scheduler (between bursts).
    pub fn apply_ops(&mut self) {
        for _ in 0..OPS_PER_POLL {
            let Some(op) = self.chan.ops.pop() else {
                return;
            };
            match op {
                WorkerOp::FlowAdd(k, label) => {
                    if self.flows.insert(&k, label) {
                        self.counters.event(Event::FlowsEvicted);
                    }
                }
                WorkerOp::FlowRemove(k) => {
                    self.flows.remove(&k);
                }
                WorkerOp::ServiceAdd(s, proxy) => {
                    match proxy {
                        Some(adv) => self.syn_proxy.insert(s, adv),
                        None => self.syn_proxy.remove(&s),
                    };
                    if let Some(w) = s.v4_word() {
                        self.services_v4.insert(w);
                    }
                    if self.services.insert(s) {
                        *self.vips.entry(s.vip).or_insert(0) += 1;
                    }
                }
                WorkerOp::Icmp(c) => self.set_icmp(&c),
                WorkerOp::ServiceRemove(s) => {
                    self.syn_proxy.remove(&s);
                    if let Some(w) = s.v4_word() {
                        self.services_v4.remove(&w);
                    }
                    if self.services.remove(&s) {
                        if let Some(n) = self.vips.get_mut(&s.vip) {
                            *n -= 1;
                            if *n == 0 {
                                self.vips.remove(&s.vip);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Stages 1 and 2 of the staged burst (`burst.rs`): looks at every
    /// frame of the burst about to be handled and starts loading what
    /// handling them will need. `frames` in the order [`FastPath::process`]
    /// will get them. Changes nothing but the burst's hints.
    #[inline]
    pub fn prepare<'a>(&mut self, frames: impl Iterator<Item = &'a F>)
    where
        F: 'a,
    {
        self.hints.prepare(
            frames,
            &self.flows,
            self.shared.tables.replica(self.worker),
            self.shared.activity.get(self.worker),
        );
    }

    /// Decides the fate of one frame received on port `in_port`.
    #[inline]
    pub fn process(&mut self, in_port: usize, f: F) -> Option<(usize, F)> {
        self.hint = self.hints.take();
        if !f.is_contiguous() {
            return self.discard(PathDrop::Segmented, in_port, &f);
        }
        // Ports run promiscuous: a frame for another host (unknown unicast
        // a switch floods) is not ours. One 6-byte compare; broadcast and
        // multicast go out of line, to be let in for ARP and ND only. A
        // group address as source is never a host to answer or learn.
        let role = match (f.data().first_chunk::<12>(), self.shared.ports.get(in_port)) {
            (Some(h), Some(p)) => {
                if h[6] & 1 != 0 {
                    return self.discard(PathDrop::BadSourceMac, in_port, &f);
                }
                if h[..6] != p.mac {
                    return self.not_own_mac(in_port, f);
                }
                p.role
            }
            // Shorter than two MACs (a runt), or no such port.
            _ => return self.not_own_mac(in_port, f),
        };
        // Labelled frames (untagged, the bulk of the traffic) skip the
        // general classifier's enum; same checks, same drop reasons.
        if let Some(r) = classify::classify_untagged_mpls(f.data()) {
            return match r {
                Ok(lf) => self.labelled(in_port, role, lf, f),
                Err(r) => self.discard(r, in_port, &f),
            };
        }
        self.process_other(in_port, f)
    }

    /// Everything but untagged labelled frames (kept out of line so the
    /// labelled path stays small enough to inline): untagged IPv4 (plain
    /// clients) straight to the unlabelled path, the rest through the
    /// general classifier.
    #[inline(never)]
    fn process_other(&mut self, in_port: usize, f: F) -> Option<(usize, F)> {
        if let Some(r) = classify::classify_untagged_ipv4(f.data()) {
            return match r {
                Ok(ip) => self.unlabelled(in_port, &ip, f),
                Err(r) => self.discard(r, in_port, &f),
            };
        }
        self.process_general(in_port, f)
    }

    /// A frame whose destination MAC is not the port's: broadcast ARP,
    /// and ND to the IPv6 multicast groups slbd listens to (all-nodes
    /// 33:33:00:00:00:01 for unsolicited NAs, solicited-node
    /// 33:33:ff:xx:xx:xx for NS); other group addresses are groups slbd
    /// has not joined, the rest is another host's.
    #[inline(never)]
    fn not_own_mac(&mut self, in_port: usize, f: F) -> Option<(usize, F)> {
        let d = f.data();
        let Some(dst) = d.get(..6) else {
            return self.process_general(in_port, f);
        };
        let arp = dst == MacAddr::BROADCAST.0 && d.get(12..14) == Some(&[0x08, 0x06]);
        let nd_group = dst == [0x33, 0x33, 0, 0, 0, 1] || dst[..3] == [0x33, 0x33, 0xff];
        let nd = nd_group && d.get(12..14) == Some(&[0x86, 0xdd]);
        if arp || nd || d.len() < ethernet::HEADER_LEN {
            // (A runt is counted by the classifier, as before.)
            return self.process_general(in_port, f);
        }
        // A group address (I/G bit) slbd has not joined is the segment's
        // background (MLD, IGMP, LLDP, ...); a unicast one is another
        // host's frame: counted apart, so a growing `foreign_dst_mac`
        // means flooding or a misconfigured neighbour.
        if dst[0] & 1 != 0 {
            return self.discard(PathDrop::GroupNotJoined, in_port, &f);
        }
        self.discard(PathDrop::ForeignDstMac, in_port, &f)
    }

    /// Any frame, through the general classifier.
    #[inline(never)]
    fn process_general(&mut self, in_port: usize, f: F) -> Option<(usize, F)> {
        // slbd's ports are untagged: a tagged frame would leave toward the
        // servers still carrying the client segment's VLAN ID.
        if matches!(f.data().get(12..14), Some([0x81, 0x00])) {
            return self.discard(PathDrop::VlanTagged, in_port, &f);
        }
        let cls = classify(f.data());
        match &cls {
            Ok(Classified::Ip(ip)) => self.unlabelled(in_port, ip, f),
            Ok(Classified::Labelled(lf)) => match self.shared.ports.get(in_port) {
                Some(p) => {
                    let role = p.role;
                    self.labelled(in_port, role, *lf, f)
                }
                None => self.discard(PathDrop::WrongPortRole, in_port, &f),
            },
            Ok(Classified::Arp(a)) => self.arp(in_port, *a, f),
            Ok(Classified::Nd(n)) => self.nd(in_port, *n, f),
            Ok(Classified::Other { .. }) => self.discard(PathDrop::OtherEthertype, in_port, &f),
            Err(r) => self.discard(*r, in_port, &f),
        }
    }

    /// Counts a dropped frame by its reason (and traces it, when the
    /// drop trace is on).
    #[inline]
    pub(super) fn discard(
        &self,
        r: impl Into<Reason>,
        in_port: usize,
        f: &F,
    ) -> Option<(usize, F)> {
        let r = r.into();
        self.counters.dropped(r);
        if self.shared.drops.enabled() {
            self.shared
                .drops
                .record(self.worker, r, in_port as u8, f.data(), None);
        }
        None
    }

    #[inline]
    pub(super) fn punt(&self, in_port: usize, kind: PuntKind, frame: F) -> Option<(usize, F)> {
        let ev = match kind {
            PuntKind::New => Event::PuntedNew,
            PuntKind::Label => Event::PuntedLabel,
            PuntKind::Neighbour => Event::PuntedNeighbour,
            PuntKind::Probe => Event::PuntedProbe,
            PuntKind::IcmpError => Event::PuntedIcmp,
            PuntKind::Exception => Event::PuntedException,
            PuntKind::Sync => Event::PuntedSync,
        };
        match self.chan.punts.push(Punt {
            port: in_port as u8,
            kind,
            frame,
        }) {
            Ok(()) => self.counters.event(ev),
            Err(p) => {
                let _ = self.discard(PathDrop::PuntQueueFull, in_port, &p.frame);
            }
        }
        None
    }

    /// A new-session candidate to the scheduler, unless its source is one
    /// no client can have (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7): a martian,
    /// or a VIP or slbd's own address ("LAND"). Dropped here, it takes no
    /// label and costs the scheduler nothing. (A frame of an existing
    /// session never gets here: its source passed the client check, and
    /// no session has a martian client.)
    #[inline(never)]
    fn punt_new(&self, in_port: usize, src: IpAddr, f: F) -> Option<(usize, F)> {
        if let Some(r) = self.refused_source(src) {
            return self.discard(r, in_port, &f);
        }
        self.punt(in_port, PuntKind::New, f)
    }

    /// Why a new session's first packet from `src` is dropped, if it is:
    /// a martian, a VIP or one of slbd's own addresses.
    fn refused_source(&self, src: IpAddr) -> Option<PathDrop> {
        if slb_wire::ip::martian_source(src) {
            return Some(PathDrop::MartianSource);
        }
        if self.vips.contains_key(&src) || self.shared.ports.iter().any(|p| p.owns(src)) {
            return Some(PathDrop::LandSource);
        }
        None
    }

    #[inline]
    fn report(&self, label: u32, kind: ReportKind) {
        match self.chan.reports.push(Report { label, kind }) {
            Ok(()) => self.counters.event(Event::Reports),
            Err(_) => self.counters.event(Event::ReportsLost),
        }
    }

    /// Reports a TCP RST or FIN of the session holding `label`.
    #[inline]
    fn report_end(&self, label: u32, flags: TcpFlags) {
        if flags.contains(TcpFlags::RST) {
            self.report(label, ReportKind::Rst);
        } else if flags.contains(TcpFlags::FIN) {
            self.report(label, ReportKind::Fin);
        }
    }

    #[inline(always)]
    fn labelled(
        &mut self,
        in_port: usize,
        role: PortRole,
        lf: LabelledFrame,
        mut f: F,
    ) -> Option<(usize, F)> {
        let shared = &*self.shared;
        let label = lf.lse.label.value();
        let Some(e) = shared.tables.replica(self.worker).get(label) else {
            return self.punt(in_port, PuntKind::Label, f);
        };
        let c2s = label & 1 == 1;
        if c2s {
            if !role.faces_clients() {
                return self.discard(PathDrop::WrongPortRole, in_port, &f);
            }
            if ClientCheck::of(lf.inner_src, &shared.fingerprint) != e.client {
                return self.discard(PathDrop::ForeignSource, in_port, &f);
            }
        } else {
            if !role.faces_servers() {
                return self.discard(PathDrop::WrongPortRole, in_port, &f);
            }
            // Only the session's server may answer on its label: the
            // frame's source MAC is the server's next hop's (the S2C
            // entry names its slot; one load of a small, hot table).
            let server = shared.nexthops.get(e.server_slot());
            if server.is_none_or(|s| f.data().get(6..12) != Some(&s.mac[..])) {
                return self.discard(PathDrop::ForeignServer, in_port, &f);
            }
        }
        let Some(nh) = shared.nexthops.get(e.nexthop) else {
            return self.discard(PathDrop::NoNextHop, in_port, &f);
        };
        let out = nh.port as usize;
        let Some(out_port) = shared.ports.get(out) else {
            return self.discard(PathDrop::NoNextHop, in_port, &f);
        };
        if let Some(flags) = lf.tcp_flags {
            if flags.contains(TcpFlags::SYN) {
                // A spliced session's server repeating its SYN-ACK: its
                // replayed ACK was lost. The scheduler answers it again;
                // the client, which had the cookie's, never sees it.
                if !c2s && e.spliced {
                    self.report(label, ReportKind::SynAckAgain);
                    return self.discard(PathDrop::SplicedSynAck, in_port, &f);
                }
                let v6 = matches!(lf.inner_src, IpAddr::V6(_));
                match mss::clamp_mss(f.data_mut(), shared.max_mss(v6)) {
                    Ok(true) => self.counters.event(Event::MssClamped),
                    Err(slb_wire::Error::BadOption) => {
                        return self.discard(DropReason::BadMssOption, in_port, &f);
                    }
                    _ => {}
                }
            }
            self.report_end(label, flags);
        }
        if !c2s && e.want_reply {
            self.report(label, ReportKind::FirstReply);
        }
        // New MACs, and the label popped toward a plain client: written in
        // one pass (pop_label_rewrite moves no MACs).
        if !c2s && e.pop {
            match mpls::pop_label_rewrite(f.data_mut(), MacAddr(out_port.mac), MacAddr(nh.mac)) {
                Ok(p) if f.adj(p.trim as u16) => self.counters.event(Event::Popped),
                _ => return self.discard(PathDrop::Rewrite, in_port, &f),
            }
        } else {
            let d = f.data_mut();
            // The traffic class toward a server is slbd's to set: TC 1
            // tells the server's agent to learn a splice (`scheduler/
            // splice.rs`), so no client may send it. One byte, beside the
            // MACs written anyway.
            if c2s {
                mpls::clear_tc(d, lf.lse_offset);
            }
            if ethernet::rewrite_macs(d, MacAddr(out_port.mac), MacAddr(nh.mac)).is_err() {
                return self.discard(PathDrop::Rewrite, in_port, &f);
            }
        }
        // The MPLS payload (label included while it stays) must fit.
        if f.len() - lf.lse_offset > usize::from(out_port.mtu) {
            return self.discard(PathDrop::Oversize, in_port, &f);
        }
        if let Some(a) = shared.activity.get(self.worker) {
            a.mark(label);
        }
        self.counters.event(if c2s {
            Event::SwitchedC2s
        } else {
            Event::SwitchedS2c
        });
        Some((out, f))
    }

    #[inline]
    fn unlabelled(&mut self, in_port: usize, ip: &IpFrame, mut f: F) -> Option<(usize, F)> {
        let shared = &*self.shared;
        let key = &ip.flow;
        if key.src_port == 0 && matches!(ip.l4, L4::Tcp { .. } | L4::Udp) {
            return self.discard(PathDrop::ZeroPort, in_port, &f);
        }
        let svc = ServiceKey {
            protocol: key.protocol,
            vip: key.dst,
            port: key.dst_port,
        };
        let known = match svc.v4_word() {
            Some(w) => self.services_v4.contains(&w),
            None => self.services.contains(&svc),
        };
        if !known {
            return self.not_to_service(in_port, ip, f);
        }
        if !shared
            .ports
            .get(in_port)
            .is_some_and(|p| p.role.faces_clients())
        {
            return self.discard(PathDrop::WrongPortRole, in_port, &f);
        }
        // Without reassembly the rest of the datagram cannot follow (non-
        // first fragments have no ports): a first fragment is dropped too,
        // rather than open a session or reach a server half-delivered.
        if ip.first_fragment {
            return self.discard(PathDrop::Fragment, in_port, &f);
        }
        // A SYN opens a connection: only the scheduler decides whether it
        // joins an existing session or, when the client reuses the port of
        // a session that is closing or lingering, replaces it with a new
        // one. Pushed here from the flow cache it would ride the old
        // session's labels and die with them when the linger ends.
        // With `syn_proxy`, a worker answers it with a cookie instead
        // (`syn_cookie.rs`): nothing is held until the handshake's ACK.
        if matches!(ip.l4, L4::Tcp { flags } if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK))
        {
            if let Some(r) = self.refused_source(key.src) {
                return self.discard(r, in_port, &f);
            }
            return match self.syn_proxy.get(&svc) {
                Some(&adv) => self.syn_cookie(in_port, ip, adv, f),
                None => self.punt(in_port, PuntKind::New, f),
            };
        }
        // The staged burst looked the flow up already, if the frame is
        // the one its hint was made for.
        let cached = match self.hints.flow(self.hint) {
            Some((probe, label)) if self.flows.probe_is_for(probe, key) => label,
            _ => self.flows.get(key),
        };
        let Some(label) = cached else {
            return self.punt_new(in_port, key.src, f);
        };
        let table = shared.tables.replica(self.worker);
        // The label's session must still be this client's: an entry left
        // behind by a lost FlowRemove whose label went to a new session
        // after quarantine must not push onto that session.
        let entry = match table.get(label) {
            Some(e) if ClientCheck::of(key.src, &shared.fingerprint) == e.client => Some(e),
            _ => None,
        };
        let (Some(e), Some(lbl)) = (entry, Label::new(label)) else {
            // Stale: the session ended; the scheduler decides afresh.
            self.flows.remove(key);
            return self.punt_new(in_port, key.src, f);
        };
        let Some(nh) = shared.nexthops.get(e.nexthop) else {
            return self.discard(PathDrop::NoNextHop, in_port, &f);
        };
        let out = nh.port as usize;
        let Some(out_port) = shared.ports.get(out) else {
            return self.discard(PathDrop::NoNextHop, in_port, &f);
        };
        // Too big once labelled: the client hears why (PMTU discovery).
        if ip.l3_end - ip.l3_offset + mpls::LSE_LEN > usize::from(out_port.mtu) {
            let mtu = out_port.mtu;
            return self.too_big(in_port, ip, mtu, f);
        }
        // (No MSS clamp here: a client's SYN never takes this path, the
        // scheduler clamps it.)
        if let L4::Tcp { flags } = ip.l4 {
            self.report_end(label, flags);
        }
        let Some(data) = f.prepend(mpls::LSE_LEN as u16) else {
            return self.discard(PathDrop::NoHeadroom, in_port, &f);
        };
        if mpls::push_label_rewrite(data, Lse::pipe(lbl), MacAddr(out_port.mac), MacAddr(nh.mac))
            .is_err()
        {
            return self.discard(PathDrop::Rewrite, in_port, &f);
        }
        if let Some(a) = shared.activity.get(self.worker) {
            a.mark(label);
        }
        self.counters.event(Event::Pushed);
        Some((out, f))
    }

    fn arp(&mut self, in_port: usize, a: ArpFrame, mut f: F) -> Option<(usize, F)> {
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::ArpNotForUs, in_port, &f);
        };
        let target = IpAddr::V4(a.target_ip);
        match a.operation {
            arp::Operation::Request => {
                let ours = port.owns(target)
                    || (port.role.faces_clients() && self.vips.contains_key(&target));
                if !ours {
                    return self.discard(PathDrop::ArpNotForUs, in_port, &f);
                }
                let mac = port.mac;
                if !arp_nd::arp_reply_in_place(f.data_mut(), &a, mac) {
                    return self.discard(PathDrop::Rewrite, in_port, &f);
                }
                self.counters.event(Event::ArpReplies);
                Some((in_port, f))
            }
            arp::Operation::Reply if port.owns(target) => {
                self.punt(in_port, PuntKind::Neighbour, f)
            }
            _ => self.discard(PathDrop::ArpNotForUs, in_port, &f),
        }
    }

    fn nd(&mut self, in_port: usize, n: NdFrame, mut f: F) -> Option<(usize, F)> {
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::NdNotForUs, in_port, &f);
        };
        let target = IpAddr::V6(n.target);
        match n.kind {
            NdKind::Solicit => {
                let ours = port.owns(target)
                    || (port.role.faces_clients() && self.vips.contains_key(&target));
                // Duplicate address detection (source ::) is not answered.
                if !ours || n.src.is_unspecified() {
                    return self.discard(PathDrop::NdNotForUs, in_port, &f);
                }
                let eth_src = MacAddr::from_bytes(f.data().get(6..12).unwrap_or(&[0; 6]));
                let mac = port.mac;
                if !f.set_len(n.l3_offset + arp_nd::NA_L3_LEN)
                    || !arp_nd::na_in_place(f.data_mut(), &n, mac, eth_src)
                {
                    return self.discard(PathDrop::Rewrite, in_port, &f);
                }
                self.counters.event(Event::NdReplies);
                Some((in_port, f))
            }
            NdKind::Advert(_) if port.owns(IpAddr::V6(n.dst)) => {
                self.punt(in_port, PuntKind::Neighbour, f)
            }
            NdKind::Advert(_) => self.discard(PathDrop::NdNotForUs, in_port, &f),
        }
    }
}

impl Handler for FastPath<Mbuf> {
    #[inline]
    fn handle(&mut self, in_port: usize, m: Mbuf) -> Option<(usize, Mbuf)> {
        self.process(in_port, m)
    }

    #[inline]
    fn poll(&mut self) {
        self.apply_ops();
    }

    #[inline]
    fn prepare(&mut self, burst: &Drain) {
        FastPath::prepare(self, (0..).map_while(|k| burst.peek(k)))
    }
}
