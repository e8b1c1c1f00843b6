//! The one path from a configuration to the running data path, run on the
//! scheduler lcore: [`apply`] takes a validated [`Config`], compares it
//! with the running one ([`Config::diff`]) and applies the difference
//! without touching existing sessions, or refuses it whole with nothing
//! changed. Start-up is the same call on an empty data path (the running
//! configuration without services or neighbours: `datapath::assemble`),
//! and so is every change from the control socket (`config.reload`,
//! `services.*`, `servers.*`: edits of the running document).
//!
//! Configuration types become session-core types only through the
//! `From` impls of `slb_config::convert`.

use crate::channels::ServiceKey;
use crate::channels::WorkerOp;
use crate::frame::Frame;
use crate::scheduler::first_data_state::L7Rt;
use crate::scheduler::{Scheduler, ServiceRt};
use slb_config::{ClientMode, Config, Refuse, ServerChange, ServiceChange};
use slb_core::{ServerId, ServiceId};
use slb_proto::{code, Applied, ErrorBody};

fn err(code: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message)
}

impl From<&slb_config::Service> for ServiceRt {
    fn from(s: &slb_config::Service) -> Self {
        ServiceRt {
            name: s.name.clone(),
            key: ServiceKey::new(s.protocol.into(), s.vip, s.port),
            plain_clients: s.client_mode == ClientMode::Plain,
            refuse_rst: s.refuse == Refuse::Rst,
            syn_proxy: s.syn_proxy,
        }
    }
}

