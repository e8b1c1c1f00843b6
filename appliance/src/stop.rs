//! The process-wide stop flag: raised by SIGINT/SIGTERM (or the main
//! thread), polled by every lcore once per loop iteration.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// True once slbd has been asked to stop.
#[inline]
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Asks every lcore to stop.
pub fn request() {
    STOP.store(true, Ordering::Relaxed);
}

extern "C" fn on_signal(_sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::Relaxed);
}

/// Routes SIGINT and SIGTERM to [`request`].
pub fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: on_signal is async-signal-safe (one atomic store) and has
        // the signature signal(2) expects.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}
