//! The worker's per-packet path (brief section 3): the packet analysing
//! unit and the label switching unit of the claims.
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
//! 4. Everything else: dropped and counted by reason.
//!
//! No locks, no allocation, no system call: the label table and next hops
//! are atomics written by the scheduler; the flow cache and service set are
//! this worker's own, changed only through its op queue between bursts.

use crate::arp_nd;
use crate::counters::{Counters, Event, PathDrop};
use crate::frame::Frame;
use crate::label_table::{ClientCheck, FingerprintKey, LabelTables};
use crate::nexthop::NextHops;
use crate::ports::{max_mss, PortInfo};
use crossbeam::queue::ArrayQueue;
use hashbrown::{HashMap, HashSet, HashTable};
use slb_wire::classify::{ArpFrame, IpFrame, LabelledFrame, NdFrame, NdKind, L4};
use slb_wire::{
    arp, classify, ethernet, mpls, mss, Classified, FlowKey, IpProtocol, Label, Lse, MacAddr,
    TcpFlags,
};
use std::net::IpAddr;
use std::sync::Arc;

/// A service as the worker matches it: (protocol, VIP, port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceKey {
    pub protocol: IpProtocol,
    pub vip: IpAddr,
    pub port: u16,
}

impl ServiceKey {
    /// An IPv4 service as one word: `protocol << 48 | port << 32 | vip`
    /// (exact); None for IPv6.
    #[inline(always)]
    pub fn v4_word(&self) -> Option<u64> {
        match self.vip {
            IpAddr::V4(a) => Some(
                (u64::from(u8::from(self.protocol)) << 48)
                    | (u64::from(self.port) << 32)
                    | u64::from(u32::from(a)),
            ),
            IpAddr::V6(_) => None,
        }
    }
}

/// State shared by the scheduler (writer) and every worker (readers).
pub struct Shared {
    pub tables: LabelTables,
    /// Per replica (workers, then the scheduler): sessions that carried
    /// traffic since the scheduler last looked.
    pub activity: Vec<crate::activity::Activity>,
    pub nexthops: NextHops,
    pub ports: Vec<PortInfo>,
    pub fingerprint: FingerprintKey,
    /// Largest TCP MSS that fits a labelled frame on every port.
    pub max_mss_v4: u16,
    pub max_mss_v6: u16,
}

impl Shared {
    pub fn new(
        workers: usize,
        labels: (u32, u32),
        ports: Vec<PortInfo>,
        nexthops: usize,
    ) -> Shared {
        let min_mtu = ports.iter().map(|p| p.mtu).min().unwrap_or(1500);
        Shared {
            tables: LabelTables::new(workers, labels.0, labels.1),
            activity: (0..workers)
                .map(|_| crate::activity::Activity::new(labels.0, labels.1))
                .collect(),
            nexthops: NextHops::new(nexthops),
            ports,
            fingerprint: FingerprintKey::random(),
            max_mss_v4: max_mss(min_mtu, false),
            max_mss_v6: max_mss(min_mtu, true),
        }
    }

    pub fn max_mss(&self, v6: bool) -> u16 {
        if v6 {
            self.max_mss_v6
        } else {
            self.max_mss_v4
        }
    }
}

/// Why a frame goes to the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PuntKind {
    /// Unlabelled, to a service, not in the flow cache.
    New,
    /// A label this core has no live entry for.
    Label,
    /// An ARP reply or neighbour advertisement.
    Neighbour,
    /// TCP to slbd's own address on a health probe source port: a
    /// server's answer to a probe (see `crate::health`).
    Probe,
}

/// TCP source ports slbd's health probes use (destination ports of the
/// answers a worker hands to the scheduler).
pub const PROBE_PORTS: std::ops::RangeInclusive<u16> = 61000..=61999;

/// A frame handed to the scheduler.
pub struct Punt<F> {
    pub port: u8,
    pub kind: PuntKind,
    pub frame: F,
}

/// What a worker reports about a switched frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Fin,
    Rst,
    /// The first server-to-client frame of a session.
    FirstReply,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub label: u32,
    pub kind: ReportKind,
}

