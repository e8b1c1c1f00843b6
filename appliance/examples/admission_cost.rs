//! Instruction cost of admitting a new session, for callgrind.
//!
//! Assembles slbd's data path from a configuration (`datapath::assemble`
//! on `VecFrame`s, as the golden tests do), prepares `frames` unique TCP
//! SYNs (one new client 5-tuple each, 64-byte frames), and in `run_admit`
//! hands them to worker 0 (`FastPath::process`: flow-cache miss, punt) in
//! bursts of 32, then runs `Scheduler::poll` until the punt queue is empty
//! (classify, admission in the session core, label pair, label-table
//! install on every replica, flow-cache op, label push, MAC rewrite, TX).
//! Worker 0 applies its flow-cache ops after each burst, as between RX
//! bursts in slbd. Under
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*run_admit*' \
//!     target/release/examples/admission_cost config/examples/bench-new.json 20000
//! ```
//!
//! instructions / frames is the per-admission cost on worker + scheduler
//! (frame allocation happens outside).
//!
//! The wall time of `run_admit` per frame is printed too
//! (`ns_per_session`, one thread: one core's admission rate).
//!
//! Usage: admission_cost CONFIG FRAMES

mod common;

use slb_appliance::datapath::PRELOAD_CLIENT_MAC;
use slb_appliance::frame::VecFrame;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::{IpAddr, Ipv4Addr};

#[inline(never)]
fn run_admit(
    dp: &mut slb_appliance::datapath::DataPath<VecFrame>,
    frames: &mut Vec<VecFrame>,
    now: u64,
) -> usize {
    let mut sent = 0usize;
    let mut out = |_: usize, f: VecFrame| {
        sent += 1;
        drop(std::hint::black_box(f));
    };
    let mut it = frames.drain(..);
    loop {
        let mut n = 0;
        for f in it.by_ref().take(32) {
            n += 1;
            if let Some((_, f)) = dp.workers[0].process(0, f) {
                drop(f);
            }
        }
        while dp.scheduler.poll(now, &mut out) > 0 {}
        dp.workers[0].apply_ops();
        if n < 32 {
            break;
        }
    }
    sent
}

fn main() {
    let a = common::args("admission_cost CONFIG FRAMES");
    let (cfg, mut dp) = common::data_path(&a[0]);
    let nframes: u32 = a[1].parse().expect("FRAMES");
    let svc = &cfg.services[0];
    let frames: Vec<Vec<u8>> = (0..nframes)
        .map(|i| {
            // 198.20.0.0/16 clients, ports 1024..=65535: unique 5-tuples.
            let client = IpAddr::V4(Ipv4Addr::from(
                u32::from(Ipv4Addr::new(198, 20, 0, 0)) + i / 64000,
            ));
            let cport = 1024 + (i % 64000) as u16;
            let mut f = FrameBuilder::tcp(
                MacAddr(PRELOAD_CLIENT_MAC),
                MacAddr(common::port_mac(0)),
                client,
                svc.vip,
                cport,
                svc.port,
            )
            .flags(TcpFlags::SYN)
            .seq(1)
            .build();
            f.resize(f.len().max(60), 0);
            f
        })
        .collect();
    let mut batch: Vec<VecFrame> = frames.iter().map(|t| VecFrame::new(t)).collect();
    let t = std::time::Instant::now();
    let sent = run_admit(&mut dp, &mut batch, 1_000_000_000);
    let wall = t.elapsed();
    let admitted = dp
        .scheduler
        .counters()
        .snapshot()
        .event(slb_appliance::counters::Event::SessionsAdmitted);
    println!("frames={nframes} admitted={admitted} sent={sent}");
    // One thread: 1e9 / this is one core's admission rate.
    println!(
        "ns_per_session={:.1}",
        wall.as_nanos() as f64 / f64::from(nframes)
    );
    assert_eq!(admitted, u64::from(nframes), "every SYN admitted");
}
