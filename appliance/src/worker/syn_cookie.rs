//! SYN cookies on a worker (delayed binding, `syn_proxy` services): a
//! client's SYN is answered in place with a SYN-ACK whose sequence number
//! is a cookie (`slb_wire::syn_cookie`), out of the port it came in on.
//! No label, no session, no punt: a SYN flood costs each worker a SipHash
//! and a rewrite per SYN and holds nothing.
//!
//! The client's handshake ACK then misses the flow cache and goes to the
//! scheduler like any first packet, which checks the cookie and binds the
//! session (`scheduler/splice.rs`).
//!
//! Not proxied, admitted by layer 4 as without `syn_proxy`: a SYN with a
//! TCP-MD5 or TCP-AO option (`syn_proxy_bypassed`: a signature covers the
//! sequence numbers the server's agent would splice).
//!
//! The key is the process's ([`Shared::cookie_key`], random at start);
//! the time is the scheduler's wall clock at its last round
//! ([`Shared::wall_ms`], two relaxed loads): the cookie counter (64 s) and
//! the SYN-ACK's TSval (ms).
//!
//! [`Shared::cookie_key`]: crate::shared::Shared::cookie_key
//! [`Shared::wall_ms`]: crate::shared::Shared::wall_ms

use super::FastPath;
use crate::channels::PuntKind;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_wire::classify::IpFrame;
use slb_wire::syn_cookie::syn_ack::{self, Advertise};
use slb_wire::syn_cookie::{self, counter};

impl<F: Frame> FastPath<F> {
    /// Answers the SYN `f` (read as `ip`) to a service with `syn_proxy`,
    /// advertising `adv`.
    #[inline(never)]
    pub(super) fn syn_cookie(
        &mut self,
        in_port: usize,
        ip: &IpFrame,
        adv: Advertise,
        mut f: F,
    ) -> Option<(usize, F)> {
        let syn = match syn_ack::parse_syn_at(f.data(), ip) {
            Ok(s) => s,
            Err(_) => return self.discard(PathDrop::BadSyn, in_port, &f),
        };
        if syn.options.signed {
            self.counters.event(Event::SynProxyBypassed);
            return self.punt(in_port, PuntKind::New, f);
        }
        // A client reusing the port of a closing session: its handshake
        // ACK must reach the scheduler (a new session), not the old
        // session's label from the cache.
        self.flows.remove(&ip.flow);
        let wall_ms = self.shared.wall_ms();
        let v6 = syn.tuple.is_v6();
        let cookie = syn_cookie::encode(
            &self.shared.cookie_key,
            &syn.tuple,
            syn.isn,
            counter(wall_ms / 1000),
            &syn.options.cookie_options(v6),
        );
        // No more than a labelled segment can carry (as slbd clamps every
        // SYN it forwards).
        let adv = Advertise {
            mss: adv.mss.min(self.shared.max_mss(v6)),
            ..adv
        };
        let need = syn_ack::syn_ack_len(&syn);
        if f.len() < need && !f.set_len(need) {
            return self.discard(PathDrop::BadSyn, in_port, &f);
        }
        match syn_ack::syn_ack_in_place(f.data_mut(), &syn, cookie, &adv, wall_ms as u32) {
            Ok(n) if f.set_len(n) => {}
            _ => return self.discard(PathDrop::BadSyn, in_port, &f),
        }
        self.counters.event(Event::SynCookiesSent);
        Some((in_port, f))
    }
}
