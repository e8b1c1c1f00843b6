//! Cost of admitting one new session (service lookup, key lookup, admission,
//! pick, label pair, insert) and of ending one (remove, label withdraw,
//! server count), with 1k, 100k and 500k sessions active.
//!
//! The number of active sessions is held constant: each timed chunk of
//! admissions is followed by an untimed chunk of endings of the oldest
//! sessions, and the other way round. Ended sessions are the oldest ones, so
//! their memory is cold, as on a real scheduler.
//!
//! Run: `cargo bench -p slb-core --bench session -- --warm-up-time 1 --measurement-time 3`

use std::collections::VecDeque;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use slb_core::{
    Algorithm, Core, CoreConfig, NewPacketOutcome, PacketInfo, Protocol, ServerConfig,
    ServiceConfig, SessionId, SessionKey, TcpFlags,
};

const CHUNK: u64 = 1_000;
/// Simulated time per operation: with the default 2 s quarantine, at most
/// 10k pairs sit in quarantine, which leaves room next to 500k sessions.
const STEP_NS: u64 = 200_000;

struct Bench {
    core: Core,
    live: VecDeque<SessionId>,
    next_client: u32,
    now: u64,
}

fn packet(i: u32) -> PacketInfo {
    PacketInfo {
        key: SessionKey {
            protocol: Protocol::Tcp,
            vip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            vip_port: 80,
            client: IpAddr::V4(Ipv4Addr::from(0x6400_0000u32.wrapping_add(i >> 2))),
            client_port: 1024 + (i & 3) as u16,
        },
        tcp_flags: TcpFlags(TcpFlags::SYN),
        client_mac: [2, 0, 0, 0, 0, 1],
        ingress_port: 0,
        bytes: 74,
    }
}

impl Bench {
    fn new(active: usize, algorithm: Algorithm) -> Bench {
        let mut core = Core::new(CoreConfig::default()).unwrap();
        let svc = core
            .add_service(ServiceConfig::new(
                Protocol::Tcp,
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                80,
                algorithm,
            ))
            .unwrap();
        for i in 0..16u8 {
            let addr = IpAddr::V4(Ipv4Addr::new(10, 1, 0, i + 1));
            core.service_mut(svc)
                .unwrap()
                .pool_mut()
                .add(ServerConfig::new(addr))
                .unwrap();
        }
        let mut b = Bench {
            core,
            live: VecDeque::with_capacity(active + CHUNK as usize),
            next_client: 0,
            now: 0,
        };
        for _ in 0..active {
            b.admit();
        }
        b
    }

    #[inline]
    fn admit(&mut self) {
        self.now += STEP_NS;
        let p = packet(self.next_client);
        self.next_client = self.next_client.wrapping_add(1);
        match self.core.on_new_packet(&p, self.now) {
            NewPacketOutcome::Admitted { admitted, .. } => self.live.push_back(admitted.session),
            other => panic!("{other:?}"),
        }
    }

    #[inline]
    fn end_oldest(&mut self) {
        self.now += STEP_NS;
        let id = self.live.pop_front().unwrap();
        black_box(self.core.end_session(id, self.now));
    }
}

fn sessions(c: &mut Criterion) {
    let mut group = c.benchmark_group("session");
    for active in [1_000usize, 100_000, 500_000] {
        let mut b = Bench::new(active, Algorithm::Maglev);
        group.bench_with_input(BenchmarkId::new("admit", active), &active, |bench, _| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let k = CHUNK.min(iters - done);
                    let start = Instant::now();
                    for _ in 0..k {
                        b.admit();
                    }
                    total += start.elapsed();
                    for _ in 0..k {
                        b.end_oldest();
                    }
                    done += k;
                }
                total
            })
        });
        group.bench_with_input(BenchmarkId::new("end", active), &active, |bench, _| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let k = CHUNK.min(iters - done);
                    let start = Instant::now();
                    for _ in 0..k {
                        b.end_oldest();
                    }
                    total += start.elapsed();
                    for _ in 0..k {
                        b.admit();
                    }
                    done += k;
                }
                total
            })
        });
        assert_eq!(b.core.sessions().len(), active);
    }
    group.finish();
}

/// Admission at 100k active sessions with each algorithm (16 servers).
fn algorithms(c: &mut Criterion) {
    let mut group = c.benchmark_group("admit_100k_by_algorithm");
    for algorithm in Algorithm::ALL {
        let mut b = Bench::new(100_000, algorithm);
        group.bench_function(algorithm.as_str(), |bench| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let k = CHUNK.min(iters - done);
                    let start = Instant::now();
                    for _ in 0..k {
                        b.admit();
                    }
                    total += start.elapsed();
                    for _ in 0..k {
                        b.end_oldest();
                    }
                    done += k;
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sessions, algorithms);
criterion_main!(benches);
