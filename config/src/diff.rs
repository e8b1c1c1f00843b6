//! What changed between the running configuration and a new one, for
//! reload: services and servers are matched by name; ports, the label range,
//! the control sockets and the cluster cannot change while slbd runs.

use std::fmt;
use std::net::IpAddr;

use crate::l7::{FirstData, DEFAULT_POOL};
use crate::model::{
    Algorithm, ClientMode, Config, Health, Pool, Protocol, Refuse, Server, ServerState, Service,
    SynProxy, TcpSignatures,
};

/// A part of the configuration that a running slbd cannot change: a
/// reload that touches one needs a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotLive {
    /// `ports` (devices, roles, addresses, MTUs, order).
    Ports,
    /// `labels` (the range; the label tables are sized and split at start).
    Labels,
    /// `control` (the control socket and the metrics listener are bound
    /// at start).
    Control,
    /// `cluster` (the instance's label slice sizes the label tables and
    /// the session core at start; peers and gateways go with it: see
    /// `docs/config-reference.md`).
    Cluster,
}

impl fmt::Display for NotLive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotLive::Ports => "ports changed: needs a restart",
            NotLive::Labels => "labels changed: needs a restart",
            NotLive::Control => "control changed: needs a restart",
            NotLive::Cluster => "cluster changed: needs a restart",
        })
    }
}

/// The difference between two configurations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// What changed that cannot change live (empty: the reload can apply).
    pub not_live: Vec<NotLive>,
    /// `timeouts` changed (applied live to new and waiting sessions: see
    /// `slb_core::Core::set_timeouts`).
    pub timeouts_changed: bool,
    /// `neighbours` changed.
    pub neighbours_changed: bool,
    /// `icmp` changed (applied live: every lcore takes the new rates).
    pub icmp_changed: bool,
    /// Names of new services, in the new file's order.
    pub services_added: Vec<String>,
    /// Names of services gone, in the old file's order.
    pub services_removed: Vec<String>,
    /// Services in both, with differences, in the new file's order.
    pub services_changed: Vec<ServiceDiff>,
}

impl ConfigDiff {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == ConfigDiff::default()
    }

    /// Whether applying the new configuration needs a restart.
    pub fn needs_restart(&self) -> bool {
        !self.not_live.is_empty()
    }
}

/// Differences within one service (matched by name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDiff {
    pub name: String,
    /// Changes of the service's own fields.
    pub changes: Vec<ServiceChange>,
    pub servers_added: Vec<String>,
    pub servers_removed: Vec<String>,
    pub servers_changed: Vec<ServerDiff>,
}

/// A changed field of a service, old and new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceChange {
    Vip {
        old: IpAddr,
        new: IpAddr,
    },
    Port {
        old: u16,
        new: u16,
    },
    Protocol {
        old: Protocol,
        new: Protocol,
    },
    ClientMode {
        old: ClientMode,
        new: ClientMode,
    },
    Algorithm {
        old: Algorithm,
        new: Algorithm,
    },
    MaxSessions {
        old: u32,
        new: u32,
    },
    /// `new_sessions_per_s` and/or `burst`: (rate, burst).
    RateLimit {
        old: (u32, u32),
        new: (u32, u32),
    },
    Refuse {
        old: Refuse,
        new: Refuse,
    },
    SynProxy {
        old: Option<SynProxy>,
        new: Option<SynProxy>,
    },
    TcpSignatures {
        old: Option<TcpSignatures>,
        new: Option<TcpSignatures>,
    },
    /// The allow list (old and new number of prefixes).
    Allow {
        old: usize,
        new: usize,
    },
    /// The deny list (old and new number of prefixes).
    Deny {
        old: usize,
        new: usize,
    },
    /// Boxed: a health check holds its payloads and names.
    Health {
        old: Box<Health>,
        new: Box<Health>,
    },
    /// `pools` (names, algorithms, health checks): applied live, the
    /// servers keep their sessions.
    Pools {
        old: Vec<Pool>,
        new: Vec<Pool>,
    },
    /// `rules` (old and new number of rules): new sessions only.
    Rules {
        old: usize,
        new: usize,
    },
    /// `first_data`: new sessions only.
    FirstData {
        old: FirstData,
        new: FirstData,
    },
}

impl ServiceChange {
    /// Changes the service's identity (VIP, port, protocol): its sessions
    /// cannot carry over; the control plane may treat it as remove + add.
    pub fn is_identity(&self) -> bool {
        matches!(
            self,
            ServiceChange::Vip { .. } | ServiceChange::Port { .. } | ServiceChange::Protocol { .. }
        )
    }
}

