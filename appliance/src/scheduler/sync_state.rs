//! The scheduler's session sync state (`sync.rs` runs it, `sync_receive.rs`
//! feeds it): the settings, the scan's cursor and clock, the datagram
//! being packed, the ended records waiting, the dumps peers asked for,
//! this instance's wait for its peers' dumps; and when a session is due.

use slb_config::Config;
use slb_core::session::{Session, SessionState};
use slb_core::session_record::{SessionRecord, V6_LEN};
use slb_wire::sync::{self as wire, Kind};

/// Session slots the scan visits a round at most (and each dump).
pub const SCAN_PER_ROUND: usize = 256;
/// The scan passes every slot once per period, a quarter of `after_ms`
/// within these bounds: a due session is synced at most a period late.
/// The scan's cost is the slots over the period (docs/performance.md).
pub const SCAN_PERIOD_MIN_NS: u64 = 50_000_000;
pub const SCAN_PERIOD_MAX_NS: u64 = 1_000_000_000;
/// Ended records waiting to be sent; past it, peers' copies time out.
pub const ENDED_QUEUE: usize = 1 << 16;
/// How long a starting instance gives its peers to answer ARP before it
/// decides that the live ones have all sent their dumps.
pub const RESOLVE_NS: u64 = 500_000_000;
/// How often a dump request is repeated to a live peer that has not
/// answered it.
pub const ASK_AGAIN_NS: u64 = 500_000_000;
/// A dump request this long after the dump to that peer started starts it
/// over.
pub const DUMP_RESTART_NS: u64 = 5_000_000_000;
/// IPv6 (40) and UDP (8) headers: what a datagram leaves of the MTU.
const IP_UDP_LEN: usize = 48;

/// `cluster.sync`, in the scheduler's units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub(super) port: u16,
    pub(super) after_ns: u64,
    pub(super) after_packets: u64,
    pub(super) refresh_ms: u32,
    pub(super) dump_wait_ns: u64,
    pub(super) scan_period_ns: u64,
}

/// Records being packed into one datagram's payload.
#[derive(Debug, Default)]
pub(super) struct Datagram {
    /// Header then records.
    pub(super) buf: Vec<u8>,
    pub(super) count: u16,
}

impl Datagram {
    pub(super) fn push(&mut self, rec: &SessionRecord) {
        if self.buf.is_empty() {
            self.buf.extend_from_slice(&[0; wire::HEADER_LEN]);
        }
        if rec.encode(&mut self.buf).is_ok() {
            self.count += 1;
        }
    }

    pub(super) fn has_room(&self, max_payload: usize) -> bool {
        self.buf.len().max(wire::HEADER_LEN) + V6_LEN <= max_payload
    }

    /// The payload, header written, and the record count; empties it.
    pub(super) fn take(&mut self, sender: u16) -> Option<(Vec<u8>, u16)> {
        if self.count == 0 {
            return None;
        }
        let mut buf = std::mem::take(&mut self.buf);
        let count = std::mem::take(&mut self.count);
        wire::Packet::new_unchecked(&mut buf[..]).emit_header(Kind::Records, sender, count);
        Some((buf, count))
    }
}

/// A dump a peer asked for.
#[derive(Debug)]
pub(super) struct Dump {
    pub(super) peer: u16,
    /// When it was asked for.
    pub(super) started: u64,
    pub(super) cursor: usize,
    pub(super) out: Datagram,
}

/// This instance's own wait for its peers' dumps.
#[derive(Debug, Default)]
pub(super) struct Hold {
    /// When the wait started (the first round); 0 before.
    pub(super) started: u64,
    /// Peers whose dump end arrived.
    pub(super) done: Vec<u16>,
    /// Peers asked, and when.
    pub(super) asked: Vec<(u16, u64)>,
}

/// Whether the route announcements wait for the peers' dumps (`cluster`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncHolding(pub bool);

