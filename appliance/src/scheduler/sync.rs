//! Session sync, the sending side (issue 15, docs/operations.md "Session
//! sync"): this instance sends its peers the sessions worth keeping, so
//! that a peer switches them on when this instance dies.
//!
//! Everything runs on the scheduler, bounded per round, never on a
//! worker:
//!
//! - a cursor scan visits every session slot once per scan period (a
//!   quarter of `after_ms`, 50 ms to 1 s: 250 ms for 1 s), paced by the
//!   clock (so an idle scheduler spinning through rounds does not scan
//!   faster), at most [`SCAN_PER_ROUND`] slots a round, and records a session when it is *due*: this instance switches it
//!   (`is_here`), it is past SYN, it is older than `after_ms` (or carried
//!   `after_packets`), and it was never synced, changed its timer class
//!   (state) since its last record, or was last synced `refresh_ms` ago
//!   (the peers' copies must not time out during a long transfer);
//! - a session that ends after a record of it was sent becomes an `ended`
//!   record (queued by `Scheduler::withdraw`, at most [`ENDED_QUEUE`],
//!   sent at most [`SCAN_PER_ROUND`] a round);
//! - records are packed into UDP datagrams (`slb_wire::sync`) up to the
//!   smallest port MTU, and each datagram goes to every live peer from the
//!   address of the port facing it, on `cluster.sync.port` at both ends,
//!   through the scheduler's own TX;
//! - a peer's dump request starts a dump: every session this instance
//!   switches, whatever its age, to that peer only, the same number of
//!   slots a round, then a dump end;
//! - at start, this instance asks every live peer for a dump and holds
//!   its route announcements (`SyncState::holding`) until every live
//!   peer's dump end arrived (and at least [`RESOLVE_NS`] passed, for the
//!   peers to answer ARP) or `dump_wait_ms` passed.
//!
//! A synced copy here is *live*, not standby: its labels are in every
//! label table and its flow in every flow cache, so a frame the network
//! sends here is switched at once, and there is nothing to take over. When
//! a copy's frames arrive here (activity marks), this instance marks it its
//! own and syncs it from then on, so the remaining peers keep a fresh copy.
//! The datagrams received are `sync_receive.rs`'s.

use super::sync_state::{
    due, Dump, Settings, ASK_AGAIN_NS, ENDED_QUEUE, RESOLVE_NS, SCAN_PER_ROUND,
};
use super::Scheduler;
use crate::counters::Event;
use crate::frame::Frame;
use slb_core::service::Ended;
use slb_core::session::SessionState;
use slb_core::session_record::SessionRecord;
use slb_core::{Protocol, SessionId};
use slb_wire::builder::FrameBuilder;
use slb_wire::sync::{self as wire, Kind};
use slb_wire::MacAddr;

impl<F: Frame> Scheduler<F> {
    /// Whether this instance still holds its route announcements until
    /// its peers' dumps are in (always false without sync).
    pub fn sync_holding(&self) -> bool {
        self.sync.holding()
    }

    /// One round of session sync: the hold, the scan, the ended records,
    /// the dumps. Returns the records sent.
    pub(crate) fn run_sync(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let Some(st) = self.sync.settings else {
            return 0;
        };
        self.sync_hold(&st, now, out);
        let mut work = 0;
        if self
            .peers
            .iter()
            .any(|p| self.peers.live(p.instance, now).is_some())
        {
            work += self.sync_scan(&st, now, out);
            work += self.sync_ended(now, out);
            if let Some((payload, count)) = self.sync.out.take(self.sync.instance) {
                self.send_to_peers(&payload, count, now, out);
            }
        } else {
            // Nobody to tell: their dumps will carry the sessions.
            self.sync.ended.clear();
        }
        work + self.sync_dumps(now, out)
    }

    /// A session ended: when its peers hold a copy, they get an `ended`
    /// record (next round).
    pub(crate) fn sync_withdrawn(&mut self, e: &Ended) {
        if !e.synced || self.sync.settings.is_none() || self.sync.ended.len() >= ENDED_QUEUE {
            return;
        }
        let server = self
            .core
            .service(e.service)
            .and_then(|s| s.pool().get(e.server))
            .map_or(e.key.vip, |s| s.addr());
        self.sync.ended.push(SessionRecord {
            key: e.key,
            c2s: e.labels.c2s(),
            server,
            client_mac: [0; 6],
            ingress_port: 0,
            state: match e.key.protocol {
                Protocol::Udp => SessionState::Udp,
                Protocol::Tcp => SessionState::Reset,
            },
            remaining_ms: 0,
            age_ms: (e.ended_at.saturating_sub(e.created) / 1_000_000) as u32,
            replied: e.first_reply.is_some(),
            ended: true,
        });
    }

