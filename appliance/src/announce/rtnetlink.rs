//! The three rtnetlink requests the announcer needs, on one routing table
//! of slbd's network namespace: add a blackhole host route, delete a
//! route, dump the table. Hand-written (as `agent/src/netlink.rs` is)
//! rather than a netlink crate: three fixed messages of a stable kernel
//! ABI, no new dependency for the appliance.
//!
//! Messages (`include/uapi/linux/rtnetlink.h`): `nlmsghdr` (16 bytes),
//! `rtmsg` (12 bytes: family, dst_len, src_len, tos, table, protocol,
//! scope, type, flags), then attributes: `RTA_DST` (the address) and
//! `RTA_TABLE` (the table id as a u32, so ids above 255 work too).

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A route of the table, as a dump lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The destination (the unspecified address for a default route).
    pub dst: IpAddr,
    pub prefix_len: u8,
    /// `rtm_type`: [`RTN_BLACKHOLE`] for the announcer's own routes.
    pub kind: u8,
}

impl Route {
    /// The blackhole host route (/32, /128) that announces `vip`.
    pub fn blackhole(vip: IpAddr) -> Route {
        Route {
            dst: vip,
            prefix_len: if vip.is_ipv4() { 32 } else { 128 },
            kind: RTN_BLACKHOLE,
        }
    }

    /// Whether this is such a route: the announcer's own kind.
    pub fn is_blackhole_host(&self) -> bool {
        *self == Route::blackhole(self.dst)
    }
}

/// A route table the announcer keeps its routes in: the kernel's
/// ([`RouteTable`]), or an in-memory one ([`super::MemoryRoutes`]) for the
/// control plane's tests and the golden rig.
pub trait Routes: Send {
    /// Every route in the table.
    fn list(&mut self) -> io::Result<Vec<Route>>;
    /// Adds (or replaces) the blackhole route `vip/32` or `vip/128`.
    fn add_blackhole(&mut self, vip: IpAddr) -> io::Result<()>;
    /// Deletes a route of the table; one already gone is not an error.
    fn delete(&mut self, route: &Route) -> io::Result<()>;

    /// Deletes every route of the table; how many there were.
    fn flush(&mut self) -> io::Result<usize> {
        let routes = self.list()?;
        for r in &routes {
            self.delete(r)?;
        }
        Ok(routes.len())
    }
}

/// `rtm_type` of a route that drops what it matches.
pub const RTN_BLACKHOLE: u8 = 6;
/// `rtm_protocol` of the announcer's routes: `static`, as `ip route add`
/// writes (`ip route show table N proto static`).
pub const RTPROT_STATIC: u8 = 4;

const NLMSG_HDRLEN: usize = 16;
const RTMSG_LEN: usize = 12;
const RTA_DST: u16 = 1;
const RTA_TABLE: u16 = 15;
const RT_SCOPE_UNIVERSE: u8 = 0;
/// Scope of a delete request: any scope.
const RT_SCOPE_NOWHERE: u8 = 255;
/// `include/uapi/linux/netlink.h`: the kernel checks a request's header
/// strictly and honours a dump's filters.
const NETLINK_GET_STRICT_CHK: libc::c_int = 12;

/// One routing table of the calling thread's network namespace (the
/// namespace is fixed when the socket opens).
pub struct RouteTable {
    sock: OwnedFd,
    table: u32,
    seq: u32,
}

impl RouteTable {
    /// Opens a NETLINK_ROUTE socket for `table`.
    pub fn open(table: u32) -> io::Result<RouteTable> {
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
        let sock = unsafe { OwnedFd::from_raw_fd(fd) };
        // The kernel always answers; a 2 s receive timeout makes sure a
        // lost answer is an error, never a hang of the control plane.
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        // SAFETY: tv outlives the call and its size is passed.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // Strict checking makes the kernel filter a dump by table (Linux
        // 4.20 and later), so a round reads this table's few routes, not
        // the whole FIB. Older kernels refuse the option and dump
        // everything; `parse_route` filters then.
        let on: libc::c_int = 1;
        // SAFETY: `on` outlives the call and its size is passed.
        let _ = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_NETLINK,
                NETLINK_GET_STRICT_CHK,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(RouteTable {
            sock,
            table,
            seq: 0,
        })
    }

    pub fn table(&self) -> u32 {
        self.table
    }

