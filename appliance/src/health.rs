//! Server health monitoring (claim 4: real-time server state), run by the
//! scheduler lcore with its clock.
//!
//! Active probes, from the server-facing port that holds the server's
//! subnet, every `health.interval`:
//! - `tcp`: a SYN to the server's health port from slbd's own port address
//!   and a source port in [`PROBE_PORTS`]. A SYN-ACK within
//!   `health.timeout` is a success (slbd answers it with a RST so the
//!   server frees the half-open connection); a RST is an immediate
//!   failure (nothing listens); silence until the timeout is a failure.
//!   Answers arrive unlabelled at a worker, addressed to slbd's port
//!   address on a probe port: the worker punts them ([`PuntKind::Probe`]).
//! - `arp`: an ARP request / neighbour solicitation; a reply from the
//!   server within the timeout is a success.
//! - `none`: no probing; the server is always healthy.
//!
//! Passive signal: a session that ends because the server never answered
//! its SYN (`EndReason::NoReply`) counts as a failure.
//!
//! `fall` consecutive failures take a healthy server down (core state
//! `Down`: no new sessions; its sessions follow `on_down`: `keep` leaves
//! them, `reset` ends them and withdraws their labels); `rise` consecutive
//! successes bring it back. A server's operator state (`up`, `drain`,
//! `disabled`) wins over health: a drained or disabled server stays so
//! whatever its probes say, and a disabled server is not probed at all.
//! Servers start healthy. Transitions are logged and counted.
//!
//! [`PuntKind::Probe`]: crate::fast_path::PuntKind::Probe

use crate::commands::ms_ago;
use crate::counters::Event;
pub use crate::fast_path::PROBE_PORTS;
use crate::frame::Frame;
use crate::scheduler::Scheduler;
use serde_json::{json, Value};
use slb_config::{HealthKind, OnDown};
use slb_core::service::Ended;
use slb_core::session::EndReason;
use slb_core::{ServerId, ServerState, ServiceId};
use slb_wire::classify::L4;
use slb_wire::{classify, tcp, Classified, FrameBuilder, MacAddr, TcpFlags};
use std::collections::HashMap;
use std::net::IpAddr;

/// How often the scheduler looks at the probe timers.
const CHECK_EVERY_NS: u64 = 10_000_000;

#[derive(Debug, Clone, Copy)]
struct Pending {
    /// TCP source port (0 for ARP/ND).
    src_port: u16,
    sent_at: u64,
}

/// One server's monitor.
#[derive(Debug, Clone)]
pub struct Probe {
    pub service: String,
    pub server: String,
    pub addr: IpAddr,
    cfg: slb_config::Health,
    admin: slb_config::ServerState,
    pub healthy: bool,
    ok_streak: u8,
    fail_streak: u8,
    next_due: u64,
    pending: Option<Pending>,
    last_check: Option<u64>,
    last_result: Option<&'static str>,
    rtt_ewma_ns: Option<u64>,
    changed_at: Option<u64>,
    pub sent: u64,
    pub successes: u64,
    pub failures: u64,
    pub passive_failures: u64,
}

/// Every monitor and the totals.
#[derive(Debug, Default)]
pub struct Health {
    /// Active probing on (slbd turns it on; the golden rig only when a
    /// test asks, so its tables see no probe frames).
    pub enabled: bool,
    probes: HashMap<(ServiceId, ServerId), Probe>,
    next_check: u64,
    next_port: u16,
    pub went_down: u64,
    pub went_up: u64,
}

impl Health {
    pub fn probe(&self, service: ServiceId, server: ServerId) -> Option<&Probe> {
        self.probes.get(&(service, server))
    }
}

fn kind_str(k: HealthKind) -> &'static str {
    match k {
        HealthKind::Tcp { .. } => "tcp",
        HealthKind::Arp => "arp",
        HealthKind::Off => "none",
    }
}

impl<F: Frame> Scheduler<F> {
    /// Turns active probing on or off.
    pub fn set_health_enabled(&mut self, on: bool) {
        self.health.enabled = on;
    }

    pub fn health_state(&self) -> &Health {
        &self.health
    }

