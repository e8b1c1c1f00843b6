//! What the control plane asks of the main thread (ports and lcores),
//! answered from the ports and loop counters slbd owns.

use slb_appliance::dpdk::Port;
use slb_appliance::worker::LoopCounters;
use slb_config::format_mac;
use std::sync::Arc;

/// What the control plane asks of the main thread: ports and lcores.
pub struct SlbdHost {
    pub ports: Arc<Vec<Port>>,
    pub loops: Arc<Vec<LoopCounters>>,
    pub main_lcore: u32,
    pub scheduler: u32,
    pub workers: Vec<u32>,
}

impl slb_appliance::control::Host for SlbdHost {
    fn ports(&self) -> serde_json::Value {
        self.ports
            .iter()
            .map(|p| {
                let s = p.stats();
                let l = p.link();
                serde_json::json!({
                    "name": p.name(), "driver": p.driver(), "mac": format_mac(&p.mac()),
                    "link": { "up": l.up, "speed_mbps": l.speed_mbps, "full_duplex": l.full_duplex },
                    "stats": {
                        "rx_packets": s.rx_packets, "tx_packets": s.tx_packets,
                        "rx_bytes": s.rx_bytes, "tx_bytes": s.tx_bytes,
                        "rx_missed": s.rx_missed, "rx_errors": s.rx_errors,
                        "tx_errors": s.tx_errors, "rx_nombuf": s.rx_nombuf,
                    },
                })
            })
            .collect()
    }

    fn lcores(&self) -> serde_json::Value {
        serde_json::json!({ "main": self.main_lcore, "scheduler": self.scheduler, "workers": self.workers })
    }

    fn loops(&self) -> Vec<serde_json::Value> {
        self.loops
            .iter()
            .map(|c| {
                let s = c.snapshot();
                serde_json::json!({ "rx_packets": s.rx_packets, "tx_packets": s.tx_packets, "tx_full_drops": s.tx_full_drops })
            })
            .collect()
    }
}