    /// Asks the live peers for their dumps, and releases the hold.
    fn sync_hold(&mut self, st: &Settings, now: u64, out: &mut dyn FnMut(usize, F)) {
        let Some(h) = &mut self.sync.hold else {
            return;
        };
        if h.started == 0 {
            h.started = now;
        }
        let started = h.started;
        let mut ask = Vec::new();
        let mut live_pending = 0;
        for p in self.peers.iter() {
            if h.done.contains(&p.instance) || self.peers.live(p.instance, now).is_none() {
                continue;
            }
            live_pending += 1;
            let last = h.asked.iter().find(|(i, _)| *i == p.instance).map(|a| a.1);
            if last.is_none_or(|t| now.saturating_sub(t) >= ASK_AGAIN_NS) {
                ask.push(p.instance);
            }
        }
        for peer in ask {
            if self.send_to(
                peer,
                &wire::header(Kind::DumpRequest, self.sync.instance, 0),
                now,
                out,
            ) {
                if let Some(h) = &mut self.sync.hold {
                    h.asked.retain(|(i, _)| *i != peer);
                    h.asked.push((peer, now));
                }
            }
        }
        let waited = now.saturating_sub(started);
        let timed_out = waited >= st.dump_wait_ns;
        let complete = waited >= RESOLVE_NS.min(st.dump_wait_ns) && live_pending == 0;
        if timed_out || complete {
            let done = self.sync.hold.take().map(|h| h.done).unwrap_or_default();
            let missing: Vec<u16> = self
                .peers
                .iter()
                .map(|p| p.instance)
                .filter(|i| !done.contains(i))
                .collect();
            tracing::info!(
                dumps_from = ?done,
                missing = ?missing,
                waited_ms = waited / 1_000_000,
                timed_out = timed_out && !complete,
                "session sync: peers' dumps in, routes may be announced"
            );
        }
    }

    /// The bounded scan: due sessions to every live peer.
    fn sync_scan(&mut self, st: &Settings, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let n = self.core.sessions().slot_count();
        // Slots owed for the time since the scan's clock (no backlog of
        // more than a period), at most a round's worth.
        let since = self
            .sync
            .scanned_to
            .max(now.saturating_sub(st.scan_period_ns));
        let owed = (n as u128 * u128::from(now - since) / u128::from(st.scan_period_ns)) as usize;
        let visits = owed.min(SCAN_PER_ROUND);
        if visits == 0 {
            self.sync.scanned_to = since;
            return 0;
        }
        // The time those visits were owed for (the fraction stays owed).
        self.sync.scanned_to =
            (since + (visits as u64 * st.scan_period_ns).div_ceil(n as u64)).min(now);
        let mut sent = 0;
        for _ in 0..visits {
            let i = self.sync.cursor % n;
            self.sync.cursor = (i + 1) % n;
            let Some((id, s)) = self.core.sessions().get_slot(i) else {
                continue;
            };
            if !s.is_here() {
                // A peer's copy whose frames arrived here: ours now.
                let c2s = s.labels().c2s();
                if !self.carried_traffic(c2s) {
                    continue;
                }
                self.core.mark_here(id);
            }
            if !due(self.core.session(id), st, now) {
                continue;
            }
            if self.record_into_out(id, now, out) {
                sent += 1;
            }
        }
        sent
    }

    /// Whether a session's pair carried traffic since the expiry last
    /// looked (on any core); the marks stay for the expiry.
    fn carried_traffic(&self, c2s: u32) -> bool {
        let Some(first) = self.shared.activity.first() else {
            return false;
        };
        let i = first.index(c2s);
        self.shared.activity.iter().any(|a| a.peek(i) != 0)
    }

    /// `id`'s record into the datagram to every peer (sent when full).
    fn record_into_out(&mut self, id: SessionId, now: u64, out: &mut dyn FnMut(usize, F)) -> bool {
        let Some(rec) = self.sync_record(id, now) else {
            return false;
        };
        self.push_out(&rec, now, out);
        self.core.mark_synced(id, now);
        true
    }

