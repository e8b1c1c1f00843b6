//! Calls through the generated wrappers for real: EAL up, a mempool, mbuf
//! alloc/free and a ring round trip. One EAL per process, so one test.

use slb_dpdk_sys as sys;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};

#[test]
fn eal_mempool_mbuf_ring_through_wrappers() {
    let args = [
        "slb-dpdk-sys-test",
        "--no-pci",
        "--no-huge",
        "-m",
        "64",
        "--no-shconf",
        "--no-telemetry",
        "-l",
        "0",
        "--log-level",
        "lib.*:error",
    ];
    let cargs: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
    let mut argv: Vec<*mut c_char> = cargs.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    // SAFETY: argv points at NUL-terminated strings that outlive the call;
    // EAL is initialised once in this process (this is the only test).
    let rc = unsafe { sys::rte_eal_init(argv.len() as i32, argv.as_mut_ptr()) };
    assert!(rc >= 0, "rte_eal_init failed, rte_errno {}", unsafe {
        sys::slb_rte_errno()
    });

    // SAFETY: EAL is up; the wrappers are plain function calls.
    unsafe {
        assert_eq!(sys::rte_lcore_id(), 0, "the main thread is lcore 0");
        assert!(sys::rte_get_tsc_hz() > 0);
        let t0 = sys::rte_rdtsc();
        assert!(sys::rte_rdtsc() >= t0);

        let name = CString::new("wrap_test_pool").unwrap();
        let pool = sys::rte_pktmbuf_pool_create(
            name.as_ptr(),
            255,
            0,
            0,
            sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
            sys::SOCKET_ID_ANY,
        );
        assert!(
            !pool.is_null(),
            "pool create failed: {}",
            sys::slb_rte_errno()
        );
        let before = sys::rte_mempool_avail_count(pool);

        let m = sys::rte_pktmbuf_alloc(pool);
        assert!(!m.is_null());
        assert_eq!(sys::rte_mempool_avail_count(pool), before - 1);
        assert_eq!((*m).data_off as u32, sys::RTE_PKTMBUF_HEADROOM);
        let p = sys::rte_pktmbuf_append(m, 60);
        assert!(!p.is_null());
        assert_eq!((*m).pkt_len, 60);
        let q = sys::rte_pktmbuf_prepend(m, 4);
        assert!(!q.is_null());
        assert_eq!((*m).pkt_len, 64);
        assert!(!sys::rte_pktmbuf_adj(m, 4).is_null());
        assert_eq!((*m).pkt_len, 60);

        let rname = CString::new("wrap_test_ring").unwrap();
        let ring = sys::rte_ring_create(
            rname.as_ptr(),
            64,
            sys::SOCKET_ID_ANY,
            sys::RING_F_SP_ENQ | sys::RING_F_SC_DEQ,
        );
        assert!(!ring.is_null());
        let mut objs = [m as *mut c_void];
        assert_eq!(
            sys::rte_ring_enqueue_burst(ring, objs.as_mut_ptr(), 1, std::ptr::null_mut()),
            1
        );
        assert_eq!(sys::rte_ring_count(ring), 1);
        let mut out = [std::ptr::null_mut::<c_void>(); 4];
        assert_eq!(
            sys::rte_ring_dequeue_burst(ring, out.as_mut_ptr(), 4, std::ptr::null_mut()),
            1
        );
        assert_eq!(out[0], m as *mut c_void);
        sys::rte_ring_free(ring);

        sys::rte_pktmbuf_free(m);
        assert_eq!(sys::rte_mempool_avail_count(pool), before);
        sys::rte_mempool_free(pool);
        sys::rte_eal_cleanup();
    }
}
