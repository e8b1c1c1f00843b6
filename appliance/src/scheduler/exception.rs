//! The exception path on the scheduler (`shared/exception.rs`): the
//! routing daemon's frames to the exception port, and the kernel's frames
//! out of the port it peers through.

use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_wire::{ethernet, DropReason, MacAddr};

impl<F: Frame> Scheduler<F> {
    /// The exception port's index, if the data path has one.
    pub fn exception_port(&self) -> Option<usize> {
        self.shared.exception.map(|x| usize::from(x.port))
    }

    /// BGP or BFD a worker handed over: to the kernel, unchanged.
    pub(crate) fn punted_exception(&self, port: u8, f: F, out: &mut dyn FnMut(usize, F)) {
        match self.shared.exception {
            Some(x) if x.via == port => {
                self.counters.event(Event::ExceptionToKernel);
                out(usize::from(x.port), f);
            }
            // (A worker punts only for the via port: a configuration
            // change cannot move it, the section needs a restart.)
            _ => self.drop_frame(PathDrop::ToAppliance, Some(port), &f, None),
        }
    }

    /// An ARP reply or neighbour advertisement slbd has learned from
    /// (received on `port`): the kernel resolves its own neighbours, so
    /// it gets the frame too when `port` is the exception path's.
    pub(crate) fn neighbour_to_kernel(&self, port: u8, f: F, out: &mut dyn FnMut(usize, F)) {
        match self.shared.exception {
            Some(x) if x.via == port => {
                self.counters.event(Event::ExceptionToKernel);
                out(usize::from(x.port), f);
            }
            _ => drop(f),
        }
    }

    /// A frame the exception port's kernel interface sent: out of its via
    /// port, from that port's MAC (whatever the interface's is), if it
    /// fits the port's MTU. The port's index and the frame, or None when
    /// there is no exception path or the frame is dropped (counted).
    pub fn from_kernel(&self, mut f: F) -> Option<(usize, F)> {
        let x = self.shared.exception?;
        let Some(p) = self.shared.ports.get(usize::from(x.via)) else {
            self.drop_frame(PathDrop::NoNextHop, Some(x.port), &f, None);
            return None;
        };
        let l2 = match ethernet::l2(f.data()) {
            Ok(l2) => l2.header_len,
            Err(_) => {
                self.drop_frame(DropReason::TruncatedEthernet, Some(x.port), &f, None);
                return None;
            }
        };
        if f.len() - l2 > usize::from(p.mtu) {
            self.drop_frame(PathDrop::Oversize, Some(x.port), &f, None);
            return None;
        }
        if let Some(src) = f.data_mut().get_mut(6..12) {
            src.copy_from_slice(&MacAddr(p.mac).0);
        }
        self.counters.event(Event::ExceptionFromKernel);
        Some((usize::from(x.via), f))
    }
}
