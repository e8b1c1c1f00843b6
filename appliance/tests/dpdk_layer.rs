//! The safe DPDK layer against a real EAL (no NIC: --no-pci --no-huge,
//! net_null and net_ring virtual devices). One EAL per process, shared by
//! the tests of this binary.

use slb_appliance::dpdk::{lcore, Eal, Mbuf, Mempool, PacketBatch, Port, PortConfig, Ring, BURST};
use std::sync::OnceLock;

fn eal() -> &'static Eal {
    static EAL: OnceLock<Eal> = OnceLock::new();
    EAL.get_or_init(|| {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let lcores = format!("0@0,1@{}", 1 % cpus);
        Eal::init(&[
            "dpdk-layer-test",
            "--no-pci",
            "--no-huge",
            "-m",
            "128",
            "--no-shconf",
            "--no-telemetry",
            "--log-level=lib.*:error",
            "--lcores",
            &lcores,
            "--vdev",
            "net_null0",
        ])
        .expect("EAL init")
    })
}

fn pool(name: &str) -> Mempool {
    eal();
    Mempool::new(name, 511, 0, 2176).expect("mempool")
}

#[test]
fn second_eal_init_is_an_error_not_a_crash() {
    eal();
    let err = Eal::init(&["again", "--no-pci"]).err().expect("must fail");
    assert!(err.to_string().contains("already initialised"), "{err}");
}

#[test]
fn mbuf_frees_itself_and_pushes_pops_through_headroom() {
    let p = pool("mbuf_test");
    let before = p.available();
    {
        let mut m = p.alloc().expect("alloc");
        assert_eq!(p.available(), before - 1);
        assert!(m.is_empty());
        let tail = m.append(60).expect("append");
        tail.copy_from_slice(&[0xab; 60]);
        let head = m.headroom();
        // Push 4 bytes through the headroom, like an MPLS label.
        let data = m.prepend(4).expect("prepend");
        assert_eq!(data.len(), 64);
        data[..4].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(m.headroom(), head - 4);
        assert_eq!(&m.data()[..5], &[1, 2, 3, 4, 0xab]);
        // Pop it again.
        assert!(m.adj(4));
        assert_eq!(m.data(), &[0xab; 60][..]);
        assert!(!m.adj(61), "cannot remove more than the data");
        assert!(m.trim(10));
        assert_eq!(m.len(), 50);
        assert!(m.is_contiguous());
        // Prepending more than the headroom fails cleanly.
        assert!(m.prepend(u16::MAX).is_none());
    }
    assert_eq!(p.available(), before, "drop returned the mbuf");
}

#[test]
fn batch_and_ring_pass_ownership_without_leaks() {
    let p = pool("ring_test");
    let before = p.available();
    let ring = Ring::new("ring_test", 8).expect("ring");
    for i in 0..8u8 {
        let mut m = p.alloc().expect("alloc");
        m.append(1).expect("append")[0] = i;
        assert!(ring.enqueue(m).is_ok());
    }
    let extra = p.alloc().expect("alloc");
    let extra = ring.enqueue(extra).expect_err("ring of 8 is full");
    drop(extra);
    assert_eq!(ring.len(), 8);
    let mut batch = PacketBatch::new();
    assert_eq!(ring.dequeue_burst(&mut batch), 8);
    let got: Vec<u8> = batch.drain().map(|m| m.data()[0]).collect();
    assert_eq!(got, (0..8).collect::<Vec<_>>(), "FIFO order");
    // A batch dropped with packets in it frees them.
    let mut batch = PacketBatch::new();
    for _ in 0..BURST {
        batch.push(p.alloc().expect("alloc")).ok().expect("room");
    }
    let last: Mbuf = p.alloc().expect("alloc");
    assert!(
        batch.push(last).is_err(),
        "a full batch hands the packet back"
    );
    drop(batch);
    drop(ring);
    assert_eq!(p.available(), before);
}

#[test]
fn drain_peeks_ahead_in_order_and_frees_what_it_did_not_hand_out() {
    let p = pool("drain_test");
    let before = p.available();
    let mut batch = PacketBatch::new();
    for i in 0..6u8 {
        let mut m = p.alloc().expect("alloc");
        m.append(1).expect("append")[0] = i;
        batch.push(m).ok().expect("room");
    }
    let mut d = batch.drain();
    assert_eq!(d.peek(0).map(|m| m.data()[0]), Some(0));
    assert_eq!(d.peek(5).map(|m| m.data()[0]), Some(5));
    assert!(d.peek(6).is_none(), "nothing past the last packet");
    let first = d.next().expect("first");
    assert_eq!(first.data()[0], 0);
    // The poll loop's look-ahead: peek(k) is k places after the next one.
    assert_eq!(d.peek(3).map(|m| m.data()[0]), Some(4));
    assert!(d.peek(5).is_none());
    assert_eq!(d.size_hint(), (5, Some(5)));
    let second = d.next().expect("second");
    assert_eq!(second.data()[0], 1);
    // Dropped with 4 packets not handed out: the drain frees them.
    drop(d);
    assert!(batch.is_empty());
    drop((first, second));
    assert_eq!(p.available(), before);
}

#[test]
fn port_null_device_tx_and_rx() {
    let p = pool("port_test");
    let id = Port::id_by_name("net_null0").expect("net_null0");
    assert!(Port::id_by_name("net_nope").is_err());
    let port = Port::configure(id, &PortConfig::default(), &p).expect("configure");
    port.start().expect("start");
    assert_eq!(port.driver(), "net_null");
    let mut batch = PacketBatch::new();
    for _ in 0..4 {
        let mut m = p.alloc().expect("alloc");
        m.append(64).expect("append");
        batch.push(m).ok().expect("room");
    }
    assert_eq!(port.tx_burst(0, &mut batch), 4);
    assert!(batch.is_empty());
    // net_null's RX produces packets out of the pool.
    let n = port.rx_burst(0, &mut batch);
    assert!(n > 0);
    drop(batch);
    let s = port.stats();
    assert_eq!(s.tx_packets, 4);
    port.stop();
}

#[test]
fn lcore_launch_returns_result_and_catches_panics() {
    eal();
    let workers = lcore::worker_lcores();
    assert_eq!(workers, vec![1]);
    let l = lcore::launch(1, || 42).expect("launch");
    assert_eq!(l.join(), Ok(42));
    let l = lcore::launch(1, || panic!("boom on purpose")).expect("launch");
    let err = l.join().expect_err("panic reported");
    assert!(err.contains("boom on purpose"), "{err}");
    // The lcore is usable again after a panic.
    let l = lcore::launch(1, || lcore::current() as i32).expect("launch");
    assert_eq!(l.join(), Ok(1));
}