/// Differences of one server (matched by name within its service).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerDiff {
    pub name: String,
    pub changes: Vec<ServerChange>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerChange {
    Address {
        old: IpAddr,
        new: IpAddr,
    },
    Weight {
        old: u16,
        new: u16,
    },
    MaxSessions {
        old: u32,
        new: u32,
    },
    State {
        old: ServerState,
        new: ServerState,
    },
    /// The pool it belongs to (`None`: the default pool).
    Pool {
        old: Option<String>,
        new: Option<String>,
    },
}

/// What changed from `old` to `new`.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut d = ConfigDiff::default();
    if old.ports != new.ports {
        d.not_live.push(NotLive::Ports);
    }
    if old.labels != new.labels {
        d.not_live.push(NotLive::Labels);
    }
    if old.control != new.control {
        d.not_live.push(NotLive::Control);
    }
    if old.cluster != new.cluster {
        d.not_live.push(NotLive::Cluster);
    }
    d.timeouts_changed = old.timeouts != new.timeouts;
    d.neighbours_changed = old.neighbours != new.neighbours;
    d.icmp_changed = old.icmp != new.icmp;
    for n in &new.services {
        match old.service(&n.name) {
            None => d.services_added.push(n.name.clone()),
            Some(o) => {
                if let Some(sd) = service_diff(o, n) {
                    d.services_changed.push(sd);
                }
            }
        }
    }
    d.services_removed = old
        .services
        .iter()
        .filter(|o| new.service(&o.name).is_none())
        .map(|o| o.name.clone())
        .collect();
    d
}

fn service_diff(o: &Service, n: &Service) -> Option<ServiceDiff> {
    let mut changes = Vec::new();
    macro_rules! field {
        ($field:ident, $variant:ident) => {
            if o.$field != n.$field {
                changes.push(ServiceChange::$variant {
                    old: o.$field,
                    new: n.$field,
                });
            }
        };
    }
    field!(vip, Vip);
    field!(port, Port);
    field!(protocol, Protocol);
    field!(client_mode, ClientMode);
    field!(algorithm, Algorithm);
    field!(max_sessions, MaxSessions);
    if (o.new_sessions_per_s, o.burst) != (n.new_sessions_per_s, n.burst) {
        changes.push(ServiceChange::RateLimit {
            old: (o.new_sessions_per_s, o.burst),
            new: (n.new_sessions_per_s, n.burst),
        });
    }
    field!(refuse, Refuse);
    field!(syn_proxy, SynProxy);
    field!(tcp_signatures, TcpSignatures);
    if o.allow != n.allow {
        changes.push(ServiceChange::Allow {
            old: o.allow.len(),
            new: n.allow.len(),
        });
    }
    if o.deny != n.deny {
        changes.push(ServiceChange::Deny {
            old: o.deny.len(),
            new: n.deny.len(),
        });
    }
    if o.health != n.health {
        changes.push(ServiceChange::Health {
            old: Box::new(o.health.clone()),
            new: Box::new(n.health.clone()),
        });
    }
    if o.pools != n.pools {
        changes.push(ServiceChange::Pools {
            old: o.pools.clone(),
            new: n.pools.clone(),
        });
    }
    if o.rules != n.rules {
        changes.push(ServiceChange::Rules {
            old: o.rules.len(),
            new: n.rules.len(),
        });
    }
    field!(first_data, FirstData);
    let mut servers_added = Vec::new();
    let mut servers_changed = Vec::new();
    for ns in &n.servers {
        match o.server(&ns.name) {
            None => servers_added.push(ns.name.clone()),
            Some(os) => {
                let changes = server_changes(os, ns);
                if !changes.is_empty() {
                    servers_changed.push(ServerDiff {
                        name: ns.name.clone(),
                        changes,
                    });
                }
            }
        }
    }
    let servers_removed: Vec<String> = o
        .servers
        .iter()
        .filter(|os| n.server(&os.name).is_none())
        .map(|os| os.name.clone())
        .collect();
    if changes.is_empty()
        && servers_added.is_empty()
        && servers_removed.is_empty()
        && servers_changed.is_empty()
    {
        return None;
    }
    Some(ServiceDiff {
        name: n.name.clone(),
        changes,
        servers_added,
        servers_removed,
        servers_changed,
    })
}

fn server_changes(o: &Server, n: &Server) -> Vec<ServerChange> {
    let mut changes = Vec::new();
    if o.address != n.address {
        changes.push(ServerChange::Address {
            old: o.address,
            new: n.address,
        });
    }
    if o.weight != n.weight {
        changes.push(ServerChange::Weight {
            old: o.weight,
            new: n.weight,
        });
    }
    if o.max_sessions != n.max_sessions {
        changes.push(ServerChange::MaxSessions {
            old: o.max_sessions,
            new: n.max_sessions,
        });
    }
    if o.state != n.state {
        changes.push(ServerChange::State {
            old: o.state,
            new: n.state,
        });
    }
    if o.pool != n.pool {
        changes.push(ServerChange::Pool {
            old: o.pool.clone(),
            new: n.pool.clone(),
        });
    }
    changes
}