    /// nlmsghdr + rtmsg (+ RTA_DST) + RTA_TABLE, in native byte order.
    fn message(
        &mut self,
        msg_type: u16,
        flags: u16,
        route: &Route,
        scope: u8,
        proto: u8,
    ) -> Vec<u8> {
        self.seq = self.seq.wrapping_add(1);
        let mut buf = vec![0u8; NLMSG_HDRLEN + RTMSG_LEN];
        buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        let r = NLMSG_HDRLEN;
        buf[r] = family(route.dst);
        buf[r + 1] = route.prefix_len;
        // rtm_table holds ids below 256; RTA_TABLE carries the whole id.
        buf[r + 4] = u8::try_from(self.table).unwrap_or(0);
        buf[r + 5] = proto;
        buf[r + 6] = scope;
        buf[r + 7] = route.kind;
        if route.prefix_len > 0 {
            match route.dst {
                IpAddr::V4(a) => attr(&mut buf, RTA_DST, &a.octets()),
                IpAddr::V6(a) => attr(&mut buf, RTA_DST, &a.octets()),
            }
        }
        attr(&mut buf, RTA_TABLE, &self.table.to_ne_bytes());
        let total = buf.len() as u32;
        buf[0..4].copy_from_slice(&total.to_ne_bytes());
        buf
    }

    fn send(&self, buf: &[u8]) -> io::Result<()> {
        // SAFETY: buf is valid for buf.len() bytes; an unconnected netlink
        // socket sends to the kernel.
        let n = unsafe { libc::send(self.sock.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads the answers to request `self.seq` until NLMSG_DONE or its
    /// ack; an error ack is returned as the error it carries.
    fn receive(&self, mut each: impl FnMut(u16, &[u8])) -> io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is valid for writes of buf.len() bytes.
            let n =
                unsafe { libc::recv(self.sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut msgs = &buf[..n as usize];
            while msgs.len() >= NLMSG_HDRLEN {
                let len = ne_u32(&msgs[0..4]) as usize;
                let msg_type = u16::from_ne_bytes([msgs[4], msgs[5]]);
                let seq = ne_u32(&msgs[8..12]);
                if len < NLMSG_HDRLEN || len > msgs.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "short netlink message",
                    ));
                }
                let payload = &msgs[NLMSG_HDRLEN..len];
                msgs = &msgs[len.next_multiple_of(4).min(msgs.len())..];
                if seq != self.seq {
                    // The late answer of an earlier request that timed out.
                    continue;
                }
                match i32::from(msg_type) {
                    libc::NLMSG_DONE => return Ok(()),
                    libc::NLMSG_ERROR if payload.len() >= 4 => {
                        let errno =
                            i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
                        return if errno == 0 {
                            Ok(())
                        } else {
                            Err(io::Error::from_raw_os_error(-errno))
                        };
                    }
                    _ => each(msg_type, payload),
                }
            }
        }
    }

    /// Sends a request that the kernel acknowledges.
    fn request(
        &mut self,
        msg_type: u16,
        flags: u16,
        route: &Route,
        scope: u8,
        proto: u8,
    ) -> io::Result<()> {
        let m = self.message(msg_type, flags | ack_flags(), route, scope, proto);
        self.send(&m)?;
        self.receive(|_, _| {})
    }
}

