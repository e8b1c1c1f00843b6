//! `services`: VIPs and their limits, each service's health check and
//! servers.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use super::checker::Checker;
use crate::document::{ServerDoc, ServiceDoc, SynProxyDoc};
use crate::model::{
    Algorithm, ClientMode, Port, Protocol, Refuse, Server, ServerState, Service, SynProxy,
};

const MAX_SERVICES: usize = 256;
const MAX_SERVERS: usize = 1024;

pub(super) fn services(c: &mut Checker, docs: &[ServiceDoc], ports: &[Port]) -> Vec<Service> {
    if docs.len() > MAX_SERVICES {
        c.err(
            "services",
            format!(
                "must hold at most {MAX_SERVICES} services (got {})",
                docs.len()
            ),
        );
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut keys: HashMap<(IpAddr, u16, Protocol), usize> = HashMap::new();
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let p = format!("services[{i}]");
        c.name(format_args!("{p}.name"), &d.name);
        if let Some(first) = names.insert(&d.name, i) {
            c.err(
                format_args!("{p}.name"),
                format!(
                    "duplicate service name {:?} (also services[{first}])",
                    d.name
                ),
            );
        }
        let vip = c.ip(format_args!("{p}.vip"), &d.vip).and_then(|vip| {
            if !c.host_address(format_args!("{p}.vip"), vip) {
                return None;
            }
            if let Some(port) = ports.iter().find(|port| port.is_own_address(vip)) {
                c.err(format_args!("{p}.vip"), format!("{vip} is the address of port {:?}", port.name));
                return None;
            }
            if let Some(port) = ports.iter().find(|port| port.contains(vip)) {
                c.err(
                    format_args!("{p}.vip"),
                    format!(
                        "{vip} is inside the subnet of port {:?}: a VIP must be off-link (the servers own it)",
                        port.name
                    ),
                );
                return None;
            }
            Some(vip)
        });
        let port = c
            .range(format_args!("{p}.port"), d.port, 1, 65535)
            .map(|v| v as u16);
        if let (Some(vip), Some(port)) = (vip, port) {
            if let Some(first) = keys.insert((vip, port, d.protocol), i) {
                c.err(
                    &p,
                    format!(
                        "same vip, port and protocol ({vip} {port} {}) as services[{first}]",
                        d.protocol.as_str()
                    ),
                );
            }
        }
        let max_sessions = c.field(
            format_args!("{p}.max_sessions"),
            d.max_sessions,
            0,
            0,
            u32::MAX.into(),
        ) as u32;
        let rate = c.field(
            format_args!("{p}.new_sessions_per_s"),
            d.new_sessions_per_s,
            0,
            0,
            u32::MAX.into(),
        ) as u32;
        let mut burst = c.field(format_args!("{p}.burst"), d.burst, 0, 0, u32::MAX.into()) as u32;
        if rate == 0 && burst != 0 {
            c.err(
                format_args!("{p}.burst"),
                format!("has no effect without new_sessions_per_s (got {burst})"),
            );
        }
        if burst == 0 {
            burst = rate;
        }
        let refuse = match (d.protocol, d.refuse) {
            (Protocol::Udp, Some(Refuse::Rst)) => {
                c.err(
                    format_args!("{p}.refuse"),
                    "UDP services can only drop (rst is a TCP reset)",
                );
                Refuse::Drop
            }
            (_, Some(r)) => r,
            (Protocol::Tcp, None) => Refuse::Rst,
            (Protocol::Udp, None) => Refuse::Drop,
        };
        let allow = super::access::prefixes(c, format_args!("{p}.allow"), &d.allow);
        let deny = super::access::prefixes(c, format_args!("{p}.deny"), &d.deny);
        let health =
            super::health::health(c, &p, d.health.as_ref(), d.protocol, port.unwrap_or(1), vip);
        let servers = servers(c, &p, &d.servers, vip, ports);
        let syn_proxy = syn_proxy(c, &p, d, vip.is_some_and(|v| v.is_ipv6()));
        let algorithm = d.algorithm.unwrap_or(Algorithm::WeightedRoundRobin);
        let pools = super::l7::pools(c, &p, d, algorithm, port.unwrap_or(1), vip);
        let rules = super::l7::rules(c, &p, d, syn_proxy.is_some());
        let first_data = super::l7::first_data(c, &p, d);
        out.push(Service {
            name: d.name.clone(),
            vip: vip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port: port.unwrap_or(1),
            protocol: d.protocol,
            client_mode: d.client_mode.unwrap_or(ClientMode::Plain),
            algorithm,
            max_sessions,
            new_sessions_per_s: rate,
            burst,
            refuse,
            allow,
            deny,
            health,
            syn_proxy,
            tcp_signatures: d.tcp_signatures,
            servers,
            pools,
            rules,
            first_data,
        });
    }
    out
}

