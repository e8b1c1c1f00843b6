//! The exception path (issue 14): the routing daemon's frames between a
//! client-facing port and a kernel interface.
//!
//! An instance of a cluster announces its VIPs by BGP from a routing
//! daemon (BIRD, FRR) that runs on the kernel side of a DPDK `net_tap` (or
//! virtio-user) port, the *exception port*, with the client-facing port's
//! own addresses and MAC. slbd hands that port the frames the daemon
//! needs, received on the client-facing port (the *via* port):
//!
//! - BGP: TCP to the via port's own address with source or destination
//!   port 179 (either end may have opened the session);
//! - BFD: UDP to the via port's own address on the single-hop (3784,
//!   RFC 5881) or multihop (4784, RFC 5883) control port;
//! - ARP replies and neighbour advertisements to its own address, which
//!   slbd also learns from: the kernel resolves its neighbours itself.
//!
//! Every frame the kernel sends leaves by the via port unchanged. The
//! daemon's sessions thus cross slbd's own port: a dead or hung slbd takes
//! them with it, and the router withdraws its next hop (BFD: within its
//! detection time). Frames go through the scheduler, never a worker's TX
//! queue: a few per second, off the per-packet path.

use slb_wire::IpProtocol;

/// BGP's TCP port (RFC 4271).
pub const BGP_PORT: u16 = 179;
/// BFD control, single hop (RFC 5881).
pub const BFD_SINGLE_HOP_PORT: u16 = 3784;
/// BFD control, multihop (RFC 5883).
pub const BFD_MULTIHOP_PORT: u16 = 4784;

/// Where the exception path is, in the data path's port numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionPath {
    /// The client-facing port whose addresses the kernel side uses.
    pub via: u8,
    /// The exception port's own index: after every configured port (the
    /// scheduler's `out` numbering; no worker polls it).
    pub port: u8,
}

/// Whether a packet to slbd's own address is the routing daemon's: BGP
/// (TCP, port 179 at either end) or BFD control (UDP to 3784 or 4784).
#[inline]
pub fn is_routing_protocol(protocol: IpProtocol, src_port: u16, dst_port: u16) -> bool {
    match protocol {
        IpProtocol::Tcp => src_port == BGP_PORT || dst_port == BGP_PORT,
        IpProtocol::Udp => dst_port == BFD_SINGLE_HOP_PORT || dst_port == BFD_MULTIHOP_PORT,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgp_either_way_and_bfd_control_only() {
        let tcp = IpProtocol::Tcp;
        let udp = IpProtocol::Udp;
        assert!(
            is_routing_protocol(tcp, 40000, 179),
            "the router's SYN to us"
        );
        assert!(
            is_routing_protocol(tcp, 179, 40000),
            "the router answering our session"
        );
        assert!(!is_routing_protocol(tcp, 40000, 80));
        assert!(!is_routing_protocol(udp, 40000, 179), "BGP is TCP only");
        assert!(is_routing_protocol(udp, 49152, 3784));
        assert!(is_routing_protocol(udp, 49152, 4784));
        assert!(
            !is_routing_protocol(udp, 3784, 49152),
            "replies go to the source port"
        );
        assert!(
            !is_routing_protocol(udp, 49152, 3785),
            "echo is the sender's own address"
        );
        assert!(!is_routing_protocol(tcp, 49152, 3784), "BFD is UDP only");
        assert!(!is_routing_protocol(IpProtocol::Icmp, 0, 179));
    }
}
