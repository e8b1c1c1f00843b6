//! [`DropReason`]: why the classifier (or the worker) drops a frame, one
//! byte, with a stable counter name per reason.
use crate::Error;

macro_rules! drop_reasons {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why the classifier (or the worker) drops a frame. `Copy`, one
        /// byte; [`DropReason::as_str`] is a stable counter name and
        /// [`DropReason::ALL`] lists every reason in index order, so
        /// counters can be `[u64; DropReason::COUNT]` indexed by
        /// [`DropReason::index`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DropReason {
            $($(#[$doc])* $variant,)*
        }

        impl DropReason {
            /// Every reason, in index order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$variant,)*];
            /// Number of reasons.
            pub const COUNT: usize = Self::ALL.len();

            /// Stable snake_case name, for counters and logs.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(DropReason::$variant => $name,)*
                }
            }
        }
    };
}

drop_reasons! {
    /// Shorter than the Ethernet header (or its 802.1Q tag).
    TruncatedEthernet => "truncated_ethernet",
    /// A second 802.1Q / 802.1ad tag after the first.
    TooManyVlanTags => "too_many_vlan_tags",
    /// An EtherType slb does not handle (never returned by
    /// [`classify`](crate::classify()), which says
    /// [`Classified::Other`](crate::Classified::Other); for the worker and
    /// [`crate::flow::extract`]).
    UnsupportedEthertype => "unsupported_ethertype",
    /// MPLS EtherType but no complete label stack entry / no inner packet.
    TruncatedMpls => "truncated_mpls",
    /// Top label in 0..=15 (RFC 3032 §2.1).
    ReservedLabel => "reserved_label",
    /// Top label without the bottom-of-stack bit: slb uses one label.
    MplsStackTooDeep => "mpls_stack_too_deep",
    /// Label TTL 0 (see the TTL model in [`crate::mpls`]).
    LabelTtlExpired => "label_ttl_expired",
    /// The packet under the label is neither IPv4 nor IPv6.
    BadInnerIpVersion => "bad_inner_ip_version",
    /// ARP shorter than 28 bytes.
    TruncatedArp => "truncated_arp",
    /// ARP for something other than Ethernet / IPv4.
    UnsupportedArp => "unsupported_arp",
    /// IPv4 shorter than 20 bytes or than its Total Length.
    TruncatedIpv4 => "truncated_ipv4",
    /// EtherType IPv4 but version nibble not 4.
    BadIpv4Version => "bad_ipv4_version",
    /// IHL under 5.
    BadIpv4Ihl => "bad_ipv4_ihl",
    /// Total Length under the header length.
    BadIpv4Length => "bad_ipv4_length",
    /// IPv4 header checksum does not verify.
    BadIpv4Checksum => "bad_ipv4_checksum",
    /// IPv6 shorter than 40 bytes or than its Payload Length.
    TruncatedIpv6 => "truncated_ipv6",
    /// EtherType IPv6 but version nibble not 6.
    BadIpv6Version => "bad_ipv6_version",
    /// An extension header runs past the payload.
    TruncatedIpv6Ext => "truncated_ipv6_ext",
    /// Hop-by-hop options not first (RFC 8200 §4.1).
    BadIpv6Ext => "bad_ipv6_ext",
    /// More than [`crate::ipv6::MAX_EXT_HEADERS`] extension headers.
    Ipv6ExtChainTooLong => "ipv6_ext_chain_too_long",
    /// IPv4 / IPv6 fragment with a non-zero offset: no ports.
    NonFirstFragment => "non_first_fragment",
    /// TCP shorter than 20 bytes or than its data offset.
    TruncatedTcp => "truncated_tcp",
    /// TCP data offset under 5.
    BadTcpOffset => "bad_tcp_offset",
    /// UDP shorter than 8 bytes.
    TruncatedUdp => "truncated_udp",
    /// UDP Length under 8 or past the IP payload.
    BadUdpLength => "bad_udp_length",
    /// ICMP / ICMPv6 shorter than 8 bytes.
    TruncatedIcmp => "truncated_icmp",
    /// NS / NA that RFC 4861 §7.1 says to discard: hop limit not 255, code
    /// not 0, shorter than 24 bytes, a bad option.
    BadNd => "bad_nd",
    /// NS / NA whose ICMPv6 checksum does not verify.
    BadIcmpv6Checksum => "bad_icmpv6_checksum",
    /// IPv6 type 0 routing header (deprecated by RFC 5095).
    Ipv6RoutingType0 => "ipv6_routing_type0",
    /// A TCP SYN whose MSS option has a length other than 4 (RFC 9293
    /// §3.2): not clamped, so not forwarded.
    BadMssOption => "bad_mss_option",
}

impl DropReason {
    /// Index into a counter array (`0..COUNT`).
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The coarse [`Error`] for this reason (for the slice operations that
    /// reuse the classifier).
    pub const fn to_error(self) -> Error {
        match self {
            DropReason::TruncatedEthernet
            | DropReason::TruncatedMpls
            | DropReason::TruncatedArp
            | DropReason::TruncatedIpv4
            | DropReason::TruncatedIpv6
            | DropReason::TruncatedIpv6Ext
            | DropReason::TruncatedTcp
            | DropReason::TruncatedUdp
            | DropReason::TruncatedIcmp => Error::Truncated,
            DropReason::TooManyVlanTags
            | DropReason::UnsupportedEthertype
            | DropReason::UnsupportedArp
            | DropReason::NonFirstFragment
            | DropReason::Ipv6RoutingType0
            | DropReason::MplsStackTooDeep => Error::Unsupported,
            DropReason::BadIpv4Checksum | DropReason::BadIcmpv6Checksum => Error::Checksum,
            _ => Error::Malformed,
        }
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn drop_reason_names_are_unique_and_indexed() {
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(r
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        assert_eq!(DropReason::LabelTtlExpired.as_str(), "label_ttl_expired");
        assert_eq!(core::mem::size_of::<DropReason>(), 1);
    }
}
