//! Zero-copy wire formats for slb (the packet layer). Pure Rust, no DPDK,
//! no `unsafe`, `no_std` (the optional [`builder`] needs `alloc`).
//!
//! Two levels, in the smoltcp style:
//!
//! * one module per header ([`ethernet`], [`vlan`], [`mpls`], [`arp`],
//!   [`ipv4`], [`ipv6`], [`tcp`], [`udp`], [`icmpv4`], [`icmpv6`]), each with
//!   a zero-copy view `Packet<T: AsRef<[u8]>>` (`new_checked` for untrusted
//!   input, after which no accessor panics; `new_unchecked` for emitting),
//!   field offsets in `mod field`, and a parsed `Repr` with `parse`/`emit`
//!   for the slow path and tests;
//! * whole-frame operations for the data path, on plain byte slices (the
//!   DPDK layer hands us `&mut [u8]` over the mbuf data): [`classify()`]
//!   (one pass, never panics, never allocates), [`mpls::top_label`],
//!   [`mpls::push_label`], [`mpls::pop_label`], [`ethernet::rewrite_macs`],
//!   [`mss::clamp_mss`], [`flow::extract`], and the [`checksum`] helpers.
//!
//! Modules:
//! * [`ethernet`]: Ethernet II frames, [`MacAddr`], [`EtherType`], the L2
//!   parse with at most one 802.1Q tag, the MAC rewrite.
//! * [`vlan`]: the 802.1Q tag.
//! * [`mpls`]: label stack entries ([`Label`], [`Lse`]); top label, push, pop.
//! * [`arp`]: ARP for IPv4 over Ethernet.
//! * [`ip`]: what IPv4 and IPv6 share: [`IpVersion`], [`IpProtocol`], and the
//!   5-tuple [`FlowKey`].
//! * [`ipv4`], [`ipv6`]: the IP headers; IPv6 extension header walk.
//! * [`tcp`]: TCP header, [`TcpFlags`], options. [`udp`]: UDP header.
//! * [`icmpv4`], [`icmpv6`]: ICMP messages; neighbour discovery NS / NA.
//! * [`icmp_reply`]: the ICMP messages slbd writes in place (echo replies,
//!   fragmentation needed / packet too big) and the flow an ICMP error quotes.
//! * [`checksum`]: the Internet checksum, pseudo-headers, incremental update.
//! * [`classify`](mod@classify): the per-packet classifier ([`classify()`],
//!   the fast untagged entry points, [`Classified`] and the frame types,
//!   [`DropReason`]).
//! * [`flow`]: the flow key of a frame or of the packet under a label.
//! * [`mss`]: TCP MSS clamping on a whole frame.
//! * [`sync`]: the header of session sync datagrams between instances.
//! * [`syn_cookie`]: SYN cookies (keyed, with the client's options), the
//!   cookie SYN-ACK written in place over the SYN ([`syn_cookie::syn_ack`]),
//!   and the splice: the replayed SYN, the MPLS TC mark, the server's
//!   SYN-ACK and the cookie ACK read ([`syn_cookie::replay`]).
//! * [`builder`] (feature `builder`): [`FrameBuilder`] and ready-made ARP /
//!   ND frames, for tests and fixtures; never on the data path.
//! * `bytes` (private): panic-free big-endian reads on byte slices.
//! * This file: the view-level [`Error`] and [`Result`].
//!
//! See `docs/packet-layer.md` for the TTL model and the outcome of odd frames.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "builder")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod arp;
#[cfg(feature = "builder")]
pub mod builder;
pub mod checksum;
pub mod classify;
pub mod ethernet;
pub mod flow;
pub mod icmp_reply;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod mpls;
pub mod mss;
pub mod syn_cookie;
pub mod sync;
pub mod tcp;
pub mod udp;
pub mod vlan;

mod bytes;

#[cfg(feature = "builder")]
pub use builder::FrameBuilder;
pub use classify::{classify, Classified, DropReason};
pub use ethernet::{EtherType, MacAddr};
pub use ip::{FlowKey, IpProtocol, IpVersion};
pub use mpls::{Label, Lse};
pub use tcp::TcpFlags;

/// What went wrong while reading or writing a header with a view or a `Repr`.
///
/// Deliberately small and `Copy`: the per-packet classifier reports the
/// finer-grained [`DropReason`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the header (or than a length field says).
    Truncated,
    /// A field holds a value the format forbids (bad length, bad version...).
    Malformed,
    /// Well-formed, but not something this layer handles (e.g. an ARP for a
    /// hardware type other than Ethernet, a second 802.1Q tag).
    Unsupported,
    /// [`mpls::pop_label`] on a label that is not the bottom of the stack.
    NotBottomOfStack,
    /// A checksum did not verify.
    Checksum,
    /// A TCP option whose length its kind forbids: an MSS option that is
    /// not 4 bytes long ([`mss::clamp_mss`] cannot clamp it).
    BadOption,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Unsupported => "unsupported packet",
            Error::NotBottomOfStack => "label is not the bottom of the stack",
            Error::Checksum => "bad checksum",
            Error::BadOption => "bad TCP option length",
        })
    }
}

impl core::error::Error for Error {}

/// Result of the view / `Repr` level.
pub type Result<T> = core::result::Result<T, Error>;
