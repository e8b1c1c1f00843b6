//! The health monitor: real-time server state (claim 4 in
//! docs/claims.md) as a state machine the scheduler drives with its clock.
//! It sends nothing and touches no session itself: it says which probes
//! are due ([`Action::Probe`]), takes the answers the scheduler matched
//! ([`HealthMonitor::tcp_answer`], [`HealthMonitor::neighbour_answer`],
//! [`HealthMonitor::session_no_reply`]), and says when a server's health
//! changed ([`Action::Changed`]). `probes.rs` turns actions into frames
//! and core state.
//!
//! Active probes, every `health.interval`:
//! - `tcp`: a SYN to the server's health port from a source port in
//!   [`PROBE_PORTS`]. A SYN-ACK within `health.timeout` is a success; a RST
//!   is an immediate failure (nothing listens); silence until the timeout
//!   is a failure.
//! - `udp` (`udp.rs`): the configured payload to the server's port from a
//!   source port in [`PROBE_PORTS`]; a datagram back from that port that
//!   holds the expected bytes (any, when none are configured) is a
//!   success, one without them a failure.
//! - `dns` (`dns.rs`): a query for the configured name and type, over UDP
//!   like `udp`; a response with the query's id and question and RCODE
//!   NOERROR is a success, another RCODE a failure.
//! - `http` (`http.rs`): the `tcp` probe's SYN, then a tiny client-side
//!   TCP sends the request and reads the response (at most 4 KiB); a
//!   status in the configured range (and the body text, when configured)
//!   is a success.
//! - `tls` (`tls.rs`): a TLS handshake over the same stream; up when it
//!   completes.
//! - `arp`: an ARP request / neighbour solicitation; a reply from the
//!   server within the timeout is a success.
//! - `none`: no probing; the server is always healthy.
//!
//! Passive signal: a session that ends because the server never answered
//! its SYN counts as a failure.
//!
//! `fall` consecutive failures take a healthy server down; `rise`
//! consecutive successes bring it back. The operator's state (`up`,
//! `drain`, `disabled`) wins over health: a drained or disabled server
//! stays so whatever its probes say ([`Probe::core_state`]), and a
//! disabled server is not probed at all. Servers start healthy.

pub mod dns;
pub mod http;
pub mod stream;
mod stream_answer;
pub mod tls;
mod udp;

use crate::channels::PROBE_PORTS;
use slb_config::{Health, HealthKind, OnDown, ServerState as Admin};
use slb_core::{ServerId, ServerState, ServiceId};
use std::collections::HashMap;
use std::net::IpAddr;

/// How often the monitor looks at its probe timers.
pub const CHECK_EVERY_NS: u64 = 10_000_000;

/// A server of a service.
pub type ServerKey = (ServiceId, ServerId);

/// What the configuration says about one monitored server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub service: String,
    pub server: String,
    pub addr: IpAddr,
    pub health: Health,
    pub admin: Admin,
}

/// A probe to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeKind {
    /// A TCP SYN from `src_port` (one of [`PROBE_PORTS`]) to `dst_port`
    /// with sequence number `seq`.
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
    },
    /// A UDP datagram from `src_port` (one of [`PROBE_PORTS`]) to
    /// `dst_port`.
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: Vec<u8>,
    },
    /// An ARP request or neighbour solicitation.
    Neighbour,
}

/// What the scheduler must do for the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a probe to `addr` (if it cannot, the probe times out: the
    /// truth, the server is unreachable).
    Probe {
        key: ServerKey,
        addr: IpAddr,
        kind: ProbeKind,
    },
    /// Send a segment of an `http` probe's connection (from `src_port`, a
    /// probe port, to the server's `dst_port`).
    Segment {
        addr: IpAddr,
        src_port: u16,
        dst_port: u16,
        send: stream::Send,
    },
    /// The server's health changed. `reset_sessions`: its service says
    /// `on_down: reset`, so its sessions end.
    Changed {
        key: ServerKey,
        up: bool,
        reset_sessions: bool,
    },
}

