//! Locating slbd and the EAL options of a test run.

use std::path::{Path, PathBuf};

/// The slbd binary under test: `$SLBD` if set, else `slbd` in the cargo
/// target directory this test was built into (`./scripts/test` builds it
/// first; so does `cargo build --workspace`).
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SLBD") {
        return PathBuf::from(p);
    }
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary inside target/<profile>/deps");
    let p = profile_dir.join("slbd");
    assert!(
        p.exists(),
        "slbd not found at {}: build it first (cargo build -p slb-appliance) or set SLBD",
        p.display()
    );
    p
}

/// EAL options for a test run: no PCI probing (never touch this machine's
/// NIC), no hugepages, no shared runtime files or telemetry socket (so runs
/// can go in parallel), quiet logs. Add `-l` and `--vdev` to these.
pub fn eal_base(memory_mb: u32) -> Vec<String> {
    [
        "--no-pci",
        "--no-huge",
        "-m",
        &memory_mb.to_string(),
        "--no-shconf",
        "--no-telemetry",
        "--log-level=lib.*:error",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// An EAL `--lcores` map for the main lcore plus `workers` worker lcores,
/// spread over this machine's CPUs (several lcores may share a CPU, which
/// `-l 0-N` would refuse on a small machine).
pub fn lcore_map(workers: u32) -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    (0..=workers)
        .map(|l| format!("{l}@{}", l % cpus))
        .collect::<Vec<_>>()
        .join(",")
}

/// The arguments of an slbd in balance mode on two `net_null` ports that
/// receive nothing (3 lcores: main, scheduler, one worker), with
/// configuration `config` and control socket `socket`; add slbd's other
/// options (`--duration`, `--idle-sleep-us`, ...) after these.
pub fn null_ports_args(memory_mb: u32, config: &Path, socket: &Path) -> Vec<String> {
    let mut args = eal_base(memory_mb);
    args.extend(
        [
            "--lcores",
            "0@0,1@1,2@0",
            "--vdev",
            "net_null0,no-rx=1",
            "--vdev",
            "net_null1,no-rx=1",
            "--",
            "--config",
        ]
        .map(String::from),
    );
    args.push(config.display().to_string());
    args.push("--ctl-socket".into());
    args.push(socket.display().to_string());
    args
}
