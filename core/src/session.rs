//! Session table and TCP/UDP session state machine (docs/claims.md, claim 6).
//!
//! # Layout
//! * Sessions live in a slab (`Vec<Session>`, vacant slots chained through
//!   the list links), addressed by [`SessionId`] (the slot number).
//! * The key index is a `hashbrown::HashTable<u32>` of slot numbers: 4 bytes
//!   plus one control byte per bucket. The key itself is stored once, in the
//!   session, and the table compares keys through the slab.
//! * The label index is a `Vec<u32>` indexed by label pair index (see
//!   [`crate::labels::LabelManager::pair_index`]): O(1) from either label.
//!
//! # Expiry: per-class LRU lists
//! Every timeout class (SYN sent, established, closing, linger, UDP) has one
//! intrusive doubly linked list, ordered by the time the session last
//! refreshed its timer. Refreshing (activity, a state change) unlinks the
//! session and links it at the tail: O(1). All sessions in a list share one
//! timeout, so the list is also ordered by deadline and its head is always
//! the next to expire. [`SessionTable::pop_expired`] looks only at heads; each
//! look either removes an expired session or proves that list has nothing due,
//! so expiry is O(1) per ended session, not amortised, and never scans live
//! sessions. A timer wheel would give the same bound but needs a re-insert on
//! every refresh plus cascading; lists with lazy deletion need stale entries.
//! The cost is 8 bytes of links per session.
//!
//! # Changing a timeout while sessions wait
//! A list is ordered by the time each timer last restarted, not by a stored
//! deadline: the deadline is computed at the head as `last restart +
//! timeout of the list`. Replacing a class's timeout
//! ([`SessionTable::set_timeouts`]) moves every deadline of that list by the
//! same amount, so the order is still the deadline order and nothing is
//! relinked: the new value applies at once, in O(1), to the sessions
//! already waiting (their deadline becomes their last restart plus the new
//! timeout). A shorter timeout makes every session past its new deadline due
//! at once; expiry ends them in its usual bounded slices.

use crate::bound_by::BoundBy;
// Lived here before `tcp_flags` was split off.
pub use crate::tcp_flags::TcpFlags;
use std::net::IpAddr;

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::ids::{ServerId, ServiceId};
// Defined in `ids`; re-exported so that `slb_core::session::SessionId` keeps
// working.
pub use crate::ids::SessionId;
pub use crate::tcp_transition::{tcp_transition, Next, Transition};

/// Transport protocol of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Protocol {
    Tcp = 6,
    Udp = 17,
}

/// Session key: (protocol, VIP, VIP port, client address, client port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionKey {
    pub protocol: Protocol,
    pub vip: IpAddr,
    pub vip_port: u16,
    pub client: IpAddr,
    pub client_port: u16,
}

impl std::hash::Hash for SessionKey {
    /// Three word writes instead of the derived field-by-field walk (which
    /// hashes enum tags and length prefixes): this is on the new-session path.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        fn word(a: IpAddr) -> u128 {
            match a {
                IpAddr::V4(a) => u32::from(a) as u128,
                IpAddr::V6(a) => u128::from(a) ^ (1 << 127),
            }
        }
        state.write_u64(
            (self.protocol as u64) << 32 | (self.vip_port as u64) << 16 | self.client_port as u64,
        );
        state.write_u128(word(self.client));
        state.write_u128(word(self.vip));
    }
}

/// Direction of a packet within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    ClientToServer = 0,
    ServerToClient = 1,
}

impl Direction {
    /// Direction of a packet carrying `label`: odd labels are client to
    /// server, even labels server to client (docs/claims.md, claim 7).
    pub fn of_label(label: u32) -> Direction {
        if label & 1 == 1 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }
}

/// Session state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// TCP: client SYN seen, no server reply yet (half-open).
    SynSent,
    /// TCP: the server replied.
    Established,
    /// TCP: FIN seen from the given side only.
    Closing(Direction),
    /// TCP: FIN seen from both sides; ends when the linger time passes.
    Linger,
    /// UDP: any datagram keeps it alive.
    Udp,
    /// TCP: a RST seen from either side; ends (`Reset`) when the linger
    /// time passes. Until then its frames are still switched: a frame the
    /// RST overtook on the way (a FIN, the last data) must reach the other
    /// end, or that end waits for it until it times out.
    Reset,
}

