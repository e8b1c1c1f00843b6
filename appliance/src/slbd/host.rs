//! What the control plane asks of the main thread (ports and lcores),
//! answered from the ports and loop counters slbd owns.

use slb_appliance::dpdk::Port;
use slb_appliance::worker::LoopCounters;
use slb_config::format_mac;
use slb_proto::{Lcores, Link, LoopStats, PortStats};
use std::sync::Arc;

/// What the control plane asks of the main thread: ports and lcores.
pub struct SlbdHost {
    pub ports: Arc<Vec<Port>>,
    pub loops: Arc<Vec<LoopCounters>>,
    pub sched_loop: Arc<LoopCounters>,
    pub main_lcore: u32,
    pub scheduler: u32,
    pub workers: Vec<u32>,
}

impl slb_appliance::control::Host for SlbdHost {
    fn ports(&self) -> Vec<slb_proto::Port> {
        self.ports
            .iter()
            .map(|p| {
                let s = p.stats();
                let l = p.link();
                slb_proto::Port {
                    name: p.name().to_string(),
                    driver: p.driver().to_string(),
                    mac: format_mac(&p.mac()),
                    link: Link {
                        up: l.up,
                        speed_mbps: l.speed_mbps,
                        full_duplex: l.full_duplex,
                    },
                    stats: PortStats {
                        rx_packets: s.rx_packets,
                        tx_packets: s.tx_packets,
                        rx_bytes: s.rx_bytes,
                        tx_bytes: s.tx_bytes,
                        rx_missed: s.rx_missed,
                        rx_errors: s.rx_errors,
                        tx_errors: s.tx_errors,
                        rx_nombuf: s.rx_nombuf,
                    },
                }
            })
            .collect()
    }

    fn lcores(&self) -> Lcores {
        Lcores {
            main: self.main_lcore,
            scheduler: self.scheduler,
            workers: self.workers.clone(),
        }
    }

    fn loops(&self) -> Vec<LoopStats> {
        self.loops.iter().map(loop_stats).collect()
    }

    fn scheduler_loop(&self) -> Option<LoopStats> {
        Some(loop_stats(&self.sched_loop))
    }
}

fn loop_stats(c: &LoopCounters) -> LoopStats {
    let s = c.snapshot();
    LoopStats {
        rx_packets: s.rx_packets,
        tx_packets: s.tx_packets,
        tx_full_drops: s.tx_full_drops,
    }
}