/// Changes the scheduler asks a worker to make to its own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerOp {
    FlowAdd(FlowKey, u32),
    FlowRemove(FlowKey),
    ServiceAdd(ServiceKey),
    ServiceRemove(ServiceKey),
}

/// The queues between one worker and the scheduler.
pub struct Channels<F> {
    pub punts: ArrayQueue<Punt<F>>,
    pub reports: ArrayQueue<Report>,
    pub ops: ArrayQueue<WorkerOp>,
}

impl<F> Channels<F> {
    pub fn new(punts: usize, reports: usize, ops: usize) -> Self {
        Channels {
            punts: ArrayQueue::new(punts.max(1)),
            reports: ArrayQueue::new(reports.max(1)),
            ops: ArrayQueue::new(ops.max(1)),
        }
    }
}

/// A worker's flow cache: client 5-tuple -> client-to-server label, for
/// plain clients. One entry is 16 bytes, key and label together (the cache
/// was a `HashMap<FlowKey, u32>` before: 44-byte entries, the key hashed
/// field by field), so it costs ~17 bytes per bucket with hashbrown's
/// control byte, and a lookup hashes two words.
///
/// Entry `[w0, w1]`, label in bits 8..28 of `w1`, tag in bits 28..32:
/// - IPv4 (tag 4): exact. `w0 = src << 32 | dst`,
///   `w1 = sport << 48 | dport << 32 | 4 << 28 | label << 8 | protocol`.
///   Two different IPv4 5-tuples never share a key, so a frame can only be
///   pushed onto the label of its own flow: no collision to reason about.
/// - IPv6 (tag 6): a 104-bit fingerprint of the 5-tuple (w0 and the high
///   32 and low 8 bits of w1): SipHash-1-3 (std's keyed hasher, a PRF)
///   under a secret random 128-bit key per worker. A sender that does not
///   know the key has no better way to hit one of `F` cached flows than
///   guessing: `F / 2^104` per frame (2^20 flows, 10^9 frames/s: 10^8
///   years for an even chance). And a pushed frame must still pass the
///   session's client address check ([`FastPath::unlabelled`]), so a
///   collision would also need the victim's source address, with which an
///   attacker could hit the real 5-tuple far more cheaply (a 16-bit port).
///
/// Buckets are placed by hashbrown's default hasher (foldhash, seeded at
/// random per process) over the key words, so crafted IPv4 tuples cannot
/// pile into one bucket.
pub struct FlowCache {
    table: HashTable<[u64; 2]>,
    hasher: hashbrown::DefaultHashBuilder,
    v6key: std::hash::RandomState,
}

const FLOW_LABEL_SHIFT: u32 = 8;
const FLOW_LABEL_BITS: u64 = 0xf_ffff << FLOW_LABEL_SHIFT;

