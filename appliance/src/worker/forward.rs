//! `--mode forward`: every packet leaves on the peer port untouched
//! (ports 0<->1, 2<->3, ...; an unpaired last port sends back out of
//! itself). The benchmark baseline: the same loop as the real data path
//! with a handler that does nothing.

use super::poll_loop::Handler;
use crate::dpdk::Mbuf;

pub struct Forward {
    nb_ports: usize,
}

impl Forward {
    pub fn new(nb_ports: usize) -> Self {
        Forward { nb_ports }
    }

    /// The port a packet from `port` leaves on.
    #[inline]
    pub fn peer(&self, port: usize) -> usize {
        let p = port ^ 1;
        if p < self.nb_ports {
            p
        } else {
            port
        }
    }
}

impl Handler for Forward {
    #[inline]
    fn handle(&mut self, in_port: usize, m: Mbuf) -> Option<(usize, Mbuf)> {
        Some((self.peer(in_port), m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_pair_up_and_a_lone_port_reflects() {
        let f = Forward::new(3);
        assert_eq!((f.peer(0), f.peer(1), f.peer(2)), (1, 0, 2));
        let one = Forward::new(1);
        assert_eq!(one.peer(0), 0);
    }
}
