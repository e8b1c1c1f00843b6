//! The exception path on the scheduler (`shared/exception.rs`): the
//! routing daemon's frames to the exception port, and the kernel's frames
//! out of the port it peers through.

use super::admission::fits_mtu;
use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_wire::{DropReason, MacAddr};

impl<F: Frame> Scheduler<F> {
    /// The exception port's index, if the data path has one.
    pub fn exception_port(&self) -> Option<usize> {
        self.shared.exception.map(|x| usize::from(x.port))
    }

    /// A frame received on `port` to the kernel, unchanged, when `port` is
    /// the exception path's; else it is given back. The workers punt BGP
    /// and BFD only from that port (a configuration change cannot move
    /// it: the section needs a restart); of the ARP replies and neighbour
    /// advertisements slbd learns from, the kernel gets that port's, to
    /// resolve its own neighbours.
    pub(crate) fn to_kernel(&self, port: u8, f: F, out: &mut dyn FnMut(usize, F)) -> Option<F> {
        match self.shared.exception {
            Some(x) if x.via == port => {
                self.counters.event(Event::ExceptionToKernel);
                out(usize::from(x.port), f);
                None
            }
            _ => Some(f),
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
        if let Err(r) = fits_mtu(p, &f, DropReason::TruncatedEthernet.into()) {
            self.drop_frame(r, Some(x.port), &f, None);
            return None;
        }
        if let Some(src) = f.data_mut().get_mut(6..12) {
            src.copy_from_slice(&MacAddr(p.mac).0);
        }
        self.counters.event(Event::ExceptionFromKernel);
        Some((usize::from(x.via), f))
    }
}
