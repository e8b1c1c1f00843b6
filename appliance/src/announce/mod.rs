//! Which VIPs the routing daemon announces (issue 14). slbd runs no
//! routing protocol: it keeps, in one kernel routing table of its own
//! network namespace (`cluster.announce_table`), exactly one blackhole
//! route per VIP it wants announced (`VIP/32`, `VIP/128`). BIRD or FRR
//! imports that table and announces its routes by BGP with this
//! instance's address as next hop (`docs/operations.md`, "Announcing
//! VIPs"). The routes are blackholes, not local: the namespace's kernel
//! never takes VIP traffic as its own.
//!
//! A VIP is wanted while the instance is not draining and at least one
//! service on it has a server that takes new sessions ([`plan`]). The
//! control plane re-evaluates on a timer and after every change
//! (`Control::announce`); [`Announcer::reconcile`] reads the table and
//! makes only the differences, so a route someone else removed comes
//! back and one left by a killed predecessor goes. At start the table is
//! flushed before anything is announced; at a normal stop it is flushed
//! again (every VIP withdrawn). Errors are counted and logged once per
//! change, never fatal once running.

pub mod plan;
pub mod rtnetlink;

pub use plan::VipHealth;
pub use rtnetlink::{Route, RouteTable, Routes, RTN_BLACKHOLE};

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Keeps the announce table in step with what should be announced.
pub struct Announcer {
    routes: Box<dyn Routes>,
    table: u32,
    draining: bool,
    /// The VIPs with a route in the table, as last read and changed.
    announced: BTreeSet<IpAddr>,
    /// Failed table requests.
    errors: u64,
    /// The failures logged and not yet mended, by what failed: the next
    /// failure of the same thing with the same error is not logged again.
    failing: BTreeMap<String, String>,
}

impl Announcer {
    /// Opens `table` in this thread's network namespace and flushes it
    /// (a killed predecessor may have left routes): at start, before
    /// anything is announced. An error here is a start error.
    pub fn start(table: u32) -> Result<Announcer, String> {
        let routes = RouteTable::open(table)
            .map_err(|e| format!("cluster.announce_table {table}: cannot open rtnetlink: {e}"))?;
        Announcer::with_routes(table, Box::new(routes))
    }

    /// The same over any route table (the kernel's, or [`MemoryRoutes`]).
    pub fn with_routes(table: u32, mut routes: Box<dyn Routes>) -> Result<Announcer, String> {
        let n = routes.flush().map_err(|e| {
            format!(
                "cluster.announce_table {table}: cannot flush the routes left in the table: {e}"
            )
        })?;
        if n > 0 {
            tracing::info!(table, routes = n, "announce table flushed at start");
        }
        Ok(Announcer {
            routes,
            table,
            draining: false,
            announced: BTreeSet::new(),
            errors: 0,
            failing: BTreeMap::new(),
        })
    }

    pub fn table(&self) -> u32 {
        self.table
    }

    pub fn draining(&self) -> bool {
        self.draining
    }

    /// Drains (true) or undrains: takes effect at the next
    /// [`Announcer::reconcile`].
    pub fn set_draining(&mut self, draining: bool) {
        if draining != self.draining {
            tracing::info!(draining, "instance drain changed");
        }
        self.draining = draining;
    }

    /// The VIPs with a route in the table now, in address order.
    pub fn announced(&self) -> &BTreeSet<IpAddr> {
        &self.announced
    }

    /// Failed table requests since start.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Reads the table and changes what differs from what `services`
    /// and the drain flag want. Routes in the table that are not a
    /// blackhole host route (someone else's) are removed too: the table
    /// is slbd's.
    pub fn reconcile(&mut self, services: &[VipHealth]) {
        let desired = plan::desired(services, self.draining);
        let listed = self.routes.list();
        let Some(routes) = self.outcome("read the table".into(), listed) else {
            return;
        };
        let mut current = BTreeSet::new();
        for r in routes {
            if r.is_blackhole_host() {
                current.insert(r.dst);
            } else {
                let res = self.routes.delete(&r);
                let what = format!("remove the foreign route {}/{}", r.dst, r.prefix_len);
                self.outcome(what, res);
            }
        }
        let changes = plan::changes(&desired, &current);
        for vip in changes.remove {
            let res = self.routes.delete(&Route::blackhole(vip));
            if self.outcome(format!("withdraw {vip}"), res).is_some() {
                tracing::info!(%vip, table = self.table, "VIP withdrawn");
                current.remove(&vip);
            }
        }
        for vip in changes.add {
            let res = self.routes.add_blackhole(vip);
            if self.outcome(format!("announce {vip}"), res).is_some() {
                tracing::info!(%vip, table = self.table, "VIP announced");
                current.insert(vip);
            }
        }
        self.announced = current;
    }

    /// Withdraws every VIP (flushes the table): at a normal stop.
    pub fn withdraw_all(&mut self) -> Result<usize, String> {
        let r = self.routes.flush();
        match self.outcome("flush the table".into(), r) {
            Some(n) => {
                self.announced.clear();
                Ok(n)
            }
            None => Err(format!(
                "cluster.announce_table {}: flush failed (see the log)",
                self.table
            )),
        }
    }

