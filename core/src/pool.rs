//! Server configuration and state: the server configuration / state unit
//! (docs/claims.md, claim 4).
//!
//! A pool is the set of servers of one service. Servers are addressed by
//! [`ServerId`], a stable slot number: it does not change while the server
//! exists, and a slot is reused only once its server is gone and has no
//! sessions left.
//!
//! Two counts are kept up to date on every change so admission is O(1):
//! * *in service*: state `Up`, weight > 0, not being removed. These are the
//!   members of the consistent-hash tables.
//! * *available*: in service and under its session limit. Only these may be
//!   picked for a new session.
//!
//! Changing a weight, a limit or a state never touches existing sessions: a
//! session keeps its server until it ends. Removing a server with live
//! sessions marks it *removing* (it admits nothing, like draining) and frees
//! its slot when its last session ends.

use std::net::IpAddr;

// Defined in `ids`; re-exported so that `slb_core::pool::ServerId` keeps
// working.
pub use crate::ids::ServerId;

/// Administrative / health state of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Takes new sessions.
    Up,
    /// Failed health checks: no new sessions; existing ones are left alone.
    Down,
    /// Being taken out gracefully: no new sessions; existing ones finish.
    Draining,
    /// Switched off by the operator: no new sessions.
    Disabled,
}

impl ServerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Up => "up",
            ServerState::Down => "down",
            ServerState::Draining => "draining",
            ServerState::Disabled => "disabled",
        }
    }
}

/// Static configuration of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    pub addr: IpAddr,
    /// Relative share of new sessions; 0 takes no new sessions.
    pub weight: u32,
    /// Session limit; 0 = unlimited.
    pub max_sessions: u32,
}

impl ServerConfig {
    pub fn new(addr: IpAddr) -> ServerConfig {
        ServerConfig {
            addr,
            weight: 1,
            max_sessions: 0,
        }
    }
}

/// Failure counters of a server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerFailures {
    /// Sessions that timed out in SYN sent (server never answered).
    pub no_reply: u64,
    /// Sessions reset by the server before its first reply (refused).
    pub reset_before_reply: u64,
    /// Failures reported from outside (health checks).
    pub reported: u64,
}

/// A server and its live state.
#[derive(Clone, Debug)]
pub struct Server {
    config: ServerConfig,
    /// The service's pool this server is in (layer-7 rules choose a
    /// pool; 0 is the default pool): each pool's picker takes only its own.
    group: u16,
    state: ServerState,
    removing: bool,
    active: u32,
    /// EWMA of response time (first packet -> first server reply), ns.
    rt_ewma_ns: u64,
    rt_samples: u64,
    failures: ServerFailures,
}

/// Weight of a new response-time sample in the EWMA: 1/2^RT_EWMA_SHIFT.
pub const RT_EWMA_SHIFT: u32 = 3;

impl Server {
    pub fn addr(&self) -> IpAddr {
        self.config.addr
    }
    pub fn weight(&self) -> u32 {
        self.config.weight
    }
    pub fn max_sessions(&self) -> u32 {
        self.config.max_sessions
    }
    /// The pool it is in (0: the default pool).
    pub fn group(&self) -> u16 {
        self.group
    }
    pub fn state(&self) -> ServerState {
        self.state
    }
    /// Removed by the operator, waiting for its last sessions to end.
    pub fn is_removing(&self) -> bool {
        self.removing
    }
    pub fn active_sessions(&self) -> u32 {
        self.active
    }
    /// Response time EWMA in ns, if any reply was measured.
    pub fn response_time_ns(&self) -> Option<u64> {
        (self.rt_samples > 0).then_some(self.rt_ewma_ns)
    }
    pub fn response_time_samples(&self) -> u64 {
        self.rt_samples
    }
    pub fn failures(&self) -> ServerFailures {
        self.failures
    }
    /// Member of the hash tables: up, weight > 0, not being removed.
    pub fn in_service(&self) -> bool {
        self.state == ServerState::Up && self.config.weight > 0 && !self.removing
    }
    /// May take a new session now.
    pub fn available(&self) -> bool {
        self.in_service()
            && (self.config.max_sessions == 0 || self.active < self.config.max_sessions)
    }
}

