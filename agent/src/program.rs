//! The embedded eBPF object and the layouts it shares with Rust.
//!
//! Everything here mirrors `bpf/slb_agent.bpf.c`: change both together.

use std::fmt;

/// The classifier object compiled by `build.rs`.
///
/// Aligned copy: the ELF parser reads it in place.
pub static OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/slb_agent.bpf.o"));

/// Program names (the C function names). They are also the tc filter names
/// (`TCA_BPF_NAME`), which is how `detach` finds our filters.
pub const INGRESS_PROGRAM: &str = "slb_ingress";
pub const EGRESS_PROGRAM: &str = "slb_egress";

pub const FLOWS_MAP: &str = "slb_flows";
pub const COUNTERS_MAP: &str = "slb_counters";
pub const CONFIG_MAP: &str = "slb_config";
pub const CLUSTER_MAP: &str = "slb_cluster";

/// Entries of `slb_cluster`: instances a cluster may have
/// (`slb_core::label_slices::MAX_INSTANCES`).
pub const CLUSTER_MAX: u32 = 64;
/// `slb_next_hop.flags`: the MAC is to be used.
pub const NEXT_HOP_VALID: u8 = 1;
/// `slb_next_hop.flags`: the MAC is a live stand-in's (`via`), the owner is
/// dead.
pub const NEXT_HOP_FALLBACK: u8 = 2;

/// `slb_config.flags`: the clsact qdisc was added by `attach`, so `detach`
/// removes it.
pub const FLAG_CREATED_CLSACT: u32 = 1;
/// `slb_config.flags`: `attach` turned TSO off on the interface (it was on),
/// so `detach` turns it back on. See `ethtool.rs` for why.
pub const FLAG_TSO_TURNED_OFF: u32 = 2;

/// Which side of a session this host is: decides the label sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Receives client-to-server label N (odd), answers with N+1.
    Server,
    /// Receives server-to-client label N (even), sends N-1.
    Client,
}

impl Role {
    pub fn to_raw(self) -> u32 {
        match self {
            Role::Server => 1,
            Role::Client => 2,
        }
    }

    pub fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(Role::Server),
            2 => Some(Role::Client),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Server => "server",
            Role::Client => "client",
        })
    }
}

/// `struct slb_config`: entry 0 of the config array map.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Config {
    pub role: u32,
    pub flags: u32,
    pub idle_timeout_ns: u64,
    /// The cluster's slices (`label_owner::ClusterParams`);
    /// `cluster_instances` 0: no cluster.
    pub cluster_first_c2s: u32,
    pub cluster_pairs_per_instance: u32,
    pub cluster_instances: u32,
    pub pad: u32,
}

// SAFETY: repr(C), only integers, no padding (4 + 4 + 8 + 4 * 4 bytes).
unsafe impl aya::Pod for Config {}

/// `struct slb_next_hop`: entry `instance` of the cluster map.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NextHop {
    pub mac: [u8; 6],
    /// `NEXT_HOP_VALID`, `NEXT_HOP_FALLBACK`.
    pub flags: u8,
    /// The instance whose MAC this is (the key itself unless a fallback).
    pub via: u8,
}

// SAFETY: repr(C), only bytes, no padding (6 + 1 + 1 bytes).
unsafe impl aya::Pod for NextHop {}

/// `struct slb_flow_key`: the 5-tuple of a packet the host sends.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowKey {
    pub family: u8,
    pub proto: u8,
    pub pad: u16,
    /// Network byte order, as on the wire.
    pub sport: [u8; 2],
    pub dport: [u8; 2],
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
}

// SAFETY: repr(C), only integers and byte arrays, no padding (1+1+2+2+2+16+16).
unsafe impl aya::Pod for FlowKey {}

/// `slb_flow_value.splice`: where a spliced (SYN-proxied) flow is.
pub const SPLICE_NONE: u8 = 0;
pub const SPLICE_AWAIT_SYNACK: u8 = 1;
pub const SPLICE_SYNACK_SEEN: u8 = 2;
pub const SPLICE_ACTIVE: u8 = 3;

/// Name of a `slb_flow_value.splice` state, as `status` shows it.
pub fn splice_state_name(state: u8) -> &'static str {
    match state {
        SPLICE_NONE => "none",
        SPLICE_AWAIT_SYNACK => "await_synack",
        SPLICE_SYNACK_SEEN => "synack_seen",
        SPLICE_ACTIVE => "active",
        _ => "?",
    }
}

/// `struct slb_flow_value`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowValue {
    pub label: u32,
    /// `SPLICE_*`.
    pub splice: u8,
    /// TCP options the marked SYN offered / the server's SYN-ACK carried
    /// (bits: 1 timestamps, 2 SACK-permitted, 4 window scale, 8 MSS).
    pub syn_opts: u8,
    pub synack_opts: u8,
    pub pad: u8,
    /// `bpf_ktime_get_ns()` (CLOCK_MONOTONIC) of the last packet.
    pub last_seen_ns: u64,
    /// Seq and TSval of the server's SYN-ACK.
    pub server_isn: u32,
    pub server_tsval: u32,
    /// Added to the server's seq (subtracted from the client's ack, SACK).
    pub delta: u32,
    /// Added to the server's TSval (subtracted from the client's TSecr).
    pub tsoff: u32,
}

// SAFETY: repr(C), only integers, no padding (4 + 4 * 1 + 8 + 4 * 4 bytes).
unsafe impl aya::Pod for FlowValue {}

/// Counter names, in the order of `enum slb_counter` (index = position).
pub const COUNTERS: &[&str] = &[
    "popped",
    "pushed",
    "learned",
    "missed",
    "expired",
    "errors",
    "not_bos_passed",
    "malformed_passed",
    "label_rejected",
    "unlearnable",
    "vlan_passed",
    "new_syn",
    "cluster_redirected",
    "cluster_fallback",
    "cluster_no_owner",
    "cluster_no_next_hop",
    "splice_started",
    "splice_learned",
    "splice_early_dropped",
    "splice_bad_mark",
    "splice_option_mismatch",
    "splice_icmp_translated",
    "unlabelled_syn_ack",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_c_structs() {
        assert_eq!(size_of::<FlowKey>(), 40);
        assert_eq!(size_of::<FlowValue>(), 32);
        assert_eq!(size_of::<Config>(), 32);
        assert_eq!(size_of::<NextHop>(), 8);
    }

    #[test]
    fn object_is_an_ebpf_elf() {
        assert_eq!(&OBJECT[..4], b"\x7fELF");
        // e_machine at 18: EM_BPF = 247, little endian.
        assert_eq!(u16::from_le_bytes([OBJECT[18], OBJECT[19]]), 247);
    }

    #[test]
    fn splice_states_have_names() {
        let names: Vec<_> = [
            SPLICE_NONE,
            SPLICE_AWAIT_SYNACK,
            SPLICE_SYNACK_SEEN,
            SPLICE_ACTIVE,
            4,
        ]
        .into_iter()
        .map(splice_state_name)
        .collect();
        assert_eq!(
            names,
            ["none", "await_synack", "synack_seen", "active", "?"]
        );
    }

    #[test]
    fn role_round_trips() {
        for role in [Role::Server, Role::Client] {
            assert_eq!(Role::from_raw(role.to_raw()), Some(role));
        }
        assert_eq!(Role::from_raw(0), None);
    }
}
