//! Cost of the access-list check at admission (`AccessLists::check`) as
//! the lists grow: 0 to 100,000 prefixes over 5 prefix lengths (IPv4) or
//! 4 (IPv6), for a client that is allowed (the slowest answer: every
//! length of the deny list and of the allow list is probed). The cost must
//! follow the number of lengths, not of prefixes.
//!
//! Run: `cargo bench -p slb-core --bench access -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use slb_core::{AccessLists, PrefixSet};

/// A xorshift stream: the same lists every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn lists_v4(n: usize, rng: &mut Rng) -> AccessLists {
    const LENS: [u8; 5] = [16, 20, 24, 28, 32];
    // Prefixes outside 100.64.0.0/10, where the clients are.
    let mut set = |n: usize| -> PrefixSet {
        (0..n)
            .map(|_| {
                let mut a = rng.next() as u32;
                if a >> 22 == 0x6440_0000 >> 22 {
                    a ^= 0x8000_0000;
                }
                let l = LENS[(rng.next() % 5) as usize];
                (IpAddr::V4(Ipv4Addr::from(a)), l)
            })
            .collect()
    };
    let deny = set(n);
    let mut allow = set(n);
    if n > 0 {
        allow.insert(IpAddr::V4(Ipv4Addr::new(100, 64, 0, 0)), 10);
    }
    AccessLists { allow, deny }
}

fn lists_v6(n: usize, rng: &mut Rng) -> AccessLists {
    const LENS: [u8; 4] = [36, 48, 64, 128];
    let mut set = |n: usize| -> PrefixSet {
        (0..n)
            .map(|_| {
                // 2001:db8:8000::/33 and up: never the clients' 2001:db8::/33.
                let hi = 0x2001_0db8_8000_0000u64 | (rng.next() & 0x7fff_ffff);
                let a = (u128::from(hi) << 64) | u128::from(rng.next());
                let l = LENS[(rng.next() % 4) as usize];
                (IpAddr::V6(Ipv6Addr::from(a)), l)
            })
            .collect()
    };
    let deny = set(n);
    let mut allow = set(n);
    if n > 0 {
        allow.insert("2001:db8::".parse().unwrap(), 33);
    }
    AccessLists { allow, deny }
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("access_check");
    for n in [0usize, 10, 1_000, 100_000] {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let v4 = lists_v4(n, &mut rng);
        let v6 = lists_v6(n, &mut rng);
        let clients4: Vec<IpAddr> = (0..1024u32)
            .map(|i| IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i * 4099)))
            .collect();
        let clients6: Vec<IpAddr> = (0..1024u128)
            .map(|i| {
                IpAddr::V6(Ipv6Addr::from(
                    (0x2001_0db8u128 << 96) | (i * 0x1_0000_0001),
                ))
            })
            .collect();
        for c in &clients4 {
            assert_eq!(v4.check(*c), Ok(()), "{c}");
        }
        for c in &clients6 {
            assert_eq!(v6.check(*c), Ok(()), "{c}");
        }
        group.bench_with_input(BenchmarkId::new("v4_allowed", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(v4.check(black_box(clients4[i])))
            })
        });
        group.bench_with_input(BenchmarkId::new("v6_allowed", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(v6.check(black_box(clients6[i])))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
