//! Row 25 (issue 14, the exception path): slbd as instance 1 of 2 (as in
//! rows 22-24) whose routing daemon peers with the client-side gateway (the
//! router) through a kernel interface, the exception port (index 2, after
//! the client and server ports). BGP (TCP port 179 at either end) and BFD
//! control (UDP to 3784 or 4784) for the client port's own address go to
//! the kernel unchanged, and so do the ARP replies and neighbour
//! advertisements slbd learns from on that port; whatever the kernel sends
//! leaves by the client port, from the port's MAC. Nothing else reaches
//! the kernel: BGP to a VIP or on the server port, BFD echo, anything
//! without the exception path, is dropped as before (`to_appliance`).

use super::cluster::{cluster_config_with, gateway, GATEWAY_MAC};
use crate::golden::net::{port_mac, Net, CLIENT, SERVER};
use crate::golden::row::{check, send, Case, Check, Family, Row, Slbd, BOTH};
use serde_json::{json, Value};
use slb_appliance::counters::Event;
use slb_wire::builder::{arp_reply, nd_advert};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

/// The exception port's index: after the configured ports.
const KERNEL: usize = 2;

fn services(n: &Net) -> Vec<Value> {
    vec![n.service(
        "plain",
        80,
        json!({ "client_mode": "plain" }),
        &[(0, json!({}))],
    )]
}

fn config(n: &Net) -> String {
    cluster_config_with(
        n,
        services(n),
        json!({ "exception": { "device": "net_tap9", "port": "client" } }),
    )
}

/// The router's BGP segment to slbd's address `to` (router port `sport`,
/// slbd's `dport`), on the wire to the client port.
fn router_tcp(n: &Net, to: IpAddr, sport: u16, dport: u16) -> FrameBuilder {
    FrameBuilder::tcp(GATEWAY_MAC, port_mac(CLIENT), gateway(n), to, sport, dport)
        .flags(TcpFlags::ACK)
        .seq(100)
        .ack(200)
        .payload(&[0xff; 19])
}

/// The router's BFD control packet to slbd's client address.
fn router_bfd(n: &Net, dport: u16) -> FrameBuilder {
    FrameBuilder::udp(
        GATEWAY_MAC,
        port_mac(CLIENT),
        gateway(n),
        n.port_ip[CLIENT],
        49152,
        dport,
    )
    .ttl(255)
    .payload(&[0x20, 0xc0, 3, 24, 0, 0, 0, 1, 0, 0, 0, 0])
}

/// The kernel's BGP segment to the router, from `src_mac`.
fn kernel_bgp(n: &Net, src_mac: MacAddr) -> FrameBuilder {
    FrameBuilder::tcp(
        src_mac,
        GATEWAY_MAC,
        n.port_ip[CLIENT],
        gateway(n),
        40179,
        179,
    )
    .flags(TcpFlags::SYN)
    .seq(7)
}

/// The router's answer to slbd's (the kernel's) neighbour request.
fn router_neighbour_answer(n: &Net) -> Vec<u8> {
    match (gateway(n), n.port_ip[CLIENT]) {
        (IpAddr::V4(g), IpAddr::V4(own)) => arp_reply(GATEWAY_MAC, g, port_mac(CLIENT), own),
        (IpAddr::V6(g), IpAddr::V6(own)) => nd_advert(GATEWAY_MAC, port_mac(CLIENT), g, own, g),
        _ => unreachable!("one family"),
    }
}

