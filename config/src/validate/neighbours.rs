//! `neighbours`: static IP-to-MAC entries, each on the subnet of a port.

use std::collections::HashMap;
use std::net::IpAddr;

use super::checker::Checker;
use crate::address::parse_mac;
use crate::document::NeighbourDoc;
use crate::model::{Neighbour, Port};

pub(super) fn neighbours(c: &mut Checker, docs: &[NeighbourDoc], ports: &[Port]) -> Vec<Neighbour> {
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
