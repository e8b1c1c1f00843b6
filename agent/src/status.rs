//! `status`: counters and flows read from the pinned maps.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aya::maps::{HashMap, Map, MapData, PerCpuArray};
use serde::Serialize;

use crate::attach::{ifindex, pinned_config};
use crate::cluster_map::PinnedCluster;
use crate::error::AgentError;
use crate::neigh::format_mac;
use crate::netlink;
use crate::pins;
use crate::program::{
    splice_state_name, FlowKey, FlowValue, Role, COUNTERS, COUNTERS_MAP, FLOWS_MAP,
    NEXT_HOP_FALLBACK, NEXT_HOP_VALID, SPLICE_NONE,
};

#[derive(Debug, Serialize)]
pub struct Status {
    pub iface: String,
    pub role: Option<Role>,
    pub idle_timeout_secs: u64,
    /// tc filters under clsact ingress / egress (ours and anyone else's).
    pub ingress_filters: usize,
    pub egress_filters: usize,
    /// Entries in the flow map, and those not idle past the timeout.
    pub flows: usize,
    pub live_flows: usize,
    /// TSO on the interface now (`None`: cannot tell), and whether attach
    /// turned it off (detach turns it back on).
    pub tso: Option<bool>,
    pub tso_turned_off_by_attach: bool,
    /// Summed over CPUs, by name (`program::COUNTERS`).
    pub counters: BTreeMap<String, u64>,
    /// The cluster written by `slb-agent cluster`; None: no cluster (every
    /// frame follows the kernel's next hop).
    pub cluster: Option<Cluster>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_list: Option<Vec<Flow>>,
}

#[derive(Debug, Serialize)]
pub struct Cluster {
    pub instances: u32,
    pub first_c2s: u32,
    pub pairs_per_instance: u32,
    pub next_hops: Vec<ClusterNextHop>,
}

