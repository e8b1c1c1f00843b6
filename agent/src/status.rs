//! `status`: counters and flows read from the pinned maps.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aya::maps::{HashMap, Map, MapData, PerCpuArray};
use serde::Serialize;

use crate::attach::{ifindex, pinned_config};
use crate::error::AgentError;
use crate::netlink;
use crate::pins;
use crate::program::{FlowKey, FlowValue, Role, COUNTERS, COUNTERS_MAP, FLOWS_MAP};

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_list: Option<Vec<Flow>>,
}

#[derive(Debug, Serialize)]
pub struct Flow {
    pub proto: &'static str,
    pub src: String,
    pub dst: String,
    pub label: u32,
    pub idle_ms: u64,
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
    for (index, name) in COUNTERS.iter().enumerate() {
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
        flow_list,
    })
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
            let _ = writeln!(out, "  {name:<18} {}", self.counter(name));
        }
        if let Some(list) = &self.flow_list {
            for f in list {
                let _ = writeln!(
                    out,
                    "  {} {} -> {} label {} idle {} ms",
                    f.proto, f.src, f.dst, f.label, f.idle_ms
                );
            }
        }
        out
    }
}
