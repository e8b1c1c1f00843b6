//! The two rtnetlink requests aya does not offer: list the tc filters under a
//! clsact hook, and delete the clsact qdisc.

use std::io;
use std::mem::size_of;

const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
/// `TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)` and `..._EGRESS`.
pub const CLSACT_INGRESS: u32 = 0xFFFF_FFF2;
pub const CLSACT_EGRESS: u32 = 0xFFFF_FFF3;
const TCA_KIND: u16 = 1;
const NLMSG_HDRLEN: usize = 16;
const TCMSG_LEN: usize = 20;

/// Number of tc filters (any owner) attached under `parent` on `ifindex`.
pub fn count_filters(ifindex: u32, parent: u32) -> io::Result<usize> {
    let sock = Socket::open()?;
    let req = request(
        libc::RTM_GETTFILTER,
        libc::NLM_F_REQUEST | libc::NLM_F_DUMP,
        ifindex,
        0,
        parent,
        None,
    );
    sock.send(&req)?;
    let mut filters = 0;
    sock.receive(|msg_type, payload| {
        // A dump lists, per priority, a header entry (handle 0) and then
        // each filter with its handle.
        if msg_type == libc::RTM_NEWTFILTER && payload.len() >= TCMSG_LEN {
            let handle = u32::from_ne_bytes(payload[8..12].try_into().unwrap());
            if handle != 0 {
                filters += 1;
            }
        }
    })?;
    Ok(filters)
}

/// Deletes the clsact qdisc (and with it every filter under it).
pub fn delete_clsact(ifindex: u32) -> io::Result<()> {
    let sock = Socket::open()?;
    let req = request(
        libc::RTM_DELQDISC,
        libc::NLM_F_REQUEST | libc::NLM_F_ACK,
        ifindex,
        0xFFFF_0000,
        TC_H_CLSACT,
        Some(b"clsact\0"),
    );
    sock.send(&req)?;
    sock.receive(|_, _| {})
}

/// nlmsghdr + tcmsg (+ TCA_KIND), in native byte order.
fn request(
    msg_type: u16,
    flags: libc::c_int,
    ifindex: u32,
    handle: u32,
    parent: u32,
    kind: Option<&[u8]>,
) -> Vec<u8> {
    let mut buf = vec![0u8; NLMSG_HDRLEN + TCMSG_LEN];
    buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
    buf[6..8].copy_from_slice(&(flags as u16).to_ne_bytes());
    buf[8..12].copy_from_slice(&1u32.to_ne_bytes()); // seq
    let tcm = NLMSG_HDRLEN;
    buf[tcm] = libc::AF_UNSPEC as u8;
    buf[tcm + 4..tcm + 8].copy_from_slice(&(ifindex as i32).to_ne_bytes());
    buf[tcm + 8..tcm + 12].copy_from_slice(&handle.to_ne_bytes());
    buf[tcm + 12..tcm + 16].copy_from_slice(&parent.to_ne_bytes());
    if let Some(kind) = kind {
        let len = 4 + kind.len();
        buf.extend_from_slice(&(len as u16).to_ne_bytes());
        buf.extend_from_slice(&TCA_KIND.to_ne_bytes());
        buf.extend_from_slice(kind);
        buf.resize(buf.len().next_multiple_of(4), 0);
    }
    let total = buf.len() as u32;
    buf[0..4].copy_from_slice(&total.to_ne_bytes());
    buf
}

struct Socket(std::os::fd::OwnedFd);

impl Socket {
    fn open() -> io::Result<Self> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain syscall; the result is checked before it is owned.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let sock = Socket(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
        // A 5 s receive timeout: the kernel always answers, but never hang.
        let tv = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        // SAFETY: tv outlives the call and its size is passed.
        unsafe {
            libc::setsockopt(
                sock.fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        Ok(sock)
    }

    fn fd(&self) -> libc::c_int {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }

    fn send(&self, buf: &[u8]) -> io::Result<()> {
        // SAFETY: buf is valid for buf.len() bytes; a null address sends to the kernel.
        let n = unsafe { libc::send(self.fd(), buf.as_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads answers until NLMSG_DONE or the ack; an error ack is returned.
    fn receive(&self, mut each: impl FnMut(u16, &[u8])) -> io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is valid for writes of buf.len() bytes.
            let n = unsafe { libc::recv(self.fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut msgs = &buf[..n as usize];
            while msgs.len() >= NLMSG_HDRLEN {
                let len = u32::from_ne_bytes(msgs[0..4].try_into().unwrap()) as usize;
                let msg_type = u16::from_ne_bytes(msgs[4..6].try_into().unwrap());
                if len < NLMSG_HDRLEN || len > msgs.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "short netlink message",
                    ));
                }
                let payload = &msgs[NLMSG_HDRLEN..len];
                match msg_type as libc::c_int {
                    libc::NLMSG_DONE => return Ok(()),
                    libc::NLMSG_ERROR => {
                        let errno = i32::from_ne_bytes(payload[0..4].try_into().unwrap());
                        return if errno == 0 {
                            Ok(())
                        } else {
                            Err(io::Error::from_raw_os_error(-errno))
                        };
                    }
                    _ => each(msg_type, payload),
                }
                msgs = &msgs[len.next_multiple_of(4).min(msgs.len())..];
            }
        }
    }
}