/// A TCP answer to a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpAnswer {
    SynAck,
    Rst,
}

#[derive(Debug)]
struct Pending {
    /// TCP or UDP source port (0 for ARP/ND).
    src_port: u16,
    sent_at: u64,
    /// The query's id (`dns`; 0 otherwise).
    dns_id: u16,
    /// The connection of an `http` probe.
    stream: Option<stream::Conn>,
}

/// One server's monitor.
#[derive(Debug)]
pub struct Probe {
    pub target: Target,
    pub healthy: bool,
    pub ok_streak: u8,
    pub fail_streak: u8,
    next_due: u64,
    pending: Option<Pending>,
    pub last_check: Option<u64>,
    /// `syn_ack`, `timeout`, `udp_reply`, ... or why the check failed
    /// (`reply without the expected bytes`).
    pub last_result: Option<String>,
    pub rtt_ewma_ns: Option<u64>,
    pub changed_at: Option<u64>,
    pub sent: u64,
    pub successes: u64,
    pub failures: u64,
    pub passive_failures: u64,
}

impl Probe {
    fn new(target: Target) -> Probe {
        Probe {
            target,
            healthy: true,
            ok_streak: 0,
            fail_streak: 0,
            next_due: 0,
            pending: None,
            last_check: None,
            last_result: None,
            rtt_ewma_ns: None,
            changed_at: None,
            sent: 0,
            successes: 0,
            failures: 0,
            passive_failures: 0,
        }
    }

    /// Probes go out for this server (kind not `none`, not disabled).
    pub fn is_probed(&self) -> bool {
        self.target.health.kind != HealthKind::Off && self.target.admin != Admin::Disabled
    }

    /// The server's state in the session core: the operator's state, and
    /// for a server the operator wants up, its health.
    pub fn core_state(&self) -> ServerState {
        match self.target.admin {
            Admin::Drain => ServerState::Draining,
            Admin::Disabled => ServerState::Disabled,
            Admin::Up if self.healthy => ServerState::Up,
            Admin::Up => ServerState::Down,
        }
    }
}

/// Every server's monitor and the totals.
#[derive(Debug, Default)]
pub struct HealthMonitor {
    /// Active probing on (slbd turns it on; the golden rig only when a
    /// test asks, so its tables see no probe frames).
    pub enabled: bool,
    probes: HashMap<ServerKey, Probe>,
    next_check: u64,
    next_port: u16,
    pub went_down: u64,
    pub went_up: u64,
}

impl HealthMonitor {
    pub fn probe(&self, key: ServerKey) -> Option<&Probe> {
        self.probes.get(&key)
    }

    pub fn probes(&self) -> impl Iterator<Item = (&ServerKey, &Probe)> {
        self.probes.iter()
    }

    /// Servers whose probes say down.
    pub fn servers_down(&self) -> usize {
        self.probes.values().filter(|p| !p.healthy).count()
    }

    /// Monitors exactly `targets` from now on. A server that stays (same
    /// key and address) keeps its state; a changed health setting restarts
    /// its probing; a server whose kind became `none` is healthy.
    pub fn sync(&mut self, targets: impl IntoIterator<Item = (ServerKey, Target)>) {
        let mut old = std::mem::take(&mut self.probes);
        for (key, t) in targets {
            let p = match old.remove(&key) {
                Some(mut p) if p.target.addr == t.addr => {
                    if p.target.health != t.health {
                        p.pending = None;
                        p.next_due = 0;
                    }
                    p.target = t;
                    if p.target.health.kind == HealthKind::Off {
                        p.healthy = true;
                    }
                    p
                }
                _ => Probe::new(t),
            };
            self.probes.insert(key, p);
        }
    }

