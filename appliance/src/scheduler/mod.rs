//! The scheduler lcore: the load balancing processing unit, the session
//! managing unit and the session label managing unit of the claims
//! (docs/claims.md), around [`slb_core::Core`].
//!
//! It drains the workers' punt and report queues, admits or refuses new
//! sessions, assigns label pairs, installs label entries in every worker's
//! table (both directions) and flow-cache entries for plain clients, sends
//! each session's first packet itself, resolves neighbours, probes server
//! health, and ends sessions (FIN/RST reports, idle and linger expiry in
//! bounded slices), clearing their entries on every worker before the
//! labels go to quarantine. Pure Rust over [`Frame`]: slbd runs it on an
//! lcore with mbufs ([`poll_loop`]), the golden tests run it with vectors
//! and a clock they control.
//!
//! - this file: the [`Scheduler`] and one round of its work ([`Scheduler::poll`]);
//! - [`admission`]: new sessions: admit or refuse, install labels, send the first packet;
//! - [`ending`]: FIN/RST/first-reply reports, expiry, withdrawal of labels;
//! - [`neighbours`]: the neighbour table (ARP/ND) with held frames;
//! - [`resolve`]: neighbour requests out and answers in;
//! - [`health`]: the health monitor, a state machine of probes and results;
//! - [`probes`]: the monitor's probe frames out, answers in, actions applied;
//! - [`icmp_errors`]: ICMP errors about a session's packet, forwarded to
//!   its server;
//! - [`reset`]: TCP resets for refused sessions and for the sessions of a
//!   server that went down (`on_down: reset`);
//! - [`session_reset`]: those resets sent: probes to both ends, resets to
//!   their answers;
//! - [`install`]: sessions admitted elsewhere (a peer's sync record, the
//!   state file) installed with their labels, server and state;
//! - [`stateless`]: server-to-client frames of sessions this instance
//!   does not hold, switched without state (cluster mode);
//! - [`sync`], [`sync_receive`], [`sync_state`]: session sync with the peers (cluster
//!   mode): records out, bulk dumps, the route hold at start; peers'
//!   datagrams in;
//! - [`splice`]: delayed binding (`syn_proxy`): the cookie ACK binds the
//!   session, slbd makes the server's handshake and replays the client's
//!   ACK marked for the server's agent;
//! - [`first_data`], [`first_data_state`]: layer-7 rules: a session of a
//!   service with `rules` waits for its client's first data, which
//!   chooses its pool;
//! - [`poll_loop`]: the DPDK side: RX, the round, TX, on the scheduler lcore.

pub mod admission;
pub mod ending;
pub mod exception;
pub mod first_data;
pub mod first_data_state;
pub mod foreign_label;
pub mod health;
pub mod icmp_errors;
pub mod install;
pub mod late_frames;
pub mod neighbours;
pub mod peers;
pub mod poll_loop;
pub mod probes;
pub mod reset;
pub mod resolve;
pub mod session_reset;
pub mod splice;
pub mod splice_state;
pub mod stateless;
pub mod sync;
pub mod sync_receive;
pub mod sync_state;

use crate::channels::{Channels, CommandQueue, Punt, PuntKind, ServiceKey, WorkerOp, QUEUE_LEN};
use crate::counters::{Counters, PathDrop};
use crate::frame::{Frame, FrameAlloc};
use crate::shared::drop_trace::{self, LateBy, Reason};
use crate::shared::ports::PortRole;
use crate::shared::slots::Slots;
use crate::shared::Shared;
use crate::worker::FastPath;
use crossbeam::queue::ArrayQueue;
use hashbrown::HashMap;
use health::{HealthMonitor, ServerKey};
use late_frames::RecentEnds;
use neighbours::Neighbours;
use peers::Peers;
use slb_config::Config;
use slb_core::service::Ended;
use slb_core::session::EndReason;
use slb_core::{Core, ServerId, ServiceId};
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
    /// Delayed binding: what the cookie SYN-ACKs advertise (`None`: off).
    pub syn_proxy: Option<slb_config::SynProxy>,
}

impl ServiceRt {
    /// What the workers' cookie SYN-ACKs of this service say: the
    /// configured MSS and window scale, and a window of four segments
    /// (what the client may send before its server has answered: the
    /// scheduler holds that much, `splice.rs`).
    pub fn advertise(&self) -> Option<slb_wire::syn_cookie::syn_ack::Advertise> {
        self.syn_proxy
            .map(|sp| slb_wire::syn_cookie::syn_ack::Advertise {
                mss: sp.mss,
                wscale: sp.window_scale,
                window: u16::try_from(u32::from(sp.mss) * 4).unwrap_or(u16::MAX),
            })
    }
}

