//! slb-agent: makes an unmodified Linux host label-aware for slb.
//!
//! See docs/agent.md. The data path is the eBPF classifier in
//! `bpf/slb_agent.bpf.c`; this binary loads, attaches, pins, reports and
//! detaches it.
//!
//! Modules:
//! - `error`: `AgentError`, everything that can go wrong, one line each;
//! - `program`: the embedded eBPF object and the layouts it shares with Rust;
//! - `attach`: `attach` and `detach` (load once, attach both programs, pin);
//! - `pins`: where an attachment lives in bpffs, entering the interface's
//!   network namespace;
//! - `status`: counters and flows read from the pinned maps;
//! - `netlink`: the two rtnetlink requests aya does not offer;
//! - `ethtool`: TSO on the attached interface (legacy ethtool ioctls);
//! - `cluster`: the `cluster` loop, with `cluster_args` (its command line),
//!   `label_owner` (the owner of a label, as the eBPF computes it),
//!   `probe` (ICMP echo), `neigh` (MACs from the ARP table), `failover`
//!   (which MAC each instance's labels go to) and `cluster_map` (the pinned
//!   maps).

mod attach;
mod cluster;
mod cluster_args;
mod cluster_map;
mod error;
mod ethtool;
mod failover;
mod label_owner;
mod neigh;
mod netlink;
mod pins;
mod probe;
mod program;
mod status;

use error::AgentError;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use program::Role;

/// Makes an unmodified Linux host label-aware for the slb load balancer.
///
/// slb pushes an MPLS label (RFC 3032, ethertype 0x8847) between Ethernet and
/// IP on a session's packets: client-to-server label N (odd), server-to-client
/// N+1. slb-agent attaches an eBPF tc classifier (clsact, ingress and egress)
/// to one interface. On ingress it pops the label and remembers, for the
/// reverse 5-tuple, the label to put on what this host sends back: in the
/// server role the received label + 1, in the client role the received
/// label - 1. On egress it pushes that label on packets of known flows; other
/// packets go out unchanged. Flows expire by LRU and an idle timeout.
///
/// The programs stay attached after slb-agent exits; their maps are pinned
/// under /sys/fs/bpf/slb-agent/<iface>/ for `status`, `cluster` and `detach`.
///
/// In a cluster of slbd instances sharing one label range, `cluster` keeps
/// running beside the attachment and makes each labelled frame leave towards
/// the instance that owns its label (see `slb-agent cluster --help`).
#[derive(Parser, Debug)]
#[command(name = "slb-agent", version)]
struct Cli {
    /// Run in the network namespace /run/netns/NAME (as made by `ip netns
    /// add`). Use this rather than `ip netns exec`, whose private mount
    /// namespace would take the pins away when slb-agent exits.
    #[arg(long, global = true, value_name = "NAME")]
    netns: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Attach the classifier to an interface (adds clsact if missing).
    Attach {
        /// Interface carrying the labelled traffic (the VLAN device, not its
        /// parent, if the traffic is tagged).
        #[arg(long, value_name = "IF")]
        iface: String,
        /// server: this host holds the VIP and answers with label+1.
        /// client: this host opens sessions and answers with label-1.
        #[arg(long, value_enum)]
        role: Role,
        /// Forget a flow after this many seconds without packets (0: only
        /// LRU eviction). Keep it above slb's session idle timeouts.
        #[arg(long, value_name = "SECS", default_value_t = 900)]
        idle_timeout: u64,
        /// Size of the flow map (LRU: the least recently used entry makes
        /// room for a new one).
        #[arg(long, value_name = "N", default_value_t = 65536,
              value_parser = clap::value_parser!(u32).range(1..))]
        max_flows: u32,
        /// If already attached, detach first (flows are lost) instead of
        /// failing.
        #[arg(long)]
        replace: bool,
        /// Leave TSO on. By default attach turns TSO off on the interface
        /// (detach turns it back on): a labelled TSO super-packet must be
        /// segmented by something that knows MPLS, and kernels without MPLS
        /// GSO (and most NICs) drop it. See docs/agent.md.
        #[arg(long)]
        keep_tso: bool,
    },
    /// Remove the classifier, the clsact qdisc if attach added it, and the pins.
    Detach {
        #[arg(long, value_name = "IF")]
        iface: String,
    },
    /// Send each labelled frame to the cluster instance owning its label;
    /// runs until SIGTERM or SIGINT.
    ///
    /// slbd instances of a cluster share one label range FIRST-LAST; each
    /// assigns labels only from its own contiguous slice of the range's
    /// pairs (as slbd's `cluster` settings split it: pairs start at the first
    /// odd label >= FIRST, `pairs / N` pairs per instance, the pairs left at
    /// the top belong to no one). The owner holds the session, and a
    /// client-to-server label must reach it. This command writes the slices
    /// into the attachment's maps; the egress program then sets the
    /// destination MAC of every frame it labels to the owner's MAC (one map
    /// lookup; other frames keep the kernel's next hop).
    ///
    /// Liveness: every --interval-ms an ICMP echo goes to each --next-hop
    /// (slbd answers echo on its port addresses); the MAC of one that
    /// answers comes from the kernel's ARP table. An instance that misses
    /// --dead-after probes in a row is dead: its labels go to the next live
    /// instance upward (wrapping), the same choice on every host. That
    /// instance switches server-to-client labels statelessly and recovers
    /// a dead owner's client-to-server labels by the hash (Maglev, source
    /// hash services; docs/operations.md). With no instance live, every
    /// frame follows the kernel's next hop. State changes are logged on
    /// stderr. On SIGTERM/SIGINT the cluster is removed from the maps (the
    /// kernel's next hop again). Every host probes every instance: size
    /// slbd's icmp.echo_per_s for it (docs/agent.md).
    ///
    /// Requires `attach` on --iface first. IPv4 next hops only.
    Cluster {
        /// The attached interface the instances are reached through.
        #[arg(long, value_name = "IF")]
        iface: String,
        /// The cluster's label range, as labels.first-labels.last of the
        /// slbd instances, inclusive (e.g. 16-1048575).
        #[arg(long, value_name = "FIRST-LAST")]
        labels: String,
        /// Number of instances in the cluster (1..=64), as configured in slbd.
        #[arg(long, value_name = "N")]
        instances: u16,
        /// Instance ID (0..N-1) is reached at IPv4 address IPv4, on --iface's
        /// subnet: one per instance.
        #[arg(long = "next-hop", value_name = "ID=IPv4", required = true)]
        next_hops: Vec<String>,
        /// Probe every MS milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 200,
              value_parser = clap::value_parser!(u64).range(10..=60_000))]
        interval_ms: u64,
        /// An instance is dead after N unanswered probes in a row (it takes
        /// about N * interval to notice), live again at its first answer.
        #[arg(long, value_name = "N", default_value_t = 3,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        dead_after: u32,
    },
    /// Show the role, counters, number of flows and the cluster's next hops.
    Status {
        #[arg(long, value_name = "IF")]
        iface: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Also list the flows (5-tuple as sent, label, idle time, and the
        /// splice state, delta and tsoff of spliced ones).
        #[arg(long)]
        flows: bool,
    },
}

