//! slb's session core: label manager, session table, server pool, balancing
//! algorithms and service acceptance control. Pure Rust, no DPDK, no clock,
//! no I/O: the scheduler lcore owns one [`Core`] and passes time in.
//!
//! Modules, leaves first:
//! * [`ids`]: [`ServiceId`], [`ServerId`], [`SessionId`], the ids every other
//!   module names.
//! * [`labels`]: [`LabelManager`], label pairs (C2S odd, S2C = C2S + 1) and
//!   their assign / withdraw / quarantine cycle.
//! * [`label_slices`]: [`LabelSlices`], one label range split among the
//!   instances of a cluster, and the owner of a label.
//! * [`access`]: [`AccessLists`], per-service allow and deny prefix lists
//!   with lookup cost independent of their size.
//! * [`admission`]: why a new session is refused ([`Refusal`]), the
//!   new-session rate limit ([`RateLimit`], token bucket), admission counters.
//! * [`pool`]: [`ServerPool`], a service's servers, their configuration,
//!   state, live counts and pools (groups: layer-7 rules choose one).
//! * [`session`]: [`SessionKey`], session states, [`Timeouts`], and the
//!   [`session::SessionTable`] with its expiry lists;
//!   [`tcp_transition`]: the TCP state machine; [`tcp_flags`]: the flag
//!   byte it reads; [`bound_by`]: what bound a session to its pool
//!   (layer-7 rules).
//! * [`balance`]: the balancing [`Algorithm`]s and the per-service
//!   [`balance::Picker`]; `balance::maglev`: the Maglev table and its hash.
//! * [`error`]: [`CoreError`], configuration errors of the core.
//! * [`service`]: [`Service`], one service and how it admits a new session.
//! * [`session_core`]: [`Core`], which owns the label space, the session
//!   table and the services, and turns the scheduler's events into session
//!   changes; it installs sessions admitted elsewhere (sync, restore).
//! * [`session_record`]: [`SessionRecord`], one session by value in a
//!   compact binary form, for session sync and the state file.
//!
//! See `docs/session-core.md` for the API the scheduler calls, the state
//! machine, the timeouts and the measured costs.

pub mod access;
pub mod admission;
pub mod balance;
pub mod bound_by;
pub mod error;
pub mod ids;
pub mod label_slices;
pub mod labels;
pub mod pool;
pub mod service;
pub mod session;
pub mod session_core;
pub mod session_record;
pub mod tcp_flags;
pub mod tcp_transition;

pub use access::{AccessLists, PrefixSet};
pub use admission::{RateLimit, Refusal};
pub use balance::Algorithm;
pub use bound_by::BoundBy;
pub use error::CoreError;
pub use ids::{ServerId, ServiceId, SessionId};
pub use label_slices::{LabelSlices, SliceError};
pub use labels::{LabelConfig, LabelError, LabelManager, LabelPair};
pub use pool::{ServerConfig, ServerPool, ServerState};
pub use service::{Admitted, PacketInfo, Service, ServiceConfig};
pub use session::{
    Direction, EndReason, Origin, Protocol, Session, SessionKey, SessionState, TcpFlags, Timeouts,
};
pub use session_core::{
    Core, CoreConfig, Ended, EventOutcome, InstallError, Installed, NewPacketOutcome, Sweep,
};
pub use session_record::{RecordError, SessionRecord};
