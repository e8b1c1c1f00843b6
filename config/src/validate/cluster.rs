//! `cluster`: this instance's id, the number of instances sharing the
//! label range, the other instances, and the client-side gateways that
//! server-to-client frames of other instances' sessions are sent to, and
//! the routing table slbd keeps its announced VIPs in.

use std::collections::HashMap;
use std::net::IpAddr;

use super::checker::Checker;
use crate::document::{ClusterDoc, ExceptionDoc, SyncDoc};
use crate::model::{Cluster, Exception, Labels, Peer, Port, Sync};
use slb_core::label_slices::{LabelSlices, SliceError, MAX_INSTANCES};
use std::time::Duration;

pub(super) fn cluster(
    c: &mut Checker,
    doc: &ClusterDoc,
    labels: &Labels,
    ports: &[Port],
) -> Cluster {
    let instances = c
        .range(
            "cluster.instances",
            doc.instances,
            1,
            u64::from(MAX_INSTANCES),
        )
        .map(|n| n as u16);
    let n = instances.unwrap_or(1);
    let instance = id_below(c, "cluster.instance", doc.instance, instances);
    if instances.is_some() {
        let range = slb_core::LabelConfig {
            first: labels.first,
            last: labels.last,
            quarantine_ns: 0,
        };
        if let Err(e @ SliceError::TooSmall { .. }) = LabelSlices::new(range, n) {
            c.err("cluster.instances", e.to_string());
        }
    }
    let mut ids: HashMap<u16, usize> = HashMap::new();
    let mut addresses: HashMap<IpAddr, usize> = HashMap::new();
    let mut peers = Vec::with_capacity(doc.peers.len());
    for (i, d) in doc.peers.iter().enumerate() {
        let p = format!("cluster.peers[{i}]");
        let id = id_below(c, format_args!("{p}.instance"), d.instance, instances).filter(|id| {
            if instance == Some(*id) {
                c.err(
                    format_args!("{p}.instance"),
                    format!(
                        "{id} is this instance's own id (cluster.instance): peers are the others"
                    ),
                );
                return false;
            }
            true
        });
        if let Some(id) = id {
            if let Some(first) = ids.insert(id, i) {
                c.err(
                    format_args!("{p}.instance"),
                    format!("duplicate peer instance {id} (also cluster.peers[{first}])"),
                );
            }
        }
        let address = c.ip(format_args!("{p}.address"), &d.address).filter(|a| {
            if !c.host_address(format_args!("{p}.address"), *a) {
                return false;
            }
            if let Some(port) = ports.iter().find(|port| port.is_own_address(*a)) {
                c.err(
                    format_args!("{p}.address"),
                    format!("{a} is this instance's address (port {:?})", port.name),
                );
                return false;
            }
            if let Some(first) = addresses.insert(*a, i) {
                c.err(
                    format_args!("{p}.address"),
                    format!("duplicate peer address {a} (also cluster.peers[{first}])"),
                );
            }
            true
        });
        if let (Some(instance), Some(address)) = (id, address) {
            peers.push(Peer { instance, address });
        }
    }
    let ipv4 = gateway(
        c,
        "cluster.client_gateway_ipv4",
        doc.client_gateway_ipv4.as_deref(),
        false,
        ports,
    );
    let ipv6 = gateway(
        c,
        "cluster.client_gateway_ipv6",
        doc.client_gateway_ipv6.as_deref(),
        true,
        ports,
    );
    let exception = doc.exception.as_ref().and_then(|e| exception(c, e, ports));
    let announce_table = doc.announce_table.and_then(|t| announce_table(c, t));
    let sync = doc.sync.as_ref().map(|s| sync(c, s, &peers));
    Cluster {
        instance: instance.unwrap_or(0),
        instances: n,
        peers,
        client_gateway_ipv4: ipv4.and_then(|a| match a {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }),
        client_gateway_ipv6: ipv6.and_then(|a| match a {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        }),
        exception,
        announce_table,
        sync,
    }
}

