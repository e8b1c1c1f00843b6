//! The other instances of a cluster, as this one sees them (issue 14):
//! alive while they answer ARP / neighbour solicitations from slbd's own
//! port, probed every [`PROBE_NS`] and declared dead [`DEAD_AFTER_NS`]
//! after their last answer. A peer's workers answer those requests
//! themselves, so the answer shares fate with its data path: a killed or
//! hung slbd stops answering, whatever its kernel does.
//!
//! Used to forward a label-aware client's frame on a client-to-server
//! label to the instance that owns the label while it lives
//! (`foreign_label.rs`), and shown by `slbctl cluster`.

use std::net::IpAddr;

/// How often each peer is asked for its MAC.
pub const PROBE_NS: u64 = 200_000_000;
/// A peer that has not answered for this long is dead.
pub const DEAD_AFTER_NS: u64 = 1_000_000_000;

/// A peer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// Its address is on no port's subnet: slbd cannot reach it itself.
    Unreachable,
    /// It never answered.
    Unknown,
    /// It answered within [`DEAD_AFTER_NS`].
    Alive,
    /// It answered once, not within [`DEAD_AFTER_NS`].
    Dead,
}

impl PeerState {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerState::Unreachable => "unreachable",
            PeerState::Unknown => "unknown",
            PeerState::Alive => "alive",
            PeerState::Dead => "dead",
        }
    }
}

/// A peer as `cluster` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStatus {
    pub instance: u16,
    pub state: PeerState,
}

/// One peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub instance: u16,
    pub addr: IpAddr,
    /// The port whose subnet holds `addr`.
    pub port: Option<u8>,
    pub mac: Option<[u8; 6]>,
    pub last_answer: Option<u64>,
}

/// Every peer, with the probe schedule.
#[derive(Debug, Default)]
pub struct Peers {
    list: Vec<Peer>,
    next_probe: u64,
}

impl Peers {
    /// `peers` as (instance, address); `port_of` gives the port whose
    /// subnet holds an address.
    pub fn new(
        peers: impl IntoIterator<Item = (u16, IpAddr)>,
        port_of: impl Fn(IpAddr) -> Option<u8>,
    ) -> Peers {
        Peers {
            list: peers
                .into_iter()
                .map(|(instance, addr)| Peer {
                    instance,
                    addr,
                    port: port_of(addr),
                    mac: None,
                    last_answer: None,
                })
                .collect(),
            next_probe: 0,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Peer> {
        self.list.iter()
    }

    /// Every peer's state at `now`.
    pub fn status(&self, now: u64) -> Vec<PeerStatus> {
        self.list
            .iter()
            .map(|p| PeerStatus {
                instance: p.instance,
                state: Self::state(p, now),
            })
            .collect()
    }

    /// The (port, address) pairs to probe now: every reachable peer once
    /// per [`PROBE_NS`].
    pub fn due(&mut self, now: u64) -> Vec<(u8, IpAddr)> {
        if self.list.is_empty() || now < self.next_probe {
            return Vec::new();
        }
        self.next_probe = now + PROBE_NS;
        self.list
            .iter()
            .filter_map(|p| Some((p.port?, p.addr)))
            .collect()
    }

    /// An ARP reply / NA from `addr` at `mac`, seen on `port`: true when
    /// it is a peer's (on the port it is reached by).
    pub fn answered(&mut self, addr: IpAddr, mac: [u8; 6], port: u8, now: u64) -> bool {
        match self
            .list
            .iter_mut()
            .find(|p| p.addr == addr && p.port == Some(port))
        {
            Some(p) => {
                p.mac = Some(mac);
                p.last_answer = Some(now);
                true
            }
            None => false,
        }
    }

    pub fn state(p: &Peer, now: u64) -> PeerState {
        match (p.port, p.last_answer) {
            (None, _) => PeerState::Unreachable,
            (Some(_), None) => PeerState::Unknown,
            (Some(_), Some(t)) if now.saturating_sub(t) < DEAD_AFTER_NS => PeerState::Alive,
            (Some(_), Some(_)) => PeerState::Dead,
        }
    }

    /// The port and MAC of `instance` while it is alive.
    pub fn live(&self, instance: u16, now: u64) -> Option<(u8, [u8; 6])> {
        let p = self.list.iter().find(|p| p.instance == instance)?;
        match Self::state(p, now) {
            PeerState::Alive => Some((p.port?, p.mac?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn peers() -> Peers {
        let on_client = |a: IpAddr| matches!(a, IpAddr::V4(v) if v.octets()[2] == 0).then_some(0);
        Peers::new(
            [
                (0, "198.18.0.2".parse().unwrap()),
                (2, "198.18.0.3".parse().unwrap()),
                (3, "198.18.9.9".parse().unwrap()),
            ],
            on_client,
        )
    }

    #[test]
    fn probes_every_reachable_peer_once_per_period() {
        let mut p = peers();
        let first = p.due(5 * MS);
        assert_eq!(first.len(), 2, "instance 3 is on no subnet: {first:?}");
        assert!(p.due(5 * MS + PROBE_NS - 1).is_empty());
        assert_eq!(p.due(5 * MS + PROBE_NS).len(), 2);
        assert!(Peers::default().due(0).is_empty());
    }

    #[test]
    fn alive_while_answering_then_dead() {
        let mut p = peers();
        let a: IpAddr = "198.18.0.2".parse().unwrap();
        let mac = [2, 0, 0, 0, 0, 2];
        let state =
            |p: &Peers, i: u16, now| Peers::state(p.iter().find(|x| x.instance == i).unwrap(), now);
        assert_eq!(state(&p, 0, 0), PeerState::Unknown);
        assert_eq!(state(&p, 3, 0), PeerState::Unreachable);
        assert_eq!(p.live(0, 0), None);
        assert!(!p.answered(a, mac, 1, 10 * MS), "seen on another port");
        assert!(!p.answered("198.18.0.9".parse().unwrap(), mac, 0, 10 * MS));
        assert!(p.answered(a, mac, 0, 10 * MS));
        assert_eq!(p.live(0, 10 * MS), Some((0, mac)));
        assert_eq!(p.live(0, 10 * MS + DEAD_AFTER_NS - 1), Some((0, mac)));
        assert_eq!(state(&p, 0, 10 * MS + DEAD_AFTER_NS), PeerState::Dead);
        assert_eq!(p.live(0, 10 * MS + DEAD_AFTER_NS), None);
        assert_eq!(p.live(2, 10 * MS), None, "instance 2 never answered");
        assert_eq!(p.live(7, 10 * MS), None, "no such peer");
    }
}
