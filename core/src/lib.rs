//! slb's session core: label manager, session table, server pool, balancing
//! algorithms and service acceptance control. Pure Rust, no DPDK, no clock,
//! no I/O: the scheduler lcore owns one [`Core`] and passes time in.
//!
//! See `docs/session-core.md` for the API the scheduler calls, the state
//! machine, the timeouts and the measured costs.

pub mod admission;
pub mod balance;
pub mod labels;
pub mod pool;
pub mod service;
pub mod session;

pub use admission::{RateLimit, Refusal};
pub use balance::Algorithm;
pub use labels::{LabelConfig, LabelError, LabelManager, LabelPair};
pub use pool::{ServerConfig, ServerId, ServerPool, ServerState};
pub use service::{
    Admitted, Core, CoreConfig, CoreError, Ended, EventOutcome, NewPacketOutcome, PacketInfo,
    Service, ServiceConfig, ServiceId, Sweep,
};
pub use session::{
    Direction, EndReason, Protocol, Session, SessionId, SessionKey, SessionState, TcpFlags,
    Timeouts,
};
