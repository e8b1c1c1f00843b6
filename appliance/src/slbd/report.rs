//! What slbd prints when it stops: packets, per-worker loop counters, the
//! data path's events and drops, label usage, and per-port device
//! counters, as text or (`--json`) one JSON object.

use crate::options::{Mode, Options};
use slb_appliance::counters::{Counters, Event, Snapshot};
use slb_appliance::dpdk::Port;
use slb_appliance::worker::{LoopCounters, LoopSnapshot};
use std::sync::Arc;
use std::time::Duration;

/// Label pairs: (capacity, free, active, quarantined).
pub type LabelUse = (u32, u32, u32, u32);

pub struct Report<'a> {
    /// Label pairs (capacity, free, active, quarantined) at the end.
    pub labels: Option<LabelUse>,
    pub mode: Mode,
    pub opts: &'a Options,
    pub ports: &'a [Port],
    pub loops: &'a [LoopCounters],
    /// Balance mode: the scheduler's counters, then each worker's.
    pub path: &'a [Arc<Counters>],
    /// Balance mode: the scheduler's poll loop.
    pub sched_loop: LoopSnapshot,
    pub elapsed: Duration,
}

impl Report<'_> {
    pub fn print(&self) {
        let per_core: Vec<LoopSnapshot> = self.loops.iter().map(|c| c.snapshot()).collect();
        let rx: u64 = per_core.iter().map(|c| c.rx_packets).sum();
        let tx: u64 = per_core.iter().map(|c| c.tx_packets).sum();
        let tx_full: u64 = per_core.iter().map(|c| c.tx_full_drops).sum();
        let mut total = Snapshot::default();
        for c in self.path {
            total.add(&c.snapshot());
        }
        let sched = self.path.first().map(|c| c.snapshot()).unwrap_or_default();
        let secs = self.elapsed.as_secs_f64();
        if self.opts.json {
            let ports_json: Vec<_> = self
                .ports
                .iter()
                .map(|p| {
                    let s = p.stats();
                    serde_json::json!({
                        "name": p.name(), "driver": p.driver(),
                        "rx_packets": s.rx_packets, "tx_packets": s.tx_packets,
                        "rx_bytes": s.rx_bytes, "tx_bytes": s.tx_bytes,
                        "rx_missed": s.rx_missed, "rx_errors": s.rx_errors,
                        "tx_errors": s.tx_errors, "rx_nombuf": s.rx_nombuf,
                    })
                })
                .collect();
            let cores: Vec<_> = per_core
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut j = serde_json::json!({
                        "rx_packets": c.rx_packets, "tx_packets": c.tx_packets,
                        "tx_full_drops": c.tx_full_drops,
                    });
                    if let Some(pc) = self.path.get(i + 1) {
                        j["path"] = pc.snapshot().to_json();
                    }
                    j
                })
                .collect();
            let mut doc = serde_json::json!({
                "mode": self.mode.name(),
                "seconds": secs,
                "rx_packets": rx, "tx_packets": tx, "tx_full_drops": tx_full,
                "ports": ports_json, "workers": cores,
            });
            if self.mode == Mode::Balance {
                doc["scheduler"] = sched.to_json();
                let l = &self.sched_loop;
                doc["scheduler"]["rx_packets"] = l.rx_packets.into();
                doc["scheduler"]["tx_packets"] = l.tx_packets.into();
                doc["scheduler"]["tx_full_drops"] = l.tx_full_drops.into();
                doc["total"] = total.to_json();
                if let Some((capacity, free, active, quarantined)) = self.labels {
                    doc["labels"] = serde_json::json!({
                        "capacity": capacity, "free": free, "active": active, "quarantined": quarantined,
                    });
                }
            }
            println!("{doc}");
            return;
        }
        println!(
            "slbd {} mode ran {:.3} s on {} worker(s)",
            self.mode.name(),
            secs,
            per_core.len()
        );
        println!(
            "  received {rx} packets, sent {tx}, dropped at TX (queue full) {tx_full}; {:.3} Mpps",
            if secs > 0.0 {
                rx as f64 / secs / 1e6
            } else {
                0.0
            }
        );
        for (i, c) in per_core.iter().enumerate() {
            println!(
                "  worker {i}: rx {} tx {} tx_full_drops {}",
                c.rx_packets, c.tx_packets, c.tx_full_drops
            );
        }
        if self.mode == Mode::Balance {
            let events: Vec<String> = Event::ALL
                .iter()
                .filter(|e| total.event(**e) > 0)
                .map(|e| format!("{} {}", e.as_str(), total.event(*e)))
                .collect();
            println!(
                "  data path: {}",
                if events.is_empty() {
                    "idle".into()
                } else {
                    events.join(", ")
                }
            );
            let drops: Vec<String> = total
                .drops()
                .filter(|(_, n)| *n > 0)
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            println!(
                "  drops: {}",
                if drops.is_empty() {
                    "none".into()
                } else {
                    drops.join(", ")
                }
            );
            if let Some((capacity, free, active, quarantined)) = self.labels {
                println!(
                    "  label pairs: {capacity} in all, {active} active, {quarantined} in quarantine, {free} free"
                );
            }
            let l = &self.sched_loop;
            println!(
                "  scheduler loop: rx {} tx {} (TX queue full: {})",
                l.rx_packets, l.tx_packets, l.tx_full_drops
            );
        }
        for p in self.ports {
            let s = p.stats();
            println!(
                "  port {} ({}): rx {} pkts {} bytes, tx {} pkts {} bytes, missed {}, errors rx {} tx {}",
                p.name(),
                p.driver(),
                s.rx_packets,
                s.rx_bytes,
                s.tx_packets,
                s.tx_bytes,
                s.rx_missed,
                s.rx_errors,
                s.tx_errors
            );
        }
    }
}
