//! The arguments of `slb-agent cluster`, checked together: the label range
//! and instance count as slbd checks them, one next hop per instance.

use std::net::Ipv4Addr;

use crate::error::AgentError;
use crate::label_owner::ClusterParams;

/// A checked `cluster` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterArgs {
    pub first: u32,
    pub last: u32,
    pub params: ClusterParams,
    /// `next_hops[k]`: instance k's address.
    pub next_hops: Vec<Ipv4Addr>,
}

fn usage(message: String) -> AgentError {
    AgentError::Usage(message)
}

/// `FIRST-LAST`, both inclusive.
pub fn parse_labels(text: &str) -> Result<(u32, u32), AgentError> {
    let bad = || {
        usage(format!(
            "--labels {text}: expected FIRST-LAST (inclusive, as labels.first and labels.last \
             of the slbd instances), e.g. 16-1048575"
        ))
    };
    let (first, last) = text.split_once('-').ok_or_else(bad)?;
    let first = first.trim().parse::<u32>().map_err(|_| bad())?;
    let last = last.trim().parse::<u32>().map_err(|_| bad())?;
    Ok((first, last))
}

/// `ID=IPv4`.
pub fn parse_next_hop(text: &str) -> Result<(u32, Ipv4Addr), AgentError> {
    let bad = |why: &str| usage(format!("--next-hop {text}: {why}"));
    let (id, addr) = text
        .split_once('=')
        .ok_or_else(|| bad("expected ID=IPv4, e.g. 0=198.18.1.1"))?;
    let id = id
        .trim()
        .parse::<u32>()
        .map_err(|_| bad("the instance id before `=` is not a number"))?;
    let addr = addr.trim();
    if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        return Err(bad(
            "only IPv4 next hops are supported (liveness is an ICMP echo, the MAC comes from the ARP table)",
        ));
    }
    let addr = addr
        .parse::<Ipv4Addr>()
        .map_err(|_| bad("the address after `=` is not an IPv4 address"))?;
    Ok((id, addr))
}

impl ClusterArgs {
    pub fn new(labels: &str, instances: u16, next_hops: &[String]) -> Result<Self, AgentError> {
        let (first, last) = parse_labels(labels)?;
        let params = ClusterParams::new(first, last, instances)
            .map_err(|e| usage(format!("--labels {labels} --instances {instances}: {e}")))?;
        let mut hops: Vec<Option<Ipv4Addr>> = vec![None; usize::from(instances)];
        for text in next_hops {
            let (id, addr) = parse_next_hop(text)?;
            let Some(slot) = hops.get_mut(id as usize) else {
                return Err(usage(format!(
                    "--next-hop {text}: instance {id} is not below --instances {instances}"
                )));
            };
            if let Some(old) = slot {
                return Err(usage(format!(
                    "--next-hop {text}: instance {id} already has next hop {old}"
                )));
            }
            *slot = Some(addr);
        }
        let mut resolved = Vec::with_capacity(hops.len());
        for (k, hop) in hops.iter().enumerate() {
            let Some(addr) = hop else {
                return Err(usage(format!(
                    "instance {k} has no --next-hop: give one ID=IPv4 for each instance 0..={}",
                    instances - 1
                )));
            };
            if let Some(j) = resolved.iter().position(|a| a == addr) {
                return Err(usage(format!(
                    "--next-hop {k}={addr}: {addr} is already instance {j}'s next hop"
                )));
            }
            resolved.push(*addr);
        }
        Ok(ClusterArgs {
            first,
            last,
            params,
            next_hops: resolved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(labels: &str, n: u16, hops: &[&str]) -> Result<ClusterArgs, String> {
        let hops: Vec<String> = hops.iter().map(|h| h.to_string()).collect();
        ClusterArgs::new(labels, n, &hops).map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_line() {
        let a = args("16-1015", 2, &["1=198.18.1.2", "0=198.18.1.1"]).unwrap();
        assert_eq!((a.first, a.last), (16, 1015));
        assert_eq!(
            a.next_hops,
            [Ipv4Addr::new(198, 18, 1, 1), Ipv4Addr::new(198, 18, 1, 2)]
        );
        assert_eq!(
            a.params,
            ClusterParams {
                first_c2s: 17,
                pairs_per_instance: 249,
                instances: 2
            }
        );
    }

    #[test]
    fn errors_name_the_bad_argument() {
        let hops = ["0=198.18.1.1", "1=198.18.1.2", "2=198.18.1.3"];
        for (labels, n, hops, want) in [
            (
                "16-1015",
                3,
                &["0=198.18.1.1", "1=198.18.1.2", "5=198.18.1.6"][..],
                "--next-hop 5=198.18.1.6: instance 5 is not below --instances 3",
            ),
            (
                "16-1015",
                3,
                &["0=198.18.1.1", "1=198.18.1.2", "1=198.18.1.3"][..],
                "--next-hop 1=198.18.1.3: instance 1 already has next hop 198.18.1.2",
            ),
            (
                "16-1015",
                3,
                &["0=198.18.1.1", "1=198.18.1.2", "2=198.18.1.1"][..],
                "--next-hop 2=198.18.1.1: 198.18.1.1 is already instance 0's next hop",
            ),
            (
                "16-1015",
                3,
                &["0=198.18.1.1", "2=198.18.1.3"][..],
                "instance 1 has no --next-hop: give one ID=IPv4 for each instance 0..=2",
            ),
            (
                "16-20",
                3,
                &hops[..],
                "--labels 16-20 --instances 3: label range 16..=20 holds 2 pairs: too few for 3 \
                 instances (each needs at least one pair)",
            ),
            ("1015-16", 3, &hops[..], "--labels 1015-16 --instances 3: "),
            (
                "16:1015",
                3,
                &hops[..],
                "--labels 16:1015: expected FIRST-LAST",
            ),
            (
                "16-1015",
                65,
                &hops[..],
                "--labels 16-1015 --instances 65: a cluster has between 1 and 64 instances",
            ),
            (
                "16-1015",
                3,
                &["0=2001:db8::1"][..],
                "--next-hop 0=2001:db8::1: only IPv4 next hops are supported",
            ),
            (
                "16-1015",
                3,
                &["198.18.1.1"][..],
                "--next-hop 198.18.1.1: expected ID=IPv4",
            ),
            (
                "16-1015",
                3,
                &["x=198.18.1.1"][..],
                "--next-hop x=198.18.1.1: the instance id",
            ),
            (
                "16-1015",
                3,
                &["0=198.18.1"][..],
                "--next-hop 0=198.18.1: the address after `=` is not an IPv4 address",
            ),
        ] {
            let e = args(labels, n, hops).unwrap_err();
            assert!(e.starts_with(want), "{e:?} does not start with {want:?}");
        }
    }
}