    /// Rebuilds the monitors from the running configuration, keeping the
    /// state of servers that stay, and sets every server's core state.
    pub(crate) fn sync_health(&mut self) {
        let Some(cfg) = self.ctl.config.clone() else {
            return;
        };
        let mut old = std::mem::take(&mut self.health.probes);
        for s in &cfg.services {
            let Ok(sid) = self.service_by_name(&s.name) else {
                continue;
            };
            for v in &s.servers {
                let Ok((_, id)) = self.server_by_name(&s.name, &v.name) else {
                    continue;
                };
                let p = match old.remove(&(sid, id)) {
                    Some(mut p) if p.addr == v.address => {
                        if p.cfg != s.health {
                            p.pending = None;
                            p.next_due = 0;
                        }
                        p.cfg = s.health;
                        p.admin = v.state;
                        p.server = v.name.clone();
                        if p.cfg.kind == HealthKind::Off {
                            p.healthy = true;
                        }
                        p
                    }
                    _ => Probe {
                        service: s.name.clone(),
                        server: v.name.clone(),
                        addr: v.address,
                        cfg: s.health,
                        admin: v.state,
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
                    },
                };
                self.health.probes.insert((sid, id), p);
                self.set_core_state(sid, id);
            }
        }
    }

    /// The core state from operator state and health.
    fn set_core_state(&mut self, sid: ServiceId, id: ServerId) {
        let Some(p) = self.health.probes.get(&(sid, id)) else {
            return;
        };
        let state = match p.admin {
            slb_config::ServerState::Drain => ServerState::Draining,
            slb_config::ServerState::Disabled => ServerState::Disabled,
            slb_config::ServerState::Up if p.healthy => ServerState::Up,
            slb_config::ServerState::Up => ServerState::Down,
        };
        if let Some(s) = self.core.service_mut(sid) {
            if s.pool().get(id).is_some_and(|v| v.state() != state) {
                let _ = s.pool_mut().set_state(id, state);
            }
        }
    }

    /// Sends due probes and counts timed-out ones as failures.
    pub(crate) fn run_health(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        if !self.health.enabled || now < self.health.next_check {
            return 0;
        }
        self.health.next_check = now + CHECK_EVERY_NS;
        let mut work = 0;
        let keys: Vec<(ServiceId, ServerId)> = self.health.probes.keys().copied().collect();
        for key in keys {
            let Some(p) = self.health.probes.get_mut(&key) else {
                continue;
            };
            if p.cfg.kind == HealthKind::Off || p.admin == slb_config::ServerState::Disabled {
                p.pending = None;
                continue;
            }
            let timeout = p.cfg.timeout.as_nanos() as u64;
            if let Some(pd) = p.pending {
                if now >= pd.sent_at + timeout {
                    p.pending = None;
                    self.health_result(key, false, "timeout", now, None);
                    work += 1;
                }
                continue;
            }
            if now >= p.next_due {
                p.next_due = now + p.cfg.interval.as_nanos() as u64;
                self.send_probe(key, now, out);
                work += 1;
            }
        }
        work
    }

    fn send_probe(&mut self, key: (ServiceId, ServerId), now: u64, out: &mut dyn FnMut(usize, F)) {
        let Some(p) = self.health.probes.get(&key) else {
            return;
        };
        let (addr, kind) = (p.addr, p.cfg.kind);
        let src_port = match kind {
            HealthKind::Tcp { .. } => {
                let n = PROBE_PORTS.end() - PROBE_PORTS.start() + 1;
                let port = PROBE_PORTS.start() + self.health.next_port % n;
                self.health.next_port = self.health.next_port.wrapping_add(1) % n;
                port
            }
            _ => 0,
        };
        if let Some(p) = self.health.probes.get_mut(&key) {
            p.pending = Some(Pending {
                src_port,
                sent_at: now,
            });
            p.sent += 1;
        }
        // Without a port or a MAC nothing goes out: the probe times out,
        // which is the truth (the server is unreachable).
        let Some(pi) = self.shared.ports.iter().position(|pt| pt.on_link(addr)) else {
            return;
        };
        if matches!(kind, HealthKind::Tcp { .. }) {
            self.watch_neighbour(addr);
        }
        let shared = self.shared.clone();
        let port = &shared.ports[pi];
        let bytes = match kind {
            HealthKind::Tcp { port: dport } => {
                let Some(mac) = self.neighbour_mac(addr) else {
                    return;
                };
                let src = match addr {
                    IpAddr::V4(_) => port.ipv4.map(|(a, _)| IpAddr::V4(a)),
                    IpAddr::V6(_) => port.ipv6.map(|(a, _)| IpAddr::V6(a)),
                };
                let Some(src) = src else { return };
                FrameBuilder::tcp(MacAddr(port.mac), MacAddr(mac), src, addr, src_port, dport)
                    .flags(TcpFlags::SYN)
                    .seq((now as u32) ^ 0x5b5b_0000)
                    .build()
            }
            HealthKind::Arp => match addr {
                IpAddr::V4(a) => match port.ipv4 {
                    Some((ours, _)) => crate::arp_nd::arp_request(port.mac, ours, a),
                    None => return,
                },
                IpAddr::V6(a) => match port.ipv6 {
                    Some((ours, _)) => crate::arp_nd::neighbour_solicitation(port.mac, ours, a),
                    None => return,
                },
            },
            HealthKind::Off => return,
        };
        if let Some(f) = (self.alloc)(&bytes) {
            self.counters.event(Event::ProbesSent);
            out(pi, f);
        }
    }

