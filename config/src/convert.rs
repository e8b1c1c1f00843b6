//! The one place where configuration types become session-core types.
//! slbd's start-up and every reload go through these (`appliance`'s
//! `control::apply`), so the two can never map a field differently.

use crate::model::{Algorithm, Config, Protocol, Server, ServerState, Service, Timeouts};
use std::net::IpAddr;
use std::time::Duration;

impl From<Protocol> for slb_core::Protocol {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => slb_core::Protocol::Tcp,
            Protocol::Udp => slb_core::Protocol::Udp,
        }
    }
}

impl From<Algorithm> for slb_core::Algorithm {
    fn from(a: Algorithm) -> Self {
        use slb_core::Algorithm as B;
        match a {
            Algorithm::RoundRobin => B::RoundRobin,
            Algorithm::WeightedRoundRobin => B::WeightedRoundRobin,
            Algorithm::LeastConnections => B::LeastConnections,
            Algorithm::WeightedLeastConnections => B::WeightedLeastConnections,
            Algorithm::LeastResponseTime => B::LeastResponseTime,
            Algorithm::SourceHash => B::SourceHash,
            Algorithm::Maglev => B::Maglev,
        }
    }
}

/// The operator's state alone; health may still take an `up` server
/// `Down` at run time.
impl From<ServerState> for slb_core::ServerState {
    fn from(s: ServerState) -> Self {
        match s {
            ServerState::Up => slb_core::ServerState::Up,
            ServerState::Drain => slb_core::ServerState::Draining,
            ServerState::Disabled => slb_core::ServerState::Disabled,
        }
    }
}

/// A service's new-session rate limit: `None` when `per_second` is 0 (no
/// limit); a burst of 0 means 1.
pub fn rate_limit(per_second: u32, burst: u32) -> Option<slb_core::RateLimit> {
    (per_second > 0).then(|| slb_core::RateLimit {
        per_second,
        burst: burst.max(1),
    })
}

impl From<&Service> for slb_core::ServiceConfig {
    fn from(s: &Service) -> Self {
        let mut c =
            slb_core::ServiceConfig::new(s.protocol.into(), s.vip, s.port, s.algorithm.into());
        c.max_sessions = s.max_sessions;
        c.rate_limit = rate_limit(s.new_sessions_per_s, s.burst);
        c
    }
}

impl From<&Server> for slb_core::ServerConfig {
    fn from(v: &Server) -> Self {
        let mut c = slb_core::ServerConfig::new(v.address);
        c.weight = u32::from(v.weight);
        c.max_sessions = v.max_sessions;
        c
    }
}