/// Per label pair: what the scheduler must undo when the session ends.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Side {
    pub(crate) client_slot: u16,
    /// Workers holding a flow-cache entry for the session.
    pub(crate) flow_workers: u64,
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
    /// Next-hop slots: neighbours' and clients' (with reference counts).
    pub(crate) slots: Slots,
    /// Per label pair (index = pair index): what withdrawal must undo.
    pub(crate) sides: Vec<Side>,
    ended: Vec<Ended>,
    pub(crate) due: Vec<(u8, IpAddr)>,
    pub(crate) next_neighbour_check: u64,
    pub(crate) alloc: FrameAlloc<F>,
    /// Commands from the control thread (run by `control::commands`).
    pub(crate) commands: Arc<CommandQueue>,
    /// The configuration the data path runs (after every applied change).
    pub(crate) config: Config,
    /// Active and passive health monitoring of the servers.
    pub(crate) health: HealthMonitor,
    /// Sessions ended by `on_down: reset` waiting for their resets.
    pub(crate) resets: reset::Pending,
    /// When and why recent sessions ended (late frames).
    pub(crate) recent_ends: RecentEnds,
    /// The cluster's other instances and their liveness.
    pub(crate) peers: Peers,
    /// Session sync with the peers (`cluster.sync`).
    pub(crate) sync: sync_state::SyncState,
    /// Delayed binding: handshakes with servers under way.
    pub(crate) splices: splice_state::Splices<F>,
    /// Layer-7 rules of the services that have them.
    pub(crate) l7: HashMap<ServiceId, first_data_state::L7Rt>,
    /// Sessions waiting for their client's first data.
    pub(crate) waits: first_data_state::Waits<F>,
    /// Where QUIC Initials are decrypted (a copy).
    pub(crate) l7_scratch: Box<slb_l7::rules::Scratch>,
}