/// The scheduler's session sync state.
#[derive(Debug, Default)]
pub struct SyncState {
    pub(super) settings: Option<Settings>,
    pub(super) instance: u16,
    pub(super) cursor: usize,
    /// The scan's clock: slots are due to be visited for the time since.
    pub(super) scanned_to: u64,
    pub(super) ended: Vec<SessionRecord>,
    pub(super) out: Datagram,
    pub(super) dumps: Vec<Dump>,
    pub(super) hold: Option<Hold>,
    /// Records of the datagram being received (`sync_receive.rs`).
    pub(super) decoded: Vec<SessionRecord>,
    pub(super) max_payload: usize,
}

impl SyncState {
    /// For `cfg` (no sync without `cluster.sync`); `min_mtu` is the
    /// smallest port MTU.
    pub fn new(cfg: &Config, min_mtu: u16) -> SyncState {
        let settings = cfg.cluster.as_ref().and_then(|c| c.sync).map(|s| Settings {
            port: s.port,
            after_ns: s.after.as_nanos() as u64,
            after_packets: u64::from(s.after_packets),
            refresh_ms: s.refresh.as_millis().min(u128::from(u32::MAX / 2)) as u32,
            dump_wait_ns: s.dump_wait.as_nanos() as u64,
            scan_period_ns: (s.after.as_nanos() as u64 / 4)
                .clamp(SCAN_PERIOD_MIN_NS, SCAN_PERIOD_MAX_NS),
        });
        SyncState {
            hold: settings.map(|_| Hold::default()),
            settings,
            instance: cfg.instance(),
            max_payload: usize::from(min_mtu).saturating_sub(IP_UDP_LEN),
            ..SyncState::default()
        }
    }

    /// The sync port, when sync is on.
    pub fn port(&self) -> Option<u16> {
        self.settings.map(|s| s.port)
    }

    /// Whether route announcements wait for the peers' dumps.
    pub fn holding(&self) -> bool {
        self.hold.is_some()
    }

    /// A peer asked for a dump (again: it starts over).
    /// A request repeated while that peer's dump is under way (it asks
    /// again every [`ASK_AGAIN_NS`] until the dump ends) leaves the dump
    /// going; one after [`DUMP_RESTART_NS`] starts it over (the peer
    /// restarted again).
    pub(super) fn dump_requested(&mut self, peer: u16, now: u64) {
        if let Some(d) = self.dumps.iter().find(|d| d.peer == peer) {
            if now.saturating_sub(d.started) < DUMP_RESTART_NS {
                return;
            }
        }
        self.dumps.retain(|d| d.peer != peer);
        self.dumps.push(Dump {
            peer,
            started: now,
            cursor: 0,
            out: Datagram::default(),
        });
    }

    /// A peer's dump is complete.
    pub(super) fn dump_ended(&mut self, peer: u16) {
        if let Some(h) = &mut self.hold {
            if !h.done.contains(&peer) {
                h.done.push(peer);
            }
        }
    }
}