    /// `id`'s record for the peers. Its timer runs for at least two
    /// refresh periods there: this instance's own deadline moves only when
    /// its expiry finds traffic (activity marks), so a copy given just
    /// the time left could time out on a peer between two refreshes of a
    /// session that lives on here. A copy outliving its session is ended
    /// by the `ended` record.
    fn sync_record(&self, id: SessionId, now: u64) -> Option<SessionRecord> {
        let mut rec = self.core.record(id, now)?;
        if let Some(st) = self.sync.settings {
            rec.remaining_ms = rec.remaining_ms.max(st.refresh_ms.saturating_mul(2));
        }
        Some(rec)
    }

    fn push_out(&mut self, rec: &SessionRecord, now: u64, out: &mut dyn FnMut(usize, F)) {
        if !self.sync.out.has_room(self.sync.max_payload) {
            if let Some((payload, count)) = self.sync.out.take(self.sync.instance) {
                self.send_to_peers(&payload, count, now, out);
            }
        }
        self.sync.out.push(rec);
    }

    /// Queued ended records, at most [`SCAN_PER_ROUND`] a round (a
    /// server gone down with `on_down: reset` ends its sessions at once).
    fn sync_ended(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let mut n = 0;
        while n < SCAN_PER_ROUND {
            let Some(rec) = self.sync.ended.pop() else {
                break;
            };
            self.push_out(&rec, now, out);
            n += 1;
        }
        n
    }

    /// The dumps peers asked for, [`SCAN_PER_ROUND`] slots each a round.
    fn sync_dumps(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let mut work = 0;
        let mut dumps = std::mem::take(&mut self.sync.dumps);
        dumps.retain_mut(|d| {
            // A peer that died asks again when it is back.
            if self.peers.live(d.peer, now).is_none() {
                return false;
            }
            let n = self.core.sessions().slot_count();
            let end = (d.cursor + SCAN_PER_ROUND).min(n);
            for i in d.cursor..end {
                let Some((id, s)) = self.core.sessions().get_slot(i) else {
                    continue;
                };
                if !s.is_here() || s.state() == SessionState::SynSent {
                    continue;
                }
                let Some(rec) = self.sync_record(id, now) else {
                    continue;
                };
                if !d.out.has_room(self.sync.max_payload) {
                    self.flush_dump(d, now, out);
                }
                d.out.push(&rec);
                self.core.mark_synced(id, now);
                work += 1;
            }
            d.cursor = end;
            if end < n {
                return true;
            }
            self.flush_dump(d, now, out);
            let header = wire::header(Kind::DumpEnd, self.sync.instance, 0);
            if self.send_to(d.peer, &header, now, out) {
                self.counters.event(Event::SyncDumpsSent);
            }
            false
        });
        // A dump under way is work even when its slots held nothing.
        work += dumps.len();
        self.sync.dumps = dumps;
        work
    }

    fn flush_dump(&mut self, d: &mut Dump, now: u64, out: &mut dyn FnMut(usize, F)) {
        if let Some((payload, count)) = d.out.take(self.sync.instance) {
            if self.send_to(d.peer, &payload, now, out) {
                self.counters
                    .events(Event::SyncRecordsSent, u64::from(count));
            }
        }
    }

    /// A records datagram to every live peer.
    fn send_to_peers(
        &mut self,
        payload: &[u8],
        count: u16,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let peers: Vec<u16> = self.peers.iter().map(|p| p.instance).collect();
        for peer in peers {
            if self.send_to(peer, payload, now, out) {
                self.counters
                    .events(Event::SyncRecordsSent, u64::from(count));
            }
        }
    }

    /// A sync datagram to `peer` while it lives: from the address of the
    /// port facing it, on the sync port at both ends.
    fn send_to(&self, peer: u16, payload: &[u8], now: u64, out: &mut dyn FnMut(usize, F)) -> bool {
        let Some(sync_port) = self.sync.port() else {
            return false;
        };
        let Some((pi, mac)) = self.peers.live(peer, now) else {
            return false;
        };
        let Some(addr) = self
            .peers
            .iter()
            .find(|p| p.instance == peer)
            .map(|p| p.addr)
        else {
            return false;
        };
        let Some(port) = self.shared.ports.get(usize::from(pi)) else {
            return false;
        };
        let Some(src) = port.address_like(addr) else {
            return false;
        };
        let bytes = FrameBuilder::udp(
            MacAddr(port.mac),
            MacAddr(mac),
            src,
            addr,
            sync_port,
            sync_port,
        )
        .payload(payload)
        .build();
        match (self.alloc)(&bytes) {
            Some(f) => {
                out(usize::from(pi), f);
                true
            }
            None => false,
        }
    }
}