/// Pool errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("server {0} is already in the pool")]
    Duplicate(IpAddr),
    #[error("no server with id {0}")]
    NoSuchServer(u32),
    #[error("a pool holds at most 65535 servers")]
    Full,
}

/// What `remove` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// No sessions: gone now.
    Immediate,
    /// Has sessions: admits nothing more, gone when the last one ends.
    Deferred { active: u32 },
}

/// In service, available, group: what the counts are kept of.
type Status = (bool, bool, u16);

/// The servers of one service.
#[derive(Clone, Debug, Default)]
pub struct ServerPool {
    slots: Vec<Option<Server>>,
    /// Bumped when the set of in-service servers or a weight changes; the
    /// algorithms rebuild derived tables when it moves.
    version: u64,
    in_service: u32,
    available: u32,
    /// `in_service` and `available` of each pool (group), by group.
    groups: Vec<(u32, u32)>,
}

impl ServerPool {
    pub fn new() -> ServerPool {
        ServerPool::default()
    }

    /// Adds a server (state `Up`) to the default pool. Reuses a free slot
    /// if any.
    pub fn add(&mut self, config: ServerConfig) -> Result<ServerId, PoolError> {
        self.add_in(config, 0)
    }

    /// Adds a server (state `Up`) to pool `group`.
    pub fn add_in(&mut self, config: ServerConfig, group: u16) -> Result<ServerId, PoolError> {
        if self.iter().any(|(_, s)| s.config.addr == config.addr) {
            return Err(PoolError::Duplicate(config.addr));
        }
        let server = Server {
            config,
            group,
            state: ServerState::Up,
            removing: false,
            active: 0,
            rt_ewma_ns: 0,
            rt_samples: 0,
            failures: ServerFailures::default(),
        };
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.slots.len() >= u16::MAX as usize => return Err(PoolError::Full),
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let id = ServerId(slot as u32);
        self.slots[slot] = Some(server);
        self.account(id, (false, false, 0));
        self.version += 1;
        Ok(id)
    }

    /// Removes a server: now if it has no sessions, else when its last ends.
    pub fn remove(&mut self, id: ServerId) -> Result<Removal, PoolError> {
        let active = self.get(id).ok_or(PoolError::NoSuchServer(id.0))?.active;
        if active == 0 {
            let before = self.status(id);
            self.slots[id.0 as usize] = None;
            self.uncount(before);
            self.version += 1;
            Ok(Removal::Immediate)
        } else {
            self.update(id, |s| s.removing = true)?;
            Ok(Removal::Deferred { active })
        }
    }

    pub fn set_state(&mut self, id: ServerId, state: ServerState) -> Result<(), PoolError> {
        self.update(id, |s| s.state = state)
    }

    pub fn set_weight(&mut self, id: ServerId, weight: u32) -> Result<(), PoolError> {
        self.update(id, |s| s.config.weight = weight)?;
        self.version += 1;
        Ok(())
    }

    pub fn set_max_sessions(&mut self, id: ServerId, max: u32) -> Result<(), PoolError> {
        self.update(id, |s| s.config.max_sessions = max)
    }

    /// Moves a server to pool `group`; its sessions stay.
    pub fn set_group(&mut self, id: ServerId, group: u16) -> Result<(), PoolError> {
        self.update(id, |s| s.group = group)?;
        self.version += 1;
        Ok(())
    }

    /// Counts an externally detected failure (health check).
    pub fn record_failure(&mut self, id: ServerId) -> Result<(), PoolError> {
        self.update(id, |s| s.failures.reported += 1)
    }

    pub fn get(&self, id: ServerId) -> Option<&Server> {
        self.slots.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// Servers in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (ServerId, &Server)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (ServerId(i as u32), s)))
    }

    /// Number of slots (an upper bound on ids), for per-server arrays.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// Servers that are up, weighted and not being removed.
    pub fn in_service_count(&self) -> u32 {
        self.in_service
    }

    /// Servers that may take a new session now.
    pub fn available_count(&self) -> u32 {
        self.available
    }

