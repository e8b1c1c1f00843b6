//! The run-to-completion poll loop of a worker lcore.
//!
//! Each worker owns RX queue `q` and TX queue `q` on every port, so no two
//! lcores touch the same queue and nothing is locked. One iteration: for
//! each port, receive a burst, hand every packet to the [`Handler`], collect
//! what it sends in one TX batch per out port, then flush the TX batches.
//! Every mode uses this loop, so the `forward` baseline and the real data
//! path differ only in their handler.

use crate::dpdk::{Drain, PacketBatch, Port};
use crate::{dpdk::Mbuf, stop};
use std::sync::atomic::{AtomicU64, Ordering};

/// Decides the fate of one received packet.
pub trait Handler {
    /// `in_port` is the index (into the worker's port list) the packet came
    /// in on. Return `Some((out_port_index, mbuf))` to transmit it; `None`
    /// when the handler consumed it (dropped and counted, or handed on).
    fn handle(&mut self, in_port: usize, m: Mbuf) -> Option<(usize, Mbuf)>;

    /// Called once per loop iteration, between bursts (e.g. to apply
    /// changes the scheduler queued for this worker).
    #[inline]
    fn poll(&mut self) {}

    /// Called once per burst, before its first packet is handled, with
    /// the whole burst: look at every packet and start loading what
    /// handling them will need (the staged burst, `worker/burst.rs`).
    #[inline]
    fn prepare(&mut self, _burst: &Drain) {}
}

/// Counters of one worker, written by that worker only (plain load+store,
/// no read-modify-write), read by the main thread. One cache line each so
/// workers never share a line.
#[repr(align(64))]
#[derive(Default, Debug)]
pub struct LoopCounters {
    pub rx_packets: AtomicU64,
    pub tx_packets: AtomicU64,
    /// Packets the TX queue did not take (queue full); freed.
    pub tx_full_drops: AtomicU64,
    /// Loop iterations (polls of every port), to see idle spinning.
    pub polls: AtomicU64,
}

impl LoopCounters {
    #[inline]
    pub(crate) fn bump(c: &AtomicU64, n: u64) {
        c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> LoopSnapshot {
        LoopSnapshot {
            rx_packets: self.rx_packets.load(Ordering::Relaxed),
            tx_packets: self.tx_packets.load(Ordering::Relaxed),
            tx_full_drops: self.tx_full_drops.load(Ordering::Relaxed),
            polls: self.polls.load(Ordering::Relaxed),
        }
    }
}

/// A plain copy of [`LoopCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopSnapshot {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub tx_full_drops: u64,
    pub polls: u64,
}

/// How a poll loop waits when there is nothing to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle {
    /// Sleep this long after `IDLE_POLLS` empty polls in a row; 0 = never
    /// sleep (pure polling, the DPDK norm on dedicated cores). Labs and VMs
    /// with fewer cores than lcores set it so the kernel gets CPU time.
    pub sleep_us: u32,
}

/// Empty polls in a row before an idle loop sleeps.
const IDLE_POLLS: u32 = 256;

impl Idle {
    /// Call once per loop iteration with whether it did any work.
    #[inline]
    pub fn after_poll(&self, busy: bool, empty_polls: &mut u32) {
        if busy {
            *empty_polls = 0;
            return;
        }
        *empty_polls += 1;
        if self.sleep_us > 0 && *empty_polls >= IDLE_POLLS {
            // Only when idle: never between packets of a burst.
            std::thread::sleep(std::time::Duration::from_micros(u64::from(self.sleep_us)));
        }
    }
}

/// Runs the poll loop until [`stop::requested`].
pub fn run<H: Handler>(
    ports: &[&Port],
    queue: u16,
    handler: &mut H,
    counters: &LoopCounters,
    idle: Idle,
) {
    let mut rx = PacketBatch::new();
    // Allocated once, before the loop: nothing below allocates.
    let mut tx: Vec<PacketBatch> = ports.iter().map(|_| PacketBatch::new()).collect();
    let mut polls = 0u64;
    let mut empty = 0u32;
    while !stop::requested() {
        let mut busy = false;
        for (in_port, port) in ports.iter().enumerate() {
            let n = port.rx_burst(queue, &mut rx);
            if n == 0 {
                continue;
            }
            busy = true;
            LoopCounters::bump(&counters.rx_packets, n as u64);
            // The whole burst is looked at first (its cache misses
            // overlap); the packets stay in the RX batch until their turn.
            let pkts = rx.drain();
            handler.prepare(&pkts);
            for m in pkts {
                if let Some((out, m)) = handler.handle(in_port, m) {
                    let Some(batch) = tx.get_mut(out) else {
                        // A handler bug must not crash the lcore: drop it.
                        LoopCounters::bump(&counters.tx_full_drops, 1);
                        continue;
                    };
                    if let Err(m) = batch.push(m) {
                        flush(ports[out], queue, batch, counters);
                        if batch.push(m).is_err() {
                            LoopCounters::bump(&counters.tx_full_drops, 1);
                        }
                    }
                }
            }
            for (out, batch) in tx.iter_mut().enumerate() {
                if !batch.is_empty() {
                    flush(ports[out], queue, batch, counters);
                }
            }
        }
        handler.poll();
        idle.after_poll(busy, &mut empty);
        polls += 1;
        if polls & 0x3ff == 0 {
            LoopCounters::bump(&counters.polls, 0x400);
        }
    }
}

/// Sends a TX batch; what the queue refuses is freed and counted, so a
/// stalled port never blocks the loop.
#[inline]
fn flush(port: &Port, queue: u16, batch: &mut PacketBatch, counters: &LoopCounters) {
    let (sent, dropped) = port.tx_burst_or_drop(queue, batch);
    LoopCounters::bump(&counters.tx_packets, sent as u64);
    if dropped > 0 {
        LoopCounters::bump(&counters.tx_full_drops, dropped as u64);
    }
}
