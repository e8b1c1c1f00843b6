use super::DpdkError;
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};

static STARTED: AtomicBool = AtomicBool::new(false);

/// The DPDK Environment Abstraction Layer, initialised once per process.
///
/// Dropping it runs `rte_eal_cleanup`; lcores must have been joined first
/// (the [`super::lcore::Launched`] handles borrow nothing, so the caller
/// orders this: join workers, stop ports, then drop the `Eal`).
pub struct Eal {
    _private: (),
}

impl Eal {
    /// Initialises EAL from an argument vector whose first element is the
    /// program name, e.g. `["slbd", "--no-pci", "--no-huge", "-m", "256"]`.
    ///
    /// EAL can start only once in a process; a second call is an error.
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Eal, DpdkError> {
        if STARTED.swap(true, Ordering::SeqCst) {
            return Err(DpdkError::Invalid(
                "EAL is already initialised in this process".into(),
            ));
        }
        let cargs = args
            .iter()
            .map(|a| CString::new(a.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| DpdkError::Invalid("an EAL argument contains a NUL byte".into()))?;
        let mut argv: Vec<*mut c_char> = cargs.iter().map(|a| a.as_ptr() as *mut c_char).collect();
        argv.push(std::ptr::null_mut());
        // On a bad option EAL prints its 100-line usage on stdout (the reason
        // itself goes to stderr): keep stdout for slbd's own output.
        let _quiet = StdoutSilenced::new();
        // SAFETY: argv holds argc valid NUL-terminated strings (kept alive by
        // `cargs` for the whole call) plus a NULL terminator; EAL may permute
        // the pointer array, which we own. STARTED guarantees a single call.
        let rc = unsafe { slb_dpdk_sys::rte_eal_init((argv.len() - 1) as i32, argv.as_mut_ptr()) };
        drop(_quiet);
        if rc < 0 {
            return Err(DpdkError::from_rte_errno(
                "EAL initialisation failed (check the EAL options before `--`)",
            ));
        }
        Ok(Eal { _private: () })
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: EAL was initialised by `init`; all lcores launched through
        // this layer were joined by their owners before the Eal is dropped.
        unsafe {
            slb_dpdk_sys::rte_eal_cleanup();
        }
    }
}

/// Points fd 1 at /dev/null until dropped.
struct StdoutSilenced {
    saved: libc::c_int,
}

impl StdoutSilenced {
    fn new() -> Option<Self> {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain fd syscalls on fds we own; failures leave stdout as is.
        unsafe {
            let saved = libc::dup(1);
            if saved < 0 {
                return None;
            }
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null < 0 {
                libc::close(saved);
                return None;
            }
            libc::dup2(null, 1);
            libc::close(null);
            Some(StdoutSilenced { saved })
        }
    }
}

impl Drop for StdoutSilenced {
    fn drop(&mut self) {
        // SAFETY: restores the fd saved in `new` and closes the copy.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}
