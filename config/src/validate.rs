//! From the document as written to a validated `Config`: every rule of the
//! schema, every error collected (slbd refuses to start on any, and the
//! operator should see them all in one go).

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::address::{parse_mac, Ipv4Cidr, Ipv6Cidr};
use crate::document::{
    ControlDoc, Document, HealthDoc, HealthKindDoc, LabelsDoc, NeighbourDoc, PortDoc, ServerDoc,
    ServiceDoc, TimeoutsDoc,
};
use crate::error::{ConfigError, ConfigErrors};
use crate::model::{
    Algorithm, ClientMode, Config, Control, Health, HealthKind, Labels, Neighbour, OnDown, Port,
    Protocol, Refuse, Server, ServerState, Service, Timeouts,
};

pub(crate) const MAX_PORTS: usize = 16;
pub(crate) const MAX_SERVICES: usize = 256;
pub(crate) const MAX_SERVERS: usize = 1024;
pub(crate) const MTU_MIN: u64 = 576;
pub(crate) const MTU_MAX: u64 = 9000;
pub(crate) const MTU_DEFAULT: u16 = 1500;
/// RFC 8200 section 5: every IPv6 link carries 1280-byte packets.
pub(crate) const MTU_MIN_IPV6: u16 = 1280;
pub(crate) const QUARANTINE_MAX_MS: u64 = 600_000;
/// A week: far beyond any sensible idle timeout, low enough that timer
/// arithmetic (`Instant + Duration`, TSC cycles) cannot overflow.
pub(crate) const TIMEOUT_MAX_S: u64 = 7 * 24 * 3600;
pub(crate) const HEALTH_INTERVAL_MIN_MS: u64 = 100;
pub(crate) const HEALTH_INTERVAL_MAX_MS: u64 = 3_600_000;
pub(crate) const HEALTH_TIMEOUT_DEFAULT_MS: u64 = 500;
pub(crate) const NAME_MAX: usize = 32;

/// Collects errors; each check returns a usable placeholder on failure so
/// validation can go on and find the next error.
struct Checker {
    errors: Vec<ConfigError>,
}

impl Checker {
    fn err(&mut self, path: impl Display, reason: impl Into<String>) {
        self.errors.push(ConfigError::new(path.to_string(), reason));
    }

    /// `value` within `lo..=hi`, or an error naming the range and the value.
    fn range(&mut self, path: impl Display, value: u64, lo: u64, hi: u64) -> Option<u64> {
        if (lo..=hi).contains(&value) {
            Some(value)
        } else {
            self.err(path, format!("must be between {lo} and {hi} (got {value})"));
            None
        }
    }

    /// An optional number with a default, within `lo..=hi`.
    fn field(
        &mut self,
        path: impl Display,
        value: Option<u64>,
        default: u64,
        lo: u64,
        hi: u64,
    ) -> u64 {
        match value {
            None => default,
            Some(v) => self.range(path, v, lo, hi).unwrap_or(default),
        }
    }

    fn name(&mut self, path: impl Display, name: &str) {
        let ok = (1..=NAME_MAX).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            self.err(
                path,
                format!(
                    "must be 1 to {NAME_MAX} characters of a-z, 0-9, '_' and '-' (got {name:?})"
                ),
            );
        }
    }

    /// A unicast address usable on the wire.
    fn host_address(&mut self, path: impl Display, address: IpAddr) -> bool {
        let why = if address.is_unspecified() {
            Some("the unspecified address")
        } else if address.is_loopback() {
            Some("a loopback address")
        } else if address.is_multicast() {
            Some("a multicast address")
        } else if address == IpAddr::V4(Ipv4Addr::BROADCAST) {
            Some("the broadcast address")
        } else {
            None
        };
        match why {
            Some(why) => {
                self.err(
                    path,
                    format!("must be a unicast host address, not {why} (got {address})"),
                );
                false
            }
            None => true,
        }
    }

    fn ip(&mut self, path: impl Display, s: &str) -> Option<IpAddr> {
        match s.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(path, format!("must be an IPv4 or IPv6 address (got {s:?})"));
                None
            }
        }
    }
}

pub(crate) fn validate(doc: &Document) -> Result<Config, ConfigErrors> {
    let mut c = Checker { errors: Vec::new() };
    let ports = ports(&mut c, &doc.ports);
    let labels = labels(&mut c, doc.labels.as_ref());
    let timeouts = timeouts(&mut c, doc.timeouts.as_ref());
    let neighbours = neighbours(&mut c, &doc.neighbours, &ports);
    let control = control(&mut c, doc.control.as_ref());
    let services = services(&mut c, &doc.services, &ports);
    if c.errors.is_empty() {
        Ok(Config {
            ports,
            labels,
            timeouts,
            neighbours,
            control,
            services,
        })
    } else {
        Err(ConfigErrors(c.errors))
    }
}

