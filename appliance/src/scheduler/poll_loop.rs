//! The scheduler lcore's loop: the DPDK side of [`crate::scheduler`].
//! It owns queue `q` (= number of workers) on every port: it polls RX
//! queue `q` like a worker (some devices, e.g. net_tap, need as many RX as
//! TX queues, and spread flows over all of them), reads the clock (TSC, in
//! nanoseconds), runs one scheduler round and the control commands
//! waiting ([`round`]), and sends what it produced on TX queue `q`.

use super::Scheduler;
use crate::control;
use crate::dpdk::{self, Mbuf, PacketBatch, Port};
use crate::frame::Frame;
use crate::stop;
use crate::worker::Idle;
use crate::worker::LoopCounters;

/// Converts TSC ticks to nanoseconds since the loop started.
pub struct Clock {
    start: u64,
    hz: u128,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            start: dpdk::tsc(),
            hz: u128::from(dpdk::tsc_hz().max(1)),
        }
    }

    #[inline]
    pub fn now_ns(&self) -> u64 {
        let t = u128::from(dpdk::tsc().wrapping_sub(self.start));
        // Never 0: the core treats 0 as "never".
        (t * 1_000_000_000 / self.hz) as u64 + 1
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// One turn of the scheduler lcore at time `now`: a round of data-path
/// work, then the control commands waiting. Returns the work done (0 =
/// idle). The golden rig turns the scheduler with this too.
pub fn round<F: Frame>(sched: &mut Scheduler<F>, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
    sched.poll(now, out) + control::commands::run(sched, now)
}

/// Runs the scheduler until [`stop::requested`]. `tx_dropped` counts frames
/// a full TX queue refused. `ports` are the configured ports, then the
/// exception port when the data path has one (`shared/exception.rs`): the
/// scheduler alone polls and sends on its queue 0, and its frames go out of
/// the port the exception path peers through.
pub fn run(
    sched: &mut Scheduler<Mbuf>,
    ports: &[&Port],
    queue: u16,
    counters: &LoopCounters,
    idle: Idle,
) {
    let clock = Clock::new();
    let mut batches: Vec<PacketBatch> = ports.iter().map(|_| PacketBatch::new()).collect();
    let mut overflow: Vec<(usize, Mbuf)> = Vec::with_capacity(1024);
    let mut rx = PacketBatch::new();
    let mut empty = 0u32;
    let exception = sched.exception_port();
    let queue_of = |p: usize| if Some(p) == exception { 0 } else { queue };
    while !stop::requested() {
        let mut busy = false;
        for (p, port) in ports.iter().enumerate() {
            let q = queue_of(p);
            let n = if port.rx_queues() > q {
                port.rx_burst(q, &mut rx)
            } else {
                0
            };
            if n > 0 {
                busy = true;
                LoopCounters::bump(&counters.rx_packets, n as u64);
                for m in rx.drain() {
                    let o = if Some(p) == exception {
                        sched.from_kernel(m)
                    } else {
                        sched.receive(p, m)
                    };
                    if let Some(o) = o {
                        overflow.push(o);
                    }
                }
            }
        }
        let now = clock.now_ns();
        let mut sink = |p: usize, m: Mbuf| overflow.push((p, m));
        busy |= round(sched, now, &mut sink) > 0;
        for (p, m) in overflow.drain(..) {
            let Some(batch) = batches.get_mut(p) else {
                continue;
            };
            if let Err(m) = batch.push(m) {
                flush(ports[p], queue_of(p), batch, counters);
                if batch.push(m).is_err() {
                    LoopCounters::bump(&counters.tx_full_drops, 1);
                }
            }
        }
        for (p, batch) in batches.iter_mut().enumerate() {
            if !batch.is_empty() {
                flush(ports[p], queue_of(p), batch, counters);
            }
        }
        idle.after_poll(busy, &mut empty);
    }
}

fn flush(port: &Port, queue: u16, batch: &mut PacketBatch, counters: &LoopCounters) {
    let (sent, dropped) = port.tx_burst_or_drop(queue, batch);
    LoopCounters::bump(&counters.tx_packets, sent as u64);
    if dropped > 0 {
        LoopCounters::bump(&counters.tx_full_drops, dropped as u64);
    }
}
