//! `cluster`: this instance, its label slice and its peers, from the
//! running configuration (on the control thread), with each peer's state
//! as the scheduler sees it (`scheduler/peers.rs`: `alive`, `dead`,
//! `unknown` before its first answer, `unreachable` on no port's subnet).
//! What is announced is the announcer's ([`super::instance`]).

use crate::channels::PeerStatus;
use slb_config::Config;
use slb_core::{LabelConfig, LabelManager, LabelSlices};
use slb_proto::{Cluster, ClusterPeer, ClusterSync, LabelRange};

/// A peer's state before the scheduler said (listed in the
/// configuration, nothing more).
pub const PEER_CONFIGURED: &str = "configured";

/// Sets each peer's state from the scheduler's view.
pub fn with_peer_states(c: &mut Cluster, states: &[PeerStatus]) {
    for p in &mut c.peers {
        if let Some(s) = states.iter().find(|s| s.instance == p.instance) {
            p.state = s.state.as_str().into();
        }
    }
}

fn range(l: LabelConfig) -> LabelRange {
    LabelRange {
        first: l.first,
        last: l.last,
        pairs: LabelManager::new(l).map_or(0, |m| u64::from(m.capacity())),
    }
}

/// The answer to `cluster` for `cfg` (a validated configuration).
pub fn cluster(cfg: &Config) -> Cluster {
    let slices = LabelSlices::from(cfg);
    let q = 0;
    let slice = |k: u16| {
        slices.slice(k, q).map(range).unwrap_or(LabelRange {
            first: 0,
            last: 0,
            pairs: 0,
        })
    };
    let c = cfg.cluster.as_ref();
    Cluster {
        instance: cfg.instance(),
        instances: cfg.instances(),
        range: range(LabelConfig {
            first: cfg.labels.first,
            last: cfg.labels.last,
            quarantine_ns: q,
        }),
        labels: slice(cfg.instance()),
        client_gateway_ipv4: c.and_then(|c| c.client_gateway_ipv4.map(|a| a.to_string())),
        client_gateway_ipv6: c.and_then(|c| c.client_gateway_ipv6.map(|a| a.to_string())),
        peers: c
            .map(|c| {
                c.peers
                    .iter()
                    .map(|p| ClusterPeer {
                        instance: p.instance,
                        address: p.address.to_string(),
                        labels: slice(p.instance),
                        state: PEER_CONFIGURED.into(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        // The announcer's, filled in by the control plane.
        announce: None,
        // Whether it holds the routes is the scheduler's, filled in too.
        sync: c.and_then(|c| c.sync).map(|s| ClusterSync {
            port: s.port,
            after_ms: s.after.as_millis() as u64,
            after_packets: s.after_packets,
            refresh_ms: s.refresh.as_millis() as u64,
            dump_wait_ms: s.dump_wait.as_millis() as u64,
            holding_routes: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_box_owns_the_range_and_a_cluster_its_slice() {
        let one =
            Config::from_json_str(include_str!("../../../config/examples/minimal.json")).unwrap();
        let c = cluster(&one);
        assert_eq!((c.instance, c.instances), (0, 1));
        assert_eq!(c.labels, c.range);
        assert_eq!(
            (c.range.first, c.range.last, c.range.pairs),
            (16, 1_048_575, 524_279)
        );
        assert!(c.peers.is_empty() && c.client_gateway_ipv4.is_none());

        let mut doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../config/examples/minimal.json")).unwrap();
        doc["cluster"] = serde_json::json!({"instance": 1, "instances": 4,
            "peers": [{"instance": 3, "address": "198.18.1.3"}],
            "client_gateway_ipv4": "198.18.1.254"});
        let c = cluster(&Config::from_json_str(&doc.to_string()).unwrap());
        assert_eq!((c.instance, c.instances), (1, 4));
        assert_eq!(
            c.labels,
            LabelRange {
                first: 262_155,
                last: 524_292,
                pairs: 131_069
            }
        );
        assert_eq!(c.peers.len(), 1);
        assert_eq!(c.peers[0].labels.first, 17 + 6 * 131_069);
        assert_eq!(c.peers[0].state, "configured");
        assert_eq!(c.client_gateway_ipv4.as_deref(), Some("198.18.1.254"));
        assert_eq!(c.client_gateway_ipv6, None);
    }
}