    /// [`ServerPool::in_service_count`] of pool `group`.
    pub fn in_service_in(&self, group: u16) -> u32 {
        self.groups.get(group as usize).map_or(0, |g| g.0)
    }

    /// [`ServerPool::available_count`] of pool `group`.
    pub fn available_in(&self, group: u16) -> u32 {
        self.groups.get(group as usize).map_or(0, |g| g.1)
    }

    /// A session was assigned to `id`.
    pub(crate) fn session_started(&mut self, id: ServerId) {
        match self.slots.get_mut(id.0 as usize).and_then(Option::as_mut) {
            // Without a session limit no count moves: the session alone.
            Some(s) if s.config.max_sessions == 0 => s.active += 1,
            _ => {
                let _ = self.update(id, |s| s.active += 1);
            }
        }
    }

    /// A session of `id` ended. Frees the slot of a removed server whose last
    /// session this was.
    pub(crate) fn session_ended(&mut self, id: ServerId) {
        match self.slots.get_mut(id.0 as usize).and_then(Option::as_mut) {
            // Without a session limit no count moves (a removed server's
            // last session frees its slot below).
            Some(s) if s.config.max_sessions == 0 => s.active = s.active.saturating_sub(1),
            _ => {
                let _ = self.update(id, |s| s.active = s.active.saturating_sub(1));
            }
        }
        if self.get(id).is_some_and(|s| s.removing && s.active == 0) {
            let _ = self.remove(id);
        }
    }

    /// Adds a response time sample (ns) to the server's EWMA.
    pub(crate) fn record_response_time(&mut self, id: ServerId, rt_ns: u64) {
        if let Some(Some(s)) = self.slots.get_mut(id.0 as usize) {
            if s.rt_samples == 0 {
                s.rt_ewma_ns = rt_ns;
            } else {
                // ewma += (sample - ewma) / 8, in signed arithmetic.
                let delta = (rt_ns as i128 - s.rt_ewma_ns as i128) >> RT_EWMA_SHIFT;
                s.rt_ewma_ns = (s.rt_ewma_ns as i128 + delta).max(0) as u64;
            }
            s.rt_samples += 1;
        }
    }

    pub(crate) fn record_no_reply(&mut self, id: ServerId) {
        let _ = self.update(id, |s| s.failures.no_reply += 1);
    }

    pub(crate) fn record_reset_before_reply(&mut self, id: ServerId) {
        let _ = self.update(id, |s| s.failures.reset_before_reply += 1);
    }

    fn status(&self, id: ServerId) -> Status {
        self.get(id).map_or((false, false, 0), |s| {
            (s.in_service(), s.available(), s.group)
        })
    }

    fn uncount(&mut self, (in_service, available, group): Status) {
        self.in_service -= in_service as u32;
        self.available -= available as u32;
        if let Some(g) = self.groups.get_mut(group as usize) {
            g.0 -= in_service as u32;
            g.1 -= available as u32;
        }
    }

    fn account(&mut self, id: ServerId, before: Status) {
        self.uncount(before);
        let (in_service, available, group) = self.status(id);
        self.in_service += in_service as u32;
        self.available += available as u32;
        if self.groups.len() <= group as usize {
            self.groups.resize(group as usize + 1, (0, 0));
        }
        if let Some(g) = self.groups.get_mut(group as usize) {
            g.0 += in_service as u32;
            g.1 += available as u32;
        }
        if before.0 != in_service {
            self.version += 1;
        }
    }