/// Applies `new` in place of the running configuration, or refuses it
/// whole (nothing changed). Existing sessions keep their servers and
/// labels.
pub fn apply<F: Frame>(sched: &mut Scheduler<F>, new: Config) -> Result<Applied, ErrorBody> {
    let old = sched.config.clone();
    let d = old.diff(&new);
    if d.needs_restart() {
        let what: Vec<String> = d.not_live.iter().map(|n| n.to_string()).collect();
        return Err(err(
            code::RESTART_REQUIRED,
            format!("{}; nothing changed", what.join("; ")),
        ));
    }
    // Services that must go (removed, or recreated because their identity
    // or algorithm changed) must have no sessions.
    let recreate: Vec<String> = d
        .services_changed
        .iter()
        .filter(|sd| {
            sd.changes
                .iter()
                .any(|c| c.is_identity() || matches!(c, ServiceChange::Algorithm { .. }))
        })
        .map(|sd| sd.name.clone())
        .collect();
    let going: Vec<&String> = d.services_removed.iter().chain(&recreate).collect();
    for name in &going {
        let sid = service(sched, name)?;
        let n = sched.core.service(sid).map(|s| s.sessions()).unwrap_or(0);
        if n > 0 {
            return Err(err(
                code::SERVICE_BUSY,
                format!(
                    "service {name} has {n} live session(s): drain its servers (slbctl servers drain) \
                     and change or remove it once they have ended; nothing changed"
                ),
            ));
        }
    }
    let coming: Vec<&slb_config::Service> = new
        .services
        .iter()
        .filter(|s| d.services_added.contains(&s.name) || recreate.contains(&s.name))
        .collect();
    // A new (protocol, VIP, port) must not clash with a service that stays.
    for s in &coming {
        if let Some(other) = sched.core.find_service(s.protocol.into(), s.vip, s.port) {
            let other_name = sched
                .services
                .get(&other)
                .map(|r| r.name.clone())
                .unwrap_or_default();
            if !going.contains(&&other_name) {
                return Err(err(
                    code::ALREADY_EXISTS,
                    format!(
                        "service {}: {}:{} is service {other_name}'s; nothing changed",
                        s.name, s.vip, s.port
                    ),
                ));
            }
        }
    }
    // Past this point every step is expected to succeed.
    for name in &going {
        let sid = service(sched, name)?;
        sched
            .core
            .remove_service(sid)
            .map_err(|e| err(code::SERVICE_BUSY, e.to_string()))?;
        sched.remove_service(sid);
    }
    for s in &coming {
        add_service(sched, s)?;
    }
    for sd in d
        .services_changed
        .iter()
        .filter(|sd| !recreate.contains(&sd.name))
    {
        let sid = service(sched, &sd.name)?;
        let (Some(os), Some(ns)) = (old.service(&sd.name), new.service(&sd.name)) else {
            return Err(err(code::INTERNAL, "service vanished"));
        };
        for c in &sd.changes {
            match c {
                ServiceChange::MaxSessions { new, .. } => {
                    if let Some(s) = sched.core.service_mut(sid) {
                        s.set_max_sessions(*new);
                    }
                }
                ServiceChange::RateLimit {
                    new: (rate, burst), ..
                } => {
                    if let Some(s) = sched.core.service_mut(sid) {
                        s.set_rate_limit(slb_config::convert::rate_limit(*rate, *burst));
                    }
                }
                ServiceChange::Allow { .. } | ServiceChange::Deny { .. } => {
                    // New sessions only: admission checks the lists.
                    if let Some(s) = sched.core.service_mut(sid) {
                        s.set_access(ns.into());
                    }
                }
                ServiceChange::ClientMode { .. } | ServiceChange::Refuse { .. } => {
                    if let Some(rt) = sched.services.get_mut(&sid) {
                        *rt = ServiceRt::from(ns);
                    }
                }
                ServiceChange::Pools { .. } => {
                    // Each pool's picker; every server to its pool (by
                    // index, which a reordering moves). Sessions stay.
                    set_pools(sched, sid, ns);
                }
                ServiceChange::Rules { .. } | ServiceChange::FirstData { .. } => {
                    // New sessions only; the hit counters of rules that
                    // keep their name carry over.
                }
                ServiceChange::SynProxy { .. } => {
                    // New SYNs only. Turned off, a handshake whose cookie
                    // SYN-ACK is on its way back (a round trip's worth)
                    // ends with its ACK dropped as `no_session`; sessions
                    // already bound keep their splice.
                    let rt = ServiceRt::from(ns);
                    sched.worker_op(WorkerOp::ServiceAdd(rt.key, rt.advertise()));
                    sched.services.insert(sid, rt);
                }
                // Health settings are picked up by `sync_health` below;
                // identity and algorithm changes recreated the service.
                _ => {}
            }
        }
        for name in &sd.servers_removed {
            if let Some(v) = os.server(name) {
                remove_server(sched, sid, v.address);
            }
        }
        for vd in &sd.servers_changed {
            let (Some(ov), Some(nv)) = (os.server(&vd.name), ns.server(&vd.name)) else {
                continue;
            };
            if vd
                .changes
                .iter()
                .any(|c| matches!(c, ServerChange::Address { .. }))
            {
                remove_server(sched, sid, ov.address);
                add_server(sched, sid, ns, nv)?;
                continue;
            }
            let Some(id) = sched.server_id(sid, ov.address) else {
                continue;
            };
            let Some(s) = sched.core.service_mut(sid) else {
                continue;
            };
            for c in &vd.changes {
                match c {
                    ServerChange::Weight { new, .. } => {
                        let _ = s.pool_mut().set_weight(id, u32::from(*new));
                    }
                    ServerChange::MaxSessions { new, .. } => {
                        let _ = s.pool_mut().set_max_sessions(id, *new);
                    }
                    ServerChange::Pool { .. } => {
                        let _ = s.pool_mut().set_group(id, ns.server_pool_index(nv));
                    }
                    // Operator state: combined with health by
                    // `sync_health` below.
                    ServerChange::State { .. } | ServerChange::Address { .. } => {}
                }
            }
        }
        for name in &sd.servers_added {
            if let Some(v) = ns.server(name) {
                add_server(sched, sid, ns, v)?;
            }
        }
        // Rules name pools by index: rebuilt after any change of either.
        let old_rt = sched.l7.remove(&sid);
        if let Some(rt) = L7Rt::new(ns, old_rt.as_ref().map(|rt| (os, rt))) {
            sched.l7.insert(sid, rt);
        }
    }
    if d.icmp_changed {
        // Every lcore takes the new settings with full buckets.
        sched.worker_op(crate::channels::WorkerOp::Icmp(new.icmp));
    }
    if d.timeouts_changed {
        // New and waiting sessions alike: a waiting session's deadline is
        // its last timer restart plus the new timeout of its state.
        sched.core.set_timeouts((&new.timeouts).into());
    }
    if d.neighbours_changed {
        for (i, n) in new.neighbours.iter().enumerate() {
            if !sched.static_neighbour(n.address, n.mac) {
                return Err(err(
                    code::INTERNAL,
                    format!(
                        "neighbours[{i}].address: {} is on no port's subnet, or no next-hop slot is left",
                        n.address
                    ),
                ));
            }
        }
    }
    let summary = if d.is_empty() {
        "no change".to_string()
    } else {
        d.to_string()
    };
    if !d.is_empty() {
        tracing::info!(changes = %summary.replace('\n', "; "), "configuration applied");
    }
    sched.config = new;
    // Operator states, health settings, new and removed servers.
    sched.sync_health();
    Ok(Applied {
        changed: !d.is_empty(),
        changes: summary.lines().map(str::to_string).collect(),
    })
}

