//! Next-hop slots: which indices of [`NextHops`] are in use, and by whom.
//!
//! A slot (1..capacity; 0 means none) is either a neighbour's (a server or
//! any on-link address slbd resolves: it lives as long as the neighbour
//! entry) or a client's: the (ingress port, source MAC) a plain or
//! label-aware client's frames came from, shared by every session of that
//! client and counted, so the slot and its next-hop word are freed when
//! the client's last session ends. Written by the scheduler only.

use super::nexthop::{NextHop, NextHops};
use hashbrown::HashMap;

/// A client's next hop: the port it came in on and its MAC.
pub type ClientHop = (u8, [u8; 6]);

pub struct Slots {
    free: Vec<u16>,
    next: u32,
    capacity: u32,
    /// Each client's slot and how many sessions hold it.
    clients: HashMap<ClientHop, (u16, u32)>,
    /// The client of each client slot (release finds it in O(1)).
    client_of_slot: Vec<ClientHop>,
}

impl Slots {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.min(1 << 16);
        Slots {
            free: Vec::new(),
            next: 1,
            capacity: capacity as u32,
            clients: HashMap::new(),
            client_of_slot: vec![(0, [0; 6]); capacity],
        }
    }

    /// A free slot, or None when all are taken.
    pub fn alloc(&mut self) -> Option<u16> {
        if let Some(i) = self.free.pop() {
            return Some(i);
        }
        if self.next < self.capacity {
            self.next += 1;
            return Some((self.next - 1) as u16);
        }
        None
    }

    /// Gives a slot back (slot 0 is never allocated, so never freed).
    pub fn release(&mut self, i: u16) {
        if i != 0 {
            self.free.push(i);
        }
    }

    /// The slot of client `hop` for one more session: the client's
    /// existing slot, or a new one with its next hop written to `table`.
    /// None when no slot is free. (Inlined: it is on every admission.)
    #[inline]
    pub fn acquire_client(&mut self, hop: ClientHop, table: &NextHops) -> Option<u16> {
        if let Some((slot, refs)) = self.clients.get_mut(&hop) {
            *refs += 1;
            return Some(*slot);
        }
        let slot = self.alloc()?;
        table.set(
            slot,
            NextHop {
                port: hop.0,
                mac: hop.1,
            },
        );
        self.clients.insert(hop, (slot, 1));
        if let Some(k) = self.client_of_slot.get_mut(usize::from(slot)) {
            *k = hop;
        }
        Some(slot)
    }

    /// One session of the client holding `slot` ended: when it was the
    /// last, the slot is freed and its next hop cleared in `table`.
    pub fn release_client(&mut self, slot: u16, table: &NextHops) {
        let Some(hop) = self.client_of_slot.get(usize::from(slot)).copied() else {
            return;
        };
        let last = match self.clients.get_mut(&hop).filter(|v| v.0 == slot) {
            Some(v) => {
                v.1 = v.1.saturating_sub(1);
                v.1 == 0
            }
            None => false,
        };
        if last {
            self.clients.remove(&hop);
            table.clear(slot);
            self.release(slot);
        }
    }

    /// Clients holding a slot.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_slots_are_shared_and_counted() {
        let table = NextHops::new(8);
        let mut s = Slots::new(4);
        let a = (0, [2, 0, 0, 0, 0, 1]);
        let b = (0, [2, 0, 0, 0, 0, 2]);
        let sa = s.acquire_client(a, &table).unwrap();
        assert_eq!(s.acquire_client(a, &table), Some(sa));
        let sb = s.acquire_client(b, &table).unwrap();
        assert_ne!(sa, sb);
        assert_eq!(table.get(sa).map(|n| n.mac), Some(a.1));
        // Slots 1..4: a neighbour takes the last one.
        let n = s.alloc().unwrap();
        assert_eq!(s.alloc(), None);
        assert_eq!(s.acquire_client((1, [2; 6]), &table), None);
        s.release_client(sa, &table);
        assert_eq!(table.get(sa).map(|n| n.mac), Some(a.1), "one session left");
        s.release_client(sa, &table);
        assert!(table.get(sa).is_none(), "last session: next hop cleared");
        assert_eq!(s.clients(), 1);
        // The freed slot is reused; slot 0 is never handed out.
        assert_eq!(s.alloc(), Some(sa));
        s.release(0);
        s.release(n);
        assert_eq!(s.alloc(), Some(n));
        assert_eq!(s.alloc(), None);
    }
}
