//! TSO on the attached interface, through the legacy ethtool ioctls.
//!
//! Why: the agent pushes the label onto whole GSO super-packets (the skb
//! still says IP, so that is fine at this point). If the skb is segmented
//! *at this device* (software GSO, TSO off) every segment gets the 18-byte
//! header with the label. If the device does TSO, the skb leaves unsegmented;
//! on a veth it crosses into the peer namespace, `eth_type_trans` there sets
//! `skb->protocol` to MPLS, and whoever must segment it later (a tap without
//! TSO, a bridge port, a NIC) needs MPLS GSO, which kernels without
//! `CONFIG_NET_MPLS_GSO` lack: the super-packet is dropped. A real NIC doing
//! TSO on a labelled frame must understand MPLS over TCP; most do not. So
//! `attach` turns TSO off (`ETHTOOL_STSO` 0 covers tx-tcp-segmentation,
//! tx-tcp6-segmentation, tx-tcp-ecn-segmentation and
//! tx-tcp-mangleid-segmentation) and `detach` turns it back on if attach
//! was the one that turned it off. GSO stays on: software segmentation
//! before the driver is cheap and correct.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GTSO: u32 = 0x1e;
const ETHTOOL_STSO: u32 = 0x1f;

#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    data: *mut libc::c_void,
    _pad: [u8; 16],
}

fn ioctl(iface: &str, cmd: u32, data: u32) -> io::Result<u32> {
    if iface.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: plain socket(2) call; the fd is owned right after.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut value = EthtoolValue { cmd, data };
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        data: (&mut value as *mut EthtoolValue).cast(),
        _pad: [0; 16],
    };
    for (dst, src) in req.name.iter_mut().zip(iface.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: req is a valid struct ifreq whose data points at value; both
    // outlive the call.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCETHTOOL as _, &mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.data)
}

/// Whether TSO is on (any of the TSO features, as `ethtool -k` shows
/// `tcp-segmentation-offload`).
pub fn tso_enabled(iface: &str) -> io::Result<bool> {
    ioctl(iface, ETHTOOL_GTSO, 0).map(|v| v != 0)
}

/// Turns every TSO feature on or off.
pub fn set_tso(iface: &str, on: bool) -> io::Result<()> {
    ioctl(iface, ETHTOOL_STSO, u32::from(on)).map(|_| ())
}
