//! Where an attachment lives in bpffs, and entering the interface's network
//! namespace.
//!
//! `attach` pins the maps and programs of one interface under
//! `/sys/fs/bpf/slb-agent/<iface>/` (or `.../netns/<name>/<iface>/` with
//! `--netns`): the tc filters keep the programs alive after the process
//! exits, the pins let `status` and `detach` find them again.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::AgentError;

pub const BPFFS: &str = "/sys/fs/bpf";
const BPF_FS_MAGIC: i64 = 0xcafe_4a11;

/// Pin directory of one interface.
pub fn pin_dir(netns: Option<&str>, iface: &str) -> PathBuf {
    let root = Path::new(BPFFS).join("slb-agent");
    match netns {
        Some(ns) => root.join("netns").join(ns).join(iface),
        None => root.join(iface),
    }
}

/// Interface and namespace names become path components: refuse anything
/// that is not one plain component.
pub fn check_name(what: &str, name: &str) -> Result<(), AgentError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name != "netns"
        && !name.contains('/')
        && !name.contains('\0');
    if ok {
        Ok(())
    } else {
        Err(AgentError::Usage(format!("invalid {what} name {name:?}")))
    }
}

pub fn bpffs_mounted() -> bool {
    let path = c"/sys/fs/bpf";
    // SAFETY: statfs only writes into st, which is sized for it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: path is NUL-terminated, st is a valid out-pointer.
    let rc = unsafe { libc::statfs(path.as_ptr(), &mut st) };
    rc == 0 && st.f_type as i64 == BPF_FS_MAGIC
}

/// Mounts bpffs at /sys/fs/bpf when nothing is mounted there.
pub fn ensure_bpffs() -> Result<(), AgentError> {
    if bpffs_mounted() {
        return Ok(());
    }
    std::fs::create_dir_all(BPFFS).map_err(|e| AgentError::step("creating /sys/fs/bpf", e))?;
    // SAFETY: all strings are NUL-terminated literals.
    let rc = unsafe {
        libc::mount(
            c"bpf".as_ptr(),
            c"/sys/fs/bpf".as_ptr(),
            c"bpf".as_ptr(),
            0,
            c"mode=0700".as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(AgentError::step(
            "mounting bpffs at /sys/fs/bpf",
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Moves this process into the named network namespace (`ip netns add`
/// style, /run/netns/<name>). Unlike `ip netns exec`, the mount namespace
/// stays the host's, so the pins land in the host's bpffs and outlive us.
/// Must run before any socket is opened.
pub fn enter_netns(name: &str) -> Result<(), AgentError> {
    let path = Path::new("/run/netns").join(name);
    let file = File::open(&path).map_err(|e| {
        AgentError::step(format!("opening network namespace {}", path.display()), e)
    })?;
    // SAFETY: file is an open namespace descriptor for the whole call.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(AgentError::step(
            format!("entering network namespace {name}"),
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_dirs() {
        assert_eq!(
            pin_dir(None, "eth0"),
            Path::new("/sys/fs/bpf/slb-agent/eth0")
        );
        assert_eq!(
            pin_dir(Some("lab"), "eth0"),
            Path::new("/sys/fs/bpf/slb-agent/netns/lab/eth0")
        );
    }

    #[test]
    fn names_are_single_components() {
        assert!(check_name("interface", "eth0").is_ok());
        for bad in ["", ".", "..", "a/b", "netns"] {
            assert!(check_name("interface", bad).is_err(), "{bad:?}");
        }
    }
}
