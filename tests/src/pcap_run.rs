//! The golden packet harness: write input frames to a pcap per port, run
//! slbd on `net_pcap` ports (`rx_pcap=in.pcap,tx_pcap=out.pcap`) until it
//! has been idle for a moment, and read back what each port sent.

use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What one run produced.
#[derive(Debug)]
pub struct PcapRun {
    /// Frames each port transmitted, in order, indexed like the input.
    pub out: Vec<Vec<Vec<u8>>>,
    /// slbd's final counters (`--json`).
    pub summary: serde_json::Value,
    /// slbd's stderr, for failure messages.
    pub stderr: String,
}

/// Runs slbd with one `net_pcap` port per entry of `inputs`, `workers`
/// worker lcores, and slbd options `slbd_args` (e.g. `["--mode",
/// "forward"]`). Panics with slbd's stderr on failure.
///
/// Every port gets one RX and one TX queue per worker (a pair of pcap files
/// each), as slbd gives each worker its own queue on every port. net_pcap
/// has no RSS, so the harness plays the NIC: input frame `j` of a port goes
/// to queue `j % workers`. Each port's output is its TX queues' frames,
/// queue 0 first; order is kept within a queue.
pub fn run(inputs: &[Vec<Vec<u8>>], workers: u32, slbd_args: &[&str]) -> PcapRun {
    run_with(
        inputs,
        workers,
        workers as usize,
        Queues::RoundRobin,
        slbd_args,
    )
}

/// Runs slbd in balance mode with the configuration `config_json` (whose
/// port devices must be `net_pcap0`, `net_pcap1`, ... in order) on
/// `workers` workers. Ports get `workers + 1` queues (the scheduler owns
/// the last). Every input frame goes to RX queue 0, as from a NIC without
/// RSS, so one worker sees the frames of a port in order.
pub fn run_balance(config_json: &str, inputs: &[Vec<Vec<u8>>], workers: u32) -> PcapRun {
    run_balance_with(config_json, inputs, workers, &[], 300)
}

/// [`run_balance`] with extra slbd options, stopping after `idle_ms`
/// without traffic (long enough for timers to run out, when a test needs
/// that).
pub fn run_balance_with(
    config_json: &str,
    inputs: &[Vec<Vec<u8>>],
    workers: u32,
    extra: &[&str],
    idle_ms: u64,
) -> PcapRun {
    run_balance_queues(config_json, inputs, workers, Queues::First, extra, idle_ms)
}

/// How the harness, playing the NIC, spreads a port's frames over RX
/// queues.
#[derive(Debug, Clone, Copy)]
pub enum Queues {
    /// Frame `j` to queue `j % queues`.
    RoundRobin,
    /// Everything to queue 0 (a NIC without RSS).
    First,
    /// A queue chosen by the test for each frame.
    By(fn(&[u8]) -> usize),
}

impl Queues {
    fn pick(self, j: usize, frame: &[u8], nq: usize) -> usize {
        match self {
            Queues::RoundRobin => j % nq,
            Queues::First => 0,
            Queues::By(f) => f(frame) % nq,
        }
    }
}

/// [`run_balance_with`] with the frames spread over RX queues by `queues`.
pub fn run_balance_queues(
    config_json: &str,
    inputs: &[Vec<Vec<u8>>],
    workers: u32,
    queues: Queues,
    extra: &[&str],
    idle_ms: u64,
) -> PcapRun {
    let dir = tempfile::Builder::new()
        .prefix("slb-golden-cfg-")
        .tempdir()
        .expect("temp dir");
    let cfg = dir.path().join("slbd.json");
    std::fs::write(&cfg, config_json).expect("write config");
    let cfg = cfg.display().to_string();
    let idle = idle_ms.to_string();
    // Each run its own control socket: tests run side by side.
    let sock = dir.path().join("ctl.sock").display().to_string();
    let mut args = vec![
        "--mode",
        "balance",
        "--config",
        &cfg,
        "--exit-idle-ms",
        &idle,
        "--ctl-socket",
        &sock,
    ];
    args.extend_from_slice(extra);
    run_with(inputs, workers + 1, workers as usize + 1, queues, &args)
}

/// `lcores` lcores besides the main one, `nq` queue pairs per port, the
/// frames spread over the queues by `queues`.
fn run_with(
    inputs: &[Vec<Vec<u8>>],
    lcores: u32,
    nq: usize,
    queues: Queues,
    slbd_args: &[&str],
) -> PcapRun {
    let workers = lcores;
    let dir = tempfile::Builder::new()
        .prefix("slb-golden-")
        .tempdir()
        .expect("temp dir");
    let mut args = crate::slbd::eal_base(512);
    args.push("--lcores".into());
    args.push(crate::slbd::lcore_map(workers));
    let nq = nq.max(1);
    for (i, frames) in inputs.iter().enumerate() {
        let mut vdev = format!("net_pcap{i}");
        for q in 0..nq {
            let rx = dir.path().join(format!("in{i}q{q}.pcap"));
            let tx = dir.path().join(format!("out{i}q{q}.pcap"));
            let mine: Vec<Vec<u8>> = frames
                .iter()
                .enumerate()
                .filter(|(j, f)| queues.pick(*j, f, nq) == q)
                .map(|(_, f)| f.clone())
                .collect();
            write_pcap(&rx, &mine);
            vdev.push_str(&format!(
                ",rx_pcap={},tx_pcap={}",
                rx.display(),
                tx.display()
            ));
        }
        args.push("--vdev".into());
        args.push(vdev);
    }
    args.push("--".into());
    args.extend(slbd_args.iter().map(|s| s.to_string()));
    if !slbd_args.contains(&"--exit-idle-ms") {
        args.extend(["--exit-idle-ms".to_string(), "300".into()]);
    }
    args.push("--json".into());

    let output = run_bounded(
        Command::new(crate::slbd::binary()).args(&args),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "slbd {:?} failed ({}):\n{stderr}",
        args,
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON summary on slbd's stdout:\n{stdout}\n{stderr}"));
    let out = (0..inputs.len())
        .map(|i| {
            (0..nq)
                .flat_map(|q| read_pcap(&dir.path().join(format!("out{i}q{q}.pcap"))))
                .collect()
        })
        .collect();
    PcapRun {
        out,
        summary,
        stderr,
    }
}

/// Runs a command to completion, killing it (by its own pid) after
/// `limit` so a hung slbd cannot hang the test suite.
fn run_bounded(cmd: &mut Command, limit: Duration) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn slbd");
    let start = std::time::Instant::now();
    loop {
        match child.try_wait().expect("wait slbd") {
            Some(_) => return child.wait_with_output().expect("collect slbd output"),
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("collect slbd output");
                panic!(
                    "slbd did not stop within {limit:?}; stderr:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Writes Ethernet frames as a pcap file (microsecond timestamps 1 ms apart).
pub fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let file = File::create(path).expect("create pcap");
    let mut w = PcapWriter::new(file).expect("pcap header");
    for (i, f) in frames.iter().enumerate() {
        let pkt = PcapPacket::new(Duration::from_millis(i as u64), f.len() as u32, f);
        w.write_packet(&pkt).expect("write pcap packet");
    }
}

/// Reads every frame of a pcap file (an absent file reads as no frames:
/// net_pcap creates it only when the port starts).
pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    let mut r = match PcapReader::new(file) {
        Ok(r) => r,
        Err(_) => return Vec::new(),
    };
    let mut out = Vec::new();
    while let Some(pkt) = r.next_packet() {
        out.push(pkt.expect("read pcap packet").data.into_owned());
    }
    out
}