impl SessionState {
    /// Timer class: the list the session waits in.
    fn class(self) -> usize {
        match self {
            SessionState::SynSent => 0,
            SessionState::Established => 1,
            SessionState::Closing(_) => 2,
            SessionState::Linger => 3,
            SessionState::Udp => 4,
            SessionState::Reset => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::SynSent => "syn_sent",
            SessionState::Established => "established",
            SessionState::Closing(Direction::ClientToServer) => "closing_client_fin",
            SessionState::Closing(Direction::ServerToClient) => "closing_server_fin",
            SessionState::Linger => "linger",
            SessionState::Udp => "udp",
            SessionState::Reset => "reset",
        }
    }
}

const CLASSES: usize = 6;
const VACANT: u8 = u8::MAX;
const NIL: u32 = u32::MAX;
/// `first_reply` value while the server has not answered.
const NO_REPLY: u64 = u64::MAX;
/// `synced_class` of a session no sync record was sent for.
const NOT_SYNCED: u8 = u8::MAX;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// FIN from both sides, then the linger time.
    Closed,
    /// RST from either side.
    Reset,
    /// Idle timeout in established, closing or UDP.
    Idle,
    /// SYN sent and no server reply within the SYN timeout.
    NoReply,
    /// A new SYN for the same key arrived while the old session was closing or
    /// lingering (client port reuse).
    Replaced,
    /// Ended by the control plane.
    Administrative,
    /// A synced copy ended because the instance that switches the
    /// session said it ended (session sync).
    Peer,
}

impl EndReason {
    pub const ALL: [EndReason; 7] = [
        EndReason::Closed,
        EndReason::Reset,
        EndReason::Idle,
        EndReason::NoReply,
        EndReason::Replaced,
        EndReason::Administrative,
        EndReason::Peer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Closed => "closed",
            EndReason::Reset => "reset",
            EndReason::Idle => "idle",
            EndReason::NoReply => "no_reply",
            EndReason::Replaced => "replaced",
            EndReason::Administrative => "administrative",
            EndReason::Peer => "peer",
        }
    }

    /// Position in [`EndReason::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Idle timeouts per state, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// SYN seen, no server reply yet. Default 10 s (covers the first two SYN
    /// retransmissions at 1 s and 3 s).
    pub tcp_syn_sent_ns: u64,
    /// Established with no reported activity. Default 900 s (IPVS's default).
    pub tcp_established_ns: u64,
    /// FIN from one side, no activity. Default 60 s.
    pub tcp_closing_ns: u64,
    /// After FIN from both sides; not extended by activity. Default 4 s.
    pub tcp_linger_ns: u64,
    /// UDP with no activity. Default 60 s.
    pub udp_ns: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        const S: u64 = 1_000_000_000;
        Timeouts {
            tcp_syn_sent_ns: 10 * S,
            tcp_established_ns: 900 * S,
            tcp_closing_ns: 60 * S,
            tcp_linger_ns: 4 * S,
            udp_ns: 60 * S,
        }
    }
}

impl Timeouts {
    fn by_class(&self) -> [u64; CLASSES] {
        [
            self.tcp_syn_sent_ns,
            self.tcp_established_ns,
            self.tcp_closing_ns,
            self.tcp_linger_ns,
            self.udp_ns,
            // Reset waits as long as linger: both cover frames in flight.
            self.tcp_linger_ns,
        ]
    }

    fn reason(class: usize) -> EndReason {
        match class {
            0 => EndReason::NoReply,
            3 => EndReason::Closed,
            5 => EndReason::Reset,
            _ => EndReason::Idle,
        }
    }
}

/// Where a session came from (`slbctl sessions`, column `origin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Origin {
    /// Admitted here from its first packet.
    #[default]
    Local,
    /// Installed from another instance's sync record.
    Synced,
    /// Installed from a state file at start (`slbd --restore`).
    Restored,
    /// A flow of no session here re-admitted by the consistent hash
    /// (cluster, issue 14).
    RecoveredByHash,
}