    /// The answer's value, or `None` after counting the error and logging
    /// it unless the same thing already failed the same way.
    fn outcome<T>(&mut self, what: String, r: io::Result<T>) -> Option<T> {
        match r {
            Ok(v) => {
                if self.failing.remove(&what).is_some() {
                    tracing::info!(table = self.table, "announce table: {what}: works again");
                }
                Some(v)
            }
            Err(e) => {
                self.errors += 1;
                let e = e.to_string();
                if self.failing.get(&what) != Some(&e) {
                    tracing::warn!(table = self.table, error = %e, "announce table: cannot {what}");
                    self.failing.insert(what, e);
                }
                None
            }
        }
    }
}

/// A route table in memory, for the control plane's tests and the golden
/// rig (which run without a network namespace of their own). Clones share
/// the table, so a test keeps one to look at and to make requests fail.
#[derive(Clone, Default)]
pub struct MemoryRoutes {
    routes: Arc<Mutex<Vec<Route>>>,
    failing: Arc<AtomicBool>,
}

impl MemoryRoutes {
    /// The routes in the table now.
    pub fn routes(&self) -> Vec<Route> {
        self.routes.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Puts a route in the table, as another program might.
    pub fn insert(&self, r: Route) {
        if let Ok(mut v) = self.routes.lock() {
            v.push(r);
        }
    }

    /// While true, every request fails (EPERM).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::Relaxed);
    }

    fn check(&self) -> io::Result<std::sync::MutexGuard<'_, Vec<Route>>> {
        if self.failing.load(Ordering::Relaxed) {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        self.routes.lock().map_err(|_| io::Error::other("poisoned"))
    }
}

impl Routes for MemoryRoutes {
    fn list(&mut self) -> io::Result<Vec<Route>> {
        Ok(self.check()?.clone())
    }

    fn add_blackhole(&mut self, vip: IpAddr) -> io::Result<()> {
        let mut v = self.check()?;
        let r = Route::blackhole(vip);
        v.retain(|x| (x.dst, x.prefix_len) != (r.dst, r.prefix_len));
        v.push(r);
        Ok(())
    }

    fn delete(&mut self, route: &Route) -> io::Result<()> {
        self.check()?
            .retain(|x| (x.dst, x.prefix_len) != (route.dst, route.prefix_len));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn dsts(m: &MemoryRoutes) -> BTreeSet<IpAddr> {
        m.routes().iter().map(|r| r.dst).collect()
    }

    #[test]
    fn start_flushes_and_reconcile_makes_the_differences() {
        let m = MemoryRoutes::default();
        // Left by a killed predecessor: a VIP and someone's /24.
        m.insert(Route {
            dst: ip("198.18.100.9"),
            prefix_len: 32,
            kind: RTN_BLACKHOLE,
        });
        let mut a = Announcer::with_routes(100, Box::new(m.clone())).unwrap();
        assert!(m.routes().is_empty());
        let mut services = vec![
            VipHealth {
                vip: ip("198.18.100.1"),
                serving: true,
            },
            VipHealth {
                vip: ip("2001:db8:100::1"),
                serving: true,
            },
        ];
        a.reconcile(&services);
        assert_eq!(dsts(&m), [ip("198.18.100.1"), ip("2001:db8:100::1")].into());
        assert_eq!(m.routes()[1].prefix_len, 128);
        assert_eq!(a.announced(), &dsts(&m));
        // Every server of the IPv4 service went down.
        services[0].serving = false;
        // A foreign route appears in the table: removed.
        m.insert(Route {
            dst: ip("198.18.7.0"),
            prefix_len: 24,
            kind: 1,
        });
        a.reconcile(&services);
        assert_eq!(dsts(&m), [ip("2001:db8:100::1")].into());
        // Drain withdraws everything, undrain brings it back.
        a.set_draining(true);
        a.reconcile(&services);
        assert!(m.routes().is_empty() && a.announced().is_empty());
        a.set_draining(false);
        services[0].serving = true;
        a.reconcile(&services);
        assert_eq!(a.announced().len(), 2);
        assert_eq!(a.withdraw_all(), Ok(2));
        assert!(m.routes().is_empty() && a.announced().is_empty());
        assert_eq!(a.errors(), 0);
    }

    #[test]
    fn errors_are_counted_and_the_table_mended_later() {
        let m = MemoryRoutes::default();
        let mut a = Announcer::with_routes(100, Box::new(m.clone())).unwrap();
        let services = [VipHealth {
            vip: ip("198.18.100.1"),
            serving: true,
        }];
        m.set_failing(true);
        a.reconcile(&services);
        a.reconcile(&services);
        assert_eq!(a.errors(), 2);
        assert!(a.announced().is_empty());
        assert!(a.withdraw_all().is_err());
        m.set_failing(false);
        a.reconcile(&services);
        assert_eq!(a.announced(), &[ip("198.18.100.1")].into());
        assert_eq!(a.errors(), 3);
        // A table that cannot be flushed at start is a start error.
        m.set_failing(true);
        let e = Announcer::with_routes(7, Box::new(m.clone()))
            .err()
            .unwrap();
        assert!(
            e.starts_with("cluster.announce_table 7: cannot flush"),
            "{e}"
        );
    }
}