impl FlowCache {
    pub fn with_capacity(n: usize) -> FlowCache {
        FlowCache {
            table: HashTable::with_capacity(n),
            hasher: hashbrown::DefaultHashBuilder::default(),
            v6key: std::hash::RandomState::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The key words of a flow (label bits 0).
    #[inline(always)]
    fn key(&self, k: &FlowKey) -> [u64; 2] {
        match (k.src, k.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => [
                (u64::from(u32::from(s)) << 32) | u64::from(u32::from(d)),
                (u64::from(k.src_port) << 48)
                    | (u64::from(k.dst_port) << 32)
                    | (4 << 28)
                    | u64::from(u8::from(k.protocol)),
            ],
            _ => self.fingerprint(k),
        }
    }

    #[cold]
    #[inline(never)]
    fn fingerprint(&self, k: &FlowKey) -> [u64; 2] {
        use std::hash::BuildHasher;
        // Two domain-separated PRF outputs: 64 + 40 bits kept.
        let a = self.v6key.hash_one((0u8, k));
        let b = self.v6key.hash_one((1u8, k));
        [a, (b & 0xffff_ffff_0000_00ff) | (6 << 28)]
    }

    #[inline(always)]
    fn hash(hasher: &hashbrown::DefaultHashBuilder, key: [u64; 2]) -> u64 {
        use std::hash::BuildHasher;
        hasher.hash_one(key)
    }

    #[inline(always)]
    fn key_of(e: &[u64; 2]) -> [u64; 2] {
        [e[0], e[1] & !FLOW_LABEL_BITS]
    }

    /// The client-to-server label of `k`'s session, if cached.
    #[inline]
    pub fn get(&self, k: &FlowKey) -> Option<u32> {
        let key = self.key(k);
        self.table
            .find(Self::hash(&self.hasher, key), |e| Self::key_of(e) == key)
            .map(|e| ((e[1] & FLOW_LABEL_BITS) >> FLOW_LABEL_SHIFT) as u32)
    }

    /// Caches (or replaces) `k -> label` (labels are 20 bits; anything
    /// else is not cached).
    pub fn insert(&mut self, k: &FlowKey, label: u32) {
        if label > 0xf_ffff {
            return;
        }
        let key = self.key(k);
        let hasher = &self.hasher;
        let v = [key[0], key[1] | (u64::from(label) << FLOW_LABEL_SHIFT)];
        match self.table.entry(
            Self::hash(hasher, key),
            |e| Self::key_of(e) == key,
            |e| Self::hash(hasher, Self::key_of(e)),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut o) => *o.get_mut() = v,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }

    pub fn remove(&mut self, k: &FlowKey) {
        let key = self.key(k);
        if let Ok(o) = self
            .table
            .find_entry(Self::hash(&self.hasher, key), |e| Self::key_of(e) == key)
        {
            o.remove();
        }
    }
}

/// Ops a worker applies per loop iteration at most, so a burst of
/// installs never starves RX.
const OPS_PER_POLL: usize = 256;

/// One worker's data path.
pub struct FastPath<F> {
    worker: usize,
    shared: Arc<Shared>,
    chan: Arc<Channels<F>>,
    counters: Arc<Counters>,
    flows: FlowCache,
    services: HashSet<ServiceKey>,
    /// The IPv4 members of `services` as one word each
    /// ([`ServiceKey::v4_word`]): the per-frame lookup hashes a u64.
    services_v4: HashSet<u64>,
    /// VIP addresses with a count of services on each (ARP/ND answers).
    vips: HashMap<IpAddr, u32>,
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
            services: HashSet::new(),
            services_v4: HashSet::new(),
            vips: HashMap::new(),
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
                    self.flows.insert(&k, label);
                }
                WorkerOp::FlowRemove(k) => {
                    self.flows.remove(&k);
                }
                WorkerOp::ServiceAdd(s) => {
                    if let Some(w) = s.v4_word() {
                        self.services_v4.insert(w);
                    }
                    if self.services.insert(s) {
                        *self.vips.entry(s.vip).or_insert(0) += 1;
                    }
                }
                WorkerOp::ServiceRemove(s) => {
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

    /// Cache hints for a frame about to be processed a few frames later:
    /// for an untagged labelled frame, its label's table entry and activity
    /// byte (random per frame; with 512k labels the table is 8 MiB per
    /// replica, past L2). Reads 4 bytes of the frame, changes nothing.
    #[inline]
    pub fn prefetch(&self, f: &F) {
        let d = f.data();
        if let Some(&[0x88, 0x47, a, b, c, _]) = d.get(12..18) {
            let label = (u32::from(a) << 12) | (u32::from(b) << 4) | (u32::from(c) >> 4);
            self.shared.tables.replica(self.worker).prefetch(label);
            if let Some(act) = self.shared.activity.get(self.worker) {
                act.prefetch(label);
            }
        }
    }

    /// Decides the fate of one frame received on port `in_port`.
    #[inline]
    pub fn process(&mut self, in_port: usize, f: F) -> Option<(usize, F)> {
        if !f.is_contiguous() {
            return self.discard(PathDrop::Segmented);
        }
        // A group address as source: never a host to answer or learn.
        if f.data().get(6).is_some_and(|b| b & 1 != 0) {
            return self.discard(PathDrop::BadSourceMac);
        }
        // Labelled frames (untagged, the bulk of the traffic) skip the
        // general classifier's enum; same checks, same drop reasons.
        if let Some(r) = classify::classify_untagged_mpls(f.data()) {
            return match r {
                Ok(lf) => self.labelled(in_port, lf, f),
                Err(r) => {
                    self.counters.wire_drop(r);
                    None
                }
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
                Err(r) => {
                    self.counters.wire_drop(r);
                    None
                }
            };
        }
        self.process_general(in_port, f)
    }

    /// Any frame, through the general classifier.
    #[inline(never)]
    fn process_general(&mut self, in_port: usize, f: F) -> Option<(usize, F)> {
        let cls = classify(f.data());
        match &cls {
            Ok(Classified::Ip(ip)) => self.unlabelled(in_port, ip, f),
            Ok(Classified::Labelled(lf)) => self.labelled(in_port, *lf, f),
            Ok(Classified::Arp(a)) => self.arp(in_port, *a, f),
            Ok(Classified::Nd(n)) => self.nd(in_port, *n, f),
            Ok(Classified::Other { .. }) => self.discard(PathDrop::OtherEthertype),
            Err(r) => {
                self.counters.wire_drop(*r);
                None
            }
        }
    }

    #[inline]
    fn discard(&self, r: PathDrop) -> Option<(usize, F)> {
        self.counters.path_drop(r);
        None
    }

    #[inline]
    fn punt(&self, in_port: usize, kind: PuntKind, frame: F) -> Option<(usize, F)> {
        let ev = match kind {
            PuntKind::New => Event::PuntedNew,
            PuntKind::Label => Event::PuntedLabel,
            PuntKind::Neighbour => Event::PuntedNeighbour,
            PuntKind::Probe => Event::PuntedProbe,
        };
        match self.chan.punts.push(Punt {
            port: in_port as u8,
            kind,
            frame,
        }) {
            Ok(()) => self.counters.event(ev),
            Err(_dropped) => self.counters.path_drop(PathDrop::PuntQueueFull),
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
    fn labelled(&mut self, in_port: usize, lf: LabelledFrame, mut f: F) -> Option<(usize, F)> {
        let shared = &*self.shared;
        let label = lf.lse.label.value();
        let Some(e) = shared.tables.replica(self.worker).get(label) else {
            return self.punt(in_port, PuntKind::Label, f);
        };
        let Some(port) = shared.ports.get(in_port) else {
            return self.discard(PathDrop::WrongPortRole);
        };
        let c2s = label & 1 == 1;
        if c2s {
            if !port.role.faces_clients() {
                return self.discard(PathDrop::WrongPortRole);
            }
            if ClientCheck::of(lf.inner_src, &shared.fingerprint) != e.client {
                return self.discard(PathDrop::ForeignSource);
            }
        } else if !port.role.faces_servers() {
            return self.discard(PathDrop::WrongPortRole);
        }
        let Some(nh) = shared.nexthops.get(e.nexthop) else {
            return self.discard(PathDrop::NoNextHop);
        };
        let out = nh.port as usize;
        let Some(out_port) = shared.ports.get(out) else {
            return self.discard(PathDrop::NoNextHop);
        };
        if let Some(flags) = lf.tcp_flags {
            self.report_end(label, flags);
            if flags.contains(TcpFlags::SYN) {
                let v6 = matches!(lf.inner_src, IpAddr::V6(_));
                if let Ok(true) = mss::clamp_mss(f.data_mut(), shared.max_mss(v6)) {
                    self.counters.event(Event::MssClamped);
                }
            }
        }
        if !c2s && e.want_reply {
            self.report(label, ReportKind::FirstReply);
        }
        // New MACs, and the label popped toward a plain client: written in
        // one pass (pop_label_rewrite moves no MACs).
        if !c2s && e.pop {
            match mpls::pop_label_rewrite(f.data_mut(), MacAddr(out_port.mac), MacAddr(nh.mac)) {
                Ok(p) if f.adj(p.trim as u16) => self.counters.event(Event::Popped),
                _ => return self.discard(PathDrop::Rewrite),
            }
        } else if ethernet::rewrite_macs(f.data_mut(), MacAddr(out_port.mac), MacAddr(nh.mac))
            .is_err()
        {
            return self.discard(PathDrop::Rewrite);
        }
        // The MPLS payload (label included while it stays) must fit.
        if f.len() - lf.lse_offset > usize::from(out_port.mtu) {
            return self.discard(PathDrop::Oversize);
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
            return self.discard(PathDrop::ZeroPort);
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
            if key.protocol == IpProtocol::Tcp
                && PROBE_PORTS.contains(&key.dst_port)
                && shared.ports.iter().any(|p| p.owns(key.dst))
            {
                return self.punt(in_port, PuntKind::Probe, f);
            }
            if shared.ports.iter().any(|p| p.owns(key.dst)) || self.vips.contains_key(&key.dst) {
                return self.discard(PathDrop::ToAppliance);
            }
            return self.discard(PathDrop::NotForVip);
        }
        if !shared
            .ports
            .get(in_port)
            .is_some_and(|p| p.role.faces_clients())
        {
            return self.discard(PathDrop::WrongPortRole);
        }
        // A SYN opens a connection: only the scheduler decides whether it
        // joins an existing session or, when the client reuses the port of
        // a session that is closing or lingering, replaces it with a new
        // one. Pushed here from the flow cache it would ride the old
        // session's labels and die with them when the linger ends.
        if matches!(ip.l4, L4::Tcp { flags } if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK))
        {
            return self.punt(in_port, PuntKind::New, f);
        }
        let Some(label) = self.flows.get(key) else {
            return self.punt(in_port, PuntKind::New, f);
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
            return self.punt(in_port, PuntKind::New, f);
        };
        let Some(nh) = shared.nexthops.get(e.nexthop) else {
            return self.discard(PathDrop::NoNextHop);
        };
        let out = nh.port as usize;
        let Some(out_port) = shared.ports.get(out) else {
            return self.discard(PathDrop::NoNextHop);
        };
        // (No MSS clamp here: a client's SYN never takes this path, the
        // scheduler clamps it.)
        if let L4::Tcp { flags } = ip.l4 {
            self.report_end(label, flags);
        }
        let Some(data) = f.prepend(mpls::LSE_LEN as u16) else {
            return self.discard(PathDrop::NoHeadroom);
        };
        if mpls::push_label_rewrite(data, Lse::pipe(lbl), MacAddr(out_port.mac), MacAddr(nh.mac))
            .is_err()
        {
            return self.discard(PathDrop::Rewrite);
        }
        let l2 = ip.l3_offset;
        if ip.l3_end - l2 + mpls::LSE_LEN > usize::from(out_port.mtu) {
            return self.discard(PathDrop::Oversize);
        }
        if let Some(a) = shared.activity.get(self.worker) {
            a.mark(label);
        }
        self.counters.event(Event::Pushed);
        Some((out, f))
    }

    fn arp(&mut self, in_port: usize, a: ArpFrame, mut f: F) -> Option<(usize, F)> {
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::ArpNotForUs);
        };
        let target = IpAddr::V4(a.target_ip);
        match a.operation {
            arp::Operation::Request => {
                let ours = port.owns(target)
                    || (port.role.faces_clients() && self.vips.contains_key(&target));
                if !ours {
                    return self.discard(PathDrop::ArpNotForUs);
                }
                let mac = port.mac;
                if !arp_nd::arp_reply_in_place(f.data_mut(), &a, mac) {
                    return self.discard(PathDrop::Rewrite);
                }
                self.counters.event(Event::ArpReplies);
                Some((in_port, f))
            }
            arp::Operation::Reply if port.owns(target) => {
                self.punt(in_port, PuntKind::Neighbour, f)
            }
            _ => self.discard(PathDrop::ArpNotForUs),
        }
    }

    fn nd(&mut self, in_port: usize, n: NdFrame, mut f: F) -> Option<(usize, F)> {
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::NdNotForUs);
        };
        let target = IpAddr::V6(n.target);
        match n.kind {
            NdKind::Solicit => {
                let ours = port.owns(target)
                    || (port.role.faces_clients() && self.vips.contains_key(&target));
                // Duplicate address detection (source ::) is not answered.
                if !ours || n.src.is_unspecified() {
                    return self.discard(PathDrop::NdNotForUs);
                }
                let eth_src = MacAddr::from_bytes(f.data().get(6..12).unwrap_or(&[0; 6]));
                let mac = port.mac;
                if !f.set_len(n.l3_offset + arp_nd::NA_L3_LEN)
                    || !arp_nd::na_in_place(f.data_mut(), &n, mac, eth_src)
                {
                    return self.discard(PathDrop::Rewrite);
                }
                self.counters.event(Event::NdReplies);
                Some((in_port, f))
            }
            NdKind::Advert(_) if port.owns(IpAddr::V6(n.dst)) => {
                self.punt(in_port, PuntKind::Neighbour, f)
            }
            NdKind::Advert(_) => self.discard(PathDrop::NdNotForUs),
        }
    }
}