    /// Due probes and timed-out ones, at most every [`CHECK_EVERY_NS`].
    /// Returns the work done.
    pub fn poll(&mut self, now: u64, actions: &mut Vec<Action>) -> usize {
        if !self.enabled || now < self.next_check {
            return 0;
        }
        self.next_check = now + CHECK_EVERY_NS;
        let mut work = 0;
        let keys: Vec<ServerKey> = self.probes.keys().copied().collect();
        for key in keys {
            let Some(p) = self.probes.get_mut(&key) else {
                continue;
            };
            if !p.is_probed() {
                p.pending = None;
                continue;
            }
            let timeout = p.target.health.timeout.as_nanos() as u64;
            if let Some(pd) = &p.pending {
                if now >= pd.sent_at + timeout {
                    let abort = pd.stream.as_ref().and_then(stream::Conn::abort);
                    if let (Some(send), Some(dst_port)) =
                        (abort, stream_port(&p.target.health.kind))
                    {
                        actions.push(Action::Segment {
                            addr: p.target.addr,
                            src_port: pd.src_port,
                            dst_port,
                            send,
                        });
                    }
                    p.pending = None;
                    self.result(key, false, "timeout", now, None, actions);
                    work += 1;
                }
                continue;
            }
            if now >= p.next_due {
                p.next_due = now + p.target.health.interval.as_nanos() as u64;
                let mut dns_id = 0;
                let mut conn = None;
                let kind = match &p.target.health.kind {
                    HealthKind::Tcp { port } => ProbeKind::Tcp {
                        src_port: next_probe_port(&mut self.next_port),
                        dst_port: *port,
                        seq: (now as u32) ^ 0x5b5b_0000,
                    },
                    HealthKind::Udp(u) => ProbeKind::Udp {
                        src_port: next_probe_port(&mut self.next_port),
                        dst_port: u.port,
                        payload: u.send.clone(),
                    },
                    HealthKind::Http(h) => {
                        let seq = (now as u32) ^ 0x5b5b_0000;
                        let app = Box::new(http::HttpApp::new(h.clone()));
                        conn = Some(stream::Conn::new(seq, app));
                        ProbeKind::Tcp {
                            src_port: next_probe_port(&mut self.next_port),
                            dst_port: h.port,
                            seq,
                        }
                    }
                    HealthKind::Tls(t) => {
                        let seq = (now as u32) ^ 0x5b5b_0000;
                        // Only an unusable SNI fails here (the
                        // configuration checked it): the probe then
                        // times out.
                        conn = tls::TlsApp::new(t.sni.as_deref(), p.target.addr)
                            .map_err(|e| tracing::warn!(service = %p.target.service, server = %p.target.server, error = %e, "tls probe"))
                            .ok()
                            .map(|app| stream::Conn::new(seq, Box::new(app)));
                        ProbeKind::Tcp {
                            src_port: next_probe_port(&mut self.next_port),
                            dst_port: t.port,
                            seq,
                        }
                    }
                    HealthKind::Dns(d) => {
                        let src_port = next_probe_port(&mut self.next_port);
                        dns_id = dns::probe_id(now, src_port);
                        ProbeKind::Udp {
                            src_port,
                            dst_port: d.port,
                            payload: dns::query_of(d, dns_id),
                        }
                    }
                    _ => ProbeKind::Neighbour,
                };
                let src_port = match kind {
                    ProbeKind::Tcp { src_port, .. } | ProbeKind::Udp { src_port, .. } => src_port,
                    ProbeKind::Neighbour => 0,
                };
                p.pending = Some(Pending {
                    src_port,
                    sent_at: now,
                    dns_id,
                    stream: conn,
                });
                p.sent += 1;
                actions.push(Action::Probe {
                    key,
                    addr: p.target.addr,
                    kind,
                });
                work += 1;
            }
        }
        work
    }