impl Origin {
    pub const ALL: [Origin; 4] = [
        Origin::Local,
        Origin::Synced,
        Origin::Restored,
        Origin::RecoveredByHash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Local => "local",
            Origin::Synced => "synced",
            Origin::Restored => "restored",
            Origin::RecoveredByHash => "recovered_by_hash",
        }
    }
}

/// Packet and byte counters, per direction, as reported to the scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Counters {
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
}

/// One session. 136 bytes.
#[derive(Clone, Debug)]
pub struct Session {
    key: SessionKey,
    c2s: u32,
    pair: u32,
    server: u32,
    service: u16,
    ingress_port: u16,
    client_mac: [u8; 6],
    state: SessionState,
    /// Timer class, or VACANT for a free slab slot.
    class: u8,
    origin: Origin,
    /// What bound it to its pool ([`BoundBy`]'s byte).
    bound_by: u8,
    /// Traffic or an event of this session was seen on this instance
    /// (always true for a session admitted here; a synced copy becomes
    /// this instance's to sync once its frames arrive here).
    here: bool,
    /// Timer class of the last sync record sent for it (`NOT_SYNCED`:
    /// none yet).
    synced_class: u8,
    /// When its last sync record was sent: milliseconds, wrapping (a
    /// refresh interval is far below the 49 days of a wrap).
    synced_at_ms: u32,
    created: u64,
    last_seen: u64,
    first_reply: u64,
    counters: Counters,
    prev: u32,
    next: u32,
}