impl Routes for RouteTable {
    fn list(&mut self) -> io::Result<Vec<Route>> {
        self.seq = self.seq.wrapping_add(1);
        // nlmsghdr + rtmsg (AF_UNSPEC: both families; rtm_table and
        // RTA_TABLE: the filter a strict kernel applies).
        let mut m = vec![0u8; NLMSG_HDRLEN + RTMSG_LEN];
        m[4..6].copy_from_slice(&libc::RTM_GETROUTE.to_ne_bytes());
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        m[6..8].copy_from_slice(&flags.to_ne_bytes());
        m[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        m[NLMSG_HDRLEN + 4] = u8::try_from(self.table).unwrap_or(0);
        attr(&mut m, RTA_TABLE, &self.table.to_ne_bytes());
        let total = m.len() as u32;
        m[0..4].copy_from_slice(&total.to_ne_bytes());
        self.send(&m)?;
        let mut routes = Vec::new();
        let table = self.table;
        self.receive(|msg_type, payload| {
            if msg_type == libc::RTM_NEWROUTE {
                if let Some(r) = parse_route(payload, table) {
                    routes.push(r);
                }
            }
        })?;
        Ok(routes)
    }

    fn add_blackhole(&mut self, vip: IpAddr) -> io::Result<()> {
        let route = Route::blackhole(vip);
        let flags = (libc::NLM_F_CREATE | libc::NLM_F_REPLACE) as u16;
        self.request(
            libc::RTM_NEWROUTE,
            flags,
            &route,
            RT_SCOPE_UNIVERSE,
            RTPROT_STATIC,
        )
    }

    fn delete(&mut self, route: &Route) -> io::Result<()> {
        match self.request(libc::RTM_DELROUTE, 0, route, RT_SCOPE_NOWHERE, 0) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }
}

fn ack_flags() -> u16 {
    (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16
}

fn family(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => libc::AF_INET as u8,
        IpAddr::V6(_) => libc::AF_INET6 as u8,
    }
}

fn ne_u32(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// Appends one attribute, padded to 4 bytes.
fn attr(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = (4 + value.len()) as u16;
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// A dumped route (the rtmsg and its attributes), if it is in `table`.
fn parse_route(p: &[u8], table: u32) -> Option<Route> {
    let rtm = p.get(..RTMSG_LEN)?;
    let (fam, prefix_len, kind) = (rtm[0], rtm[1], rtm[7]);
    let mut in_table = u32::from(rtm[4]);
    let mut dst: Option<&[u8]> = None;
    let mut attrs = &p[RTMSG_LEN..];
    while attrs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([attrs[0], attrs[1]]));
        let t = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            break;
        }
        let v = &attrs[4..len];
        match t {
            RTA_TABLE if v.len() == 4 => in_table = ne_u32(v),
            RTA_DST => dst = Some(v),
            _ => {}
        }
        attrs = &attrs[len.next_multiple_of(4).min(attrs.len())..];
    }
    if in_table != table {
        return None;
    }
    let dst = match (i32::from(fam), dst) {
        (libc::AF_INET, Some(v)) => IpAddr::from(<[u8; 4]>::try_from(v).ok()?),
        (libc::AF_INET, None) => IpAddr::from([0u8; 4]),
        (libc::AF_INET6, Some(v)) => IpAddr::from(<[u8; 16]>::try_from(v).ok()?),
        (libc::AF_INET6, None) => IpAddr::from([0u8; 16]),
        _ => return None,
    };
    Some(Route {
        dst,
        prefix_len,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RTM_NEWROUTE payload as the kernel dumps it: table 100 in both
    /// rtm_table and RTA_TABLE, a blackhole 198.18.100.1/32.
    fn dumped(table: u32, dst: &[u8], prefix_len: u8) -> Vec<u8> {
        let mut p = vec![
            if dst.len() == 4 { 2 } else { 10 }, // family
            prefix_len,
            0,                                  // src_len
            0,                                  // tos
            u8::try_from(table).unwrap_or(252), // rtm_table
            4,                                  // protocol: static
            0,                                  // scope: universe
            6,                                  // type: blackhole
            0,
            0,
            0,
            0, // flags
        ];
        attr(&mut p, RTA_TABLE, &table.to_ne_bytes());
        if !dst.is_empty() {
            attr(&mut p, RTA_DST, dst);
        }
        attr(&mut p, 6, &7u32.to_ne_bytes()); // RTA_PRIORITY, skipped
        p
    }

    #[test]
    fn a_dumped_route_is_kept_only_for_its_table() {
        let p = dumped(100, &[198, 18, 100, 1], 32);
        assert_eq!(
            parse_route(&p, 100),
            Some(Route {
                dst: "198.18.100.1".parse().unwrap(),
                prefix_len: 32,
                kind: RTN_BLACKHOLE
            })
        );
        assert_eq!(parse_route(&p, 101), None);
        // Ids above 255: rtm_table says 252 (compat), RTA_TABLE the id.
        let v6: [u8; 16] = "2001:db8:100::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets();
        let p = dumped(70_000, &v6, 128);
        assert_eq!(parse_route(&p, 70_000).map(|r| r.prefix_len), Some(128));
        assert_eq!(parse_route(&p, 252), None);
        // A default route has no RTA_DST.
        let p = dumped(100, &[], 0);
        assert_eq!(
            parse_route(&p, 100).map(|r| r.dst),
            Some("::".parse().unwrap())
        );
        assert_eq!(parse_route(&p[..5], 100), None);
    }
}