    /// A TCP answer from `from`:`from_port` to probe source port `to_port`.
    /// Returns whether it answered a pending probe (else it is ignored).
    pub fn tcp_answer(
        &mut self,
        from: IpAddr,
        from_port: u16,
        to_port: u16,
        answer: TcpAnswer,
        now: u64,
        actions: &mut Vec<Action>,
    ) -> bool {
        let found = self.probes.iter().find_map(|(k, p)| {
            let pd = p.pending.as_ref().filter(|pd| pd.src_port == to_port)?;
            let matches = p.target.addr == from
                && matches!(p.target.health.kind, HealthKind::Tcp { port } if port == from_port);
            matches.then_some((*k, pd.sent_at))
        });
        let Some((key, sent_at)) = found else {
            return false;
        };
        if let Some(p) = self.probes.get_mut(&key) {
            p.pending = None;
        }
        match answer {
            TcpAnswer::SynAck => {
                let rtt = now.saturating_sub(sent_at);
                self.result(key, true, "syn_ack", now, Some(rtt), actions)
            }
            TcpAnswer::Rst => self.result(key, false, "rst", now, None, actions),
        }
        true
    }

    /// An ARP reply or neighbour advertisement from `addr`: a success for
    /// every pending ARP probe of that address.
    pub fn neighbour_answer(&mut self, addr: IpAddr, now: u64, actions: &mut Vec<Action>) {
        let keys: Vec<(ServerKey, u64)> = self
            .probes
            .iter()
            .filter(|(_, p)| p.target.addr == addr && p.target.health.kind == HealthKind::Arp)
            .filter_map(|(k, p)| p.pending.as_ref().map(|pd| (*k, pd.sent_at)))
            .collect();
        for (key, sent_at) in keys {
            if let Some(p) = self.probes.get_mut(&key) {
                p.pending = None;
            }
            let rtt = now.saturating_sub(sent_at);
            self.result(key, true, "neighbour_reply", now, Some(rtt), actions);
        }
    }

    /// Passive signal: a session of `key` ended because its server never
    /// answered the SYN.
    pub fn session_no_reply(&mut self, key: ServerKey, now: u64, actions: &mut Vec<Action>) {
        let Some(p) = self.probes.get_mut(&key) else {
            return;
        };
        if p.target.health.kind == HealthKind::Off {
            return;
        }
        p.passive_failures += 1;
        self.result(key, false, "session_no_reply", now, None, actions);
    }

    /// A success or failure of server `key`'s check.
    fn result(
        &mut self,
        key: ServerKey,
        ok: bool,
        what: impl Into<String>,
        now: u64,
        rtt: Option<u64>,
        actions: &mut Vec<Action>,
    ) {
        let Some(p) = self.probes.get_mut(&key) else {
            return;
        };
        p.last_check = Some(now);
        let what = p.last_result.insert(what.into());
        let was = p.healthy;
        if ok {
            p.successes += 1;
            p.fail_streak = 0;
            p.ok_streak = p.ok_streak.saturating_add(1);
            if let Some(r) = rtt {
                p.rtt_ewma_ns = Some(match p.rtt_ewma_ns {
                    Some(e) => e - (e >> 3) + (r >> 3),
                    None => r,
                });
            }
            p.healthy |= p.ok_streak >= p.target.health.rise;
        } else {
            p.failures += 1;
            p.ok_streak = 0;
            p.fail_streak = p.fail_streak.saturating_add(1);
            p.healthy &= p.fail_streak < p.target.health.fall;
        }
        if p.healthy == was {
            return;
        }
        p.changed_at = Some(now);
        let up = p.healthy;
        if up {
            self.went_up += 1;
            tracing::info!(service = %p.target.service, server = %p.target.server, address = %p.target.addr, state = "up", "server healthy again");
        } else {
            self.went_down += 1;
            tracing::warn!(service = %p.target.service, server = %p.target.server, address = %p.target.addr, state = "down", last = %what, "server down");
        }
        actions.push(Action::Changed {
            key,
            up,
            reset_sessions: !up && p.target.health.on_down == OnDown::Reset,
        });
    }
}

