//! Load balancing algorithms: the algorithm unit (docs/claims.md, claim 4).
//!
//! Every algorithm picks only an *available* server (up, weight > 0, not being
//! removed, under its session limit; see [`crate::pool`]). `n` below is the
//! number of server slots in the pool.
//!
//! | algorithm | cost per pick | notes |
//! |---|---|---|
//! | round robin | O(1) if the next server is available, O(n) worst | cursor over slots, skips unavailable |
//! | weighted round robin | O(n) | nginx's smooth WRR |
//! | least connections | O(n) | ties rotate |
//! | weighted least connections | O(n) | min (active + 1) / weight, ties rotate |
//! | least response time | O(n) (two passes) | min EWMA x (active + 1); fair start for unmeasured servers |
//! | source hash | O(1) expected | Maglev table keyed by client address only (affinity) |
//! | Maglev | O(1) expected | Maglev table keyed by the whole session key |
//!
//! The two table-based algorithms build their table from the *in-service*
//! servers (up, weight > 0, not removing) and rebuild it, lazily at the next
//! pick, whenever that set or a weight changes (the pool's version moves).
//! Servers that are in service but full are not rebuilt away (that would
//! churn the table with every session); the pick walks forward from the
//! hashed entry to the first available server instead, which is
//! deterministic for a given pool state. If the walk finds none (only
//! possible when an available server owns no entry, e.g. weight ratios beyond
//! the table size), the lowest-id available server is taken.

pub mod maglev;

use crate::ids::ServerId;
use crate::pool::ServerPool;
use crate::session::SessionKey;
use maglev::{addr_bytes, stable_hash, MaglevTable, Member};

/// A balancing algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RoundRobin,
    WeightedRoundRobin,
    LeastConnections,
    WeightedLeastConnections,
    LeastResponseTime,
    SourceHash,
    Maglev,
}

impl Algorithm {
    pub const ALL: [Algorithm; 7] = [
        Algorithm::RoundRobin,
        Algorithm::WeightedRoundRobin,
        Algorithm::LeastConnections,
        Algorithm::WeightedLeastConnections,
        Algorithm::LeastResponseTime,
        Algorithm::SourceHash,
        Algorithm::Maglev,
    ];

    /// Stable configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round_robin",
            Algorithm::WeightedRoundRobin => "weighted_round_robin",
            Algorithm::LeastConnections => "least_connections",
            Algorithm::WeightedLeastConnections => "weighted_least_connections",
            Algorithm::LeastResponseTime => "least_response_time",
            Algorithm::SourceHash => "source_hash",
            Algorithm::Maglev => "maglev",
        }
    }

    /// Whether the pick depends only on the packet and the servers (their
    /// addresses and weights), not on this appliance's history: Maglev
    /// and source hash. Appliances with the same servers pick the same
    /// one for a flow, so a flow that moved from one to another can be
    /// re-admitted where it was (`Core::recover`).
    pub fn is_consistent(self) -> bool {
        matches!(self, Algorithm::Maglev | Algorithm::SourceHash)
    }

    /// Parses a name from [`Algorithm::as_str`].
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Hash of the whole session key, the same on every appliance.
pub fn flow_hash(key: &SessionKey) -> u64 {
    let mut b = [0u8; 37];
    b[0] = key.protocol as u8;
    b[1..17].copy_from_slice(&addr_bytes(key.vip));
    b[17..19].copy_from_slice(&key.vip_port.to_be_bytes());
    b[19..35].copy_from_slice(&addr_bytes(key.client));
    b[35..37].copy_from_slice(&key.client_port.to_be_bytes());
    stable_hash(&b, 0x5eed)
}

/// Hash of the client address alone (source affinity).
pub fn source_hash(key: &SessionKey) -> u64 {
    stable_hash(&addr_bytes(key.client), 0x5eed)
}

/// Per-service algorithm state.
#[derive(Clone, Debug)]
pub struct Picker {
    algorithm: Algorithm,
    cursor: usize,
    /// Smooth WRR current weights, by server slot.
    current: Vec<i64>,
    table: MaglevTable,
    table_size: u32,
    /// Pool version the derived state was built for.
    built: Option<u64>,
    /// The pool (group) of the service's servers it picks from.
    group: u16,
}

impl Picker {
    /// `table_size` is the Maglev table size (a prime); used by the two
    /// hashing algorithms only.
    pub fn new(algorithm: Algorithm, table_size: u32) -> Picker {
        Picker {
            algorithm,
            cursor: 0,
            current: Vec::new(),
            table: MaglevTable::default(),
            table_size,
            built: None,
            group: 0,
        }
    }

    /// A picker of the servers of pool `group` only (layer-7 pools).
    pub fn for_group(algorithm: Algorithm, table_size: u32, group: u16) -> Picker {
        Picker {
            group,
            ..Picker::new(algorithm, table_size)
        }
    }