/// Where one instance's labels go.
#[derive(Debug, Serialize)]
pub struct ClusterNextHop {
    pub instance: u32,
    /// The instance's first C2S and last S2C label.
    pub first_label: u32,
    pub last_label: u32,
    /// "live": to the instance's own MAC; "fallback": the instance is dead,
    /// to the MAC of instance `via`; "kernel": no entry, the kernel's next hop.
    pub state: &'static str,
    pub mac: Option<String>,
    pub via: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct Flow {
    pub proto: &'static str,
    pub src: String,
    pub dst: String,
    pub label: u32,
    pub idle_ms: u64,
    /// Splice state: "none", "await_synack", "synack_seen", "active".
    pub splice: &'static str,
    /// ACTIVE: added to the server's seq and TSval (mod 2^32).
    pub delta: u32,
    pub tsoff: u32,
}

pub fn status(netns: Option<&str>, iface: &str, list_flows: bool) -> Result<Status, AgentError> {
    let ifidx = ifindex(iface)?;
    let dir = pins::pin_dir(netns, iface);
    if !pins::bpffs_mounted() || !dir.exists() {
        return Err(AgentError::iface(
            iface,
            "slb-agent is not attached".to_owned(),
        ));
    }
    let fail =
        |step: &str, e: &dyn std::fmt::Display| AgentError::iface(iface, format!("{step}: {e}"));
    let config = pinned_config(&dir).map_err(|e| fail("reading the pinned config map", &e))?;

    let data = MapData::from_pin(dir.join(COUNTERS_MAP))
        .map_err(|e| fail("opening the pinned counters map", &e))?;
    let counters_map: PerCpuArray<MapData, u64> = PerCpuArray::try_from(Map::PerCpuArray(data))
        .map_err(|e| fail("opening the pinned counters map", &e))?;
    let mut counters = BTreeMap::new();
    // An attachment from before the splice counters has 16 slots: the
    // counters it lacks are left out.
    let slots = counters_map.len() as usize;
    for (index, name) in COUNTERS.iter().enumerate().take(slots) {
        let per_cpu = counters_map
            .get(&(index as u32), 0)
            .map_err(|e| fail("reading counters", &e))?;
        counters.insert(name.to_string(), per_cpu.iter().sum());
    }

    let data = MapData::from_pin(dir.join(FLOWS_MAP))
        .map_err(|e| fail("opening the pinned flow map", &e))?;
    let flows_map: HashMap<MapData, FlowKey, FlowValue> = HashMap::try_from(Map::LruHashMap(data))
        .map_err(|e| fail("opening the pinned flow map", &e))?;
    let now = monotonic_ns();
    let (mut flows, mut live_flows) = (0, 0);
    let mut flow_list = list_flows.then(Vec::new);
    for entry in flows_map.iter() {
        // An entry evicted between two calls of the walk is just skipped.
        let Ok((key, value)) = entry else { continue };
        flows += 1;
        let idle_ns = now.saturating_sub(value.last_seen_ns);
        if config.idle_timeout_ns == 0 || idle_ns <= config.idle_timeout_ns {
            live_flows += 1;
        }
        if let Some(list) = flow_list.as_mut() {
            list.push(describe(&key, &value, idle_ns));
        }
    }

    // An attachment from before clusters has no cluster map: no cluster.
    let cluster = match PinnedCluster::open(&dir) {
        Ok(maps) => cluster_status(&maps).map_err(|e| fail("reading the cluster", &e))?,
        Err(_) => None,
    };

    let ingress_filters = netlink::count_filters(ifidx, netlink::CLSACT_INGRESS).unwrap_or(0);
    let egress_filters = netlink::count_filters(ifidx, netlink::CLSACT_EGRESS).unwrap_or(0);
    Ok(Status {
        iface: iface.to_owned(),
        role: Role::from_raw(config.role),
        idle_timeout_secs: config.idle_timeout_ns / 1_000_000_000,
        ingress_filters,
        egress_filters,
        flows,
        live_flows,
        tso: crate::ethtool::tso_enabled(iface).ok(),
        tso_turned_off_by_attach: config.flags & crate::program::FLAG_TSO_TURNED_OFF != 0,
        counters,
        cluster,
        flow_list,
    })
}

fn cluster_status(maps: &PinnedCluster) -> Result<Option<Cluster>, String> {
    let Some(params) = maps.params()? else {
        return Ok(None);
    };
    let next_hops = maps
        .next_hops(params.instances)?
        .iter()
        .zip(0..)
        .map(|(hop, k)| {
            let (first_label, last_label) = params.slice(k);
            let valid = hop.flags & NEXT_HOP_VALID != 0;
            let state = match (valid, hop.flags & NEXT_HOP_FALLBACK != 0) {
                (false, _) => "kernel",
                (true, false) => "live",
                (true, true) => "fallback",
            };
            ClusterNextHop {
                instance: k,
                first_label,
                last_label,
                state,
                mac: valid.then(|| format_mac(&hop.mac)),
                via: valid.then_some(u32::from(hop.via)),
            }
        })
        .collect();
    Ok(Some(Cluster {
        instances: params.instances,
        first_c2s: params.first_c2s,
        pairs_per_instance: params.pairs_per_instance,
        next_hops,
    }))
}

fn describe(key: &FlowKey, value: &FlowValue, idle_ns: u64) -> Flow {
    let addr = |a: &[u8; 16]| -> IpAddr {
        if key.family == 4 {
            Ipv4Addr::new(a[0], a[1], a[2], a[3]).into()
        } else {
            Ipv6Addr::from(*a).into()
        }
    };
    let sock = |a: &[u8; 16], p: [u8; 2]| match addr(a) {
        IpAddr::V4(ip) => format!("{ip}:{}", u16::from_be_bytes(p)),
        IpAddr::V6(ip) => format!("[{ip}]:{}", u16::from_be_bytes(p)),
    };
    Flow {
        proto: match key.proto {
            6 => "tcp",
            17 => "udp",
            _ => "?",
        },
        src: sock(&key.saddr, key.sport),
        dst: sock(&key.daddr, key.dport),
        label: value.label,
        idle_ms: idle_ns / 1_000_000,
        splice: splice_state_name(value.splice),
        delta: value.delta,
        tsoff: value.tsoff,
    }
}

/// CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns().
fn monotonic_ns() -> u64 {
    // SAFETY: clock_gettime writes only into ts.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: ts is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Status {
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// Human-readable form.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let role = self.role.map_or("unknown".to_owned(), |r| r.to_string());
        let idle = if self.idle_timeout_secs == 0 {
            "none".to_owned()
        } else {
            format!("{}s", self.idle_timeout_secs)
        };
        let _ = writeln!(
            out,
            "interface {}: role {role}, idle timeout {idle}",
            self.iface
        );
        let _ = writeln!(
            out,
            "tc filters: ingress {}, egress {}",
            self.ingress_filters, self.egress_filters
        );
        let _ = writeln!(
            out,
            "tso: {}{}",
            match self.tso {
                Some(true) => "on",
                Some(false) => "off",
                None => "unknown",
            },
            if self.tso_turned_off_by_attach {
                " (turned off by attach; detach turns it back on)"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "flows: {} ({} live)", self.flows, self.live_flows);
        for name in COUNTERS {
            let _ = writeln!(out, "  {name:<20} {}", self.counter(name));
        }
        match &self.cluster {
            None => {
                let _ = writeln!(out, "cluster: none (the kernel's next hop for every frame)");
            }
            Some(c) => {
                let _ = writeln!(
                    out,
                    "cluster: {} instances, {} label pairs each from label {}",
                    c.instances, c.pairs_per_instance, c.first_c2s
                );
                for h in &c.next_hops {
                    let labels = format!("{}-{}", h.first_label, h.last_label);
                    let whither = match (h.state, &h.mac, h.via) {
                        ("fallback", Some(mac), Some(via)) => {
                            format!("{mac} (dead: instance {via} stands in)")
                        }
                        (_, Some(mac), _) => mac.clone(),
                        _ => "the kernel's next hop".to_owned(),
                    };
                    let _ = writeln!(
                        out,
                        "  instance {:<2} labels {labels:<15} {:<8} {whither}",
                        h.instance, h.state
                    );
                }
            }
        }
        if let Some(list) = &self.flow_list {
            for f in list {
                let splice = if f.splice == splice_state_name(SPLICE_NONE) {
                    String::new()
                } else {
                    format!(" splice {} delta {} tsoff {}", f.splice, f.delta, f.tsoff)
                };
                let _ = writeln!(
                    out,
                    "  {} {} -> {} label {} idle {} ms{splice}",
                    f.proto, f.src, f.dst, f.label, f.idle_ms
                );
            }
        }
        out
    }
}
