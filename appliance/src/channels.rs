//! Every message that crosses threads, and the queues that carry them:
//!
//! - worker -> scheduler: [`Punt`]s (frames the worker cannot handle
//!   alone) and [`Report`]s (FIN, RST, first reply of a switched session);
//! - scheduler -> worker: [`WorkerOp`]s (flow-cache and service changes,
//!   applied by the worker between bursts);
//! - control thread -> scheduler: [`Command`]s (a read-only [`View`] or a
//!   configuration to apply), each with its reply slot for the typed
//!   [`Answer`].
//!
//! Every queue is a bounded lock-free [`ArrayQueue`]: a full queue is a
//! counted drop (punts), a lost report (counted) or a `busy` answer
//! (commands), never a wait.

use crossbeam::queue::ArrayQueue;
use slb_config::Config;
use slb_proto::{
    Applied, Counts, Drops, DropsArgs, ErrorBody, Health, HealthTotals, LabelFilter, LabelUsage,
    Labels, ServerList, ServiceFilter, ServiceList, ServiceStats, Session, SessionFilter,
    SessionList, SessionSelector,
};
use slb_wire::FlowKey;
use std::sync::mpsc::SyncSender;

pub use crate::announce::VipHealth;
pub use crate::scheduler::peers::PeerStatus;
pub use crate::scheduler::sync_state::SyncHolding;
pub use crate::shared::ServiceKey;

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
    /// An ICMP error to a VIP on a client-facing port: perhaps about a
    /// session's server-to-client packet (`scheduler/icmp_errors.rs`).
    IcmpError,
    /// BGP or BFD to the exception path's own address: for the routing
    /// daemon's kernel interface (`shared/exception.rs`).
    Exception,
    /// UDP to slbd's own address on the session sync port
    /// (`cluster.sync.port`): a peer's sync datagram (`scheduler/sync.rs`).
    Sync,
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
    /// A server's SYN-ACK after the session's first reply.
    SynAckAgain,
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
    /// A service to match, with what its cookie SYN-ACKs advertise when
    /// it has `syn_proxy` (sent again when that changes).
    ServiceAdd(ServiceKey, Option<slb_wire::syn_cookie::syn_ack::Advertise>),
    ServiceRemove(ServiceKey),
    /// New ICMP settings (`icmp`): the worker's buckets start full.
    Icmp(slb_config::Icmp),
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

/// A read-only view the control thread asks of the scheduler: the
/// protocol's read-only requests with their decoded arguments, and the
/// scheduler's part of `stats`.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// `services.list`.
    Services(ServiceFilter),
    /// `servers.list`.
    Servers(ServiceFilter),
    /// `sessions.list`.
    Sessions(SessionFilter),
    /// `sessions.show`.
    Session(SessionSelector),
    /// `labels`.
    Labels(LabelFilter),
    /// `health`.
    Health(ServiceFilter),
    /// `rules.show`.
    Rules(slb_proto::RulesFilter),
    /// `drops` (turning the trace on or off is the one change a view
    /// makes: a switch of the trace, not of the data path's state).
    Drops(DropsArgs),
    /// What `stats` needs of the session core ([`CoreTotals`]).
    Stats,
    /// Each service's VIP and whether a server of it takes new sessions:
    /// what the announcer decides by ([`crate::announce`]).
    Vips,
    /// The cluster's peers and their liveness (`cluster`).
    Peers,
    /// Whether the route announcements wait for the peers' dumps
    /// (`cluster`, session sync).
    SyncHolding,
}

/// The scheduler's part of `stats`: what only the session core knows.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreTotals {
    /// Live sessions.
    pub sessions: u64,
    pub labels: LabelUsage,
    /// Refused sessions by reason, summed over the services.
    pub refusals: Counts,
    pub health: HealthTotals,
    pub services: Vec<ServiceStats>,
    /// The cluster's peers and their liveness.
    pub peers: Vec<PeerStatus>,
}

/// Declares [`Answer`] and, for each of its variants, `TryFrom<Answer>`
/// for the variant's type (the answer of another kind comes back as the
/// error).
macro_rules! answers {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// What the scheduler answers a [`Call`] with.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Answer {
            $($(#[$doc])* $variant($ty),)*
        }

        $(impl TryFrom<Answer> for $ty {
            type Error = Answer;
            fn try_from(a: Answer) -> Result<$ty, Answer> {
                match a {
                    Answer::$variant(v) => Ok(v),
                    other => Err(other),
                }
            }
        })*
    };
}

answers! {
    Services(ServiceList),
    Servers(ServerList),
    Sessions(SessionList),
    Session(Box<Session>),
    Labels(Labels),
    Health(Health),
    Rules(slb_proto::Rules),
    Drops(Drops),
    Stats(Box<CoreTotals>),
    Vips(Vec<VipHealth>),
    Peers(Vec<PeerStatus>),
    SyncHolding(SyncHolding),
    /// A configuration applied ([`Call::Apply`]).
    Applied(Applied),
    /// The sessions and label quarantine ([`Call::Snapshot`]).
    Snapshot(Box<crate::state_file::Snapshot>),
}

/// What the control thread asks of the scheduler.
pub enum Call {
    /// A read-only view.
    View(View),
    /// Apply this configuration (validated by the caller).
    Apply(Box<Config>),
    /// The sessions and label quarantine for a state file
    /// (`sessions.save`, see [`crate::state_file`]).
    Snapshot,
}

/// One command and where its answer goes.
pub struct Command {
    pub call: Call,
    pub reply: SyncSender<Result<Answer, ErrorBody>>,
}

pub type CommandQueue = ArrayQueue<Command>;

/// Commands waiting at most; a full queue answers `busy`.
pub const QUEUE_LEN: usize = 64;
