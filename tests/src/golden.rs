//! The deterministic golden runner: slbd's data path (workers, scheduler,
//! label tables, session core) assembled from a configuration exactly as
//! slbd assembles it, driven one frame at a time with a clock the test
//! controls. After each frame the scheduler runs until it is idle, so every
//! step sees the state the previous one left, on one worker or several.
//! `pcap_run` runs the same frames through the real slbd binary.
//!
//! The golden table itself is data: [`row`] (the row type), [`rows`] (the
//! table), [`net`] (the addresses and configurations rows are written
//! against), [`run`] (the runners: this rig, and slbd on `net_pcap`).

pub mod net;
pub mod row;
pub mod rows;
pub mod run;

use slb_appliance::counters::{Event, PathDrop, Snapshot};
use slb_appliance::datapath::{assemble, DataPath, QueueSizes};
use slb_appliance::frame::{Frame, VecFrame};
use slb_appliance::scheduler::poll_loop::round;
use slb_config::Config;
use slb_wire::DropReason;

/// MACs the rig gives slbd's ports, in configuration order.
pub const PORT_MACS: [[u8; 6]; 4] = [
    [0x02, 0x5b, 0, 0, 0, 0x01],
    [0x02, 0x5b, 0, 0, 0, 0x02],
    [0x02, 0x5b, 0, 0, 0, 0x03],
    [0x02, 0x5b, 0, 0, 0, 0x04],
];

pub struct Rig {
    pub dp: DataPath<VecFrame>,
    /// Nanoseconds on the data path's clock.
    pub now: u64,
    next_worker: usize,
}

/// A frame slbd sent: (port index, bytes).
pub type Sent = (usize, Vec<u8>);

impl Rig {
    pub fn new(config_json: &str, workers: usize) -> Rig {
        Self::with_macs(config_json, workers, &PORT_MACS)
    }

    /// As [`Rig::new`], with the ports' MACs given (e.g. those DPDK's
    /// `net_pcap` ports have, to compare with a real slbd run).
    pub fn with_macs(config_json: &str, workers: usize, port_macs: &[[u8; 6]]) -> Rig {
        let cfg =
            Config::from_json_str(config_json).unwrap_or_else(|e| panic!("bad test config:\n{e}"));
        let macs = &port_macs[..cfg.ports.len()];
        let dp = assemble(
            &cfg,
            workers,
            macs,
            QueueSizes::default(),
            Box::new(|b: &[u8]| Some(VecFrame::new(b))),
        )
        .unwrap_or_else(|e| panic!("assemble: {e}"));
        Rig {
            dp,
            now: 1_000_000_000,
            next_worker: 0,
        }
    }

    /// Feeds `frame` to the next worker in turn (a NIC spreading frames
    /// over queues), then lets the scheduler settle. Returns what left.
    pub fn send(&mut self, port: usize, frame: &[u8]) -> Vec<Sent> {
        let w = self.next_worker;
        self.next_worker = (self.next_worker + 1) % self.dp.workers.len();
        self.send_on(w, port, frame)
    }

    /// Feeds `frame` to worker `worker`.
    pub fn send_on(&mut self, worker: usize, port: usize, frame: &[u8]) -> Vec<Sent> {
        let mut out = Vec::new();
        // A burst of one through the worker's staged burst (hints made,
        // then the frame handled), as the poll loop does.
        let f = VecFrame::new(frame);
        // The exception port's frames (the kernel's) go to the scheduler,
        // the only one polling that port.
        if self.dp.scheduler.exception_port() == Some(port) {
            if let Some((o, f)) = self.dp.scheduler.from_kernel(f) {
                out.push((o, f.into_vec()));
            }
            out.extend(self.settle());
            return out;
        }
        let fp = &mut self.dp.workers[worker];
        fp.prepare(std::iter::once(&f));
        if let Some((o, f)) = fp.process(port, f) {
            out.push((o, f.into_vec()));
        }
        out.extend(self.settle());
        out
    }

    /// Runs the scheduler and the workers' op queues until nothing moves.
    pub fn settle(&mut self) -> Vec<Sent> {
        let mut out = Vec::new();
        for _ in 0..1000 {
            for w in &mut self.dp.workers {
                w.apply_ops();
            }
            let mut sink = |p: usize, f: VecFrame| out.push((p, f.into_vec()));
            let work = round(&mut self.dp.scheduler, self.now, &mut sink);
            if work == 0 {
                for w in &mut self.dp.workers {
                    w.apply_ops();
                }
                return out;
            }
        }
        panic!("the scheduler never went idle");
    }