/// `cluster.sync`: the port, the threshold (age, packets), the refresh
/// interval and the dump wait, within bounds that keep the scheduler's
/// work and the peers' copies sane.
fn sync(c: &mut Checker, doc: &SyncDoc, peers: &[Peer]) -> Sync {
    let d = Sync::default();
    let ms = |d: Duration| d.as_millis() as u64;
    let port = c.field("cluster.sync.port", doc.port, d.port.into(), 1, 65535) as u16;
    // BGP, BFD single hop and multihop (the exception path's; UDP 179 is
    // not BGP, but a sync port there would confuse anyone reading a trace).
    if [179, 3784, 4784].contains(&port) {
        c.err(
            "cluster.sync.port",
            format!("{port} is a BGP or BFD port (the routing daemon's)"),
        );
    }
    if (61000..=61999).contains(&port) {
        c.err(
            "cluster.sync.port",
            format!("{port} is in 61000-61999, the health probes' source ports"),
        );
    }
    let after = c.field(
        "cluster.sync.after_ms",
        doc.after_ms,
        ms(d.after),
        0,
        3_600_000,
    );
    let after_packets = c.field(
        "cluster.sync.after_packets",
        doc.after_packets,
        0,
        0,
        u64::from(u32::MAX),
    ) as u32;
    let refresh = c.field(
        "cluster.sync.refresh_ms",
        doc.refresh_ms,
        ms(d.refresh),
        100,
        3_600_000,
    );
    let dump_wait = c.field(
        "cluster.sync.dump_wait_ms",
        doc.dump_wait_ms,
        ms(d.dump_wait),
        0,
        600_000,
    );
    if peers.is_empty() {
        c.err(
            "cluster.sync",
            "needs cluster.peers: sessions are synced to the peers listed there",
        );
    }
    Sync {
        port,
        after: Duration::from_millis(after),
        after_packets,
        refresh: Duration::from_millis(refresh),
        dump_wait: Duration::from_millis(dump_wait),
    }
}

/// The exception path: a device of its own and a client-facing port with
/// an address for the kernel side to use.
fn exception(c: &mut Checker, doc: &ExceptionDoc, ports: &[Port]) -> Option<Exception> {
    let mut ok = true;
    if doc.device.is_empty() {
        c.err(
            "cluster.exception.device",
            "must name a DPDK device (net_tap2, ...)",
        );
        ok = false;
    } else if let Some(p) = ports.iter().find(|p| p.device == doc.device) {
        c.err(
            "cluster.exception.device",
            format!("{:?} is already the device of port {:?}: the exception path needs a device of its own", doc.device, p.name),
        );
        ok = false;
    }
    match ports.iter().find(|p| p.name == doc.port) {
        None => {
            c.err(
                "cluster.exception.port",
                format!("no port named {:?} in ports", doc.port),
            );
            ok = false;
        }
        Some(p) if !p.role.faces_clients() => {
            c.err(
                "cluster.exception.port",
                format!("port {:?} does not face clients (role client or both): BGP and BFD come from the routers on the client side", p.name),
            );
            ok = false;
        }
        Some(_) => {}
    }
    ok.then(|| Exception {
        device: doc.device.clone(),
        port: doc.port.clone(),
    })
}

/// The kernel's own routing tables: unspec (0), default (253), main (254)
/// and local (255). slbd flushes its announce table at start, so it must
/// be a table nothing else keeps routes in.
const KERNEL_TABLES: [(u32, &str); 4] = [
    (0, "unspec"),
    (253, "default"),
    (254, "main"),
    (255, "local"),
];

/// `cluster.announce_table`: a routing table id of slbd's own.
fn announce_table(c: &mut Checker, t: u64) -> Option<u32> {
    const PATH: &str = "cluster.announce_table";
    let t = c.range(PATH, t, 0, u64::from(u32::MAX))? as u32;
    if let Some((_, name)) = KERNEL_TABLES.iter().find(|(id, _)| *id == t) {
        c.err(
            PATH,
            format!(
                "{t} is the kernel's {name} table: slbd flushes its announce table, \
                 so it must be a table of its own (1-252 or 256 and above)"
            ),
        );
        return None;
    }
    Some(t)
}

/// An instance id: below the number of instances (when that is valid).
fn id_below(
    c: &mut Checker,
    path: impl std::fmt::Display,
    id: u64,
    instances: Option<u16>,
) -> Option<u16> {
    let n = instances?;
    match u16::try_from(id) {
        Ok(id) if id < n => Some(id),
        _ => {
            c.err(
                path,
                format!("must be below cluster.instances ({n}): instances are numbered from 0 (got {id})"),
            );
            None
        }
    }
}

/// A client-side gateway: an address of the family the field names, on
/// the subnet of a port that faces clients, not slbd's own.
fn gateway(
    c: &mut Checker,
    path: &str,
    s: Option<&str>,
    v6: bool,
    ports: &[Port],
) -> Option<IpAddr> {
    let a = c.ip(path, s?)?;
    if a.is_ipv6() != v6 {
        let want = if v6 { "IPv6" } else { "IPv4" };
        c.err(path, format!("must be an {want} address (got {a})"));
        return None;
    }
    if !c.host_address(path, a) {
        return None;
    }
    if let Some(port) = ports.iter().find(|p| p.is_own_address(a)) {
        c.err(path, format!("{a} is the address of port {:?}", port.name));
        return None;
    }
    if !ports
        .iter()
        .any(|p| p.role.faces_clients() && p.contains(a))
    {
        c.err(
            path,
            format!("{a} is not on the subnet of a port that faces clients (role client or both)"),
        );
        return None;
    }
    Some(a)
}
