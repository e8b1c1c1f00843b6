//! slb-pcapgen: writes the capture files `scripts/bench` replays into slbd.
//!
//! Every frame is padded to 60 bytes (64 on the wire with the FCS) unless it
//! is longer. Sessions are the ones `slbd --preload-sessions N` creates:
//! session `i` is client `preload_client(i)` with C2S label `first_c2s + 2i`.
//!
//! ```text
//! slb-pcapgen labelled OUT --sessions N --frames F [--seed S]   labelled C2S frames, random session order
//! slb-pcapgen plain    OUT --sessions N --frames F [--seed S]   unlabelled client frames (flow cache hits)
//! slb-pcapgen syn      OUT --frames F                           unique SYNs (one new 5-tuple each)
//! slb-pcapgen mix      OUT --sessions N --frames F --new-every K [--seed S]
//!                                                               every K-th frame a unique SYN, the rest labelled
//! slb-pcapgen junk     OUT --frames F                           frames of an unknown ethertype (dropped at once)
//! slb-pcapgen s2c      OUT --sessions N --frames F              server replies (S2C label, from the VIP) in
//!                                                               session order: each session's first reply
//!                                                               establishes it (arrives on a server port)
//! common: --vip A (198.18.100.1) --port P (80) --first-c2s L (17)
//! ```

use pcap_file::pcap::{PcapPacket, PcapWriter};
use slb_appliance::datapath::{preload_client, PRELOAD_CLIENT_MAC};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// slbd drops unicast frames for another MAC (`foreign_dst_mac`), so the
/// bench's frames go to the MAC DPDK's pcap PMD gives its devices:
/// 02:70:63:61:70 ("\x02pcap") and the device's index, fixed in the PMD.
/// Client frames enter on `net_pcap0`; the server replies (`s2c`) on
/// `net_pcap1`.
const APPLIANCE_MAC: [u8; 6] = [0x02, 0x70, 0x63, 0x61, 0x70, 0x00];
const SERVER_PORT_MAC: [u8; 6] = [0x02, 0x70, 0x63, 0x61, 0x70, 0x01];
const MIN_FRAME: usize = 60;

struct Opts {
    kind: String,
    out: String,
    sessions: u32,
    frames: u64,
    seed: u64,
    new_every: u64,
    vip: IpAddr,
    port: u16,
    first_c2s: u32,
}

