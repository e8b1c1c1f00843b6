//! Neighbour resolution on the scheduler: the MACs of servers (and of any
//! on-link address slbd must reach) by ARP / ND from slbd's own ports,
//! refreshed, with a small bounded queue of frames held while a neighbour
//! is unresolved. Static MACs from the configuration never expire.
//!
//! Each neighbour owns a next-hop slot in [`crate::shared::nexthop::NextHops`]; the
//! slot is valid only while the MAC is known, so workers drop (and count
//! `no_next_hop`) rather than send to a stale or unknown MAC.

use crate::shared::nexthop::{NextHop, NextHops};
use crate::shared::slots::Slots;
use hashbrown::HashMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Frames held per unresolved neighbour (TCP retransmits anything more).
pub const HOLD: usize = 8;
/// Re-request an unresolved neighbour this often.
pub const RETRY_NS: u64 = 1_000_000_000;
/// Refresh a resolved neighbour this often (a request, answer awaited;
/// the entry stays usable meanwhile).
pub const REFRESH_NS: u64 = 60_000_000_000;

pub struct Neighbour<F> {
    pub port: u8,
    pub slot: u16,
    pub mac: Option<[u8; 6]>,
    pub is_static: bool,
    pub held: VecDeque<F>,
    pub last_request: Option<u64>,
    pub last_answer: u64,
}

/// What the scheduler should do after a neighbour event.
pub enum Resolve<F> {
    /// Send a request for this address out of this port.
    Request { port: u8, addr: IpAddr },
    /// Frames that were waiting, now addressed (caller rewrites L2 and sends).
    Release {
        port: u8,
        mac: [u8; 6],
        frames: Vec<F>,
    },
}

pub struct Neighbours<F> {
    by_addr: HashMap<IpAddr, Neighbour<F>>,
}

impl<F> Default for Neighbours<F> {
    fn default() -> Self {
        Neighbours {
            by_addr: HashMap::new(),
        }
    }
}

impl<F> Neighbours<F> {
    pub fn get(&self, a: &IpAddr) -> Option<&Neighbour<F>> {
        self.by_addr.get(a)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&IpAddr, &Neighbour<F>)> {
        self.by_addr.iter()
    }

    /// The neighbour entry of `addr` on `port`, created (unresolved) if new.
    pub fn ensure(
        &mut self,
        addr: IpAddr,
        port: u8,
        slots: &mut Slots,
    ) -> Option<&mut Neighbour<F>> {
        if !self.by_addr.contains_key(&addr) {
            let slot = slots.alloc()?;
            self.by_addr.insert(
                addr,
                Neighbour {
                    port,
                    slot,
                    mac: None,
                    is_static: false,
                    held: VecDeque::new(),
                    last_request: None,
                    last_answer: 0,
                },
            );
        }
        self.by_addr.get_mut(&addr)
    }

    /// A static MAC from the configuration.
    pub fn set_static(
        &mut self,
        addr: IpAddr,
        port: u8,
        mac: [u8; 6],
        slots: &mut Slots,
        table: &NextHops,
    ) -> bool {
        let Some(n) = self.ensure(addr, port, slots) else {
            return false;
        };
        n.mac = Some(mac);
        n.is_static = true;
        table.set(n.slot, NextHop { port, mac });
        true
    }

    /// An ARP reply / NA said `addr` is at `mac` (seen on `port`). Only
    /// neighbours slbd asked for are learned.
    pub fn learn(
        &mut self,
        addr: IpAddr,
        mac: [u8; 6],
        port: u8,
        now: u64,
        table: &NextHops,
    ) -> Option<Resolve<F>> {
        let n = self.by_addr.get_mut(&addr)?;
        if n.is_static || n.port != port {
            return None;
        }
        n.last_answer = now;
        n.last_request = None;
        if n.mac != Some(mac) {
            n.mac = Some(mac);
            table.set(n.slot, NextHop { port, mac });
        }
        if n.held.is_empty() {
            return None;
        }
        Some(Resolve::Release {
            port,
            mac,
            frames: n.held.drain(..).collect(),
        })
    }

    /// Holds a frame for an unresolved neighbour; gives it back when the
    /// queue is full.
    pub fn hold(&mut self, addr: &IpAddr, f: F) -> Result<(), F> {
        match self.by_addr.get_mut(addr) {
            Some(n) if n.held.len() < HOLD => {
                n.held.push_back(f);
                Ok(())
            }
            _ => Err(f),
        }
    }

    /// Requests to send now: unresolved neighbours not asked for
    /// `RETRY_NS`, resolved ones due a refresh. At most `max`.
    pub fn due(&mut self, now: u64, max: usize, out: &mut Vec<(u8, IpAddr)>) {
        for (addr, n) in self.by_addr.iter_mut() {
            if out.len() >= max {
                break;
            }
            if n.is_static {
                continue;
            }
            let asked_recently = n
                .last_request
                .is_some_and(|t| now.saturating_sub(t) < RETRY_NS);
            let needs = n.mac.is_none() || now.saturating_sub(n.last_answer) >= REFRESH_NS;
            if needs && !asked_recently {
                n.last_request = Some(now);
                out.push((n.port, *addr));
            }
        }
    }
}
