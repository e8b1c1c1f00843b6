use std::ffi::CStr;

/// A DPDK call that failed, with the step that failed and DPDK's reason.
#[derive(Debug, thiserror::Error)]
pub enum DpdkError {
    #[error("{what}: {reason}")]
    Call {
        what: String,
        errno: i32,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl DpdkError {
    /// An error for a DPDK call that returned `-errno` or set `rte_errno`.
    pub(crate) fn call(what: impl Into<String>, errno: i32) -> Self {
        let errno = errno.abs();
        DpdkError::Call {
            what: what.into(),
            errno,
            reason: strerror(errno),
        }
    }

    /// An error for a DPDK call that reports through `rte_errno`.
    pub(crate) fn from_rte_errno(what: impl Into<String>) -> Self {
        // SAFETY: reads this thread's rte_errno through the C shim.
        let errno = unsafe { slb_dpdk_sys::slb_rte_errno() };
        Self::call(what, errno)
    }
}

fn strerror(errno: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local
    // NUL-terminated string, valid until the next call on this thread; we copy it.
    unsafe {
        let p = slb_dpdk_sys::rte_strerror(errno);
        if p.is_null() {
            format!("errno {errno}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}