fn parse() -> Result<Opts, String> {
    let mut a = std::env::args().skip(1);
    let kind = a
        .next()
        .ok_or("usage: slb-pcapgen KIND OUT [options] (see the source)")?;
    let out = a.next().ok_or("missing OUT")?;
    let mut o = Opts {
        kind,
        out,
        sessions: 1,
        frames: 1,
        seed: 1,
        new_every: 10,
        vip: IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1)),
        port: 80,
        first_c2s: 17,
    };
    while let Some(k) = a.next() {
        let v = a.next().ok_or_else(|| format!("{k} needs a value"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{k} {v}: {e}"));
        match k.as_str() {
            "--sessions" => o.sessions = num(&v)? as u32,
            "--frames" => o.frames = num(&v)?,
            "--seed" => o.seed = num(&v)?,
            "--new-every" => o.new_every = num(&v)?.max(1),
            "--port" => o.port = num(&v)? as u16,
            "--first-c2s" => o.first_c2s = num(&v)? as u32,
            "--vip" => o.vip = v.parse().map_err(|e| format!("--vip {v}: {e}"))?,
            _ => return Err(format!("unknown option {k}")),
        }
    }
    if o.sessions == 0 {
        return Err("--sessions must be at least 1".into());
    }
    Ok(o)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// Session order: whole shuffled permutations of 0..n while they fit in
/// `frames` (every session equally often), then a random sample.
struct Order {
    perm: Vec<u32>,
    pos: usize,
    rng: Rng,
}
impl Order {
    fn new(n: u32, seed: u64) -> Order {
        let mut o = Order {
            perm: (0..n).collect(),
            pos: n as usize,
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        };
        o.reshuffle();
        o
    }
    fn reshuffle(&mut self) {
        for i in (1..self.perm.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            self.perm.swap(i, j);
        }
        self.pos = 0;
    }
    fn next(&mut self) -> u32 {
        if self.pos >= self.perm.len() {
            self.reshuffle();
        }
        self.pos += 1;
        self.perm[self.pos - 1]
    }
}

fn pad(mut f: Vec<u8>) -> Vec<u8> {
    if f.len() < MIN_FRAME {
        f.resize(MIN_FRAME, 0);
    }
    f
}

fn session_frame(o: &Opts, i: u32, labelled: bool) -> Vec<u8> {
    let (client, cport) = preload_client(i, o.vip.is_ipv6());
    let mut b = FrameBuilder::tcp(
        MacAddr(PRELOAD_CLIENT_MAC),
        MacAddr(APPLIANCE_MAC),
        client,
        o.vip,
        cport,
        o.port,
    )
    .flags(TcpFlags::ACK)
    .seq(2)
    .ack(1);
    if labelled {
        b = b.label(o.first_c2s + 2 * i);
    }
    pad(b.build())
}

/// The `k`-th unique SYN: clients 10.0.0.0/8 (never a preloaded client),
/// 50,000 ports per address.
fn syn_frame(o: &Opts, k: u64) -> Vec<u8> {
    let host = (k / 50_000) as u32;
    let client = IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 1)) + host));
    let cport = 10_000 + (k % 50_000) as u16;
    pad(FrameBuilder::tcp(
        MacAddr([0x02, 0, 0xc1, 0, 0, 0x01]),
        MacAddr(APPLIANCE_MAC),
        client,
        o.vip,
        cport,
        o.port,
    )
    .flags(TcpFlags::SYN)
    .seq(1)
    .build())
}

/// Server `i`'s reply to session `i`: S2C label, inner VIP -> client.
fn s2c_frame(o: &Opts, i: u32) -> Vec<u8> {
    let (client, cport) = preload_client(i, o.vip.is_ipv6());
    pad(FrameBuilder::tcp(
        MacAddr([0x02, 0, 0, 0, 0x01, 0x11]),
        MacAddr(SERVER_PORT_MAC),
        o.vip,
        client,
        o.port,
        cport,
    )
    .flags(TcpFlags::SYN | TcpFlags::ACK)
    .seq(1)
    .ack(2)
    .label(o.first_c2s + 2 * i + 1)
    .build())
}

fn junk_frame() -> Vec<u8> {
    let mut f = vec![0u8; MIN_FRAME];
    f[..6].copy_from_slice(&APPLIANCE_MAC);
    f[6..12].copy_from_slice(&PRELOAD_CLIENT_MAC);
    f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes()); // IEEE local experimental
    f
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("slb-pcapgen: {e}");
            std::process::exit(2);
        }
    };
    let file = std::fs::File::create(&o.out).unwrap_or_else(|e| {
        eprintln!("slb-pcapgen: {}: {e}", o.out);
        std::process::exit(1)
    });
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, file)).expect("pcap header");
    let mut order = Order::new(o.sessions, o.seed);
    let mut syns = 0u64;
    for j in 0..o.frames {
        let f = match o.kind.as_str() {
            "labelled" => session_frame(&o, order.next(), true),
            "plain" => session_frame(&o, order.next(), false),
            "syn" => syn_frame(&o, j),
            "mix" if j % o.new_every == o.new_every - 1 => {
                syns += 1;
                syn_frame(&o, syns - 1)
            }
            "mix" => session_frame(&o, order.next(), true),
            "junk" => junk_frame(),
            "s2c" => s2c_frame(&o, (j % u64::from(o.sessions)) as u32),
            k => {
                eprintln!("slb-pcapgen: unknown kind {k}");
                std::process::exit(2);
            }
        };
        let pkt = PcapPacket::new(Duration::from_nanos(j), f.len() as u32, &f);
        w.write_packet(&pkt).expect("write pcap");
    }
}