/// Whether session `s` needs a record now.
pub(super) fn due(s: &Session, st: &Settings, now: u64) -> bool {
    if matches!(
        s.state(),
        SessionState::SynSent | SessionState::Linger | SessionState::Reset
    ) {
        return false;
    }
    let old = now.saturating_sub(s.created()) >= st.after_ns;
    let busy = st.after_packets > 0 && s.counters().packets.iter().sum::<u64>() >= st.after_packets;
    if !old && !busy {
        return false;
    }
    match s.last_synced() {
        None => true,
        Some((at, class)) => {
            let now_ms = (now / 1_000_000) as u32;
            class != s.timer_class() || now_ms.wrapping_sub(at) >= st.refresh_ms
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn a_repeated_request_leaves_the_dump_going_a_late_one_restarts_it() {
        let mut st = SyncState::default();
        st.dump_requested(2, S);
        st.dumps[0].cursor = 700;
        st.dump_requested(2, S + ASK_AGAIN_NS);
        assert_eq!((st.dumps.len(), st.dumps[0].cursor), (1, 700));
        st.dump_requested(3, S + ASK_AGAIN_NS);
        assert_eq!(st.dumps.len(), 2);
        st.dump_requested(2, S + DUMP_RESTART_NS);
        let d = st.dumps.iter().find(|d| d.peer == 2).unwrap();
        assert_eq!(
            (st.dumps.len(), d.cursor, d.started),
            (2, 0, S + DUMP_RESTART_NS)
        );
    }

    #[test]
    fn due_past_syn_and_the_threshold_then_on_a_state_change_or_the_refresh() {
        use slb_core::session::{NewSession, SessionKey, SessionTable};
        use slb_core::{LabelPair, Protocol, ServerId, ServiceId, Timeouts};
        const MS: u64 = 1_000_000;
        let st = Settings {
            port: 7471,
            after_ns: 1000 * MS,
            after_packets: 0,
            refresh_ms: 60_000,
            dump_wait_ns: 0,
            scan_period_ns: 250 * MS,
        };
        let mut t = SessionTable::new(16, 0, Timeouts::default());
        let t0 = 5 * S;
        let id = t.insert(NewSession {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: "198.18.100.1".parse().unwrap(),
                vip_port: 80,
                client: "198.18.0.12".parse().unwrap(),
                client_port: 40000,
            },
            labels: LabelPair::containing(17).unwrap(),
            pair_index: 0,
            server: ServerId(0),
            service: ServiceId(0),
            client_mac: [2, 0, 0, 0, 0, 1],
            ingress_port: 0,
            now: t0,
        });
        assert!(!due(t.get(id), &st, t0 + 2 * S), "still SYN_SENT");
        t.set_state(id, SessionState::Established, t0);
        assert!(!due(t.get(id), &st, t0 + 999 * MS), "younger than after_ms");
        assert!(due(t.get(id), &st, t0 + S));
        t.mark_synced(id, t0 + S);
        assert!(!due(t.get(id), &st, t0 + 30 * S), "synced, unchanged");
        assert!(due(t.get(id), &st, t0 + 61 * S), "the refresh");
        t.set_state(
            id,
            SessionState::Closing(slb_core::Direction::ClientToServer),
            t0 + 2 * S,
        );
        assert!(due(t.get(id), &st, t0 + 2 * S), "its state changed");
        t.set_state(id, SessionState::Linger, t0 + 3 * S);
        assert!(
            !due(t.get(id), &st, t0 + 3 * S),
            "closed: its end is sent instead"
        );
        let busy = Settings {
            after_ns: 3_600_000 * MS,
            after_packets: 2,
            ..st
        };
        let young = t.insert(NewSession {
            key: SessionKey {
                client_port: 40001,
                ..*t.get(id).key()
            },
            labels: LabelPair::containing(19).unwrap(),
            pair_index: 1,
            server: ServerId(0),
            service: ServiceId(0),
            client_mac: [2, 0, 0, 0, 0, 1],
            ingress_port: 0,
            now: t0,
        });
        t.set_state(young, SessionState::Established, t0);
        assert!(!due(t.get(young), &busy, t0 + S));
        t.count(young, slb_core::Direction::ClientToServer, 2, 120);
        assert!(due(t.get(young), &busy, t0 + S), "after_packets");
    }

    #[test]
    fn the_hold_counts_each_peer_once() {
        let cfg = slb_config::Config::from_json_str(
            r#"{"ports": [{"name": "c", "device": "net_null0", "role": "both",
                 "ipv4": "198.18.0.1/24"}],
                "cluster": {"instance": 0, "instances": 2,
                  "peers": [{"instance": 1, "address": "198.18.0.2"}], "sync": {}}}"#,
        )
        .unwrap();
        let mut st = SyncState::new(&cfg, 1500);
        assert!(st.holding());
        assert_eq!(st.port(), Some(7471));
        assert_eq!(st.max_payload, 1452);
        st.dump_ended(1);
        st.dump_ended(1);
        assert_eq!(st.hold.as_ref().unwrap().done, [1]);
        let mut no_sync = cfg.clone();
        no_sync.cluster.as_mut().unwrap().sync = None;
        let off = SyncState::new(&no_sync, 1500);
        assert!(!off.holding() && off.port().is_none());
    }
}
