//! The state of delayed binding on the scheduler (`splice.rs`): the
//! handshakes waiting for their servers and the ACKs replayed lately, with
//! their bounds. Pure data; `splice.rs` drives it.

use hashbrown::HashMap;
use slb_core::service::Admitted;
use slb_core::session::SessionKey;
use slb_wire::syn_cookie::{CookieOptions, Tuple};
use slb_wire::FlowKey;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Handshakes waiting for their servers, at most.
pub(crate) const PENDING_MAX: usize = 4096;
/// Client frames held per handshake (the cookie ACK included).
pub(crate) const HELD_MAX: usize = 8;
/// A server that has not answered the replayed SYN gets it again after.
pub(crate) const RETRY_NS: u64 = 1_000_000_000;
/// SYNs sent in all before the handshake is given up.
pub(crate) const TRIES: u8 = 3;
/// How often the waiting handshakes are looked at.
pub(crate) const CHECK_NS: u64 = 100_000_000;
/// How long a replayed ACK is kept to send again, should the server send
/// its SYN-ACK again (the replayed ACK was lost on the way): Linux sends
/// its SYN-ACK again after 1, 3 and 7 s.
pub(crate) const REPLAYED_KEEP_NS: u64 = 8_000_000_000;
/// Replayed ACKs kept, at most (about 100 bytes each).
pub(crate) const REPLAYED_MAX: usize = 65536;

/// One handshake between slbd and a server, for a bound session.
pub(crate) struct Pending<F> {
    pub(crate) admitted: Admitted,
    pub(crate) key: SessionKey,
    /// The worker that saw the client's flow, the port and next hop it
    /// came from, its flow key: what `install` needs at the end.
    pub(crate) worker: usize,
    pub(crate) port: u8,
    pub(crate) client_mac: [u8; 6],
    pub(crate) flow: FlowKey,
    pub(crate) tuple: Tuple,
    pub(crate) client_isn: u32,
    pub(crate) opts: CookieOptions,
    pub(crate) client_tsval: Option<u32>,
    /// The cookie ACK first, then what the client sent after it.
    pub(crate) held: Vec<F>,
    pub(crate) syn_sent: u64,
    pub(crate) tries: u8,
}

/// The handshakes waiting for their servers, by client-to-server label,
/// and the ACKs replayed lately (to send again).
pub(crate) struct Splices<F> {
    pub(crate) pending: HashMap<u32, Pending<F>>,
    pub(crate) next_check: u64,
    /// By client-to-server label: the client's ACK as replayed (frame
    /// bytes, unlabelled), the server's address, until when it is kept.
    pub(crate) replayed: HashMap<u32, (Vec<u8>, IpAddr, u64)>,
    /// `replayed`'s labels, oldest first, with their deadlines.
    pub(crate) replayed_order: VecDeque<(u32, u64)>,
}

impl<F> Default for Splices<F> {
    fn default() -> Self {
        Splices {
            pending: HashMap::new(),
            next_check: 0,
            replayed: HashMap::new(),
            replayed_order: VecDeque::new(),
        }
    }
}

impl<F> Splices<F> {
    /// Whether the session holding `c2s` waits for its server.
    pub(crate) fn waiting(&self, c2s: u32) -> bool {
        self.pending.contains_key(&c2s)
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}