impl crate::worker::Handler for FastPath<crate::dpdk::Mbuf> {
    #[inline]
    fn handle(
        &mut self,
        in_port: usize,
        m: crate::dpdk::Mbuf,
    ) -> Option<(usize, crate::dpdk::Mbuf)> {
        self.process(in_port, m)
    }

    #[inline]
    fn poll(&mut self) {
        self.apply_ops();
    }

    #[inline]
    fn prefetch(&self, m: &crate::dpdk::Mbuf) {
        FastPath::prefetch(self, m)
    }
}

#[cfg(test)]
mod flow_cache_tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn k4(src: u32, sport: u16, proto: IpProtocol) -> FlowKey {
        FlowKey {
            protocol: proto,
            src: IpAddr::V4(Ipv4Addr::from(src)),
            src_port: sport,
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1)),
            dst_port: 80,
        }
    }

    #[test]
    fn exact_for_ipv4_and_keyed_for_ipv6() {
        let mut c = FlowCache::with_capacity(16);
        let a = k4(0xc612_0001, 1024, IpProtocol::Tcp);
        let b = k4(0xc612_0001, 1024, IpProtocol::Udp);
        let d = k4(0xc612_0001, 1025, IpProtocol::Tcp);
        c.insert(&a, 0xf_ffff);
        c.insert(&b, 17);
        assert_eq!(c.get(&a), Some(0xf_ffff));
        assert_eq!(c.get(&b), Some(17));
        assert_eq!(c.get(&d), None);
        c.insert(&a, 19); // replaces
        assert_eq!((c.get(&a), c.len()), (Some(19), 2));
        c.remove(&a);
        assert_eq!((c.get(&a), c.get(&b), c.len()), (None, Some(17), 1));
        c.insert(&d, 0x10_0000); // not a label: not cached
        assert_eq!(c.get(&d), None);
        let v6 = FlowKey {
            protocol: IpProtocol::Tcp,
            src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
            src_port: 1024,
            dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, 1)),
            dst_port: 80,
        };
        let mut v6b = v6;
        v6b.src_port = 1025;
        c.insert(&v6, 21);
        assert_eq!((c.get(&v6), c.get(&v6b)), (Some(21), None));
        c.remove(&v6);
        assert_eq!(c.get(&v6), None);
        // Many flows: all found, none confused.
        for i in 0..50_000u32 {
            c.insert(
                &k4(
                    0x0a00_0000 + i / 1000,
                    (i % 1000) as u16 + 1,
                    IpProtocol::Tcp,
                ),
                16 + i,
            );
        }
        for i in 0..50_000u32 {
            assert_eq!(
                c.get(&k4(
                    0x0a00_0000 + i / 1000,
                    (i % 1000) as u16 + 1,
                    IpProtocol::Tcp
                )),
                Some(16 + i)
            );
        }
    }
}