    /// Moves the clock on and lets timers run.
    pub fn advance_ms(&mut self, ms: u64) -> Vec<Sent> {
        let mut out = Vec::new();
        // In steps, as the real scheduler polls continuously.
        for _ in 0..ms.div_ceil(10) {
            self.now += 10_000_000;
            out.extend(self.settle());
        }
        out
    }

    /// All lcores' counters added up.
    pub fn counters(&self) -> Snapshot {
        let mut s = self.dp.scheduler_counters.snapshot();
        for c in &self.dp.worker_counters {
            s.add(&c.snapshot());
        }
        s
    }

    pub fn drops(&self, reason: &str) -> u64 {
        self.counters()
            .drops()
            .find(|(r, _)| *r == reason)
            .map(|(_, n)| n)
            .unwrap_or_else(|| panic!("no drop counter {reason}"))
    }

    pub fn event(&self, e: Event) -> u64 {
        self.counters().event(e)
    }

    pub fn active_sessions(&self) -> usize {
        let c = self.dp.scheduler.core().labels().counts();
        // This instance's pairs and its peers' (synced sessions).
        (c.active + c.peers_active) as usize
    }

    /// A control plane over the rig's scheduler and counters (the
    /// running configuration, no host).
    pub fn control(&self) -> slb_appliance::control::Control {
        let cfg = self.dp.scheduler.running_config().clone();
        let mut counters = vec![self.dp.scheduler_counters.clone()];
        counters.extend(self.dp.worker_counters.iter().cloned());
        slb_appliance::control::Control::new(
            cfg,
            None,
            self.dp.scheduler.command_queue(),
            counters,
            None,
        )
    }

    /// Runs `f` with a pump that runs scheduler rounds at the current
    /// time (what a control request waits with). Frames the scheduler
    /// sends meanwhile are discarded.
    pub fn pumped<T>(&mut self, f: impl FnOnce(&mut dyn FnMut()) -> T) -> T {
        let now = self.now;
        let dp = &mut self.dp;
        let mut pump = || {
            for w in &mut dp.workers {
                w.apply_ops();
            }
            round(&mut dp.scheduler, now, &mut |_, _| {});
        };
        let r = f(&mut pump);
        for w in &mut self.dp.workers {
            w.apply_ops();
        }
        r
    }

    /// Runs a control command (as `slbctl` would send it) against the
    /// rig's scheduler: submitted on its command queue and answered while
    /// the rig runs scheduler rounds at the current time. Frames the
    /// scheduler sends meanwhile are discarded.
    pub fn ctl(
        &mut self,
        command: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, slb_proto::ErrorBody> {
        let control = self.control();
        self.ctl_with(&control, command, args)
    }

    /// [`Rig::ctl`] through a control plane the caller keeps (its state,
    /// such as the announcer's, lasts from one command to the next).
    pub fn ctl_with(
        &mut self,
        control: &slb_appliance::control::Control,
        command: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, slb_proto::ErrorBody> {
        let reply = self.pumped(|pump| {
            slb_proto::Request::decode(command, &args).and_then(|r| control.handle(r, pump))
        });
        slb_proto::Response::answer(1.into(), reply).into_result()
    }
}

/// The drop counters that moved between two snapshots, with by how much.
pub fn drops_moved(before: &Snapshot, after: &Snapshot) -> Vec<(&'static str, u64)> {
    after
        .drops()
        .zip(before.drops())
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| (a.0, a.1 - b.1))
        .collect()
}

/// Every drop counter name, for tests that check names exist.
pub fn drop_names() -> Vec<&'static str> {
    DropReason::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(PathDrop::ALL.iter().map(|r| r.as_str()))
        .collect()
}

/// A frame's bytes as a VecFrame would carry them (for helpers).
pub fn frame(bytes: &[u8]) -> Vec<u8> {
    VecFrame::new(bytes).data().to_vec()
}

/// The frames `out` sent on `port`.
pub fn on(out: &[Sent], port: usize) -> Vec<Vec<u8>> {
    out.iter()
        .filter(|(p, _)| *p == port)
        .map(|(_, f)| f.clone())
        .collect()
}

/// The label and traffic class of a labelled frame, and its inner frame
/// (label popped, MACs kept, the EtherType of the inner IP version).
pub fn unlabel(f: &[u8]) -> (u32, u8, Vec<u8>) {
    let top = slb_wire::mpls::top_label(f).expect("a labelled frame");
    let o = top.offset;
    let lse = u32::from_be_bytes(f[o..o + 4].try_into().expect("4 bytes"));
    let mut inner = f[..o].to_vec();
    let et = match f[o + 4] >> 4 {
        4 => [0x08, 0x00],
        _ => [0x86, 0xdd],
    };
    inner[12..14].copy_from_slice(&et);
    inner.extend_from_slice(&f[o + 4..]);
    (lse >> 12, ((lse >> 9) & 7) as u8, inner)
}
