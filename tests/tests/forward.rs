//! `--mode forward` through the golden harness: what goes in comes out,
//! byte for byte, on the peer port.

use slb_tests::pcap_run;

/// Frames of varied sizes and contents (not parsed by forward mode).
fn frames(n: usize, tag: u8) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = 60 + (i * 37) % 1455;
            let mut f = vec![0u8; len];
            f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
            f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            for (j, b) in f[14..].iter_mut().enumerate() {
                *b = (j as u8).wrapping_mul(31).wrapping_add(i as u8) ^ tag;
            }
            f
        })
        .collect()
}

#[test]
fn one_port_reflects_every_frame_unchanged() {
    let input = frames(100, 0);
    let run = pcap_run::run(std::slice::from_ref(&input), 1, &["--mode", "forward"]);
    assert_eq!(run.out[0].len(), input.len(), "{}", run.stderr);
    assert_eq!(run.out[0], input);
    assert_eq!(run.summary["rx_packets"], 100);
    assert_eq!(run.summary["tx_packets"], 100);
    assert_eq!(run.summary["tx_full_drops"], 0);
}

#[test]
fn port_pairs_swap_frames() {
    let a = frames(50, 0xaa);
    let b = frames(30, 0x55);
    let run = pcap_run::run(&[a.clone(), b.clone()], 1, &["--mode", "forward"]);
    assert_eq!(run.out[1], a, "port 0's frames leave on port 1");
    assert_eq!(run.out[0], b, "port 1's frames leave on port 0");
}

#[test]
fn two_workers_forward_everything() {
    // The harness spreads each port's frames over one queue per worker.
    let input = frames(64, 7);
    let run = pcap_run::run(&[input.clone(), Vec::new()], 2, &["--mode", "forward"]);
    let mut got = run.out[1].clone();
    let mut want = input;
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let workers = run.summary["workers"].as_array().expect("workers");
    assert_eq!(workers.len(), 2);
    for w in workers {
        assert_eq!(w["rx_packets"], 32, "each worker forwards its own queue");
    }
}