    /// A success or failure of server `key`'s check.
    fn health_result(
        &mut self,
        key: (ServiceId, ServerId),
        ok: bool,
        what: &'static str,
        now: u64,
        rtt: Option<u64>,
    ) {
        let Some(p) = self.health.probes.get_mut(&key) else {
            return;
        };
        p.last_check = Some(now);
        p.last_result = Some(what);
        let mut changed = None;
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
            if !p.healthy && p.ok_streak >= p.cfg.rise {
                p.healthy = true;
                changed = Some(true);
            }
        } else {
            p.failures += 1;
            p.ok_streak = 0;
            p.fail_streak = p.fail_streak.saturating_add(1);
            if p.healthy && p.fail_streak >= p.cfg.fall {
                p.healthy = false;
                changed = Some(false);
            }
        }
        let Some(up) = changed else { return };
        p.changed_at = Some(now);
        let (service, server, addr, on_down) =
            (p.service.clone(), p.server.clone(), p.addr, p.cfg.on_down);
        if up {
            self.health.went_up += 1;
            tracing::info!(service = %service, server = %server, address = %addr, state = "up", "server healthy again");
        } else {
            self.health.went_down += 1;
            tracing::warn!(service = %service, server = %server, address = %addr, state = "down", last = what, "server down");
        }
        self.set_core_state(key.0, key.1);
        if let Some(s) = self.core.service_mut(key.0) {
            if !ok {
                let _ = s.pool_mut().record_failure(key.1);
            }
        }
        if !up && on_down == OnDown::Reset {
            let ids: Vec<_> = self
                .core
                .sessions()
                .iter()
                .filter(|(_, s)| s.service() == key.0 && s.server() == key.1)
                .map(|(id, _)| id)
                .collect();
            let n = ids.len();
            for id in ids {
                let e = self.core.end_session(id, now);
                self.withdraw(&e);
            }
            tracing::info!(service = %service, server = %server, sessions = n, "sessions of a down server ended (on_down reset)");
        }
    }

    /// A TCP answer to slbd's own address on a probe port.
    pub(crate) fn punted_probe(&mut self, port: u8, f: F, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Ok(Classified::Ip(ip)) = classify(f.data()) else {
            return;
        };
        let L4::Tcp { flags } = ip.l4 else { return };
        let (src, dport) = (ip.flow.src, ip.flow.dst_port);
        let key = self.health.probes.iter().find_map(|(k, p)| {
            let matches = p.addr == src
                && p.pending.is_some_and(|pd| pd.src_port == dport)
                && matches!(p.cfg.kind, HealthKind::Tcp { port } if port == ip.flow.src_port);
            matches.then_some(*k)
        });
        let Some(key) = key else { return };
        let sent_at = self.health.probes[&key]
            .pending
            .map(|p| p.sent_at)
            .unwrap_or(now);
        if flags.contains(TcpFlags::SYN) && flags.contains(TcpFlags::ACK) {
            if let Some(p) = self.health.probes.get_mut(&key) {
                p.pending = None;
            }
            self.health_result(key, true, "syn_ack", now, Some(now.saturating_sub(sent_at)));
            // Close the half-open connection on the server.
            let ack = f
                .data()
                .get(ip.l4_offset..ip.l3_end)
                .and_then(|b| tcp::Packet::new_checked(b).ok())
                .map(|t| t.ack_number());
            if let (Some(ack), Some(p)) = (ack, self.shared.ports.get(port as usize)) {
                let eth_src = f.data().get(6..12).map(MacAddr::from_bytes);
                if let Some(mac) = eth_src {
                    let rst = FrameBuilder::tcp(
                        MacAddr(p.mac),
                        mac,
                        ip.flow.dst,
                        src,
                        dport,
                        ip.flow.src_port,
                    )
                    .flags(TcpFlags::RST)
                    .seq(ack)
                    .build();
                    if let Some(fr) = (self.alloc)(&rst) {
                        out(port as usize, fr);
                    }
                }
            }
        } else if flags.contains(TcpFlags::RST) {
            if let Some(p) = self.health.probes.get_mut(&key) {
                p.pending = None;
            }
            self.health_result(key, false, "rst", now, None);
        }
    }

    /// An ARP reply / neighbour advertisement from `addr` (ARP probes).
    pub(crate) fn health_neighbour(&mut self, addr: IpAddr, now: u64) {
        let keys: Vec<_> = self
            .health
            .probes
            .iter()
            .filter(|(_, p)| p.addr == addr && p.cfg.kind == HealthKind::Arp && p.pending.is_some())
            .map(|(k, p)| (*k, p.pending.map(|x| x.sent_at).unwrap_or(now)))
            .collect();
        for (k, sent) in keys {
            if let Some(p) = self.health.probes.get_mut(&k) {
                p.pending = None;
            }
            self.health_result(
                k,
                true,
                "neighbour_reply",
                now,
                Some(now.saturating_sub(sent)),
            );
        }
    }

    /// Passive signal: a session whose server never answered its SYN.
    pub(crate) fn health_ended(&mut self, e: &Ended) {
        if e.reason != EndReason::NoReply {
            return;
        }
        let key = (e.service, e.server);
        if let Some(p) = self.health.probes.get_mut(&key) {
            if p.cfg.kind == HealthKind::Off {
                return;
            }
            p.passive_failures += 1;
            self.health_result(key, false, "session_no_reply", e.ended_at, None);
        }
    }

    pub(crate) fn health_json(&self, sid: ServiceId, id: ServerId, now: u64) -> Value {
        let Some(p) = self.health.probes.get(&(sid, id)) else {
            return Value::Null;
        };
        json!({
            "kind": kind_str(p.cfg.kind),
            "state": if p.cfg.kind == HealthKind::Off { "unchecked" } else if p.healthy { "up" } else { "down" },
            "probing": self.health.enabled && p.cfg.kind != HealthKind::Off && p.admin != slb_config::ServerState::Disabled,
            "last_check_ms_ago": p.last_check.map(|t| ms_ago(now, t)),
            "last_result": p.last_result,
            "response_time_us": p.rtt_ewma_ns.map(|n| n as f64 / 1e3),
            "rise": p.cfg.rise, "fall": p.cfg.fall,
            "interval_ms": p.cfg.interval.as_millis() as u64,
            "timeout_ms": p.cfg.timeout.as_millis() as u64,
            "on_down": match p.cfg.on_down { OnDown::Keep => "keep", OnDown::Reset => "reset" },
            "consecutive_ok": p.ok_streak, "consecutive_failed": p.fail_streak,
            "probes_sent": p.sent, "successes": p.successes, "failures": p.failures,
            "passive_failures": p.passive_failures,
            "changed_ms_ago": p.changed_at.map(|t| ms_ago(now, t)),
        })
    }

    pub(crate) fn health_totals(&self) -> Value {
        let down = self.health.probes.values().filter(|p| !p.healthy).count();
        json!({
            "enabled": self.health.enabled,
            "servers_down": down,
            "went_down": self.health.went_down,
            "went_up": self.health.went_up,
        })
    }

    pub(crate) fn view_health(
        &self,
        args: &Value,
        now: u64,
    ) -> Result<Value, slb_ctl::protocol::ErrorBody> {
        let only = match args.get("service").and_then(|v| v.as_str()) {
            Some(n) => Some(self.service_by_name(n)?),
            None => None,
        };
        let mut rows: Vec<(usize, Value)> = Vec::new();
        for ((sid, id), p) in &self.health.probes {
            if only.is_some_and(|o| o != *sid) {
                continue;
            }
            let order = self
                .ctl
                .config
                .as_ref()
                .and_then(|c| c.services.iter().position(|s| s.name == p.service))
                .unwrap_or(usize::MAX);
            let mut v = self.health_json(*sid, *id, now);
            v["service"] = p.service.clone().into();
            v["server"] = p.server.clone().into();
            v["address"] = p.addr.to_string().into();
            v["server_state"] = self
                .core
                .service(*sid)
                .and_then(|s| s.pool().get(*id))
                .map(|s| s.state().as_str())
                .into();
            rows.push((order * 65536 + id.0 as usize, v));
        }
        rows.sort_by_key(|r| r.0);
        Ok(
            json!({ "totals": self.health_totals(), "servers": rows.into_iter().map(|r| r.1).collect::<Vec<_>>() }),
        )
    }
}
