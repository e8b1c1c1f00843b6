//! Per-packet instruction cost of the worker's data path, for callgrind.
//!
//! Assembles slbd's data path from a configuration exactly as slbd does
//! (`datapath::assemble`, on `VecFrame`s instead of mbufs), preloads
//! sessions through the real admission path, prepares `frames` 64-byte
//! frames in random session order, then runs them through
//! `FastPath::process` in `run_path`, and the same frames through a trivial
//! forward handler in `run_forward`. Under
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*run_path*' ...
//! ```
//!
//! only the chosen loop is counted, so instructions / frames is the
//! per-packet cost (allocation and freeing of the frames happen outside).
//!
//! Usage: fastpath_cost CONFIG SESSIONS FRAMES labelled|plain

mod common;

use slb_appliance::datapath::{preload_client, PRELOAD_CLIENT_MAC};
use slb_appliance::frame::VecFrame;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::hint::black_box;

#[inline(never)]
fn run_path(
    fp: &mut slb_appliance::worker::FastPath<VecFrame>,
    bursts: &mut [Vec<VecFrame>],
    out: &mut Vec<(usize, VecFrame)>,
) {
    // Bursts of 32 (made outside the counted loop), staged as the poll
    // loop stages them.
    for burst in bursts.iter_mut() {
        fp.prepare(burst.iter());
        for f in burst.drain(..) {
            if let Some(o) = fp.process(0, f) {
                out.push(o);
            }
        }
    }
}

/// The baseline: what `--mode forward` does per packet (peer port, frame untouched).
#[inline(never)]
fn run_forward(frames: &mut Vec<VecFrame>, out: &mut Vec<(usize, VecFrame)>) {
    for f in frames.drain(..) {
        out.push((black_box(1usize), black_box(f)));
    }
}

fn main() {
    let a = common::args("fastpath_cost CONFIG SESSIONS FRAMES labelled|plain");
    let (cfg, mut dp) = common::data_path(&a[0]);
    let sessions: u32 = a[1].parse().expect("SESSIONS");
    let nframes: usize = a[2].parse().expect("FRAMES");
    let labelled = a[3] == "labelled";
    let n = dp
        .preload(&cfg, 0, sessions, 1, |b| Some(VecFrame::new(&b)))
        .expect("preload");
    assert_eq!(n, sessions, "preloaded sessions");
    let svc = &cfg.services[0];
    let first_c2s = cfg.labels.first | 1;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let templates: Vec<Vec<u8>> = (0..nframes)
        .map(|_| {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            let i = ((u128::from(rng.wrapping_mul(0x2545_f491_4f6c_dd1d)) * u128::from(sessions))
                >> 64) as u32;
            let (client, cport) = preload_client(i, svc.vip.is_ipv6());
            let mut b = FrameBuilder::tcp(
                MacAddr(PRELOAD_CLIENT_MAC),
                MacAddr(common::port_mac(0)),
                client,
                svc.vip,
                cport,
                svc.port,
            )
            .flags(TcpFlags::ACK)
            .seq(2)
            .ack(1);
            if labelled {
                b = b.label(first_c2s + 2 * i);
            }
            let mut f = b.build();
            f.resize(f.len().max(60), 0);
            f
        })
        .collect();
    let fp = &mut dp.workers[0];
    let mut out = Vec::with_capacity(nframes);
    // Warm-up pass (not counted when callgrind toggles on run_path only
    // the second time is the same code; both passes are counted and
    // divided by 2 * frames by scripts/bench).
    for pass in 0..2 {
        let mut bursts: Vec<Vec<VecFrame>> = templates
            .chunks(32)
            .map(|c| c.iter().map(|t| VecFrame::new(t)).collect())
            .collect();
        run_path(fp, &mut bursts, &mut out);
        assert_eq!(out.len(), nframes, "pass {pass}: every frame switched");
        out.clear();
    }
    for _ in 0..2 {
        let mut frames: Vec<VecFrame> = templates.iter().map(|t| VecFrame::new(t)).collect();
        run_forward(&mut frames, &mut out);
        out.clear();
    }
    println!(
        "frames_per_loop={nframes} passes=2 sessions={sessions} mode={}",
        a[3]
    );
}