fn ports(c: &mut Checker, docs: &[PortDoc]) -> Vec<Port> {
    if !(1..=MAX_PORTS).contains(&docs.len()) {
        c.err(
            "ports",
            format!(
                "must hold between 1 and {MAX_PORTS} ports (got {})",
                docs.len()
            ),
        );
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut devices: HashMap<&str, usize> = HashMap::new();
    let mut ports: Vec<Port> = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let p = format!("ports[{i}]");
        c.name(format_args!("{p}.name"), &d.name);
        if let Some(first) = names.insert(&d.name, i) {
            c.err(
                format_args!("{p}.name"),
                format!("duplicate port name {:?} (also ports[{first}])", d.name),
            );
        }
        if d.device.trim().is_empty() {
            c.err(
                format_args!("{p}.device"),
                "must be a DPDK device name, like net_tap0 (got an empty string)",
            );
        } else if let Some(first) = devices.insert(&d.device, i) {
            c.err(
                format_args!("{p}.device"),
                format!("device {:?} is already used by ports[{first}]", d.device),
            );
        }
        let ipv4 = d
            .ipv4
            .as_deref()
            .and_then(|s| port_ipv4(c, &format!("{p}.ipv4"), s));
        let ipv6 = d
            .ipv6
            .as_deref()
            .and_then(|s| port_ipv6(c, &format!("{p}.ipv6"), s));
        if d.ipv4.is_none() && d.ipv6.is_none() {
            c.err(&p, "needs an address: ipv4, ipv6 or both");
        }
        let mtu = c.field(
            format_args!("{p}.mtu"),
            d.mtu,
            MTU_DEFAULT.into(),
            MTU_MIN,
            MTU_MAX,
        ) as u16;
        if ipv6.is_some() && mtu < MTU_MIN_IPV6 {
            c.err(
                format_args!("{p}.mtu"),
                format!("must be at least {MTU_MIN_IPV6} on a port with IPv6 (RFC 8200 section 5) (got {mtu})"),
            );
        }
        // Overlapping subnets would make "which port reaches this address"
        // ambiguous.
        for (j, q) in ports.iter().enumerate() {
            if let (Some(a), Some(b)) = (ipv4, q.ipv4) {
                if a.overlaps(&b) {
                    c.err(
                        format_args!("{p}.ipv4"),
                        format!("subnet {a} overlaps {b} of ports[{j}] ({})", q.name),
                    );
                }
            }
            if let (Some(a), Some(b)) = (ipv6, q.ipv6) {
                if a.overlaps(&b) {
                    c.err(
                        format_args!("{p}.ipv6"),
                        format!("subnet {a} overlaps {b} of ports[{j}] ({})", q.name),
                    );
                }
            }
        }
        ports.push(Port {
            name: d.name.clone(),
            device: d.device.clone(),
            role: d.role,
            ipv4,
            ipv6,
            mtu,
        });
    }
    if !docs.is_empty() {
        if !docs.iter().any(|d| d.role.faces_clients()) {
            c.err(
                "ports",
                "no port has the client role (role \"client\" or \"both\")",
            );
        }
        if !docs.iter().any(|d| d.role.faces_servers()) {
            c.err(
                "ports",
                "no port has the server role (role \"server\" or \"both\")",
            );
        }
    }
    ports
}

fn port_ipv4(c: &mut Checker, path: &str, s: &str) -> Option<Ipv4Cidr> {
    let cidr = match Ipv4Cidr::parse(s) {
        Ok(cidr) => cidr,
        Err(why) => {
            c.err(
                path,
                format!("must be an IPv4 address with prefix length, like 198.18.0.1/24: {why}"),
            );
            return None;
        }
    };
    if cidr.prefix_len == 0 {
        c.err(
            path,
            format!("prefix length must be between 1 and 32 (got {s})"),
        );
        return None;
    }
    if !c.host_address(path, cidr.address.into()) {
        return None;
    }
    // /31 (RFC 3021) and /32 have no network or broadcast address.
    if cidr.prefix_len <= 30 {
        if cidr.address == cidr.network() {
            c.err(
                path,
                format!(
                    "{} is the network address of {s}, not a host address",
                    cidr.address
                ),
            );
            return None;
        }
        if cidr.address == cidr.broadcast() {
            c.err(
                path,
                format!(
                    "{} is the broadcast address of {s}, not a host address",
                    cidr.address
                ),
            );
            return None;
        }
    }
    Some(cidr)
}