/// `syn_proxy`: TCP only, never with signed segments (a TCP-MD5 or TCP-AO
/// signature covers the sequence numbers the agents splice).
fn syn_proxy(c: &mut Checker, p: &str, d: &ServiceDoc, v6: bool) -> Option<SynProxy> {
    let mut sp = SynProxy::defaults(v6);
    match d.syn_proxy? {
        SynProxyDoc::On(false) => return None,
        SynProxyDoc::On(true) => {}
        SynProxyDoc::Advertise(a) => {
            sp.mss = c.field(
                format_args!("{p}.syn_proxy.mss"),
                a.mss,
                sp.mss.into(),
                536,
                9000,
            ) as u16;
            sp.window_scale = c.field(
                format_args!("{p}.syn_proxy.window_scale"),
                a.window_scale,
                sp.window_scale.into(),
                0,
                14,
            ) as u8;
        }
    }
    if d.protocol != Protocol::Tcp {
        c.err(
            format_args!("{p}.syn_proxy"),
            "is for TCP services only (SYN cookies answer TCP SYNs)",
        );
        return None;
    }
    if let Some(sig) = d.tcp_signatures {
        c.err(
            format_args!("{p}.syn_proxy"),
            format!(
                "cannot be used with tcp_signatures {:?}: a TCP-{} signature covers the \
                 sequence numbers the agents would splice",
                sig.as_str(),
                sig.as_str().to_uppercase()
            ),
        );
        return None;
    }
    Some(sp)
}

fn servers(
    c: &mut Checker,
    service: &str,
    docs: &[ServerDoc],
    vip: Option<IpAddr>,
    ports: &[Port],
) -> Vec<Server> {
    let p = format!("{service}.servers");
    if !(1..=MAX_SERVERS).contains(&docs.len()) {
        c.err(
            &p,
            format!(
                "must hold between 1 and {MAX_SERVERS} servers (got {})",
                docs.len()
            ),
        );
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut addresses: HashSet<IpAddr> = HashSet::new();
    let mut out = Vec::with_capacity(docs.len());
    for (j, d) in docs.iter().enumerate() {
        let p = format!("{p}[{j}]");
        c.name(format_args!("{p}.name"), &d.name);
        if let Some(first) = names.insert(&d.name, j) {
            c.err(
                format_args!("{p}.name"),
                format!("duplicate server name {:?} (also servers[{first}])", d.name),
            );
        }
        let address = c.ip(format_args!("{p}.address"), &d.address).and_then(|a| {
            let path = format!("{p}.address");
            if !c.host_address(&path, a) {
                return None;
            }
            if let Some(vip) = vip {
                if vip.is_ipv4() != a.is_ipv4() {
                    let (fa, fv) = if a.is_ipv4() { ("IPv4", "IPv6") } else { ("IPv6", "IPv4") };
                    c.err(&path, format!("{a} is {fa} but the VIP is {fv}: servers must be of the VIP's family"));
                    return None;
                }
            }
            if let Some(port) = ports.iter().find(|port| port.is_own_address(a)) {
                c.err(&path, format!("{a} is the address of port {:?}", port.name));
                return None;
            }
            match ports.iter().find(|port| port.contains(a)) {
                None => {
                    c.err(
                        &path,
                        format!("{a} is not inside the subnet of any port with the server role (servers are reached on-link)"),
                    );
                    return None;
                }
                Some(port) if !port.role.faces_servers() => {
                    c.err(
                        &path,
                        format!("{a} is on port {:?}, which has role client: servers must be on a port with the server role", port.name),
                    );
                    return None;
                }
                Some(port) => {
                    if let (IpAddr::V4(a4), Some(cidr)) = (a, port.ipv4) {
                        if cidr.prefix_len <= 30 && (a4 == cidr.network() || a4 == cidr.broadcast()) {
                            c.err(&path, format!("{a} is the network or broadcast address of port {:?}", port.name));
                            return None;
                        }
                    }
                }
            }
            if !addresses.insert(a) {
                c.err(&path, format!("duplicate server address {a} in this service"));
                return None;
            }
            Some(a)
        });
        let weight = c.field(format_args!("{p}.weight"), d.weight, 1, 1, 65535) as u16;
        let max_sessions = c.field(
            format_args!("{p}.max_sessions"),
            d.max_sessions,
            0,
            0,
            u32::MAX.into(),
        ) as u32;
        out.push(Server {
            name: d.name.clone(),
            address: address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            weight,
            max_sessions,
            state: d.state.unwrap_or(ServerState::Up),
            // Checked against the pools by `l7::pools`.
            pool: d.pool.clone().filter(|p| p != crate::l7::DEFAULT_POOL),
        });
    }
    out
}