/// The server's port of a check that runs over a stream of slbd's own
/// (`stream.rs`).
fn stream_port(kind: &HealthKind) -> Option<u16> {
    match kind {
        HealthKind::Http(h) => Some(h.port),
        HealthKind::Tls(t) => Some(t.port),
        _ => None,
    }
}

/// The next TCP source port for a probe, round robin over [`PROBE_PORTS`].
fn next_probe_port(next: &mut u16) -> u16 {
    let n = PROBE_PORTS.end() - PROBE_PORTS.start() + 1;
    let port = PROBE_PORTS.start() + *next % n;
    *next = next.wrapping_add(1) % n;
    port
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::time::Duration;

    pub const MS: u64 = 1_000_000;
    pub const S1: ServerKey = (ServiceId(0), ServerId(0));

    fn health(kind: HealthKind, on_down: OnDown) -> Health {
        Health {
            kind,
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(50),
            rise: 2,
            fall: 3,
            on_down,
        }
    }

    pub fn target(kind: HealthKind, admin: Admin) -> Target {
        Target {
            service: "web".into(),
            server: "s1".into(),
            addr: "198.18.1.11".parse().unwrap(),
            health: health(kind, OnDown::Keep),
            admin,
        }
    }

    pub fn monitor(t: Target) -> HealthMonitor {
        let mut m = HealthMonitor {
            enabled: true,
            ..HealthMonitor::default()
        };
        m.sync([(S1, t)]);
        m
    }

    /// Runs the monitor from `*now` to `until` in 10 ms steps; answers
    /// every TCP probe with `answer` (None: silence).
    fn run(
        m: &mut HealthMonitor,
        now: &mut u64,
        until: u64,
        answer: Option<TcpAnswer>,
    ) -> Vec<Action> {
        let mut all = Vec::new();
        while *now < until {
            let mut a = Vec::new();
            m.poll(*now, &mut a);
            for x in &a {
                if let (
                    Action::Probe {
                        addr,
                        kind:
                            ProbeKind::Tcp {
                                src_port, dst_port, ..
                            },
                        ..
                    },
                    Some(ans),
                ) = (x, answer)
                {
                    let mut b = Vec::new();
                    assert!(m.tcp_answer(*addr, *dst_port, *src_port, ans, *now + MS, &mut b));
                    all.extend(b);
                }
            }
            all.extend(a);
            *now += 10 * MS;
        }
        all
    }

    pub fn changes(a: &[Action]) -> Vec<bool> {
        a.iter()
            .filter_map(|x| match x {
                Action::Changed { up, .. } => Some(*up),
                _ => None,
            })
            .collect()
    }

    /// One probe interval (100 ms from `*now`, in 10 ms steps): the probe
    /// due goes out and is answered with `answer` 1 ms later (None:
    /// silence, it times out 50 ms later).
    fn interval(m: &mut HealthMonitor, now: &mut u64, answer: Option<TcpAnswer>) -> Vec<Action> {
        let until = *now + 100 * MS;
        run(m, now, until, answer)
    }

    #[test]
    fn falls_after_fall_failures_and_rises_after_rise_successes() {
        let mut m = monitor(target(HealthKind::Tcp { port: 80 }, Admin::Up));
        let mut now = MS;
        // Answered probes: healthy throughout, no change.
        for _ in 0..3 {
            assert!(changes(&interval(&mut m, &mut now, Some(TcpAnswer::SynAck))).is_empty());
        }
        let p = m.probe(S1).unwrap();
        assert_eq!(
            (p.sent, p.successes, p.last_result.as_deref()),
            (3, 3, Some("syn_ack"))
        );
        assert!(p.healthy);
        // RSTs: down at the third consecutive failure (fall 3), not before.
        for _ in 0..2 {
            assert!(changes(&interval(&mut m, &mut now, Some(TcpAnswer::Rst))).is_empty());
        }
        let a = interval(&mut m, &mut now, Some(TcpAnswer::Rst));
        assert_eq!(changes(&a), vec![false]);
        assert_eq!(m.probe(S1).unwrap().core_state(), ServerState::Down);
        assert_eq!((m.went_down, m.servers_down()), (1, 1));
        // A success then a failure: the streak starts again.
        interval(&mut m, &mut now, Some(TcpAnswer::SynAck));
        interval(&mut m, &mut now, Some(TcpAnswer::Rst));
        assert!(!m.probe(S1).unwrap().healthy);
        // Two successes in a row (rise 2) bring it back.
        assert!(changes(&interval(&mut m, &mut now, Some(TcpAnswer::SynAck))).is_empty());
        let a = interval(&mut m, &mut now, Some(TcpAnswer::SynAck));
        assert_eq!(changes(&a), vec![true]);
        assert_eq!(m.probe(S1).unwrap().core_state(), ServerState::Up);
        assert_eq!((m.went_up, m.servers_down()), (1, 0));
        assert_eq!(m.probe(S1).unwrap().rtt_ewma_ns, Some(MS));
    }

    #[test]
    fn silence_times_out() {
        let mut m = monitor(target(HealthKind::Tcp { port: 80 }, Admin::Up));
        let mut now = MS;
        // Each probe fails 50 ms after it left: down at the third.
        for _ in 0..2 {
            assert!(changes(&interval(&mut m, &mut now, None)).is_empty());
        }
        let a = interval(&mut m, &mut now, None);
        assert_eq!(changes(&a), vec![false]);
        let p = m.probe(S1).unwrap();
        assert_eq!(
            (p.sent, p.failures, p.last_result.as_deref()),
            (3, 3, Some("timeout"))
        );
        // A late answer to a timed-out probe matches nothing.
        let mut b = Vec::new();
        let s: IpAddr = "198.18.1.11".parse().unwrap();
        for port in PROBE_PORTS {
            assert!(!m.tcp_answer(s, 80, port, TcpAnswer::SynAck, now, &mut b));
        }
    }

    #[test]
    fn answers_must_match_the_pending_probe() {
        let mut m = monitor(target(HealthKind::Tcp { port: 80 }, Admin::Up));
        let mut a = Vec::new();
        m.poll(MS, &mut a);
        let Some(Action::Probe {
            kind: ProbeKind::Tcp {
                src_port, dst_port, ..
            },
            ..
        }) = a.first().cloned()
        else {
            panic!("no probe: {a:?}");
        };
        assert!(PROBE_PORTS.contains(&src_port));
        assert_eq!(dst_port, 80);
        let mut b = Vec::new();
        let s: IpAddr = "198.18.1.11".parse().unwrap();
        let other: IpAddr = "198.18.1.12".parse().unwrap();
        assert!(!m.tcp_answer(other, 80, src_port, TcpAnswer::Rst, MS, &mut b));
        assert!(!m.tcp_answer(s, 81, src_port, TcpAnswer::Rst, MS, &mut b));
        assert!(!m.tcp_answer(s, 80, src_port + 1, TcpAnswer::Rst, MS, &mut b));
        assert_eq!(m.probe(S1).unwrap().failures, 0);
        assert!(m.tcp_answer(s, 80, src_port, TcpAnswer::SynAck, 2 * MS, &mut b));
        assert_eq!(m.probe(S1).unwrap().rtt_ewma_ns, Some(MS));
    }

    #[test]
    fn a_disabled_server_is_not_probed_and_operator_state_wins() {
        let mut m = monitor(target(HealthKind::Tcp { port: 80 }, Admin::Disabled));
        let mut now = MS;
        let a = run(&mut m, &mut now, 1000 * MS, None);
        assert!(a.is_empty(), "{a:?}");
        assert_eq!(m.probe(S1).unwrap().core_state(), ServerState::Disabled);
        // Drained: probed, and stays draining whatever the probes say.
        m.sync([(S1, target(HealthKind::Tcp { port: 80 }, Admin::Drain))]);
        let a = run(&mut m, &mut now, 1400 * MS, None);
        assert_eq!(changes(&a), vec![false]);
        assert_eq!(m.probe(S1).unwrap().core_state(), ServerState::Draining);
        // Back up while unhealthy: Down until it rises.
        m.sync([(S1, target(HealthKind::Tcp { port: 80 }, Admin::Up))]);
        assert_eq!(m.probe(S1).unwrap().core_state(), ServerState::Down);
    }

    #[test]
    fn passive_no_reply_counts_as_a_failure() {
        let mut m = monitor(target(HealthKind::Tcp { port: 80 }, Admin::Up));
        let mut a = Vec::new();
        for i in 0..3 {
            m.session_no_reply(S1, (i + 1) * MS, &mut a);
        }
        assert_eq!(changes(&a), vec![false]);
        assert_eq!(m.probe(S1).unwrap().passive_failures, 3);
        // Not for unchecked servers (kind none): always healthy.
        let mut m = monitor(target(HealthKind::Off, Admin::Up));
        let mut a = Vec::new();
        for i in 0..5 {
            m.session_no_reply(S1, (i + 1) * MS, &mut a);
        }
        assert!(a.is_empty());
        assert!(m.probe(S1).unwrap().healthy);
    }

    #[test]
    fn arp_probes_succeed_on_a_neighbour_answer() {
        let mut m = monitor(target(HealthKind::Arp, Admin::Up));
        let mut a = Vec::new();
        m.poll(MS, &mut a);
        assert!(matches!(
            a[..],
            [Action::Probe {
                kind: ProbeKind::Neighbour,
                ..
            }]
        ));
        let mut b = Vec::new();
        m.neighbour_answer("198.18.1.11".parse().unwrap(), 3 * MS, &mut b);
        let p = m.probe(S1).unwrap();
        assert_eq!(
            (p.successes, p.last_result.as_deref(), p.rtt_ewma_ns),
            (1, Some("neighbour_reply"), Some(2 * MS))
        );
        // An answer without a pending probe changes nothing.
        m.neighbour_answer("198.18.1.11".parse().unwrap(), 4 * MS, &mut b);
        assert_eq!(m.probe(S1).unwrap().successes, 1);
    }

    #[test]
    fn on_down_reset_asks_for_the_sessions_to_end() {
        let mut t = target(HealthKind::Tcp { port: 80 }, Admin::Up);
        t.health.on_down = OnDown::Reset;
        t.health.fall = 1;
        let mut m = monitor(t);
        let mut a = Vec::new();
        m.session_no_reply(S1, MS, &mut a);
        assert_eq!(
            a,
            vec![Action::Changed {
                key: S1,
                up: false,
                reset_sessions: true
            }]
        );
    }

    #[test]
    fn sync_keeps_state_of_servers_that_stay() {
        let t = target(HealthKind::Tcp { port: 80 }, Admin::Up);
        let mut m = monitor(t.clone());
        let mut a = Vec::new();
        for i in 0..3 {
            m.session_no_reply(S1, (i + 1) * MS, &mut a);
        }
        assert!(!m.probe(S1).unwrap().healthy);
        m.sync([(S1, t.clone())]);
        assert!(!m.probe(S1).unwrap().healthy, "kept");
        // A new address is a new server: healthy.
        let mut moved = t.clone();
        moved.addr = "198.18.1.13".parse().unwrap();
        m.sync([(S1, moved)]);
        assert!(m.probe(S1).unwrap().healthy);
        // Kind none: healthy at once; a server that left is forgotten.
        m.sync([(S1, t.clone())]);
        let mut off = t;
        off.health.kind = HealthKind::Off;
        m.sync([(S1, off)]);
        assert!(m.probe(S1).unwrap().healthy);
        m.sync([]);
        assert!(m.probe(S1).is_none());
    }
}