fn service<F: Frame>(sched: &Scheduler<F>, name: &str) -> Result<ServiceId, ErrorBody> {
    sched
        .service_id(name)
        .ok_or_else(|| err(code::UNKNOWN_SERVICE, format!("no service {name}")))
}

/// Adds a configured service: core service, servers, the workers' match.
fn add_service<F: Frame>(
    sched: &mut Scheduler<F>,
    s: &slb_config::Service,
) -> Result<ServiceId, ErrorBody> {
    let id = sched
        .core
        .add_service(s.into())
        .map_err(|e| err(code::INVALID_ARGUMENT, format!("service {}: {e}", s.name)))?;
    if let Some(svc) = sched.core.service_mut(id) {
        svc.set_access(s.into());
    }
    set_pools(sched, id, s);
    for v in &s.servers {
        add_server(sched, id, s, v)?;
    }
    if let Some(rt) = L7Rt::new(s, None) {
        sched.l7.insert(id, rt);
    }
    sched.add_service(id, ServiceRt::from(s));
    Ok(id)
}

/// The service's pools in the core: one picker each (`pools[k]` is pool
/// `k + 1`, 0 the default), and every server in its pool.
fn set_pools<F: Frame>(sched: &mut Scheduler<F>, sid: ServiceId, s: &slb_config::Service) {
    let algorithms: Vec<slb_core::Algorithm> = s.pools.iter().map(|p| p.algorithm.into()).collect();
    let groups: Vec<(std::net::IpAddr, u16)> = s
        .servers
        .iter()
        .map(|v| (v.address, s.server_pool_index(v)))
        .collect();
    let ids: Vec<(ServerId, u16)> = groups
        .iter()
        .filter_map(|&(addr, g)| Some((sched.server_id(sid, addr)?, g)))
        .collect();
    if let Some(svc) = sched.core.service_mut(sid) {
        svc.set_pools(&algorithms);
        for (id, g) in ids {
            if svc.pool().get(id).is_some_and(|v| v.group() != g) {
                let _ = svc.pool_mut().set_group(id, g);
            }
        }
    }
}

/// Adds a server of `s` to service `sid`, in its pool, and starts
/// resolving its MAC. Its operator state is set with its health by
/// `sync_health`.
fn add_server<F: Frame>(
    sched: &mut Scheduler<F>,
    sid: ServiceId,
    s: &slb_config::Service,
    v: &slb_config::Server,
) -> Result<ServerId, ErrorBody> {
    let svc = sched
        .core
        .service_mut(sid)
        .ok_or_else(|| err(code::INTERNAL, "service vanished"))?;
    let id = svc
        .pool_mut()
        .add_in(v.into(), s.server_pool_index(v))
        .map_err(|e| err(code::INVALID_ARGUMENT, format!("server {}: {e}", v.name)))?;
    if !sched.watch_neighbour(v.address) {
        return Err(err(
            code::INTERNAL,
            format!(
                "server {}: {} is on no port's subnet, or no next-hop slot is left",
                v.name, v.address
            ),
        ));
    }
    Ok(id)
}

/// Removes the server at `addr` from service `sid`: it takes no new
/// sessions and leaves once its sessions have ended.
fn remove_server<F: Frame>(sched: &mut Scheduler<F>, sid: ServiceId, addr: std::net::IpAddr) {
    if let Some(id) = sched.server_id(sid, addr) {
        if let Some(s) = sched.core.service_mut(sid) {
            let _ = s.pool_mut().remove(id);
        }
    }
}