impl<F: Frame> Scheduler<F> {
    /// `shared` must hold one label table replica per worker plus one for
    /// the scheduler (the last). `alloc` makes frames for ARP/ND requests.
    pub fn new(
        core: Core,
        shared: Arc<Shared>,
        chans: Vec<Arc<Channels<F>>>,
        counters: Arc<Counters>,
        alloc: FrameAlloc<F>,
        config: Config,
    ) -> Self {
        let mut chans = chans;
        let local_id = chans.len();
        let local_chan = Arc::new(Channels::new(1024, 1024, 65536));
        chans.push(local_chan.clone());
        let local = FastPath::new(local_id, shared.clone(), local_chan, counters.clone(), 4096);
        let pairs = core.labels().capacity() as usize;
        let slots = Slots::new(shared.nexthops.capacity());
        let peers = Peers::new(
            config
                .cluster
                .iter()
                .flat_map(|c| c.peers.iter().map(|p| (p.instance, p.address))),
            |a| {
                shared
                    .ports
                    .iter()
                    .position(|p| p.on_link(a))
                    .and_then(|i| u8::try_from(i).ok())
            },
        );
        let min_mtu = shared.ports.iter().map(|p| p.mtu).min().unwrap_or(1500);
        let sync = sync_state::SyncState::new(&config, min_mtu);
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
            sides: vec![Side::default(); pairs],
            ended: Vec::with_capacity(EXPIRE_PER_POLL),
            due: Vec::new(),
            next_neighbour_check: 0,
            alloc,
            commands: Arc::new(ArrayQueue::new(QUEUE_LEN)),
            config,
            health: HealthMonitor::default(),
            resets: reset::Pending::default(),
            recent_ends: RecentEnds::new(pairs),
            peers,
            sync,
            splices: splice_state::Splices::default(),
            l7: HashMap::new(),
            waits: first_data_state::Waits::default(),
            l7_scratch: slb_l7::rules::Scratch::new(),
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
    pub(crate) fn add_service(&mut self, id: ServiceId, rt: ServiceRt) {
        self.worker_op(WorkerOp::ServiceAdd(rt.key, rt.advertise()));
        self.services.insert(id, rt);
    }

    /// Forgets a service's data-path options and tells every worker to
    /// stop matching it (the core's service is removed by the caller).
    pub(crate) fn remove_service(&mut self, id: ServiceId) {
        if let Some(rt) = self.services.remove(&id) {
            self.worker_op(WorkerOp::ServiceRemove(rt.key));
        }
        self.l7.remove(&id);
    }

    /// Queues `op` on every worker and applies it to the scheduler's own
    /// fast path at once.
    pub(crate) fn worker_op(&mut self, op: WorkerOp) {
        for c in &self.chans {
            let _ = c.ops.push(op);
        }
        self.local.apply_ops();
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

    /// The drop trace (`drops`): rings of recently dropped frames.
    pub fn drop_trace(&self) -> &drop_trace::DropTrace {
        &self.shared.drops
    }

    /// Counts a frame dropped before it reached [`Self::receive`].
    pub fn count_drop(&self, r: PathDrop) {
        self.counters.path_drop(r);
    }

    /// Counts a frame the scheduler dropped (received on `port`; `None`
    /// for a frame it was sending on), and traces it when the drop trace
    /// is on.
    pub(crate) fn drop_frame(
        &self,
        r: impl Into<Reason>,
        port: Option<u8>,
        f: &F,
        late: Option<LateBy>,
    ) {
        let r = r.into();
        self.counters.dropped(r);
        if self.shared.drops.enabled() {
            let port = port.unwrap_or(drop_trace::NO_PORT);
            self.shared
                .drops
                .record(self.local_id, r, port, f.data(), late);
        }
    }

    /// The queue the control thread submits commands on.
    pub fn command_queue(&self) -> Arc<CommandQueue> {
        self.commands.clone()
    }

    /// The configuration the data path runs.
    pub fn running_config(&self) -> &Config {
        &self.config
    }

    /// The service of a configuration name.
    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .find(|(_, rt)| rt.name == name)
            .map(|(id, _)| *id)
    }

    /// Server `server` of service `service` (configuration names).
    pub fn server_key(&self, service: &str, server: &str) -> Option<ServerKey> {
        let sid = self.service_id(service)?;
        let addr = self.config.service(service)?.server(server)?.address;
        Some((sid, self.server_id(sid, addr)?))
    }

    /// The server of service `sid` at `addr` (not one being removed).
    pub(crate) fn server_id(&self, sid: ServiceId, addr: IpAddr) -> Option<ServerId> {
        self.core
            .service(sid)?
            .pool()
            .iter()
            .find(|(_, s)| s.addr() == addr && !s.is_removing())
            .map(|(id, _)| id)
    }

    /// The role of port `port`, if there is one.
    pub(crate) fn port_role(&self, port: u8) -> Option<PortRole> {
        self.shared.ports.get(usize::from(port)).map(|p| p.role)
    }

    /// The port whose subnet holds `addr`.
    pub(crate) fn port_for(&self, addr: IpAddr) -> Option<u8> {
        self.shared
            .ports
            .iter()
            .position(|p| p.on_link(addr))
            .map(|i| i as u8)
    }

    /// One round of data-path work: punts, reports, an expiry slice,
    /// neighbour requests, health probes. Frames to send go to
    /// `out(port index, frame)`. Returns the work done (0 = idle). Control
    /// commands run separately, between rounds
    /// (`crate::control::commands::run`).
    pub fn poll(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let mut work = 0;
        self.shared
            .clock
            .store(now, std::sync::atomic::Ordering::Relaxed);
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
                self.report(r, now, out);
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
                EndReason::NoReply => seen & crate::shared::activity::S2C != 0,
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
        work += self.run_health(now, out);
        work += self.probe_peers(now, out);
        work += self.run_sync(now, out);
        work += self.run_splices(now, out);
        work += self.run_first_data(now, out);
        work
    }

    fn punt(&mut self, worker: usize, p: Punt<F>, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Punt { port, kind, frame } = p;
        match kind {
            PuntKind::Label if worker == self.local_id => self.dead_label(port, frame, now, out),
            PuntKind::Label => self.punted_label(port as usize, frame, out),
            PuntKind::New => {
                // A plain client's answer to a reset probe (`reset.rs`)?
                if let Some(f) = self.reset_answer_plain(frame, now, out) {
                    self.punted_new(worker, port, f, now, out);
                }
            }
            PuntKind::Neighbour => self.punted_neighbour(port, frame, now, out),
            PuntKind::Probe => self.punted_probe(port, frame, now, out),
            PuntKind::IcmpError => self.punted_icmp_error(port, frame, now, out),
            PuntKind::Sync => self.punted_sync(port, frame, now),
            PuntKind::Exception => {
                if let Some(f) = self.to_kernel(port, frame, out) {
                    self.drop_frame(PathDrop::ToAppliance, Some(port), &f, None);
                }
            }
        }
    }
}