fn port_ipv6(c: &mut Checker, path: &str, s: &str) -> Option<Ipv6Cidr> {
    let cidr = match Ipv6Cidr::parse(s) {
        Ok(cidr) => cidr,
        Err(why) => {
            c.err(
                path,
                format!("must be an IPv6 address with prefix length, like 2001:db8::1/64: {why}"),
            );
            return None;
        }
    };
    if cidr.prefix_len == 0 {
        c.err(
            path,
            format!("prefix length must be between 1 and 128 (got {s})"),
        );
        return None;
    }
    if !c.host_address(path, cidr.address.into()) {
        return None;
    }
    Some(cidr)
}

fn labels(c: &mut Checker, doc: Option<&LabelsDoc>) -> Labels {
    let d = Labels::default();
    let Some(doc) = doc else { return d };
    let mut ok = true;
    let first = match doc.first {
        None => d.first,
        Some(v) if v < u64::from(Labels::MIN) => {
            c.err(
                "labels.first",
                format!(
                    "must be at least {}: labels 0-15 are reserved by RFC 3032 (got {v})",
                    Labels::MIN
                ),
            );
            ok = false;
            d.first
        }
        Some(v) if v > u64::from(Labels::MAX) => {
            c.err(
                "labels.first",
                format!(
                    "must be at most {}, the largest 20-bit MPLS label (got {v})",
                    Labels::MAX
                ),
            );
            ok = false;
            d.first
        }
        Some(v) => v as u32,
    };
    let last = match doc.last {
        None => d.last,
        Some(v) if v > u64::from(Labels::MAX) => {
            c.err(
                "labels.last",
                format!(
                    "must be at most {}, the largest 20-bit MPLS label (got {v})",
                    Labels::MAX
                ),
            );
            ok = false;
            d.last
        }
        Some(v) => v as u32,
    };
    let quarantine = c.field(
        "labels.quarantine_ms",
        doc.quarantine_ms,
        2000,
        0,
        QUARANTINE_MAX_MS,
    );
    let labels = Labels {
        first,
        last,
        quarantine: Duration::from_millis(quarantine),
    };
    if ok && labels.pairs() == 0 {
        c.err(
            "labels",
            format!(
                "range {first}..={last} holds no label pair (an odd client-to-server label N with N+1 <= last)"
            ),
        );
    }
    labels
}

fn timeouts(c: &mut Checker, doc: Option<&TimeoutsDoc>) -> Timeouts {
    let d = Timeouts::default();
    let Some(doc) = doc else { return d };
    let max_ms = TIMEOUT_MAX_S * 1000;
    let ms = |c: &mut Checker, name: &str, v: Option<u64>, default: Duration| {
        Duration::from_millis(c.field(
            format_args!("timeouts.{name}"),
            v,
            default.as_millis() as u64,
            1,
            max_ms,
        ))
    };
    let tcp_syn = ms(c, "tcp_syn_ms", doc.tcp_syn_ms, d.tcp_syn);
    let tcp_linger = ms(c, "tcp_linger_ms", doc.tcp_linger_ms, d.tcp_linger);
    let s = |c: &mut Checker, name: &str, v: Option<u64>, default: Duration| {
        Duration::from_secs(c.field(
            format_args!("timeouts.{name}"),
            v,
            default.as_secs(),
            1,
            TIMEOUT_MAX_S,
        ))
    };
    Timeouts {
        tcp_syn,
        tcp_established: s(
            c,
            "tcp_established_s",
            doc.tcp_established_s,
            d.tcp_established,
        ),
        tcp_closing: s(c, "tcp_closing_s", doc.tcp_closing_s, d.tcp_closing),
        tcp_linger,
        udp: s(c, "udp_s", doc.udp_s, d.udp),
    }
}

fn neighbours(c: &mut Checker, docs: &[NeighbourDoc], ports: &[Port]) -> Vec<Neighbour> {
    let mut seen: HashMap<IpAddr, usize> = HashMap::new();
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let p = format!("neighbours[{i}]");
        let address = c.ip(format_args!("{p}.address"), &d.address);
        if let Some(a) = address {
            if let Some(port) = ports.iter().find(|port| port.is_own_address(a)) {
                c.err(
                    format_args!("{p}.address"),
                    format!("{a} is the address of port {:?}", port.name),
                );
            } else if !ports.iter().any(|port| port.contains(a)) {
                c.err(
                    format_args!("{p}.address"),
                    format!("{a} is not on the subnet of any port"),
                );
            }
            if let Some(first) = seen.insert(a, i) {
                c.err(
                    format_args!("{p}.address"),
                    format!("duplicate neighbour {a} (also neighbours[{first}])"),
                );
            }
        }
        let mac = match parse_mac(&d.mac) {
            Ok(mac) if mac == [0; 6] => {
                c.err(format_args!("{p}.mac"), "must not be the all-zero address");
                None
            }
            Ok(mac) if mac[0] & 1 == 1 => {
                c.err(
                    format_args!("{p}.mac"),
                    format!("must be a unicast MAC: the group bit (lowest bit of the first octet) is set (got {})", d.mac),
                );
                None
            }
            Ok(mac) => Some(mac),
            Err(why) => {
                c.err(format_args!("{p}.mac"), why);
                None
            }
        };
        if let (Some(address), Some(mac)) = (address, mac) {
            out.push(Neighbour { address, mac });
        }
    }
    out
}

