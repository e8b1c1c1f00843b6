//! This instance's announced VIPs and its drain (issue 14): the
//! `instance.drain` and `instance.undrain` requests, the announcer's part
//! of `cluster`, `stats` and the metrics, and the timer that keeps the
//! announce table in step with the servers' health ([`run_announcer`]).
//! The table itself is [`crate::announce`]'s.

use super::{err, poisoned, Control};
use crate::announce::{Announcer, VipHealth};
use crate::channels::{Call, View};
use slb_proto::{code, Announce, ErrorBody};
use std::time::{Duration, Instant};

/// How often the announcer re-reads the servers' health.
pub const ANNOUNCE_EVERY: Duration = Duration::from_millis(200);
/// How long a round waits for the scheduler's answer: older health is
/// stale anyway, and a scheduler that stopped (slbd stopping) must not
/// hold the withdrawal at stop for the requests' 5 s.
const HEALTH_WAIT: Duration = Duration::from_secs(1);

impl Control {
    /// Gives the control plane the announcer (`cluster.announce_table`),
    /// its table already flushed ([`Announcer::start`]).
    pub fn with_announcer(mut self, a: Announcer) -> Control {
        self.announcer = Some(std::sync::Mutex::new(a));
        self
    }

    /// Whether there is an announcer to run.
    pub fn announces(&self) -> bool {
        self.announcer.is_some()
    }

    /// Brings the announce table in step with the services' health and
    /// the drain flag (nothing without an announcer). Asks the scheduler
    /// for the health; `pump` as in [`Control::handle`].
    pub fn announce(&self, pump: &mut dyn FnMut()) -> Result<(), ErrorBody> {
        let Some(a) = &self.announcer else {
            return Ok(());
        };
        let vips: Vec<VipHealth> = self.ask_within(Call::View(View::Vips), pump, HEALTH_WAIT)?;
        a.lock().map_err(poisoned)?.reconcile(&vips);
        Ok(())
    }

    /// Withdraws every VIP (at a normal stop); how many routes went.
    pub fn withdraw_all(&self) -> Result<usize, String> {
        match &self.announcer {
            None => Ok(0),
            Some(a) => a
                .lock()
                .map_err(|_| "announcer poisoned".to_string())?
                .withdraw_all(),
        }
    }

    /// What is announced now; `None` without an announcer.
    pub(super) fn announce_state(&self) -> Option<Announce> {
        let a = self.announcer.as_ref()?.lock().ok()?;
        Some(Announce {
            table: a.table(),
            draining: a.draining(),
            announced: a.announced().iter().map(|v| v.to_string()).collect(),
            errors: a.errors(),
        })
    }

    /// `instance.drain` (true) and `instance.undrain`: the flag, then the
    /// table at once. A drain withdraws even when the scheduler does not
    /// answer (draining wants nothing, whatever the health).
    pub(super) fn set_draining(
        &self,
        draining: bool,
        pump: &mut dyn FnMut(),
    ) -> Result<Announce, ErrorBody> {
        let Some(a) = &self.announcer else {
            return Err(err(
                code::NOT_ANNOUNCING,
                "slbd announces no VIPs (cluster.announce_table is not set), \
                 so there is nothing to withdraw or announce",
            ));
        };
        a.lock().map_err(poisoned)?.set_draining(draining);
        if draining {
            a.lock().map_err(poisoned)?.reconcile(&[]);
        } else {
            self.announce(pump)?;
        }
        self.announce_state()
            .ok_or_else(|| err(code::INTERNAL, "announcer poisoned"))
    }
}

/// slbd's announcer thread: re-evaluates every [`ANNOUNCE_EVERY`] until
/// `stop()`, then withdraws every VIP.
pub fn run_announcer(control: &Control, stop: impl Fn() -> bool) {
    let mut pump = || std::thread::sleep(Duration::from_micros(200));
    let mut next = Instant::now();
    while !stop() {
        if Instant::now() >= next {
            if let Err(e) = control.announce(&mut pump) {
                tracing::debug!(error = %e.message, "announce: no health from the scheduler this round");
            }
            next = Instant::now() + ANNOUNCE_EVERY;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    match control.withdraw_all() {
        Ok(n) => tracing::info!(routes = n, "every VIP withdrawn at stop"),
        Err(e) => tracing::error!(error = %e, "cannot withdraw the VIPs at stop"),
    }
}
