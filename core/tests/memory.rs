//! Memory per session, measured with a counting global allocator: every heap
//! byte the core holds (label manager, session slab, key index, label index,
//! services) divided by the number of active sessions.
//!
//! `cargo test -p slb-core --release --test memory -- --nocapture` prints the
//! figures; the test fails if 500k sessions take 160 bytes each or more.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicIsize, Ordering};

use slb_core::{
    Algorithm, Core, CoreConfig, NewPacketOutcome, PacketInfo, Protocol, ServerConfig,
    ServiceConfig, SessionKey, TcpFlags,
};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn packet(i: u32) -> PacketInfo {
    PacketInfo {
        key: SessionKey {
            protocol: Protocol::Tcp,
            vip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            vip_port: 80,
            client: IpAddr::V4(Ipv4Addr::from(0x6400_0000 + (i >> 2))),
            client_port: 1024 + (i & 3) as u16,
        },
        tcp_flags: TcpFlags(TcpFlags::SYN),
        client_mac: [2, 0, 0, 0, 0, 1],
        ingress_port: 0,
        bytes: 74,
    }
}

/// Bytes held per session with `n` active sessions.
fn bytes_per_session(n: u32, capacity_hint: usize) -> (f64, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let mut core = Core::new(CoreConfig {
        session_capacity_hint: capacity_hint,
        ..CoreConfig::default()
    })
    .unwrap();
    let svc = core
        .add_service(ServiceConfig::new(
            Protocol::Tcp,
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            80,
            Algorithm::Maglev,
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
    for i in 0..n {
        assert!(matches!(
            core.on_new_packet(&packet(i), 0),
            NewPacketOutcome::Admitted { .. }
        ));
    }
    let held = (LIVE.load(Ordering::Relaxed) - before) as usize;
    let reported = core.heap_bytes();
    drop(core);
    (held as f64 / n as f64, reported)
}

#[test]
fn memory_per_session() {
    for (n, hint) in [(1_000, 0), (100_000, 0), (500_000, 0), (500_000, 500_000)] {
        let (per, core_heap) = bytes_per_session(n, hint);
        println!(
            "{n:>7} sessions (capacity hint {hint:>7}): {per:7.1} bytes/session \
             (label manager + table: {:.1})",
            core_heap as f64 / n as f64
        );
        if n == 500_000 {
            // 136 bytes of session (8 of them its origin and sync marks),
            // the key index, the label index and manager.
            assert!(per < 170.0, "{per} bytes per session at {n}");
        }
    }
}
