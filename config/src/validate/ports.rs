//! `ports`: names, DPDK devices, interface addresses and MTUs; the roles
//! the ports take together.

use std::collections::HashMap;

use super::checker::Checker;
use crate::address::{Ipv4Cidr, Ipv6Cidr};
use crate::document::PortDoc;
use crate::model::Port;

const MAX_PORTS: usize = 16;
const MTU_MIN: u64 = 576;
const MTU_MAX: u64 = 9000;
const MTU_DEFAULT: u16 = 1500;
/// RFC 8200 section 5: every IPv6 link carries 1280-byte packets.
const MTU_MIN_IPV6: u16 = 1280;

pub(super) fn ports(c: &mut Checker, docs: &[PortDoc]) -> Vec<Port> {
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
