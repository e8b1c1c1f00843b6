//! Frames and helpers shared by the classifier's tests.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

pub(super) use crate::builder::FrameBuilder;
pub(super) use crate::classify::{Classified, DropReason, IpFrame, LabelledFrame};
pub(super) use crate::{MacAddr, TcpFlags};
pub(super) use core::net::{Ipv4Addr, Ipv6Addr};
pub(super) const CM: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
pub(super) const SM: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
pub(super) const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
pub(super) const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

pub(super) fn c6() -> Ipv6Addr {
    "2001:db8:1::7".parse().unwrap()
}

pub(super) fn vip6() -> Ipv6Addr {
    "2001:db8::10".parse().unwrap()
}

pub(super) fn syn4() -> FrameBuilder {
    FrameBuilder::tcp4(CM, SM, CLIENT, VIP, 40000, 80)
        .flags(TcpFlags::SYN)
        .mss(1460)
}

pub(super) fn syn6() -> FrameBuilder {
    FrameBuilder::tcp6(CM, SM, c6(), vip6(), 40000, 443)
        .flags(TcpFlags::SYN)
        .mss(1440)
}

pub(super) fn ip(c: Result<Classified, DropReason>) -> IpFrame {
    match c {
        Ok(Classified::Ip(i)) => i,
        other => panic!("not IP: {other:?}"),
    }
}

pub(super) fn labelled(c: Result<Classified, DropReason>) -> LabelledFrame {
    match c {
        Ok(Classified::Labelled(l)) => l,
        other => panic!("not labelled: {other:?}"),
    }
}