fn control(c: &mut Checker, doc: Option<&ControlDoc>) -> Control {
    let d = Control::default();
    let Some(doc) = doc else { return d };
    let socket = match doc.socket.as_deref() {
        None => d.socket,
        Some("") => {
            c.err(
                "control.socket",
                "must be a file path (got an empty string)",
            );
            d.socket
        }
        Some(s) => PathBuf::from(s),
    };
    let metrics_listen = doc.metrics_listen.as_deref().and_then(|s| match s.parse::<SocketAddr>() {
        Err(_) => {
            c.err(
                "control.metrics_listen",
                format!("must be address:port, like 127.0.0.1:9781 or [::1]:9781 (got {s:?})"),
            );
            None
        }
        Ok(a) if !a.ip().is_loopback() => {
            c.err(
                "control.metrics_listen",
                format!("must be a loopback address (127.0.0.0/8 or ::1): metrics are not for the network (got {s})"),
            );
            None
        }
        Ok(a) if a.port() == 0 => {
            c.err("control.metrics_listen", format!("port must be between 1 and 65535 (got {s})"));
            None
        }
        Ok(a) => Some(a),
    });
    Control {
        socket,
        metrics_listen,
    }
}

fn services(c: &mut Checker, docs: &[ServiceDoc], ports: &[Port]) -> Vec<Service> {
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
        let health = health(c, &p, d.health.as_ref(), d.protocol, port.unwrap_or(1));
        let servers = servers(c, &p, &d.servers, vip, ports);
        out.push(Service {
            name: d.name.clone(),
            vip: vip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port: port.unwrap_or(1),
            protocol: d.protocol,
            client_mode: d.client_mode.unwrap_or(ClientMode::Plain),
            algorithm: d.algorithm.unwrap_or(Algorithm::WeightedRoundRobin),
            max_sessions,
            new_sessions_per_s: rate,
            burst,
            refuse,
            health,
            servers,
        });
    }
    out
}

fn health(
    c: &mut Checker,
    service: &str,
    doc: Option<&HealthDoc>,
    protocol: Protocol,
    service_port: u16,
) -> Health {
    let default_doc = HealthDoc::default();
    let doc = doc.unwrap_or(&default_doc);
    let p = format!("{service}.health");
    // Without a kind: TCP services get a connect probe, UDP ones (nothing to
    // connect to) an ARP/ND reachability check.
    let kind = doc.kind.unwrap_or(match protocol {
        Protocol::Tcp => HealthKindDoc::Tcp,
        Protocol::Udp => HealthKindDoc::Arp,
    });
    let kind = match kind {
        HealthKindDoc::Tcp => HealthKind::Tcp {
            port: c.field(
                format_args!("{p}.port"),
                doc.port,
                service_port.into(),
                1,
                65535,
            ) as u16,
        },
        HealthKindDoc::Arp | HealthKindDoc::None => {
            if doc.port.is_some() {
                c.err(format_args!("{p}.port"), "applies only to kind \"tcp\"");
            }
            if kind == HealthKindDoc::Arp {
                HealthKind::Arp
            } else {
                HealthKind::Off
            }
        }
    };
    let interval = c.field(
        format_args!("{p}.interval_ms"),
        doc.interval_ms,
        1000,
        HEALTH_INTERVAL_MIN_MS,
        HEALTH_INTERVAL_MAX_MS,
    );
    // The default timeout must fit a short interval too.
    let default_timeout = HEALTH_TIMEOUT_DEFAULT_MS.min(interval / 2);
    let timeout = match doc.timeout_ms {
        None => default_timeout,
        Some(0) => {
            c.err(format_args!("{p}.timeout_ms"), "must be at least 1 (got 0)");
            default_timeout
        }
        Some(t) if t >= interval => {
            c.err(
                format_args!("{p}.timeout_ms"),
                format!("must be less than interval_ms ({interval}) (got {t})"),
            );
            default_timeout
        }
        Some(t) => t,
    };
    let rise = c.field(format_args!("{p}.rise"), doc.rise, 2, 1, 10) as u8;
    let fall = c.field(format_args!("{p}.fall"), doc.fall, 3, 1, 10) as u8;
    Health {
        kind,
        interval: Duration::from_millis(interval),
        timeout: Duration::from_millis(timeout),
        rise,
        fall,
        on_down: doc.on_down.unwrap_or(OnDown::Keep),
    }
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
        });
    }
    out
}