    /// `s` may take a new session from this picker.
    fn takes(&self, s: &crate::pool::Server) -> bool {
        s.available() && s.group() == self.group
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The Maglev table (empty unless a hashing algorithm built one).
    pub fn table(&self) -> &MaglevTable {
        &self.table
    }

    /// Picks an available server for `key`, or `None` if there is none.
    pub fn pick(&mut self, pool: &ServerPool, key: &SessionKey) -> Option<ServerId> {
        if pool.available_in(self.group) == 0 {
            return None;
        }
        if self.built != Some(pool.version()) {
            self.rebuild(pool);
        }
        match self.algorithm {
            Algorithm::RoundRobin => self.round_robin(pool),
            Algorithm::WeightedRoundRobin => self.smooth_weighted(pool),
            Algorithm::LeastConnections => {
                self.least_by(pool, |s| (s.active_sessions() as u128, 1))
            }
            Algorithm::WeightedLeastConnections => self.least_by(pool, |s| {
                (s.active_sessions() as u128 + 1, s.weight() as u128)
            }),
            Algorithm::LeastResponseTime => self.least_response_time(pool),
            Algorithm::SourceHash => self.hashed(pool, source_hash(key)),
            Algorithm::Maglev => self.hashed(pool, flow_hash(key)),
        }
    }

    fn rebuild(&mut self, pool: &ServerPool) {
        self.built = Some(pool.version());
        match self.algorithm {
            Algorithm::WeightedRoundRobin => {
                self.current.clear();
                self.current.resize(pool.slot_count(), 0);
            }
            Algorithm::SourceHash | Algorithm::Maglev => {
                let members: Vec<Member> = pool
                    .iter()
                    .filter(|(_, s)| s.in_service() && s.group() == self.group)
                    .map(|(id, s)| Member {
                        addr: s.addr(),
                        weight: s.weight(),
                        value: id.0,
                    })
                    .collect();
                self.table = MaglevTable::build(self.table_size, &members);
            }
            _ => {}
        }
    }

    fn round_robin(&mut self, pool: &ServerPool) -> Option<ServerId> {
        let n = pool.slot_count();
        for i in 0..n {
            let slot = (self.cursor + i) % n;
            let id = ServerId(slot as u32);
            if pool.get(id).is_some_and(|s| self.takes(s)) {
                self.cursor = slot + 1;
                return Some(id);
            }
        }
        None
    }

    /// nginx's smooth weighted round robin: every available server gains its
    /// weight, the largest current weight wins and pays back the total.
    fn smooth_weighted(&mut self, pool: &ServerPool) -> Option<ServerId> {
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for (id, s) in pool.iter() {
            if !self.takes(s) {
                continue;
            }
            let i = id.0 as usize;
            self.current[i] += s.weight() as i64;
            total += s.weight() as i64;
            if best.is_none_or(|b| self.current[i] > self.current[b]) {
                best = Some(i);
            }
        }
        let best = best?;
        self.current[best] -= total;
        Some(ServerId(best as u32))
    }

    /// The available server with the least `num / den` (compared by cross
    /// multiplication), scanning from a rotating start so ties are shared.
    fn least_by(
        &mut self,
        pool: &ServerPool,
        cost: impl Fn(&crate::pool::Server) -> (u128, u128),
    ) -> Option<ServerId> {
        let n = pool.slot_count();
        let mut best: Option<(usize, (u128, u128))> = None;
        for i in 0..n {
            let slot = (self.cursor + i) % n;
            let Some(s) = pool.get(ServerId(slot as u32)) else {
                continue;
            };
            if !self.takes(s) {
                continue;
            }
            let c = cost(s);
            if best.is_none_or(|(_, b)| c.0 * b.1 < b.0 * c.1) {
                best = Some((slot, c));
            }
        }
        let (slot, _) = best?;
        self.cursor = slot + 1;
        Some(ServerId(slot as u32))
    }

    /// Least EWMA response time x (active + 1). A server with no measurement
    /// yet is given the mean EWMA of the measured available servers (fair
    /// start: it is neither flooded nor starved); with no measurement at all
    /// this is least connections.
    fn least_response_time(&mut self, pool: &ServerPool) -> Option<ServerId> {
        let (mut sum, mut measured) = (0u128, 0u128);
        for (_, s) in pool.iter() {
            if let (true, Some(rt)) = (self.takes(s), s.response_time_ns()) {
                sum += rt as u128;
                measured += 1;
            }
        }
        let fair = sum.checked_div(measured).unwrap_or(1).max(1);
        self.least_by(pool, |s| {
            let rt = s.response_time_ns().map_or(fair, |rt| (rt as u128).max(1));
            (rt * (s.active_sessions() as u128 + 1), 1)
        })
    }

    fn hashed(&mut self, pool: &ServerPool, hash: u64) -> Option<ServerId> {
        for value in self.table.probe(hash) {
            let id = ServerId(value);
            if pool.get(id).is_some_and(|s| self.takes(s)) {
                return Some(id);
            }
        }
        pool.iter().find(|(_, s)| self.takes(s)).map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{ServerConfig, ServerState};
    use crate::session::Protocol;
    use std::net::{IpAddr, Ipv4Addr};

    fn pool(weights: &[u32]) -> ServerPool {
        let mut p = ServerPool::new();
        for (i, &w) in weights.iter().enumerate() {
            p.add(ServerConfig {
                addr: IpAddr::V4(Ipv4Addr::new(10, 1, 0, i as u8 + 1)),
                weight: w,
                max_sessions: 0,
            })
            .unwrap();
        }
        p
    }

    /// A pool's picker takes only its own servers, whatever the
    /// algorithm; a pool with none picks nothing.
    #[test]
    fn a_group_picker_takes_only_its_group() {
        let mut p = ServerPool::new();
        for i in 0..6u8 {
            let a = IpAddr::V4(Ipv4Addr::new(10, 1, 0, i + 1));
            p.add_in(ServerConfig::new(a), u16::from(i % 2)).unwrap();
        }
        for algo in Algorithm::ALL {
            let mut picker = Picker::for_group(algo, 7, 1);
            for i in 0..50 {
                let id = picker.pick(&p, &key(i)).unwrap();
                assert_eq!(p.get(id).unwrap().group(), 1, "{algo:?}");
            }
            assert_eq!(Picker::for_group(algo, 7, 2).pick(&p, &key(0)), None);
        }
    }

    /// Deterministic distinct keys.
    fn key(i: u32) -> SessionKey {
        SessionKey {
            protocol: Protocol::Tcp,
            vip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            vip_port: 443,
            client: IpAddr::V4(Ipv4Addr::from(0x6400_0000 + i)),
            client_port: 1024 + (i % 7) as u16,
        }
    }

    fn shares(algo: Algorithm, weights: &[u32], picks: u32, keep_sessions: bool) -> Vec<f64> {
        let mut p = pool(weights);
        let mut picker = Picker::new(algo, maglev::DEFAULT_TABLE_SIZE);
        let mut counts = vec![0u32; weights.len()];
        for i in 0..picks {
            let id = picker.pick(&p, &key(i)).unwrap();
            counts[id.0 as usize] += 1;
            if keep_sessions {
                p.session_started(id);
            }
        }
        counts.iter().map(|&c| c as f64 / picks as f64).collect()
    }

    fn assert_shares(algo: Algorithm, got: &[f64], weights: &[u32], tolerance: f64) {
        let total: u32 = weights.iter().sum();
        for (g, &w) in got.iter().zip(weights) {
            let want = w as f64 / total as f64;
            assert!(
                (g - want).abs() <= tolerance * want,
                "{algo:?}: got {got:?} for weights {weights:?}"
            );
        }
    }

    /// 100k picks; each server's share within 2% (relative) of its weight's.
    #[test]
    fn distributions_match_weights() {
        let w = [1, 2, 3, 4];
        let eq = [1, 1, 1, 1];
        for (algo, weights, keep) in [
            (Algorithm::RoundRobin, &eq, false),
            (Algorithm::WeightedRoundRobin, &w, false),
            (Algorithm::LeastConnections, &eq, true),
            (Algorithm::WeightedLeastConnections, &w, true),
            (Algorithm::LeastResponseTime, &eq, true),
            (Algorithm::Maglev, &w, false),
            (Algorithm::Maglev, &eq, false),
        ] {
            let got = shares(algo, weights, 100_000, keep);
            assert_shares(algo, &got, weights, 0.02);
        }
        // Source hash: 100k distinct clients.
        let got = shares(Algorithm::SourceHash, &w, 100_000, false);
        assert_shares(Algorithm::SourceHash, &got, &w, 0.02);
    }

    #[test]
    fn smooth_wrr_sequence_is_nginx() {
        // nginx's example: weights 5, 1, 1 -> a a b a c a a
        let mut p = pool(&[5, 1, 1]);
        let mut picker = Picker::new(Algorithm::WeightedRoundRobin, 7);
        let seq: Vec<u32> = (0..7)
            .map(|i| picker.pick(&p, &key(i)).unwrap().0)
            .collect();
        assert_eq!(seq, vec![0, 0, 1, 0, 2, 0, 0]);
        p.set_state(ServerId(0), ServerState::Down).unwrap();
        let seq: Vec<u32> = (0..4)
            .map(|i| picker.pick(&p, &key(i)).unwrap().0)
            .collect();
        assert_eq!(seq, vec![1, 2, 1, 2]);
    }

    #[test]
    fn least_connections_picks_least_loaded() {
        let mut p = pool(&[1, 1, 1]);
        for _ in 0..5 {
            p.session_started(ServerId(0));
        }
        for _ in 0..2 {
            p.session_started(ServerId(1));
        }
        let mut picker = Picker::new(Algorithm::LeastConnections, 7);
        assert_eq!(picker.pick(&p, &key(0)), Some(ServerId(2)));
        p.session_started(ServerId(2));
        p.session_started(ServerId(2));
        p.session_started(ServerId(2));
        assert_eq!(picker.pick(&p, &key(0)), Some(ServerId(1)));
        // Weighted: server 0 has weight 10 -> (5+1)/10 beats (2+1)/1.
        p.set_weight(ServerId(0), 10).unwrap();
        let mut w = Picker::new(Algorithm::WeightedLeastConnections, 7);
        assert_eq!(w.pick(&p, &key(0)), Some(ServerId(0)));
    }

    #[test]
    fn least_response_time_prefers_fast_and_gives_fair_start() {
        let mut p = pool(&[1, 1, 1]);
        p.record_response_time(ServerId(0), 1_000_000);
        p.record_response_time(ServerId(1), 100_000);
        let mut picker = Picker::new(Algorithm::LeastResponseTime, 7);
        assert_eq!(picker.pick(&p, &key(0)), Some(ServerId(1)));
        // Server 2 (unmeasured) counts as the mean, 550 us: with server 1 at
        // 6 sessions (700 us) it gets the next one.
        for _ in 0..6 {
            p.session_started(ServerId(1));
        }
        assert_eq!(picker.pick(&p, &key(0)), Some(ServerId(2)));
    }

    #[test]
    fn only_available_servers_are_picked() {
        for algo in Algorithm::ALL {
            let mut p = pool(&[1, 1, 1, 1]);
            p.set_state(ServerId(0), ServerState::Down).unwrap();
            p.set_state(ServerId(1), ServerState::Draining).unwrap();
            p.set_max_sessions(ServerId(2), 3).unwrap();
            p.set_state(ServerId(3), ServerState::Disabled).unwrap();
            let mut picker = Picker::new(algo, maglev::DEFAULT_TABLE_SIZE);
            for i in 0..3 {
                let id = picker.pick(&p, &key(i)).expect("server 2 has room");
                assert_eq!(id, ServerId(2), "{algo:?}");
                p.session_started(id);
            }
            assert_eq!(picker.pick(&p, &key(9)), None, "{algo:?}: all full or out");
        }
    }

    #[test]
    fn hashing_is_deterministic_and_falls_back_past_full_servers() {
        let mut p = pool(&[1, 1, 1]);
        let mut a = Picker::new(Algorithm::Maglev, maglev::DEFAULT_TABLE_SIZE);
        let mut b = Picker::new(Algorithm::Maglev, maglev::DEFAULT_TABLE_SIZE);
        let first: Vec<_> = (0..1000).map(|i| a.pick(&p, &key(i))).collect();
        let again: Vec<_> = (0..1000).map(|i| b.pick(&p, &key(i))).collect();
        assert_eq!(first, again);
        // Fill server 0: its flows go to the next entry's server, always the same one.
        p.set_max_sessions(ServerId(0), 1).unwrap();
        p.session_started(ServerId(0));
        for i in 0..1000 {
            let got = a.pick(&p, &key(i)).unwrap();
            assert_ne!(got, ServerId(0));
            if first[i as usize] != Some(ServerId(0)) {
                assert_eq!(Some(got), first[i as usize], "others keep their server");
            }
            assert_eq!(a.pick(&p, &key(i)), Some(got));
        }
    }

    /// Maglev: when one of 10 servers leaves, flows of the other 9 mostly
    /// keep their server (< 2% move), as the paper promises.
    #[test]
    fn maglev_disruption_when_a_server_leaves() {
        let mut p = pool(&[1; 10]);
        let mut picker = Picker::new(Algorithm::Maglev, maglev::DEFAULT_TABLE_SIZE);
        let n = 100_000;
        let before: Vec<_> = (0..n).map(|i| picker.pick(&p, &key(i)).unwrap()).collect();
        p.remove(ServerId(4)).unwrap();
        let (mut others, mut moved) = (0, 0);
        for i in 0..n {
            let now = picker.pick(&p, &key(i)).unwrap();
            assert_ne!(now, ServerId(4));
            if before[i as usize] != ServerId(4) {
                others += 1;
                moved += (now != before[i as usize]) as u32;
            }
        }
        let frac = moved as f64 / others as f64;
        assert!(frac < 0.02, "{frac}");
        // The removed server had about 1/10 of the flows.
        let removed_share = (n - others) as f64 / n as f64;
        assert!((removed_share - 0.1).abs() < 0.01, "{removed_share}");
    }
}