impl fmt::Display for ServiceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceChange::Vip { old, new } => write!(f, "vip {old} -> {new}"),
            ServiceChange::Port { old, new } => write!(f, "port {old} -> {new}"),
            ServiceChange::Protocol { old, new } => {
                write!(f, "protocol {} -> {}", old.as_str(), new.as_str())
            }
            ServiceChange::ClientMode { old, new } => write!(f, "client_mode {old:?} -> {new:?}"),
            ServiceChange::Algorithm { old, new } => write!(f, "algorithm {old:?} -> {new:?}"),
            ServiceChange::MaxSessions { old, new } => write!(f, "max_sessions {old} -> {new}"),
            ServiceChange::RateLimit { old, new } => write!(
                f,
                "new_sessions_per_s/burst {}/{} -> {}/{}",
                old.0, old.1, new.0, new.1
            ),
            ServiceChange::Refuse { old, new } => write!(f, "refuse {old:?} -> {new:?}"),
            ServiceChange::SynProxy { old, new } => {
                let show = |s: &Option<SynProxy>| match s {
                    None => "off".to_string(),
                    Some(s) => format!("on (mss {}, window_scale {})", s.mss, s.window_scale),
                };
                write!(f, "syn_proxy {} -> {}", show(old), show(new))
            }
            ServiceChange::TcpSignatures { old, new } => {
                let show = |s: &Option<TcpSignatures>| s.map_or("none", |s| s.as_str());
                write!(f, "tcp_signatures {} -> {}", show(old), show(new))
            }
            ServiceChange::Allow { old, new } => {
                write!(f, "allow changed ({old} -> {new} prefixes)")
            }
            ServiceChange::Deny { old, new } => write!(f, "deny changed ({old} -> {new} prefixes)"),
            ServiceChange::Health { .. } => write!(f, "health changed"),
            ServiceChange::Pools { old, new } => {
                let names = |p: &[Pool]| {
                    let v: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
                    if v.is_empty() {
                        "none".to_string()
                    } else {
                        v.join(",")
                    }
                };
                write!(f, "pools changed ({} -> {})", names(old), names(new))
            }
            ServiceChange::Rules { old, new } => {
                write!(f, "rules changed ({old} -> {new} rules)")
            }
            ServiceChange::FirstData { old, new } => write!(
                f,
                "first_data {}ms/{}/{}B/{} -> {}ms/{}/{}B/{}",
                old.wait.as_millis(),
                old.segments,
                old.bytes,
                old.malformed.as_str(),
                new.wait.as_millis(),
                new.segments,
                new.bytes,
                new.malformed.as_str()
            ),
        }
    }
}

impl fmt::Display for ServerChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerChange::Address { old, new } => write!(f, "address {old} -> {new}"),
            ServerChange::Weight { old, new } => write!(f, "weight {old} -> {new}"),
            ServerChange::MaxSessions { old, new } => write!(f, "max_sessions {old} -> {new}"),
            ServerChange::State { old, new } => write!(f, "state {old:?} -> {new:?}"),
            ServerChange::Pool { old, new } => {
                let show = |p: &Option<String>| p.clone().unwrap_or_else(|| DEFAULT_POOL.into());
                write!(f, "pool {} -> {}", show(old), show(new))
            }
        }
    }
}

/// One change per line, like `service web: server s1: weight 3 -> 5`.
impl fmt::Display for ConfigDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<String> = Vec::new();
        lines.extend(self.not_live.iter().map(|n| n.to_string()));
        if self.timeouts_changed {
            lines.push("timeouts changed".into());
        }
        if self.neighbours_changed {
            lines.push("neighbours changed".into());
        }
        if self.icmp_changed {
            lines.push("icmp changed".into());
        }
        lines.extend(
            self.services_added
                .iter()
                .map(|s| format!("service {s}: added")),
        );
        lines.extend(
            self.services_removed
                .iter()
                .map(|s| format!("service {s}: removed")),
        );
        for s in &self.services_changed {
            let n = &s.name;
            lines.extend(s.changes.iter().map(|c| format!("service {n}: {c}")));
            lines.extend(
                s.servers_added
                    .iter()
                    .map(|v| format!("service {n}: server {v}: added")),
            );
            lines.extend(
                s.servers_removed
                    .iter()
                    .map(|v| format!("service {n}: server {v}: removed")),
            );
            for v in &s.servers_changed {
                lines.extend(
                    v.changes
                        .iter()
                        .map(|c| format!("service {n}: server {}: {c}", v.name)),
                );
            }
        }
        write!(f, "{}", lines.join("\n"))
    }
}
