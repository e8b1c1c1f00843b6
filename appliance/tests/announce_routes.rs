//! The announcer's rtnetlink requests against a real kernel routing table,
//! in a network namespace this test creates (`slban-<pid>-<n>`, removed
//! again even when the test fails). The test's thread enters it with
//! setns (a netlink socket belongs to the namespace it was opened in);
//! `ip -n` checks what the kernel holds, independently of our parser.
//!
//! Needs root and iproute2. `SLB_LAB_SKIP=1` skips it (as the lab tests),
//! for developers without root; otherwise a missing privilege fails.

use slb_appliance::announce::{Announcer, Route, RouteTable, Routes, VipHealth, RTN_BLACKHOLE};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Option<Netns> {
        if std::env::var("SLB_LAB_SKIP").as_deref() == Ok("1") {
            eprintln!("SLB_LAB_SKIP=1: netns test skipped");
            return None;
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "slban-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .expect("cannot run `ip` (install iproute2)");
        assert!(
            out.status.success(),
            "ip netns add {name} (this test needs root; SLB_LAB_SKIP=1 skips it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// `ip -n NS args...`; its output, panicking on failure.
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.0])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ip -n {} {args:?}: {}",
            self.0,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The routes `ip` lists in `table` (both families; a family that
    /// never had a route in the table has none).
    fn table(&self, table: &str) -> Vec<String> {
        let mut v = Vec::new();
        for fam in ["-4", "-6"] {
            let out = Command::new("ip")
                .args(["-n", &self.0, fam, "route", "show", "table", table])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() || err.contains("FIB table does not exist"),
                "ip route show table {table}: {err}"
            );
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                v.push(line.trim().to_string());
            }
        }
        v
    }

    /// Runs `f` on a thread inside the namespace.
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = std::fs::File::open(&path).unwrap();
                // SAFETY: file is an open namespace descriptor for the
                // whole call; setns changes only this thread's namespace.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn dsts(routes: &[Route]) -> BTreeSet<IpAddr> {
    routes.iter().map(|r| r.dst).collect()
}

#[test]
fn add_list_delete_flush_in_one_table_only() {
    let Some(ns) = Netns::new() else { return };
    // Another table's route, and one left in ours by a "killed" slbd.
    ns.ip(&[
        "route",
        "add",
        "blackhole",
        "198.18.50.0/24",
        "table",
        "101",
    ]);
    ns.ip(&[
        "route",
        "add",
        "blackhole",
        "198.18.100.9/32",
        "table",
        "100",
    ]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "blackhole",
        "2001:db8:50::/48",
        "table",
        "101",
    ]);
    ns.run(|| {
        let mut t = RouteTable::open(100).unwrap();
        let listed = t.list().unwrap();
        assert_eq!(dsts(&listed), [ip("198.18.100.9")].into());
        assert_eq!(listed[0].kind, RTN_BLACKHOLE);
        assert_eq!(t.flush().unwrap(), 1);
        assert!(t.list().unwrap().is_empty());
        t.add_blackhole(ip("198.18.100.1")).unwrap();
        t.add_blackhole(ip("2001:db8:100::1")).unwrap();
        // Adding again replaces: still one route each.
        t.add_blackhole(ip("198.18.100.1")).unwrap();
        let listed = t.list().unwrap();
        assert_eq!(
            dsts(&listed),
            [ip("198.18.100.1"), ip("2001:db8:100::1")].into()
        );
        assert!(listed
            .iter()
            .all(|r| r.kind == RTN_BLACKHOLE && (r.prefix_len == 32 || r.prefix_len == 128)));
    });
    let ours = ns.table("100");
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(
        ours[0].starts_with("blackhole 198.18.100.1 proto static"),
        "{ours:?}"
    );
    assert!(
        ours[1].starts_with("blackhole 2001:db8:100::1 "),
        "{ours:?}"
    );
    // Not local, not in the main table: the kernel does not take VIP
    // traffic as its own.
    assert!(!ns
        .ip(&["route", "show", "table", "local"])
        .contains("198.18.100.1"));
    ns.run(|| {
        let mut t = RouteTable::open(100).unwrap();
        let v4 = Route {
            dst: ip("198.18.100.1"),
            prefix_len: 32,
            kind: RTN_BLACKHOLE,
        };
        t.delete(&v4).unwrap();
        // Deleting what is gone is not an error.
        t.delete(&v4).unwrap();
        assert_eq!(dsts(&t.list().unwrap()), [ip("2001:db8:100::1")].into());
        assert_eq!(t.flush().unwrap(), 1);
    });
    assert!(ns.table("100").is_empty());
    // Table 101 is untouched by all of it.
    let other = ns.table("101");
    assert_eq!(other.len(), 2, "{other:?}");
    assert!(
        other[0].starts_with("blackhole 198.18.50.0/24"),
        "{other:?}"
    );
}

#[test]
fn the_announcer_keeps_a_table_above_255_in_step() {
    let Some(ns) = Netns::new() else { return };
    ns.ip(&[
        "route",
        "add",
        "blackhole",
        "198.18.100.7/32",
        "table",
        "70000",
    ]);
    ns.ip(&[
        "route",
        "add",
        "blackhole",
        "198.18.100.7/32",
        "table",
        "100",
    ]);
    let announced = ns.run(|| {
        let mut a = Announcer::start(70_000).unwrap();
        let services = [
            VipHealth {
                vip: ip("198.18.100.1"),
                serving: true,
            },
            VipHealth {
                vip: ip("198.18.100.2"),
                serving: false,
            },
            VipHealth {
                vip: ip("2001:db8:100::1"),
                serving: true,
            },
        ];
        a.reconcile(&services);
        a.reconcile(&services);
        assert_eq!(a.errors(), 0);
        a.announced().clone()
    });
    assert_eq!(
        announced,
        [ip("198.18.100.1"), ip("2001:db8:100::1")].into()
    );
    let t = ns.table("70000");
    assert_eq!(t.len(), 2, "{t:?}");
    assert!(t[0].starts_with("blackhole 198.18.100.1"), "{t:?}");
    ns.run(|| {
        let mut a = Announcer::start(70_000).unwrap();
        a.set_draining(true);
        a.reconcile(&[]);
        assert!(a.announced().is_empty());
    });
    assert!(ns.table("70000").is_empty());
    // The same VIP in table 100 stays.
    assert_eq!(ns.table("100").len(), 1);
}