fn exception(n: &Net) -> Case {
    let own = n.port_ip[CLIENT];
    let to_kernel = |k| [(Event::PuntedException, k), (Event::ExceptionToKernel, k)];
    let mtu_payload = match n.family {
        Family::V4 => 1500 - 20 - 20,
        Family::V6 => 1500 - 40 - 20,
    };
    Case::new(
        config(n),
        vec![
            send(
                "the router's BGP segment to slbd's client address, port 179: to the kernel, unchanged",
                CLIENT,
                router_tcp(n, own, 40000, 179),
            )
            .out(KERNEL, router_tcp(n, own, 40000, 179))
            .events(&to_kernel(1)),
            send(
                "the router answering a session the kernel opened (from port 179): to the kernel",
                CLIENT,
                router_tcp(n, own, 179, 40179),
            )
            .out(KERNEL, router_tcp(n, own, 179, 40179))
            .events(&to_kernel(1)),
            send(
                "BFD control, single hop (UDP 3784): to the kernel",
                CLIENT,
                router_bfd(n, 3784),
            )
            .out(KERNEL, router_bfd(n, 3784))
            .events(&to_kernel(1)),
            send(
                "BFD control, multihop (UDP 4784): to the kernel",
                CLIENT,
                router_bfd(n, 4784),
            )
            .out(KERNEL, router_bfd(n, 4784))
            .events(&to_kernel(1)),
            send(
                "BFD echo (UDP 3785): not the daemon's (echo comes back to its sender): to_appliance",
                CLIENT,
                router_bfd(n, 3785),
            )
            .drop("to_appliance")
            .events(&to_kernel(0)),
            send(
                "BGP to the VIP (no service on port 179): to_appliance, never the kernel",
                CLIENT,
                router_tcp(n, n.vip, 40000, 179),
            )
            .drop("to_appliance")
            .events(&to_kernel(0)),
            send(
                "BGP to slbd's server-port address, on the server port: not the exception path's port: to_appliance",
                SERVER,
                FrameBuilder::tcp(
                    n.servers[0].mac,
                    port_mac(SERVER),
                    n.servers[0].ip,
                    n.port_ip[SERVER],
                    40000,
                    179,
                )
                .flags(TcpFlags::SYN),
            )
            .drop("to_appliance")
            .events(&to_kernel(0)),
            send(
                "the router's ARP reply / neighbour advertisement to slbd: learned, and a copy for the kernel",
                CLIENT,
                router_neighbour_answer(n),
            )
            .out(KERNEL, router_neighbour_answer(n))
            .events(&[(Event::PuntedNeighbour, 1), (Event::ExceptionToKernel, 1)]),
            send(
                "the kernel's BGP SYN to the router: out of the client port, unchanged",
                KERNEL,
                kernel_bgp(n, port_mac(CLIENT)),
            )
            .out(CLIENT, kernel_bgp(n, port_mac(CLIENT)))
            .events(&[(Event::ExceptionFromKernel, 1)]),
            send(
                "the kernel's frame from another MAC (an interface not set up by slbd): sent from the port's MAC",
                KERNEL,
                kernel_bgp(n, MacAddr([0x02, 0x99, 0, 0, 0, 1])),
            )
            .out(CLIENT, kernel_bgp(n, port_mac(CLIENT)))
            .events(&[(Event::ExceptionFromKernel, 1)]),
            send(
                "the kernel's packet larger than the client port's MTU: oversize",
                KERNEL,
                kernel_bgp(n, port_mac(CLIENT))
                    .flags(TcpFlags::ACK)
                    .payload(&vec![0; mtu_payload + 1]),
            )
            .drop("oversize")
            .events(&[(Event::ExceptionFromKernel, 0)]),
            check(Check::Event(Event::ExceptionToKernel, 5)),
            check(Check::Event(Event::ExceptionFromKernel, 2)),
        ],
    )
}

/// Without `cluster.exception`: BGP to slbd is dropped as before, and a
/// neighbour's answer is only learned from.
fn without(n: &Net) -> Case {
    let own = n.port_ip[CLIENT];
    Case::new(
        cluster_config_with(n, services(n), json!({})),
        vec![
            send(
                "the router's BGP segment to slbd, no exception path: to_appliance",
                CLIENT,
                router_tcp(n, own, 40000, 179),
            )
            .drop("to_appliance")
            .events(&[(Event::PuntedException, 0)]),
            send(
                "the router's ARP reply / neighbour advertisement: learned only",
                CLIENT,
                router_neighbour_answer(n),
            )
            .absorbed()
            .events(&[(Event::PuntedNeighbour, 1), (Event::ExceptionToKernel, 0)]),
        ],
    )
}

pub static ROWS: &[Row] = &[
    Row {
        name: "row25_cluster_bgp_and_bfd_cross_the_exception_path_and_nothing_else",
        families: BOTH,
        workers: &[1, 2],
        slbd: Slbd::RigOnly(
            "the exception port is a kernel interface (net_tap): the cluster lab runs it",
        ),
        case: exception,
    },
    Row {
        name: "row25_without_an_exception_path_bgp_to_slbd_is_dropped_as_before",
        families: BOTH,
        workers: &[1, 2],
        slbd: Slbd::Runs,
        case: without,
    },
];
