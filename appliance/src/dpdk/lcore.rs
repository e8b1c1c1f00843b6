//! Launching Rust closures on EAL lcores.

use super::DpdkError;
use slb_dpdk_sys as sys;
use std::ffi::c_void;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// The lcore this thread runs on, or `u32::MAX` on a non-EAL thread.
pub fn current() -> u32 {
    // SAFETY: reads a thread-local.
    unsafe { sys::rte_lcore_id() }
}

/// The main lcore (the thread that ran EAL init).
pub fn main_lcore() -> u32 {
    // SAFETY: plain getter after EAL init.
    unsafe { sys::rte_get_main_lcore() }
}

/// The enabled lcores other than the main one, in order (`-l 0-3` gives
/// 1, 2, 3 when 0 is the main lcore).
pub fn worker_lcores() -> Vec<u32> {
    let mut out = Vec::new();
    let mut id: u32 = u32::MAX; // -1: start from the beginning
    loop {
        // SAFETY: plain iterator over EAL's lcore table; skip main, no wrap.
        id = unsafe { sys::rte_get_next_lcore(id, 1, 0) };
        if id >= sys::RTE_MAX_LCORE {
            break;
        }
        out.push(id);
    }
    out
}

type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

struct Payload {
    job: Job,
    panic: Arc<Mutex<Option<String>>>,
}

extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: arg is the Box<Payload> leaked by `launch`, handed to exactly
    // one lcore, so we are its only owner.
    let payload = unsafe { Box::from_raw(arg as *mut Payload) };
    let Payload { job, panic } = *payload;
    // A panic must never unwind into DPDK's C frames: catch it here, report
    // it through the join handle, and return an error code to EAL.
    match catch_unwind(AssertUnwindSafe(job)) {
        Ok(rc) => rc,
        Err(e) => {
            let msg = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".into());
            if let Ok(mut slot) = panic.lock() {
                *slot = Some(msg);
            }
            -1
        }
    }
}

/// A closure running on an lcore; join it to get its result.
#[must_use = "join the lcore before tearing EAL down"]
pub struct Launched {
    lcore: u32,
    panic: Arc<Mutex<Option<String>>>,
}

/// Runs `f` on worker lcore `lcore` (which must be idle).
pub fn launch<F>(lcore: u32, f: F) -> Result<Launched, DpdkError>
where
    F: FnOnce() -> i32 + Send + 'static,
{
    let panic = Arc::new(Mutex::new(None));
    let payload = Box::new(Payload {
        job: Box::new(f),
        panic: panic.clone(),
    });
    let arg = Box::into_raw(payload) as *mut c_void;
    // SAFETY: trampoline has the C signature EAL expects and takes ownership
    // of arg exactly once when the launch succeeds.
    let rc = unsafe { sys::rte_eal_remote_launch(Some(trampoline), arg, lcore) };
    if rc != 0 {
        // SAFETY: the launch failed, so the lcore never saw arg: reclaim it.
        drop(unsafe { Box::from_raw(arg as *mut Payload) });
        return Err(DpdkError::call(format!("launch on lcore {lcore}"), rc));
    }
    Ok(Launched { lcore, panic })
}

impl Launched {
    pub fn lcore(&self) -> u32 {
        self.lcore
    }

    /// Waits for the closure; `Err` carries its panic message.
    pub fn join(self) -> Result<i32, String> {
        // SAFETY: waits for the lcore we launched on; no other state.
        let rc = unsafe { sys::rte_eal_wait_lcore(self.lcore) };
        match self.panic.lock().ok().and_then(|mut s| s.take()) {
            Some(msg) => Err(format!("lcore {} panicked: {msg}", self.lcore)),
            None => Ok(rc),
        }
    }
}