impl Session {
    pub fn key(&self) -> &SessionKey {
        &self.key
    }
    pub fn labels(&self) -> crate::labels::LabelPair {
        crate::labels::LabelPair::containing(self.c2s).expect("session label is valid")
    }
    /// Label pair index (see [`crate::labels::LabelManager::pair_index`]).
    pub fn pair_index(&self) -> u32 {
        self.pair
    }
    pub fn server(&self) -> ServerId {
        ServerId(self.server)
    }
    pub fn service(&self) -> ServiceId {
        ServiceId(self.service)
    }
    pub fn ingress_port(&self) -> u16 {
        self.ingress_port
    }
    pub fn client_mac(&self) -> [u8; 6] {
        self.client_mac
    }
    pub fn state(&self) -> SessionState {
        self.state
    }
    pub fn created(&self) -> u64 {
        self.created
    }
    pub fn last_seen(&self) -> u64 {
        self.last_seen
    }
    /// Time of the server's first reply, if any.
    pub fn first_reply(&self) -> Option<u64> {
        (self.first_reply != NO_REPLY).then_some(self.first_reply)
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    pub fn origin(&self) -> Origin {
        self.origin
    }
    /// What bound the session to its pool ([`BoundBy`]).
    pub fn bound_by(&self) -> BoundBy {
        BoundBy(self.bound_by)
    }
    /// Whether this instance switches the session (see [`Origin`]): it
    /// was admitted or restored here, or its frames arrived here.
    pub fn is_here(&self) -> bool {
        self.here
    }
    /// When its last sync record was sent (milliseconds of the clock,
    /// wrapping: compare with `wrapping_sub`) and in which timer class,
    /// if one was.
    pub fn last_synced(&self) -> Option<(u32, u8)> {
        (self.synced_class != NOT_SYNCED).then_some((self.synced_at_ms, self.synced_class))
    }
    /// Timer class of the session's state (changes with the state).
    pub fn timer_class(&self) -> u8 {
        self.class
    }
}

/// What the table needs to create a session.
#[derive(Clone, Copy, Debug)]
pub struct NewSession {
    pub key: SessionKey,
    pub labels: crate::labels::LabelPair,
    pub pair_index: u32,
    pub server: ServerId,
    pub service: ServiceId,
    pub client_mac: [u8; 6],
    pub ingress_port: u16,
    pub now: u64,
}

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

/// The session table: key index, label index, expiry lists.
pub struct SessionTable {
    slots: Vec<Session>,
    free_head: u32,
    len: u32,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    by_pair: Vec<u32>,
    lists: [List; CLASSES],
    timeouts: [u64; CLASSES],
    /// Class to look at first in the next `pop_expired`, so a busy class
    /// cannot starve the others.
    next_class: usize,
}

impl SessionTable {
    /// A table for `pair_capacity` label pairs (the label manager's capacity)
    /// with room reserved for `capacity_hint` sessions.
    pub fn new(pair_capacity: u32, capacity_hint: usize, timeouts: Timeouts) -> SessionTable {
        SessionTable {
            slots: Vec::with_capacity(capacity_hint),
            free_head: NIL,
            len: 0,
            index: HashTable::with_capacity(capacity_hint),
            hasher: DefaultHashBuilder::default(),
            by_pair: vec![NIL; pair_capacity as usize],
            lists: [List {
                head: NIL,
                tail: NIL,
            }; CLASSES],
            timeouts: timeouts.by_class(),
            next_class: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Replaces the timeouts. Sessions already waiting take the new value of
    /// their class at once: deadline = last timer restart + new timeout (see
    /// the module docs for why the lists stay ordered).
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts.by_class();
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        let [syn, est, closing, linger, udp, _reset] = self.timeouts;
        Timeouts {
            tcp_syn_sent_ns: syn,
            tcp_established_ns: est,
            tcp_closing_ns: closing,
            tcp_linger_ns: linger,
            udp_ns: udp,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn hash(hasher: &DefaultHashBuilder, key: &SessionKey) -> u64 {
        hasher.hash_one(key)
    }

    /// Hash of `key` in this table, for [`SessionTable::find_hashed`] and
    /// [`SessionTable::insert_hashed`] (hash once on the new-session path).
    pub fn hash_key(&self, key: &SessionKey) -> u64 {
        Self::hash(&self.hasher, key)
    }

    /// The session with `key`.
    pub fn find(&self, key: &SessionKey) -> Option<SessionId> {
        self.find_hashed(self.hash_key(key), key)
    }

    /// The session with `key`, whose [`SessionTable::hash_key`] is `hash`.
    pub fn find_hashed(&self, hash: u64, key: &SessionKey) -> Option<SessionId> {
        self.index
            .find(hash, |&slot| self.slots[slot as usize].key == *key)
            .map(|&slot| SessionId(slot))
    }

    /// The session holding label pair `pair_index`.
    pub fn find_by_pair(&self, pair_index: u32) -> Option<SessionId> {
        match self.by_pair.get(pair_index as usize) {
            Some(&slot) if slot != NIL => Some(SessionId(slot)),
            _ => None,
        }
    }

    /// The session at `id`. Panics if `id` is not a live session.
    pub fn get(&self, id: SessionId) -> &Session {
        let s = &self.slots[id.0 as usize];
        assert_ne!(s.class, VACANT, "session {id:?} is not live");
        s
    }

    /// Inserts a session. The caller guarantees the key and label pair are not
    /// in use (checked in debug builds). New TCP sessions start in SYN sent,
    /// UDP ones in `Udp`.
    pub fn insert(&mut self, new: NewSession) -> SessionId {
        self.insert_hashed(self.hash_key(&new.key), new)
    }

    /// [`SessionTable::insert`] with the key's hash already computed.
    pub fn insert_hashed(&mut self, hash: u64, new: NewSession) -> SessionId {
        debug_assert_eq!(hash, self.hash_key(&new.key));
        debug_assert!(self.find(&new.key).is_none());
        debug_assert_eq!(self.by_pair[new.pair_index as usize], NIL);
        let state = match new.key.protocol {
            Protocol::Tcp => SessionState::SynSent,
            Protocol::Udp => SessionState::Udp,
        };
        let session = Session {
            key: new.key,
            c2s: new.labels.c2s(),
            pair: new.pair_index,
            server: new.server.0,
            service: new.service.0,
            ingress_port: new.ingress_port,
            client_mac: new.client_mac,
            state,
            class: state.class() as u8,
            origin: Origin::Local,
            bound_by: BoundBy::L4.0,
            here: true,
            synced_class: NOT_SYNCED,
            synced_at_ms: 0,
            created: new.now,
            last_seen: new.now,
            first_reply: NO_REPLY,
            counters: Counters::default(),
            prev: NIL,
            next: NIL,
        };
        let slot = if self.free_head != NIL {
            let slot = self.free_head;
            self.free_head = self.slots[slot as usize].next;
            self.slots[slot as usize] = session;
            slot
        } else {
            let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 sessions");
            self.slots.push(session);
            slot
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert_unique(hash, slot, |&s| Self::hash(hasher, &slots[s as usize].key));
        self.by_pair[new.pair_index as usize] = slot;
        self.link_tail(slot, state.class());
        self.len += 1;
        SessionId(slot)
    }

    /// Removes the session at `id` and returns it.
    pub fn remove(&mut self, id: SessionId) -> Session {
        let slot = id.0;
        let s = self.get(id);
        let key = s.key;
        let class = s.class as usize;
        let pair = s.pair;
        let hash = Self::hash(&self.hasher, &key);
        match self.index.find_entry(hash, |&x| x == slot) {
            Ok(entry) => {
                entry.remove();
            }
            Err(_) => unreachable!("live session missing from the key index"),
        }
        self.by_pair[pair as usize] = NIL;
        self.unlink(slot, class);
        let s = &mut self.slots[slot as usize];
        let out = s.clone();
        s.class = VACANT;
        s.prev = NIL;
        s.next = self.free_head;
        self.free_head = slot;
        self.len -= 1;
        out
    }

    /// Restarts the session's idle timer at `now` (not in linger or
    /// reset: those end when their time is up, whatever still arrives).
    pub fn touch(&mut self, id: SessionId, now: u64) {
        let s = &self.slots[id.0 as usize];
        debug_assert_ne!(s.class, VACANT);
        if matches!(s.state, SessionState::Linger | SessionState::Reset) {
            return;
        }
        let class = s.class as usize;
        self.unlink(id.0, class);
        let s = &mut self.slots[id.0 as usize];
        s.last_seen = s.last_seen.max(now);
        self.link_tail(id.0, class);
    }

    /// Sets where the session came from; a synced one is not this
    /// instance's until its frames arrive ([`SessionTable::mark_here`]).
    pub fn set_origin(&mut self, id: SessionId, origin: Origin) {
        let s = &mut self.slots[id.0 as usize];
        debug_assert_ne!(s.class, VACANT);
        s.origin = origin;
        s.here = origin != Origin::Synced;
    }

    /// Records what bound the session to its pool.
    pub fn set_bound_by(&mut self, id: SessionId, by: BoundBy) {
        self.slots[id.0 as usize].bound_by = by.0;
    }

    /// Records that the session's traffic or events are seen here.
    pub fn mark_here(&mut self, id: SessionId) {
        self.slots[id.0 as usize].here = true;
    }

    /// Records that a sync record was sent for the session at `now`.
    pub fn mark_synced(&mut self, id: SessionId, now: u64) {
        let s = &mut self.slots[id.0 as usize];
        debug_assert_ne!(s.class, VACANT);
        s.synced_class = s.class;
        s.synced_at_ms = (now / 1_000_000) as u32;
    }

    /// When the session's timer runs out (last restart + its state's
    /// timeout).
    pub fn deadline(&self, id: SessionId) -> u64 {
        let s = self.get(id);
        s.last_seen.saturating_add(self.timeouts[s.class as usize])
    }

    /// Puts an installed session (synced or restored) in `state` with
    /// `remaining` ns left on its timer, the creation time and first
    /// reply it had where it was admitted. Its timer never runs out
    /// before another session's of the same state that was refreshed
    /// later (the lists stay ordered): it may get more time, never less.
    pub fn set_installed(
        &mut self,
        id: SessionId,
        state: SessionState,
        remaining: u64,
        created: u64,
        first_reply: Option<u64>,
        now: u64,
    ) {
        let old = self.slots[id.0 as usize].class as usize;
        self.unlink(id.0, old);
        let class = state.class();
        let timeout = self.timeouts[class];
        let mut last_seen = now.saturating_sub(timeout.saturating_sub(remaining));
        let tail = self.lists[class].tail;
        if tail != NIL {
            last_seen = last_seen.max(self.slots[tail as usize].last_seen);
        }
        let s = &mut self.slots[id.0 as usize];
        s.state = state;
        s.class = class as u8;
        s.last_seen = last_seen;
        s.created = created;
        s.first_reply = first_reply.unwrap_or(NO_REPLY);
        self.link_tail(id.0, class);
    }

    /// Moves the session to `state` and restarts its timer there.
    pub fn set_state(&mut self, id: SessionId, state: SessionState, now: u64) {
        let s = &self.slots[id.0 as usize];
        debug_assert_ne!(s.class, VACANT);
        let class = s.class as usize;
        self.unlink(id.0, class);
        let s = &mut self.slots[id.0 as usize];
        s.state = state;
        s.class = state.class() as u8;
        s.last_seen = s.last_seen.max(now);
        self.link_tail(id.0, state.class());
    }

    /// Records the first reply at `now`. Returns the response time (now minus
    /// creation) if this was the first one.
    pub fn set_first_reply(&mut self, id: SessionId, now: u64) -> Option<u64> {
        let s = &mut self.slots[id.0 as usize];
        debug_assert_ne!(s.class, VACANT);
        if s.first_reply != NO_REPLY {
            return None;
        }
        s.first_reply = now;
        Some(now.saturating_sub(s.created))
    }

    /// Adds to the session's counters.
    pub fn count(&mut self, id: SessionId, dir: Direction, packets: u64, bytes: u64) {
        let s = &mut self.slots[id.0 as usize];
        debug_assert_ne!(s.class, VACANT);
        s.counters.packets[dir as usize] += packets;
        s.counters.bytes[dir as usize] += bytes;
    }

    /// One expiry visit: looks at list heads (starting with a different class
    /// each call) and returns the first session whose timeout has passed, with
    /// why it expired. At most `CLASSES` heads are looked at; `None` means
    /// nothing is due at `now`.
    pub fn pop_expired(&mut self, now: u64) -> Option<(SessionId, EndReason)> {
        for i in 0..CLASSES {
            let class = (self.next_class + i) % CLASSES;
            let head = self.lists[class].head;
            if head == NIL {
                continue;
            }
            let s = &self.slots[head as usize];
            if s.last_seen.saturating_add(self.timeouts[class]) <= now {
                self.next_class = (class + 1) % CLASSES;
                return Some((SessionId(head), Timeouts::reason(class)));
            }
        }
        None
    }

    /// Heap bytes held by the table (slab, key index, label index).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Session>()
            + self.index.allocation_size()
            + self.by_pair.capacity() * std::mem::size_of::<u32>()
    }

    /// Live sessions, in slot order (for control-plane listings; O(capacity)).
    /// Number of slots (live or vacant): the bound of [`Self::get_slot`],
    /// for scans that visit a few slots per call (session sync).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The live session in slot `i`, if any (`None` past the end too).
    pub fn get_slot(&self, i: usize) -> Option<(SessionId, &Session)> {
        let s = self.slots.get(i)?;
        (s.class != VACANT).then_some((SessionId(i as u32), s))
    }

    pub fn iter(&self) -> impl Iterator<Item = (SessionId, &Session)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.class != VACANT)
            .map(|(i, s)| (SessionId(i as u32), s))
    }

    fn link_tail(&mut self, slot: u32, class: usize) {
        let tail = self.lists[class].tail;
        {
            let s = &mut self.slots[slot as usize];
            s.prev = tail;
            s.next = NIL;
        }
        if tail == NIL {
            self.lists[class].head = slot;
        } else {
            self.slots[tail as usize].next = slot;
        }
        self.lists[class].tail = slot;
    }

    fn unlink(&mut self, slot: u32, class: usize) {
        let (prev, next) = {
            let s = &self.slots[slot as usize];
            (s.prev, s.next)
        };
        if prev == NIL {
            self.lists[class].head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            self.lists[class].tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use Direction::{ClientToServer as C2S, ServerToClient as S2C};
    use SessionState::*;

    #[test]
    fn session_is_136_bytes() {
        assert_eq!(std::mem::size_of::<SessionKey>(), 40);
        assert_eq!(std::mem::size_of::<Session>(), 136);
    }

    /// Expected outcome for a packet: (state, direction, flags that must be
    /// set, flags that must be clear) -> outcome. First matching row wins.
    /// This is the state machine table of docs/session-core.md.
    #[allow(clippy::type_complexity)]
    fn expected_table() -> Vec<(Option<SessionState>, Option<Direction>, u8, u8, Transition)> {
        const F: u8 = TcpFlags::FIN;
        const S: u8 = TcpFlags::SYN;
        const R: u8 = TcpFlags::RST;
        let t = |next, first_reply| Transition { next, first_reply };
        vec![
            // any state, any direction
            (None, None, S | F, 0, t(Next::Ignore, false)),
            (None, None, S | R, 0, t(Next::Ignore, false)),
            (Some(Reset), None, 0, 0, t(Next::Stay, false)),
            (None, None, R, 0, t(Next::Enter(Reset), false)),
            (Some(Udp), None, 0, 0, t(Next::Stay, false)),
            (Some(SynSent), Some(C2S), 0, 0, t(Next::Stay, false)),
            (
                Some(SynSent),
                Some(S2C),
                F,
                0,
                t(Next::Enter(Closing(S2C)), true),
            ),
            (
                Some(SynSent),
                Some(S2C),
                0,
                0,
                t(Next::Enter(Established), true),
            ),
            (
                Some(Established),
                Some(C2S),
                F,
                0,
                t(Next::Enter(Closing(C2S)), false),
            ),
            (
                Some(Established),
                Some(S2C),
                F,
                0,
                t(Next::Enter(Closing(S2C)), false),
            ),
            (Some(Established), None, 0, F, t(Next::Stay, false)),
            (
                Some(Closing(C2S)),
                Some(S2C),
                F,
                0,
                t(Next::Enter(Linger), false),
            ),
            (
                Some(Closing(S2C)),
                Some(C2S),
                F,
                0,
                t(Next::Enter(Linger), false),
            ),
            (Some(Closing(C2S)), None, 0, 0, t(Next::Stay, false)),
            (Some(Closing(S2C)), None, 0, 0, t(Next::Stay, false)),
            (Some(Linger), None, 0, 0, t(Next::Stay, false)),
        ]
    }

    #[test]
    fn tcp_state_machine_all_flag_combinations() {
        let table = expected_table();
        let states = [
            SynSent,
            Established,
            Closing(C2S),
            Closing(S2C),
            Linger,
            Udp,
            Reset,
        ];
        let mut checked = 0;
        for state in states {
            for dir in [C2S, S2C] {
                for bits in 0u8..64 {
                    let flags = TcpFlags(bits);
                    let expected = table
                        .iter()
                        .find(|(s, d, set, clear, _)| {
                            s.is_none_or(|s| s == state)
                                && d.is_none_or(|d| d == dir)
                                && bits & set == *set
                                && bits & clear == 0
                        })
                        .map(|row| row.4)
                        .unwrap_or_else(|| panic!("no row for {state:?} {dir:?} {bits:#04x}"));
                    assert_eq!(
                        tcp_transition(state, flags, dir),
                        expected,
                        "{state:?} {dir:?} flags {bits:#04x}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 2 * 64);
    }

    #[test]
    fn only_syn_without_ack_starts_a_session() {
        let starts: Vec<u8> = (0u8..64)
            .filter(|&b| TcpFlags(b).is_session_start())
            .collect();
        // SYN plus any of PSH/URG, nothing else.
        assert_eq!(starts, vec![0x02, 0x0a, 0x22, 0x2a]);
    }

    fn key(port: u16) -> SessionKey {
        SessionKey {
            protocol: Protocol::Tcp,
            vip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            vip_port: 80,
            client: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
            client_port: port,
        }
    }

    fn new(port: u16, pair: u32, now: u64) -> NewSession {
        NewSession {
            key: key(port),
            labels: crate::labels::LabelPair::containing(17 + 2 * pair).unwrap(),
            pair_index: pair,
            server: ServerId(0),
            service: ServiceId(0),
            client_mac: [2, 0, 0, 0, 0, 1],
            ingress_port: 0,
            now,
        }
    }

    #[test]
    fn insert_find_remove_and_slot_reuse() {
        let mut t = SessionTable::new(100, 0, Timeouts::default());
        let a = t.insert(new(1, 0, 0));
        let b = t.insert(new(2, 1, 0));
        assert_eq!(t.find(&key(1)), Some(a));
        assert_eq!(t.find_by_pair(1), Some(b));
        assert_eq!(t.get(b).labels().c2s(), 19);
        let gone = t.remove(a);
        assert_eq!(gone.key, key(1));
        assert_eq!(t.find(&key(1)), None);
        assert_eq!(t.find_by_pair(0), None);
        let c = t.insert(new(3, 0, 0));
        assert_eq!(c, a, "slot reused");
        assert_eq!(t.len(), 2);
        assert_eq!(t.iter().count(), 2);
    }

    #[test]
    fn slots_one_at_a_time_for_bounded_scans() {
        let mut t = SessionTable::new(100, 0, Timeouts::default());
        assert_eq!((t.slot_count(), t.get_slot(0).map(|s| s.0)), (0, None));
        let a = t.insert(new(1, 0, 0));
        let b = t.insert(new(2, 1, 0));
        t.remove(a);
        assert_eq!(t.slot_count(), 2, "a vacant slot still counts");
        assert_eq!(t.get_slot(0).map(|s| s.0), None, "vacant");
        assert_eq!(t.get_slot(1).map(|s| s.0), Some(b));
        assert_eq!(t.get_slot(2).map(|s| s.0), None, "past the end");
    }

    #[test]
    fn expiry_follows_timeouts_per_state() {
        let to = Timeouts {
            tcp_syn_sent_ns: 10,
            tcp_established_ns: 100,
            tcp_closing_ns: 50,
            tcp_linger_ns: 5,
            udp_ns: 30,
        };
        let mut t = SessionTable::new(100, 0, to);
        let a = t.insert(new(1, 0, 0)); // SYN sent, due at 10
        let b = t.insert(new(2, 1, 0));
        t.set_state(b, Established, 5); // due at 105
        t.touch(a, 3); // due at 13
        assert_eq!(t.pop_expired(12), None);
        assert_eq!(t.pop_expired(13), Some((a, EndReason::NoReply)));
        t.remove(a);
        assert_eq!(t.pop_expired(104), None);
        t.set_state(b, Linger, 104); // due at 109, not extended by touch
        t.touch(b, 108);
        assert_eq!(t.pop_expired(108), None);
        assert_eq!(t.pop_expired(109), Some((b, EndReason::Closed)));
    }

    #[test]
    fn new_timeouts_apply_at_once_to_waiting_sessions_in_deadline_order() {
        let to = Timeouts {
            tcp_established_ns: 100,
            ..Timeouts::default()
        };
        let mut t = SessionTable::new(100, 0, to);
        let ids: Vec<_> = (0..4)
            .map(|i| {
                let id = t.insert(new(i as u16 + 1, i, 0));
                t.set_state(id, Established, 10 * i as u64); // due at 100, 110, 120, 130
                id
            })
            .collect();
        assert_eq!(t.pop_expired(99), None);
        // Longer: nothing due at 100 any more; due at 500 + restart.
        t.set_timeouts(Timeouts {
            tcp_established_ns: 500,
            ..to
        });
        assert_eq!(t.timeouts().tcp_established_ns, 500);
        assert_eq!(t.pop_expired(499), None);
        assert_eq!(t.pop_expired(500), Some((ids[0], EndReason::Idle)));
        // Shorter: the ones past the new deadline are due at once, oldest
        // restart first.
        t.set_timeouts(Timeouts {
            tcp_established_ns: 15,
            ..to
        });
        let mut order = Vec::new();
        while let Some((id, r)) = t.pop_expired(36) {
            assert_eq!(r, EndReason::Idle);
            t.remove(id);
            order.push(id);
        }
        assert_eq!(order, ids[..3]); // restarts 0, 10, 20 <= 36 - 15
        assert_eq!(t.pop_expired(44), None);
        assert_eq!(t.pop_expired(45), Some((ids[3], EndReason::Idle)));
    }
}
