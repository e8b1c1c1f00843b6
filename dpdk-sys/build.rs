//! Generates bindings to the system DPDK and compiles wrappers for its
//! `static inline` functions.
//!
//! DPDK's hot functions (`rte_eth_rx_burst`, `rte_pktmbuf_alloc`,
//! `rte_ring_enqueue_burst`, ...) are `static inline` in headers, so there is
//! no symbol to link against. bindgen's `wrap_static_fns` writes a C file with
//! one exported `<name>__extern` wrapper per inline function; `cc` compiles it
//! with pkg-config's cflags and the Rust side links against those wrappers.
//! Nothing of DPDK is re-implemented by hand.

use std::env;
use std::path::PathBuf;

const MIN_VERSION: &str = "22.11";

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.c");
    println!("cargo:rerun-if-changed=build.rs");

    let dpdk = match pkg_config::Config::new()
        .atleast_version(MIN_VERSION)
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!(
                "error: DPDK >= {MIN_VERSION} not found by pkg-config ({e}).\n\
                 On Debian or Ubuntu install it with: apt-get install libdpdk-dev pkg-config\n\
                 (./scripts/setup does this for you)."
            );
            std::process::exit(1);
        }
    };

    // pkg-config's cflags: include paths, `-include rte_config.h`, `-march=...`.
    let cflags: Vec<String> = pkg_config::get_variable("libdpdk", "cflags")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_else(cflags_from_pkg_config_cli);

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let wrappers = out.join("dpdk_static_fns");

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_args(&cflags)
        .wrap_static_fns(true)
        .wrap_static_fns_path(&wrappers)
        .allowlist_function("rte_eal_.*|rte_lcore_.*|rte_get_.*lcore.*|rte_socket_.*")
        .allowlist_function("rte_eth_.*|rte_pktmbuf_.*|rte_mbuf_.*|rte_mempool_.*")
        .allowlist_function("rte_ring_.*|rte_strerror|rte_exit|rte_delay_.*|rte_rdtsc.*")
        .allowlist_function("rte_get_tsc_hz|rte_get_timer_.*|slb_.*")
        .allowlist_type("rte_eth_.*|rte_mbuf|rte_mempool|rte_ring|rte_ether_addr")
        .allowlist_var("RTE_ETH_.*|RTE_MBUF_.*|RTE_PKTMBUF_.*|RTE_RING_.*|RTE_MAX_.*")
        .allowlist_var("RTE_MEMPOOL_.*|RING_F_.*|RTE_ETHER_.*|RTE_LCORE_.*|SOCKET_ID_ANY")
        .allowlist_var("E[A-Z]+|RTE_MIN_ERRNO|RTE_MAX_ERRNO")
        // These packed headers embed aligned types: bindgen cannot derive a
        // layout Rust accepts (E0588), so keep them opaque.
        .opaque_type("rte_arp_hdr|rte_arp_ipv4|rte_gtp_psc_generic_hdr|rte_l2tpv2_combined_msg_hdr")
        .derive_default(true)
        .layout_tests(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for path in &dpdk.include_paths {
        builder = builder.clang_arg(format!("-I{}", path.display()));
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        eprintln!(
            "error: bindgen failed on DPDK's headers ({e}). bindgen needs libclang: \
             apt-get install clang libclang-dev"
        );
        std::process::exit(1);
    });
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("write bindings.rs into OUT_DIR");

    // Compile the generated wrappers and our shim with DPDK's own flags.
    let mut cc = cc::Build::new();
    cc.file(wrappers.with_extension("c"))
        .file("shim.c")
        .include(env::current_dir().expect("cwd"))
        .flag("-include")
        .flag("wrapper.h")
        .warnings(false)
        .opt_level(3);
    for flag in &cflags {
        cc.flag(flag);
    }
    cc.compile("slb_dpdk_wrappers");
}

fn cflags_from_pkg_config_cli() -> Vec<String> {
    let output = std::process::Command::new("pkg-config")
        .args(["--cflags", "libdpdk"])
        .output()
        .expect("run pkg-config --cflags libdpdk");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}