    fn update(&mut self, id: ServerId, f: impl FnOnce(&mut Server)) -> Result<(), PoolError> {
        let before = self.status(id);
        let s = self
            .slots
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(PoolError::NoSuchServer(id.0))?;
        f(s);
        self.account(id, before);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn addr(i: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 1, 0, i))
    }

    #[test]
    fn counts_follow_state_limits_and_sessions() {
        let mut p = ServerPool::new();
        let a = p
            .add(ServerConfig {
                addr: addr(1),
                weight: 1,
                max_sessions: 2,
            })
            .unwrap();
        let b = p.add(ServerConfig::new(addr(2))).unwrap();
        assert_eq!(
            p.add(ServerConfig::new(addr(2))),
            Err(PoolError::Duplicate(addr(2)))
        );
        assert_eq!((p.in_service_count(), p.available_count()), (2, 2));
        p.session_started(a);
        p.session_started(a);
        assert_eq!((p.in_service_count(), p.available_count()), (2, 1));
        p.set_state(b, ServerState::Draining).unwrap();
        assert_eq!((p.in_service_count(), p.available_count()), (1, 0));
        p.session_ended(a);
        assert_eq!(p.available_count(), 1);
        p.set_weight(a, 0).unwrap();
        assert_eq!((p.in_service_count(), p.available_count()), (0, 0));
        p.set_weight(a, 3).unwrap();
        p.set_state(b, ServerState::Up).unwrap();
        assert_eq!((p.in_service_count(), p.available_count()), (2, 2));
        assert_eq!(
            p.get(a).unwrap().active_sessions(),
            1,
            "state changes keep sessions"
        );
    }

    /// Each pool (group) keeps its own counts through adds, moves, state
    /// changes and sessions; sessions of servers without a limit take the
    /// short way and leave the counts as they were.
    #[test]
    fn groups_keep_their_own_counts() {
        let mut p = ServerPool::new();
        let a = p.add(ServerConfig::new(addr(1))).unwrap();
        let b = p.add_in(ServerConfig::new(addr(2)), 1).unwrap();
        let c = p
            .add_in(
                ServerConfig {
                    max_sessions: 1,
                    ..ServerConfig::new(addr(3))
                },
                1,
            )
            .unwrap();
        let counts = |p: &ServerPool, g| (p.in_service_in(g), p.available_in(g));
        assert_eq!(
            (counts(&p, 0), counts(&p, 1), counts(&p, 2)),
            ((1, 1), (2, 2), (0, 0))
        );
        p.session_started(c);
        assert_eq!(counts(&p, 1), (2, 1), "c is full");
        p.session_started(b);
        assert_eq!(counts(&p, 1), (2, 1), "b has no limit");
        p.set_group(b, 0).unwrap();
        assert_eq!((counts(&p, 0), counts(&p, 1)), ((2, 2), (1, 0)));
        assert_eq!(
            p.get(b).unwrap().active_sessions(),
            1,
            "a move keeps sessions"
        );
        p.set_state(a, ServerState::Draining).unwrap();
        assert_eq!(counts(&p, 0), (1, 1));
        p.session_ended(c);
        assert_eq!(counts(&p, 1), (1, 1));
        assert_eq!((p.in_service_count(), p.available_count()), (2, 2));
    }

    #[test]
    fn removal_waits_for_the_last_session() {
        let mut p = ServerPool::new();
        let a = p.add(ServerConfig::new(addr(1))).unwrap();
        let b = p.add(ServerConfig::new(addr(2))).unwrap();
        p.session_started(a);
        assert_eq!(p.remove(a), Ok(Removal::Deferred { active: 1 }));
        assert!(p.get(a).unwrap().is_removing());
        assert_eq!((p.in_service_count(), p.available_count()), (1, 1));
        p.session_ended(a);
        assert!(p.get(a).is_none());
        assert_eq!(p.remove(b), Ok(Removal::Immediate));
        assert_eq!(
            (p.in_service_count(), p.available_count(), p.len()),
            (0, 0, 0)
        );
        // Slots are reused.
        assert_eq!(p.add(ServerConfig::new(addr(3))), Ok(ServerId(0)));
    }

    #[test]
    fn response_time_ewma() {
        let mut p = ServerPool::new();
        let a = p.add(ServerConfig::new(addr(1))).unwrap();
        assert_eq!(p.get(a).unwrap().response_time_ns(), None);
        p.record_response_time(a, 800);
        assert_eq!(p.get(a).unwrap().response_time_ns(), Some(800));
        p.record_response_time(a, 0);
        assert_eq!(p.get(a).unwrap().response_time_ns(), Some(700));
        p.record_response_time(a, 1500);
        assert_eq!(p.get(a).unwrap().response_time_ns(), Some(800));
    }
}
