//! The staged burst changes how fast a worker handles frames, never what
//! it does with them: the same frames through two identical data paths,
//! one in staged bursts of 32 (as the poll loop runs), one frame by frame
//! without hints, give the same frames out and the same counters.

use slb_appliance::datapath::{assemble, preload_client, DataPath, QueueSizes, PRELOAD_CLIENT_MAC};
use slb_appliance::frame::{Frame, VecFrame};
use slb_config::Config;
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};

fn config() -> Config {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/examples/bench-plain.json"
    );
    Config::from_file(std::path::Path::new(p)).expect("bench-plain.json")
}

fn datapath(cfg: &Config, macs: &[[u8; 6]], sessions: u32) -> DataPath<VecFrame> {
    let mut dp = assemble::<VecFrame>(
        cfg,
        1,
        macs,
        QueueSizes::default(),
        Box::new(|b: &[u8]| Some(VecFrame::new(b))),
    )
    .expect("assemble");
    let n = dp
        .preload(cfg, 0, sessions, 1, |b| Some(VecFrame::new(&b)))
        .expect("preload");
    assert_eq!(n, sessions);
    dp
}

/// A mix: plain frames of preloaded flows, unknown flows, SYNs, labelled
/// frames (live and unknown labels), frames with IP options, fragments,
/// runts, another host's MAC.
fn frames(cfg: &Config, macs: &[[u8; 6]], sessions: u32) -> Vec<Vec<u8>> {
    let svc = &cfg.services[0];
    let first_c2s = cfg.labels.first | 1;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    };
    (0..2000)
        .map(|_| {
            let r = next();
            let i = (r >> 40) as u32 % (sessions + 50); // some beyond the preloaded
            let (client, cport) = preload_client(i, svc.vip.is_ipv6());
            let b = FrameBuilder::tcp(
                MacAddr(PRELOAD_CLIENT_MAC),
                MacAddr(macs[0]),
                client,
                svc.vip,
                cport,
                svc.port,
            )
            .seq(2)
            .ack(1);
            let mut f = match r % 10 {
                0 => b.flags(TcpFlags::SYN).build(),
                1 => b.flags(TcpFlags::ACK).label(first_c2s + 2 * i).build(),
                2 => b.flags(TcpFlags::FIN | TcpFlags::ACK).build(),
                _ => b.flags(TcpFlags::ACK).build(),
            };
            match (r >> 8) % 16 {
                // IP options: the quick read gives no hint.
                0 if f[14] == 0x45 => f[14] = 0x46,
                // A fragment.
                1 if f[14] == 0x45 => f[21] = 8,
                // A runt.
                2 => f.truncate(30),
                // Another host's frame.
                3 => f[0] ^= 0x10,
                _ => {}
            }
            f.resize(f.len().max(60), 0);
            f
        })
        .collect()
}

#[test]
fn staged_bursts_give_the_same_frames_and_counters_as_single_frames() {
    let cfg = config();
    let macs: Vec<[u8; 6]> = (0..cfg.ports.len())
        .map(|i| [2, 0x5b, 0, 0, 0, i as u8 + 1])
        .collect();
    let sessions = 3000;
    let mut staged = datapath(&cfg, &macs, sessions);
    let mut single = datapath(&cfg, &macs, sessions);
    let input = frames(&cfg, &macs, sessions);

    let mut out_staged = Vec::new();
    for burst in input.chunks(32) {
        let fs: Vec<VecFrame> = burst.iter().map(|b| VecFrame::new(b)).collect();
        let w = &mut staged.workers[0];
        w.prepare(fs.iter());
        for f in fs {
            out_staged.push(w.process(0, f).map(|(p, f)| (p, f.data().to_vec())));
        }
    }
    let mut out_single = Vec::new();
    for b in &input {
        let w = &mut single.workers[0];
        out_single.push(
            w.process(0, VecFrame::new(b))
                .map(|(p, f)| (p, f.data().to_vec())),
        );
    }
    assert_eq!(out_staged.len(), out_single.len());
    let mut pushed = 0;
    for (i, (a, b)) in out_staged.iter().zip(&out_single).enumerate() {
        assert_eq!(a, b, "frame {i}: staged and single differ");
        pushed += usize::from(a.is_some());
    }
    // The mix really switched frames (and punted and dropped others).
    assert!(pushed > 1000, "{pushed} frames out");
    let (a, b) = (
        staged.worker_counters[0].snapshot(),
        single.worker_counters[0].snapshot(),
    );
    assert_eq!(a, b, "counters differ");
}