fn ns(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// A service's access lists as the session core checks them.
impl From<&Service> for slb_core::AccessLists {
    fn from(s: &Service) -> Self {
        let set = |l: &[crate::Prefix]| l.iter().map(|p| (p.network, p.len)).collect();
        slb_core::AccessLists {
            allow: set(&s.allow),
            deny: set(&s.deny),
        }
    }
}

/// The session core's timeouts, at start-up and on every reload
/// (`Core::set_timeouts`).
impl From<&Timeouts> for slb_core::Timeouts {
    fn from(t: &Timeouts) -> Self {
        slb_core::Timeouts {
            tcp_syn_sent_ns: ns(t.tcp_syn),
            tcp_established_ns: ns(t.tcp_established),
            tcp_closing_ns: ns(t.tcp_closing),
            tcp_linger_ns: ns(t.tcp_linger),
            udp_ns: ns(t.udp),
        }
    }
}

/// The configured label range split among the cluster's instances (one
/// slice, the whole range, without a `cluster` section).
impl From<&Config> for slb_core::LabelSlices {
    fn from(cfg: &Config) -> Self {
        let range = slb_core::LabelConfig {
            first: cfg.labels.first,
            last: cfg.labels.last,
            quarantine_ns: ns(cfg.labels.quarantine),
        };
        slb_core::LabelSlices::new(range, cfg.instances())
            .expect("validation checks that the label range holds a slice per instance")
    }
}

/// This instance's label slice with the configured quarantine: what its
/// label manager assigns from and its label tables are sized to.
pub fn own_labels(cfg: &Config) -> slb_core::LabelConfig {
    slb_core::LabelSlices::from(cfg)
        .slice(cfg.instance(), ns(cfg.labels.quarantine))
        .expect("validation checks that cluster.instance is below cluster.instances")
}

/// The client-side gateway of `cluster` for the family of `client`, if
/// one is configured.
pub fn client_gateway(cfg: &Config, client: IpAddr) -> Option<IpAddr> {
    let c = cfg.cluster.as_ref()?;
    match client {
        IpAddr::V4(_) => c.client_gateway_ipv4.map(IpAddr::V4),
        IpAddr::V6(_) => c.client_gateway_ipv6.map(IpAddr::V6),
    }
}

/// This instance's label slice (in the whole range, where other
/// instances' synced sessions hold labels), quarantine and timeouts for the
/// session core, with room reserved for one session per label pair of the slice
/// (the most there can be): the session slab and index never grow under
/// load, so admission never pauses to copy them (a slab of 524k sessions
/// is 64 MiB). The reservation is address space: its pages cost memory
/// only as sessions fill them.
impl From<&Config> for slb_core::CoreConfig {
    fn from(cfg: &Config) -> Self {
        let labels = own_labels(cfg);
        let space = slb_core::LabelConfig {
            first: cfg.labels.first,
            last: cfg.labels.last,
            quarantine_ns: labels.quarantine_ns,
        };
        slb_core::CoreConfig {
            labels,
            space: cfg.cluster.is_some().then_some(space),
            timeouts: (&cfg.timeouts).into(),
            // (A range with no pair is refused by the core itself.)
            session_capacity_hint: labels.pairs().unwrap_or(0) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn a_service_and_its_servers_convert_field_by_field() {
        let cfg = Config::from_json_str(include_str!("../examples/lab.json")).unwrap();
        let s = &cfg.services[0];
        let c = slb_core::ServiceConfig::from(s);
        assert_eq!(
            (c.vip, c.port, c.max_sessions),
            (s.vip, s.port, s.max_sessions)
        );
        assert_eq!(c.protocol, slb_core::Protocol::from(s.protocol));
        assert_eq!(c.algorithm, slb_core::Algorithm::from(s.algorithm));
        assert_eq!(
            c.rate_limit,
            super::rate_limit(s.new_sessions_per_s, s.burst)
        );
        let v = slb_core::ServerConfig::from(&s.servers[0]);
        assert_eq!(
            (v.addr, v.weight),
            (s.servers[0].address, u32::from(s.servers[0].weight))
        );
        let core = slb_core::CoreConfig::from(&cfg);
        assert_eq!(
            (core.labels.first, core.labels.last),
            (cfg.labels.first, cfg.labels.last)
        );
        assert_eq!(
            core.timeouts.tcp_linger_ns,
            cfg.timeouts.tcp_linger.as_nanos() as u64
        );
    }

    /// The session core's own default quarantine is the configuration's.
    #[test]
    fn the_default_labels_are_the_cores() {
        let cfg = Config::from_json_str(include_str!("../examples/minimal.json")).unwrap();
        assert!(cfg.cluster.is_none());
        assert_eq!(
            slb_core::CoreConfig::from(&cfg).labels,
            slb_core::LabelConfig::default()
        );
    }

    /// With a cluster the core gets this instance's slice; the slices of
    /// all instances tile the configured range.
    #[test]
    fn a_cluster_instance_gets_its_slice() {
        let mut doc: serde_json::Value =
            serde_json::from_str(include_str!("../examples/minimal.json")).unwrap();
        doc["labels"] = serde_json::json!({"first": 100, "last": 199});
        let mut last = 100;
        for k in 0..3u16 {
            doc["cluster"] = serde_json::json!({"instance": k, "instances": 3});
            let cfg = Config::from_json_str(&doc.to_string()).unwrap();
            let l = super::own_labels(&cfg);
            // 101/102 .. 197/198 are 49 pairs: 16 each, 1 left over.
            assert_eq!((l.first, l.last), (last + 1, last + 32), "instance {k}");
            assert_eq!(slb_core::CoreConfig::from(&cfg).labels, l);
            let s = slb_core::LabelSlices::from(&cfg);
            assert_eq!(s.owner_of(l.first), Some(k));
            assert_eq!(s.owner_of(l.last), Some(k));
            last = l.last;
        }
        assert_eq!(last, 196);
    }

    #[test]
    fn rate_limit_zero_is_none_and_burst_at_least_one() {
        assert_eq!(super::rate_limit(0, 5), None);
        assert_eq!(
            super::rate_limit(10, 0),
            Some(slb_core::RateLimit {
                per_second: 10,
                burst: 1
            })
        );
    }
}
