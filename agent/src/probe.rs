//! Liveness probes: ICMP echo (RFC 792) over a raw socket bound to the
//! interface. slbd answers echo requests to its own port addresses, so an
//! answer means the instance's data path is up, not just its host.
//!
//! Echo request/reply, after the IPv4 header the raw socket hands us:
//! ```text
//!  0      1      2             4             6             8
//!  | type | code |  checksum   | identifier  |  sequence   | data ...
//!  type 8 request, 0 reply; identifier and sequence are echoed back
//! ```

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
const ECHO_LEN: usize = 16;
const PAYLOAD: &[u8; 8] = b"slbagent";
/// `SOL_RAW` / `ICMP_FILTER` (linux/icmp.h): a mask of ICMP types *not*
/// delivered to the socket.
const SOL_RAW: libc::c_int = 255;
const ICMP_FILTER: libc::c_int = 1;

/// RFC 1071 checksum.
fn checksum(data: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    for chunk in data.chunks(2) {
        let hi = u32::from(chunk[0]) << 8;
        acc += hi | chunk.get(1).map_or(0, |&b| u32::from(b));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// An echo request with our identifier and sequence number.
pub fn echo_request(id: u16, seq: u16) -> [u8; ECHO_LEN] {
    let mut m = [0u8; ECHO_LEN];
    m[0] = ECHO_REQUEST;
    m[4..6].copy_from_slice(&id.to_be_bytes());
    m[6..8].copy_from_slice(&seq.to_be_bytes());
    m[8..].copy_from_slice(PAYLOAD);
    let c = checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// The source and sequence number of an echo reply to identifier `id` in a
/// received IPv4 datagram; None for anything else.
pub fn parse_reply(datagram: &[u8], id: u16) -> Option<(Ipv4Addr, u16)> {
    let first = *datagram.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    let src: [u8; 4] = datagram.get(12..16)?.try_into().ok()?;
    let icmp = datagram.get(ihl..)?;
    if icmp.len() < 8 || icmp[0] != ECHO_REPLY || icmp[1] != 0 {
        return None;
    }
    if u16::from_be_bytes([icmp[4], icmp[5]]) != id {
        return None;
    }
    Some((src.into(), u16::from_be_bytes([icmp[6], icmp[7]])))
}

/// A raw ICMP socket bound to one interface.
pub struct Prober {
    fd: OwnedFd,
    id: u16,
}

impl Prober {
    /// Opens the socket (needs CAP_NET_RAW) in the current network namespace.
    pub fn open(iface: &str) -> io::Result<Prober> {
        // SAFETY: plain syscall; the result is checked before it is owned.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMP,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: iface's bytes are valid for their length for the call.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                iface.as_ptr().cast(),
                iface.len() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // Only echo replies reach us, not every ICMP message of the host.
        let filter: u32 = !(1u32 << ECHO_REPLY);
        // SAFETY: filter outlives the call and its size is passed.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                SOL_RAW,
                ICMP_FILTER,
                (&filter as *const u32).cast(),
                size_of::<u32>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Prober {
            fd,
            id: std::process::id() as u16,
        })
    }

    /// Sends one echo request. An error (no route, ARP failed) is for the
    /// caller to count as no answer.
    pub fn send(&self, to: Ipv4Addr, seq: u16) -> io::Result<()> {
        let msg = echo_request(self.id, seq);
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(to.octets()),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: msg and addr are valid for the sizes passed.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                libc::MSG_DONTWAIT,
                (&addr as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits up to `timeout` for one datagram; returns the echo reply it
    /// holds for us, None on timeout, a signal, or anything not ours.
    pub fn recv(&self, timeout: Duration) -> io::Result<Option<(Ipv4Addr, u16)>> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: pfd is one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(None)
            } else {
                Err(e)
            };
        }
        if rc == 0 {
            return Ok(None);
        }
        let mut buf = [0u8; 1500];
        // SAFETY: buf is valid for writes of its length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        Ok(parse_reply(&buf[..n as usize], self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        let m = echo_request(0x1234, 7);
        assert_eq!(&m[..8], &[8, 0, m[2], m[3], 0x12, 0x34, 0, 7]);
        assert_eq!(&m[8..], b"slbagent");
        // A message with its checksum in place sums to zero.
        assert_eq!(checksum(&m), 0);
    }

    /// A reply as a raw socket delivers it: IPv4 header (20 bytes) first.
    fn reply(src: [u8; 4], icmp_type: u8, id: u16, seq: u16) -> Vec<u8> {
        let mut d = vec![
            0x45, 0, 0, 36, 0, 0, 0, 0, 64, 1, 0, 0, // ver/ihl .. proto, csum
        ];
        d.extend_from_slice(&src);
        d.extend_from_slice(&[198, 18, 0, 2]);
        let mut m = echo_request(id, seq);
        m[0] = icmp_type;
        d.extend_from_slice(&m);
        d
    }

    #[test]
    fn replies_are_matched_on_type_and_identifier() {
        let src = [198, 18, 0, 21];
        assert_eq!(
            parse_reply(&reply(src, 0, 99, 5), 99),
            Some((Ipv4Addr::from(src), 5))
        );
        assert_eq!(parse_reply(&reply(src, 0, 98, 5), 99), None);
        assert_eq!(parse_reply(&reply(src, 8, 99, 5), 99), None);
        assert_eq!(parse_reply(&reply(src, 0, 99, 5)[..27], 99), None);
        assert_eq!(parse_reply(&[], 99), None);
    }
}