fn run(cli: Cli) -> Result<(), AgentError> {
    let netns = cli.netns.as_deref();
    if let Some(ns) = netns {
        pins::check_name("network namespace", ns)?;
        pins::enter_netns(ns)?;
    }
    match cli.command {
        Command::Attach {
            iface,
            role,
            idle_timeout,
            max_flows,
            replace,
            keep_tso,
        } => {
            pins::check_name("interface", &iface)?;
            let tso = attach::attach(&attach::AttachOptions {
                netns,
                iface: &iface,
                role,
                idle_timeout_secs: idle_timeout,
                max_flows,
                replace,
                keep_tso,
            })?;
            println!(
                "{iface}: attached in {role} role (idle timeout {idle_timeout}s, {max_flows} flows), \
                 pinned in {}",
                pins::pin_dir(netns, &iface).display()
            );
            match tso {
                attach::TsoChange::TurnedOff => println!(
                    "{iface}: TSO turned off (labelled TSO frames need MPLS segmentation; \
                     GSO stays on); detach turns it back on"
                ),
                attach::TsoChange::AlreadyOff => println!("{iface}: TSO already off"),
                attach::TsoChange::Kept => {
                    println!("{iface}: TSO left as it is (--keep-tso)")
                }
                attach::TsoChange::CannotChange(e) => eprintln!(
                    "slb-agent: warning: {iface}: {e}; large labelled TCP sends may be \
                     dropped where they must be segmented"
                ),
            }
        }
        Command::Detach { iface } => {
            pins::check_name("interface", &iface)?;
            let done = attach::detach(netns, &iface)?;
            println!(
                "{iface}: detached ({} filters removed, clsact {}, pins {}{})",
                done.filters,
                if done.removed_clsact {
                    "removed"
                } else {
                    "kept"
                },
                if done.had_pins { "removed" } else { "none" },
                if done.tso_restored {
                    ", TSO turned back on"
                } else {
                    ""
                },
            );
        }
        Command::Cluster {
            iface,
            labels,
            instances,
            next_hops,
            interval_ms,
            dead_after,
        } => {
            pins::check_name("interface", &iface)?;
            let args = cluster_args::ClusterArgs::new(&labels, instances, &next_hops)?;
            cluster::run(&cluster::ClusterOptions {
                netns,
                iface: &iface,
                args,
                interval: std::time::Duration::from_millis(interval_ms),
                dead_after,
            })?;
        }
        Command::Status { iface, json, flows } => {
            pins::check_name("interface", &iface)?;
            let status = status::status(netns, &iface, flows)?;
            if json {
                let text = serde_json::to_string_pretty(&status)
                    .map_err(|e| AgentError::iface(&iface, format!("encoding JSON: {e}")))?;
                println!("{text}");
            } else {
                print!("{}", status.render());
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slb-agent: {e}");
            ExitCode::FAILURE
        }
    }
}
